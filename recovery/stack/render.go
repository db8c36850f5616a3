package stack

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// TemplateVersion changes whenever the template's shape changes; status can
// compare it with the deployed stack's Metadata to spot an outdated stack.
const TemplateVersion = 1

// Parameter is one CloudFormation stack parameter, in the JSON shape the AWS
// CLI's --parameters file takes.
type Parameter struct {
	Key   string `json:"ParameterKey"`
	Value string `json:"ParameterValue"`
}

// Rendered is a recovery stack ready to deploy (or, at plan time, to review).
type Rendered struct {
	Name       string      // autorestart-<workload>
	Template   []byte      // CloudFormation YAML
	Parameters []Parameter // sorted by key; see Placeholder
}

// Unset lists the parameters that still hold Placeholder.
func (r Rendered) Unset() []string {
	var keys []string
	for _, p := range r.Parameters {
		if p.Value == Placeholder {
			keys = append(keys, p.Key)
		}
	}
	return keys
}

// Template parameter names.
const (
	pEmail      = "NotificationEmail"
	pPolicy     = "FailoverPolicy"
	pInstance   = "PrimaryInstanceId"
	pPrimaryOP  = "PrimaryOutpostId"
	pPeriods    = "AlarmPeriods"
	pDatapoints = "AlarmDatapoints"
	pFence      = "FenceTimeoutSeconds"
	pRole       = "InstanceProfileRole"
	pBucket     = "BundleBucket"
	pKey        = "BundleKey"
)

// Condition names.
const (
	cHasPrimaryOP = "HasPrimaryOutpost"
	cCanLaunch    = "PolicyMayLaunch"
)

