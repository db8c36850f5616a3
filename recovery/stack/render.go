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
const TemplateVersion = 2

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
	pSecondOP   = "SecondaryOutpostId"
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
		{pSecondOP, c.SecondaryOutpostID},
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
	DependsOn           []string       `yaml:"DependsOn,omitempty"`
	Metadata            map[string]any `yaml:"Metadata,omitempty"`
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
			pSecondOP: {
				Type:                  "String",
				Description:           "Outpost ID of the secondary server; the dry-run drill checks its capacity for the instance type. Empty skips that check.",
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