// Render returns the recovery stack for c. It is pure and deterministic:
// equal configs give byte-identical output.
func Render(c Config) (Rendered, error) {
	c, err := c.normalized()
	if err != nil {
		return Rendered{}, fmt.Errorf("recovery stack: %w", err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(buildTemplate(c.Workload)); err != nil {
		return Rendered{}, fmt.Errorf("encode recovery stack template: %w", err)
	}
	if err := enc.Close(); err != nil {
		return Rendered{}, fmt.Errorf("encode recovery stack template: %w", err)
	}
	return Rendered{Name: StackName(c.Workload), Template: buf.Bytes(), Parameters: parameters(c)}, nil
}

func parameters(c Config) []Parameter {
	orPlaceholder := func(s string) string {
		if s == "" {
			return Placeholder
		}
		return s
	}
	ps := []Parameter{
		{pEmail, c.NotificationEmail},
		{pPolicy, string(c.Policy)},
		{pInstance, orPlaceholder(c.PrimaryInstanceID)},
		{pPrimaryOP, c.PrimaryOutpostID},
		{pPeriods, strconv.Itoa(c.AlarmPeriods)},
		{pDatapoints, strconv.Itoa(c.AlarmDatapoints)},
		{pFence, strconv.Itoa(DefaultFenceTimeoutSeconds)},
		{pRole, c.InstanceProfileRole},
		{pBucket, orPlaceholder(c.BundleBucket)},
		{pKey, orPlaceholder(c.BundleKey)},
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	return ps
}

// The template model. Structs fix the order of a resource's attributes; maps
// are written with sorted keys by yaml.v3. Intrinsic functions use their long
// form ({"Ref": ...}, {"Fn::Sub": ...}) so the YAML needs no custom tags and
// every string goes through the encoder's quoting.

type template struct {
	FormatVersion string               `yaml:"AWSTemplateFormatVersion"`
	Description   string               `yaml:"Description"`
	Metadata      map[string]any       `yaml:"Metadata"`
	Parameters    map[string]parameter `yaml:"Parameters"`
	Conditions    map[string]any       `yaml:"Conditions"`
	Resources     map[string]resource  `yaml:"Resources"`
	Outputs       map[string]output    `yaml:"Outputs"`
}

type parameter struct {
	Type                  string   `yaml:"Type"`
	Description           string   `yaml:"Description"`
	Default               *string  `yaml:"Default,omitempty"`
	AllowedPattern        string   `yaml:"AllowedPattern,omitempty"`
	AllowedValues         []string `yaml:"AllowedValues,omitempty"`
	ConstraintDescription string   `yaml:"ConstraintDescription,omitempty"`
}

type resource struct {
	Type                string         `yaml:"Type"`
	Condition           string         `yaml:"Condition,omitempty"`
	DeletionPolicy      string         `yaml:"DeletionPolicy,omitempty"`
	UpdateReplacePolicy string         `yaml:"UpdateReplacePolicy,omitempty"`
	Properties          map[string]any `yaml:"Properties"`
}

type output struct {
	Description string `yaml:"Description"`
	Condition   string `yaml:"Condition,omitempty"`
	Value       any    `yaml:"Value"`
}

type m = map[string]any

func ref(name string) m              { return m{"Ref": name} }
func getAtt(res, attr string) m      { return m{"Fn::GetAtt": []string{res, attr}} }
func sub(s string) m                 { return m{"Fn::Sub": s} }
func ifThen(cond string, a, b any) m { return m{"Fn::If": []any{cond, a, b}} }
func equals(a, b any) m              { return m{"Fn::Equals": []any{a, b}} }
func not(c any) m                    { return m{"Fn::Not": []any{c}} }
func strp(s string) *string          { return &s }

// arn returns an Fn::Sub ARN in this stack's partition, Region and account.
// rest must be made of constants and the validated workload name only.
func arn(service, rest string) m {
	return sub("arn:${AWS::Partition}:" + service + ":${AWS::Region}:${AWS::AccountId}:" + rest)
}

func tags(w string) []m {
	return []m{
		{"Key": naming.TagWorkload, "Value": w},
		{"Key": naming.TagManaged, "Value": naming.ManagedBy},
	}
}

func policyDoc(stmts ...m) m {
	list := make([]any, len(stmts))
	for i, s := range stmts {
		list[i] = s
	}
	return m{"Version": "2012-10-17", "Statement": list}
}

func allow(sid string, actions []string, resources []any, cond m) m {
	s := m{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
	if cond != nil {
		s["Condition"] = cond
	}
	return s
}

func buildTemplate(w string) template {
	return template{
		FormatVersion: "2010-09-09",
		Description: "outposts-ha recovery stack for workload " + w +
			": detects a failed primary (EC2 status check, Outpost connectivity) and runs the failover function under the workload's failover policy.",
		Metadata: m{"OutpostsHA": m{"Workload": w, "TemplateVersion": TemplateVersion}},
		Parameters: map[string]parameter{
			pEmail: {
				Type:                  "String",
				Description:           "Operator email address subscribed to the workload's alerts topic (confirm the subscription email AWS sends).",
				AllowedPattern:        emailPattern,
				ConstraintDescription: "a plain email address such as ops@example.com",
			},
			pPolicy: {
				Type:          "String",
				Description:   "What the failover function may do: confirmed launches only once EC2 confirms the primary stopped; notify never launches; automatic also launches when the primary Outpost stayed disconnected.",
				AllowedValues: []string{string(recovery.PolicyConfirmed), string(recovery.PolicyNotify), string(recovery.PolicyAutomatic)},
			},
			pInstance: {
				Type:                  "String",
				Description:           "Instance ID of the running primary, watched by the status-check alarm. Setup fills it; failback updates it.",
				AllowedPattern:        instancePattern,
				ConstraintDescription: "an EC2 instance ID (i- and 8 or 17 hex digits)",
			},
			pPrimaryOP: {
				Type:                  "String",
				Description:           "Outpost ID of the primary server; when set, a ConnectedStatus alarm watches it. Empty when the account cannot read that metric.",
				Default:               strp(""),
				AllowedPattern:        outpostPattern,
				ConstraintDescription: "empty or an Outpost ID (op- and 17 hex digits)",
			},
			// The numbers are String parameters with range patterns, not
			// Number: CloudFormation hands both to resources as strings, and
			// moto stores Number parameters as integers, which breaks its
			// "No updates" detection and the function's string environment.
			pPeriods: {
				Type:                  "String",
				Description:           "N: one-minute evaluation periods of the detection alarms (1 to 60).",
				Default:               strp(strconv.Itoa(DefaultAlarmPeriods)),
				AllowedPattern:        periodsPattern,
				ConstraintDescription: "a whole number from 1 to 60",
			},
			pDatapoints: {
				Type:                  "String",
				Description:           "M: breaching periods out of N that raise the alarm (1 to 60, at most N).",
				Default:               strp(strconv.Itoa(DefaultAlarmPeriods)),
				AllowedPattern:        periodsPattern,
				ConstraintDescription: "a whole number from 1 to 60",
			},
			pFence: {
				Type:                  "String",
				Description:           "Seconds the function waits for EC2 to confirm the primary stopped or terminated (30 to 600).",
				Default:               strp(strconv.Itoa(DefaultFenceTimeoutSeconds)),
				AllowedPattern:        fencePattern,
				ConstraintDescription: "a whole number from 30 to 600",
			},
			pRole: {
				Type:                  "String",
				Description:           "Name (optionally path/name) of the IAM role inside the workload's instance profile: the only role the function may pass to EC2.",
				AllowedPattern:        rolePattern,
				ConstraintDescription: "an IAM role name, optionally after a path",
			},
			pBucket: {
				Type:                  "String",
				Description:           "S3 bucket holding the failover function bundle (outposts-ha-<account>-<region>). Setup fills it.",
				AllowedPattern:        bucketPattern,
				ConstraintDescription: "an S3 bucket name",
			},
			pKey: {
				Type:                  "String",
				Description:           "S3 key of the failover function bundle, lambda/<sha256>.zip. Setup fills it.",
				AllowedPattern:        bundleKeyPattern,
				ConstraintDescription: "lambda/<64 hex digits>.zip",
			},
		},
		Conditions: map[string]any{
			cHasPrimaryOP: not(equals(ref(pPrimaryOP), "")),
			cCanLaunch:    not(equals(ref(pPolicy), string(recovery.PolicyNotify))),
		},
		Resources: resources(w),
		Outputs: map[string]output{
			"TopicArn":           {Description: "Alerts topic (KMS-encrypted): alarms, failover notifications, the operator's email.", Value: ref("AlertsTopic")},
			"FunctionName":       {Description: "Failover function.", Value: ref("FailoverFunction")},
			"FunctionArn":        {Description: "Failover function ARN.", Value: getAtt("FailoverFunction", "Arn")},
			"StatusAlarmName":    {Description: "StatusCheckFailed_Instance alarm on the primary.", Value: StatusAlarmName(w)},
			"ConnectedAlarmName": {Description: "ConnectedStatus alarm on the primary Outpost, or empty.", Value: ifThen(cHasPrimaryOP, ConnectedAlarmName(w), "")},
			"DeadLetterQueueUrl": {Description: "Failed failover events land here; an alarm notifies the topic when it is not empty.", Value: ref("DeadLetterQueue")},
			"DeadLetterQueueArn": {Description: "Dead-letter queue ARN.", Value: getAtt("DeadLetterQueue", "Arn")},
			"KeyArn":             {Description: "KMS key encrypting the topic and the dead-letter queue.", Value: getAtt("Key", "Arn")},
			"RoleArn":            {Description: "The failover function's role.", Value: getAtt("FunctionRole", "Arn")},
		},
	}
}

func resources(w string) map[string]resource {
	alarmCommon := func(name, desc string) m {
		return m{
			"AlarmName":        name,
			"AlarmDescription": desc,
			"AlarmActions":     []any{ref("AlertsTopic")},
			"Tags":             tags(w),
		}
	}
	status := alarmCommon(StatusAlarmName(w), "outposts-ha "+w+": the primary instance failed its instance status check (or stopped reporting) for M of N minutes.")
	for k, v := range (m{
		"Namespace":          "AWS/EC2",
		"MetricName":         "StatusCheckFailed_Instance",
		"Dimensions":         []m{{"Name": "InstanceId", "Value": ref(pInstance)}},
		"Statistic":          "Maximum",
		"Period":             60,
		"EvaluationPeriods":  ref(pPeriods),
		"DatapointsToAlarm":  ref(pDatapoints),
		"Threshold":          0,
		"ComparisonOperator": "GreaterThanThreshold",
		// A dead server stops publishing: missing data must count as failure.
		"TreatMissingData": "breaching",
	}) {
		status[k] = v
	}
	connected := alarmCommon(ConnectedAlarmName(w), "outposts-ha "+w+": the primary Outpost lost its connection to the Region (or stopped reporting) for the whole of M of N minutes.")
	for k, v := range (m{
		"Namespace":          "AWS/Outposts",
		"MetricName":         "ConnectedStatus",
		"Dimensions":         []m{{"Name": "OutpostId", "Value": ref(pPrimaryOP)}},
		"Statistic":          "Maximum",
		"Period":             60,
		"EvaluationPeriods":  ref(pPeriods),
		"DatapointsToAlarm":  ref(pDatapoints),
		"Threshold":          1,
		"ComparisonOperator": "LessThanThreshold",
		"TreatMissingData":   "breaching",
	}) {
		connected[k] = v
	}
	dlqAlarm := alarmCommon(DLQAlarmName(w), "outposts-ha "+w+": a failover event failed after every retry and sits in the dead-letter queue "+DLQName(w)+". Read it: a failover may not have happened.")
	for k, v := range (m{
		"Namespace":          "AWS/SQS",
		"MetricName":         "ApproximateNumberOfMessagesVisible",
		"Dimensions":         []m{{"Name": "QueueName", "Value": getAtt("DeadLetterQueue", "QueueName")}},
		"Statistic":          "Maximum",
		"Period":             60,
		"EvaluationPeriods":  1,
		"Threshold":          0,
		"ComparisonOperator": "GreaterThanThreshold",
		// An idle queue stops publishing metrics; that is not a failure.
		"TreatMissingData": "notBreaching",
	}) {
		dlqAlarm[k] = v
	}

	return map[string]resource{
		// Stateful resources say explicitly that they go with the stack:
		// cleanup removes everything a workload owns, and a kept log group or
		// queue name would make the next create of the stack fail.
		"Key": {Type: "AWS::KMS::Key", DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete", Properties: m{
			"Description":       "outposts-ha " + w + ": encrypts the alerts topic and the failover dead-letter queue",
			"EnableKeyRotation": true,
			"KeyPolicy": policyDoc(
				m{
					"Sid":       "AccountAdministersKeyThroughIAM",
					"Effect":    "Allow",
					"Principal": m{"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
					"Action":    "kms:*",
					"Resource":  "*",
				},
				m{
					// CloudWatch alarms publish to the encrypted topic with this key.
					"Sid":       "CloudWatchAlarmsPublishToEncryptedTopic",
					"Effect":    "Allow",
					"Principal": m{"Service": "cloudwatch.amazonaws.com"},
					"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
					"Resource":  "*",
				},
				m{
					"Sid":       "SNSUsesKeyForThisTopicOnly",
					"Effect":    "Allow",
					"Principal": m{"Service": "sns.amazonaws.com"},
					"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
					"Resource":  "*",
					"Condition": m{
						"StringEquals": m{"aws:SourceAccount": ref("AWS::AccountId")},
						"ArnEquals":    m{"aws:SourceArn": arn("sns", TopicName(w))},
					},
				},
			),
			// No Tags here: moto 5.2.5 crashes creating a KMS key with
			// CloudFormation-style tags (it expects the KMS API's
			// TagKey/TagValue). Deploy's stack-level tags, which
			// CloudFormation propagates to the key, tag it instead.
		}},
		"KeyAlias": {Type: "AWS::KMS::Alias", Properties: m{
			"AliasName":   KeyAliasName(w),
			"TargetKeyId": ref("Key"),
		}},
		"AlertsTopic": {Type: "AWS::SNS::Topic", Properties: m{
			"TopicName":      TopicName(w),
			"KmsMasterKeyId": ref("Key"),
			"Tags":           tags(w),
		}},
		"EmailSubscription": {Type: "AWS::SNS::Subscription", Properties: m{
			"TopicArn": ref("AlertsTopic"),
			"Protocol": "email",
			"Endpoint": ref(pEmail),
		}},
		"FunctionSubscription": {Type: "AWS::SNS::Subscription", Properties: m{
			"TopicArn": ref("AlertsTopic"),
			"Protocol": "lambda",
			"Endpoint": getAtt("FailoverFunction", "Arn"),
		}},
		"TopicInvokesFunction": {Type: "AWS::Lambda::Permission", Properties: m{
			"Action":        "lambda:InvokeFunction",
			"FunctionName":  ref("FailoverFunction"),
			"Principal":     "sns.amazonaws.com",
			"SourceArn":     ref("AlertsTopic"),
			"SourceAccount": ref("AWS::AccountId"),
		}},
		"DeadLetterQueue": {Type: "AWS::SQS::Queue", DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete", Properties: m{
			"QueueName":              DLQName(w),
			"KmsMasterKeyId":         ref("Key"),
			"MessageRetentionPeriod": DLQRetentionSeconds,
			"Tags":                   tags(w),
		}},
		"DeadLetterAlarm": {Type: "AWS::CloudWatch::Alarm", Properties: dlqAlarm},
		"LogGroup": {Type: "AWS::Logs::LogGroup", DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete", Properties: m{
			"LogGroupName":    LogGroupName(w),
			"RetentionInDays": LogRetentionDays,
			"Tags":            tags(w),
		}},
		"FunctionRole": {Type: "AWS::IAM::Role", Properties: m{
			"RoleName":    sub(roleNameSub(w)),
			"Description": "outposts-ha " + w + ": the failover function's role",
			"AssumeRolePolicyDocument": policyDoc(m{
				"Effect":    "Allow",
				"Principal": m{"Service": "lambda.amazonaws.com"},
				"Action":    "sts:AssumeRole",
			}),
			"Policies": []m{{"PolicyName": "failover", "PolicyDocument": basePolicy(w)}},
			"Tags":     tags(w),
		}},
		"LaunchPolicy": {Type: "AWS::IAM::Policy", Condition: cCanLaunch, Properties: m{
			"PolicyName":     "launch-recovery",
			"Roles":          []any{ref("FunctionRole")},
			"PolicyDocument": launchPolicy(w),
		}},
		"FailoverFunction": {Type: "AWS::Lambda::Function", Properties: m{
			"FunctionName":  FunctionName(w),
			"Description":   "outposts-ha " + w + ": fences the primary and relaunches it on the secondary Outposts server under the failover policy",
			"Architectures": []string{"arm64"},
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"Code":          m{"S3Bucket": ref(pBucket), "S3Key": ref(pKey)},
			"Role":          getAtt("FunctionRole", "Arn"),
			"Timeout":       FunctionTimeoutSeconds,
			"MemorySize":    256,
			"LoggingConfig": m{"LogGroup": ref("LogGroup"), "LogFormat": "JSON"},
			// No VpcConfig: the function only calls AWS APIs, and must not sit
			// on the site whose failure it handles.
			"Environment": m{"Variables": m{
				"OHA_WORKLOAD":              w,
				"OHA_POLICY":                ref(pPolicy),
				"OHA_TOPIC_ARN":             ref("AlertsTopic"),
				"OHA_STATUS_ALARM":          StatusAlarmName(w),
				"OHA_CONNECTED_ALARM":       ifThen(cHasPrimaryOP, ConnectedAlarmName(w), ""),
				"OHA_PRIMARY_OUTPOST_ID":    ref(pPrimaryOP),
				"OHA_RECOVERY_TEMPLATE":     naming.LaunchTemplate(w, naming.RoleRecovery),
				"OHA_DETECTION_PERIODS":     ref(pPeriods),
				"OHA_FENCE_TIMEOUT_SECONDS": ref(pFence),
			}},
			"Tags": tags(w),
		}},
		"FunctionAsyncConfig": {Type: "AWS::Lambda::EventInvokeConfig", Properties: m{
			"FunctionName":             ref("FailoverFunction"),
			"Qualifier":                "$LATEST",
			"MaximumRetryAttempts":     2,
			"MaximumEventAgeInSeconds": 3600,
			"DestinationConfig":        m{"OnFailure": m{"Destination": getAtt("DeadLetterQueue", "Arn")}},
		}},
		"StatusAlarm":    {Type: "AWS::CloudWatch::Alarm", Properties: status},
		"ConnectedAlarm": {Type: "AWS::CloudWatch::Alarm", Condition: cHasPrimaryOP, Properties: connected},
	}
}

// basePolicy is what the function needs under every failover policy.
func basePolicy(w string) m {
	return policyDoc(
		allow("ReadWorkloadAlarms", []string{"cloudwatch:DescribeAlarms"},
			[]any{arn("cloudwatch", "alarm:"+StatusAlarmName(w)), arn("cloudwatch", "alarm:"+ConnectedAlarmName(w))}, nil),
		allow("ReadMetrics", []string{"cloudwatch:GetMetricData"}, []any{"*"}, nil),
		allow("DescribeInstances", []string{"ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeLaunchTemplateVersions"}, []any{"*"}, nil),
		allow("WorkloadParameters", []string{"ssm:GetParameter", "ssm:PutParameter"},
			[]any{arn("ssm", "parameter"+naming.ParamPrefix(w)+"*")}, nil),
		allow("Notify", []string{"sns:Publish"}, []any{ref("AlertsTopic")}, nil),
		// The dry-run drill checks that the operator's email subscription was confirmed.
		allow("CheckSubscriptions", []string{"sns:ListSubscriptionsByTopic"}, []any{ref("AlertsTopic")}, nil),
		allow("UseStackKey", []string{"kms:GenerateDataKey", "kms:Decrypt"}, []any{getAtt("Key", "Arn")}, nil),
		allow("DeadLetter", []string{"sqs:SendMessage"}, []any{getAtt("DeadLetterQueue", "Arn")}, nil),
		allow("OwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			[]any{arn("logs", "log-group:"+LogGroupName(w)+":*")}, nil),
	)
}

// launchPolicy is what fencing the primary and launching the recovery
// instance need; the stack attaches it only when the failover policy may act
// (not notify, which neither stops nor launches).
func launchPolicy(w string) m {
	return policyDoc(
		allow("FenceWorkloadInstances", []string{"ec2:StopInstances"},
			[]any{arn("ec2", "instance/*")},
			m{"StringEquals": m{"aws:ResourceTag/" + naming.TagWorkload: w}}),
		// Only a launch template tagged as this workload's may be used...
		allow("LaunchFromWorkloadTemplate", []string{"ec2:RunInstances"},
			[]any{arn("ec2", "launch-template/*")},
			m{"StringEquals": m{"aws:ResourceTag/" + naming.TagWorkload: w}}),
		// ...and the instance must come from a launch template at all.
		allow("LaunchInstanceFromTemplate", []string{"ec2:RunInstances"},
			[]any{arn("ec2", "instance/*")},
			m{"ArnLike": m{"ec2:LaunchTemplate": arn("ec2", "launch-template/*")}}),
		// The resources a launch references or creates; which ones is fixed
		// by the recovery launch template.
		allow("LaunchSupportingResources", []string{"ec2:RunInstances"},
			[]any{
				arn("ec2", "subnet/*"),
				arn("ec2", "security-group/*"),
				arn("ec2", "network-interface/*"),
				arn("ec2", "volume/*"),
				arn("ec2", "key-pair/*"),
				sub("arn:${AWS::Partition}:ec2:${AWS::Region}::image/*"),
			}, nil),
		allow("TagAtLaunchOnly", []string{"ec2:CreateTags"},
			[]any{arn("ec2", "instance/*"), arn("ec2", "volume/*"), arn("ec2", "network-interface/*")},
			m{"StringEquals": m{"ec2:CreateAction": "RunInstances"}}),
		allow("PassInstanceProfileRole", []string{"iam:PassRole"},
			[]any{sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${" + pRole + "}")},
			m{"StringEquals": m{"iam:PassedToService": "ec2.amazonaws.com"}}),
	)
}
