package stack

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// The recovery stack is deployed through a CloudFormation service role
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html):
// CloudFormation makes every create, update and delete call with the role's
// permissions, so the operator needs only the stack actions and
// iam:PassRole on this one role, passed to cloudformation.amazonaws.com.
//
// The role can create IAM roles, so on its own it would be a way to
// administrator. Two things close that:
//   - it may create or change only the stack's two roles, by exact name, and
//     only while they carry the workload's permissions boundary
//     (iam:PermissionsBoundary, https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html);
//     it has no action that removes or replaces a boundary;
//   - the boundary is exactly the union of what the function and the
//     keep-alive schedule are meant to do (rendered from the same statements
//     as the template's policies), so no template, however edited, gives
//     those roles more.
//
// An administrator creates the role and the boundary once per workload and
// Region (EnsureServiceRole, or the rendered documents by hand); the
// operator policy (wizard/policy.go) cannot create or change either.

// ServiceRole is the rendered service role of a workload's stack.
type ServiceRole struct {
	Name         string // oha-<w>-<region>-cfn
	Arn          string // account "*" when rendered offline
	Trust        []byte // assume-role policy document (JSON)
	Policy       []byte // the role's inline policy (JSON)
	PolicyName   string // name of that inline policy
	BoundaryName string // oha-<w>-<region>-boundary (a customer managed policy)
	BoundaryArn  string
	Boundary     []byte // the boundary policy document (JSON)
}

// ServiceRolePolicyName is the inline policy's name on the service role.
const ServiceRolePolicyName = "recovery-stack"

// iamDoc and iamStatement are concrete (intrinsic-free) policy documents.
type iamDoc struct {
	Version   string         `json:"Version"`
	Statement []iamStatement `json:"Statement"`
}

type iamStatement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal,omitempty"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// RenderServiceRole renders the service role, its trust, its policy and the
// boundary for c (Workload, Region, InstanceProfileRole are used) in
// account; an empty account renders "*" (plan runs offline).
func RenderServiceRole(c Config, account string) (ServiceRole, error) {
	c, err := c.normalized()
	if err != nil {
		return ServiceRole{}, fmt.Errorf("recovery stack service role: %w", err)
	}
	if account == "" {
		account = "*"
	}
	v := vars{partition: c.Partition, region: c.Region, account: account, w: c.Workload, role: c.InstanceProfileRole}
	sr := ServiceRole{
		Name:         ServiceRoleName(c.Workload, c.Region),
		PolicyName:   ServiceRolePolicyName,
		BoundaryName: BoundaryPolicyName(c.Workload, c.Region),
	}
	sr.Arn = v.iam("role/" + sr.Name)
	sr.BoundaryArn = v.iam("policy/" + sr.BoundaryName)
	trust := iamDoc{Version: "2012-10-17", Statement: []iamStatement{{
		Sid: "CloudFormationAssumesRole", Effect: "Allow",
		Principal: map[string]string{"Service": "cloudformation.amazonaws.com"},
		Action:    []string{"sts:AssumeRole"},
	}}}
	boundary, err := boundaryDoc(v)
	if err != nil {
		return ServiceRole{}, err
	}
	for _, x := range []struct {
		dst *[]byte
		doc iamDoc
	}{{&sr.Trust, trust}, {&sr.Policy, serviceRoleDoc(v, sr.BoundaryArn)}, {&sr.Boundary, boundary}} {
		b, err := json.MarshalIndent(x.doc, "", "  ")
		if err != nil {
			return ServiceRole{}, err
		}
		*x.dst = append(b, '\n')
	}
	return sr, nil
}

// ServiceRoleArn is the service role's ARN in a known account.
func ServiceRoleArn(partition, account, w, region string) string {
	return "arn:" + partition + ":iam::" + account + ":role/" + ServiceRoleName(w, region)
}

type vars struct{ partition, region, account, w, role string }

func (v vars) arn(service, rest string) string {
	return "arn:" + v.partition + ":" + service + ":" + v.region + ":" + v.account + ":" + rest
}
func (v vars) iam(rest string) string {
	return "arn:" + v.partition + ":iam::" + v.account + ":" + rest
}

func (v vars) alarms() []string {
	return []string{
		v.arn("cloudwatch", "alarm:"+StatusAlarmName(v.w)), v.arn("cloudwatch", "alarm:"+ConnectedAlarmName(v.w)),
		v.arn("cloudwatch", "alarm:"+DLQAlarmName(v.w)), v.arn("cloudwatch", "alarm:"+DLQMissingAlarmName(v.w)),
	}
}

// serviceRoleDoc grants what CloudFormation's resource handlers call to
// create, update, read and delete this template's resources: the
// handlers.*.permissions of each resource type's registry schema
// (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html#schema-properties-handlers),
// which cfn-lint ships and TestServiceRoleCoversResourceHandlers checks this
// against. Each statement names the resource types it serves.
func serviceRoleDoc(v vars, boundaryArn string) iamDoc {
	w := v.w
	roles := []string{v.iam("role/" + FunctionRoleName(w, v.region)), v.iam("role/" + KeepAliveRoleName(w, v.region))}
	fn := v.arn("lambda", "function:"+FunctionName(w))
	logGroup := v.arn("logs", "log-group:"+LogGroupName(w))
	workloadKey := map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + naming.TagWorkload: w}}
	st := []iamStatement{
		// AWS::IAM::Role, AWS::IAM::Policy: only the stack's two roles, and
		// only with the boundary. These IAM actions accept the
		// iam:PermissionsBoundary condition key
		// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
		{Sid: "CreateStackRolesWithinBoundary", Effect: "Allow", Resource: roles,
			Action: []string{"iam:CreateRole", "iam:DeleteRolePolicy", "iam:PutRolePolicy"},
			// ArnLike (the key is an ARN) so an offline rendering ("*" for the account) still
			// matches; with a real account the ARN has no wildcard.
			Condition: map[string]map[string]any{"ArnLike": {"iam:PermissionsBoundary": boundaryArn}}},
		{Sid: "ManageStackRoles", Effect: "Allow", Resource: roles,
			Action: []string{"iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
				"iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription"}},
		// AWS::Lambda::Function, AWS::Scheduler::Schedule.
		{Sid: "PassFunctionRole", Effect: "Allow", Resource: roles[:1], Action: []string{"iam:PassRole"},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
		{Sid: "PassKeepAliveRole", Effect: "Allow", Resource: roles[1:], Action: []string{"iam:PassRole"},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}},
		// AWS::Lambda::Function, ::Permission, ::EventInvokeConfig.
		{Sid: "StackFunction", Effect: "Allow", Resource: []string{fn, fn + ":*"},
			Action: []string{"lambda:AddPermission", "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency",
				"lambda:DeleteFunctionEventInvokeConfig", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
				"lambda:GetFunctionConfiguration", "lambda:GetFunctionEventInvokeConfig", "lambda:GetFunctionRecursionConfig",
				"lambda:GetPolicy", "lambda:GetRuntimeManagementConfig", "lambda:ListTags", "lambda:PutFunctionConcurrency",
				"lambda:PutFunctionEventInvokeConfig", "lambda:PutFunctionRecursionConfig", "lambda:PutRuntimeManagementConfig",
				"lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource", "lambda:UpdateFunctionCode",
				"lambda:UpdateFunctionConfiguration", "lambda:UpdateFunctionEventInvokeConfig"}},
		// AWS::Lambda::Function's handler reads the network it would attach
		// to and, on delete, its interfaces; Describe* take only "*".
		{Sid: "LambdaHandlerDescribes", Effect: "Allow", Resource: []string{"*"},
			Action: []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"}},
		// AWS::Lambda::Function reads its code with the caller's rights.
		{Sid: "ReadFunctionBundle", Effect: "Allow", Action: []string{"s3:GetObject", "s3:GetObjectVersion"},
			Resource: []string{"arn:" + v.partition + ":s3:::" + BundleBucketName(v.account, v.region) + "/lambda/*"}},
		// AWS::Logs::LogGroup.
		{Sid: "StackLogGroup", Effect: "Allow", Resource: []string{logGroup, logGroup + ":*"},
			Action: []string{"logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
				"logs:DisassociateKmsKey", "logs:GetDataProtectionPolicy", "logs:ListTagsForResource", "logs:PutRetentionPolicy",
				"logs:TagResource", "logs:UntagResource"}},
		// logs:DescribeLogGroups is a list action: it takes only "*".
		{Sid: "ListLogGroups", Effect: "Allow", Resource: []string{"*"}, Action: []string{"logs:DescribeLogGroups"}},
		// AWS::SNS::Topic, AWS::SNS::Subscription.
		{Sid: "StackTopic", Effect: "Allow", Resource: []string{v.arn("sns", TopicName(w))},
			Action: []string{"sns:CreateTopic", "sns:DeleteTopic", "sns:GetDataProtectionPolicy", "sns:GetTopicAttributes",
				"sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:SetTopicAttributes", "sns:Subscribe",
				"sns:TagResource", "sns:UntagResource"}},
		// Subscriptions are not IAM resources: these take only "*".
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
		{Sid: "StackSubscriptions", Effect: "Allow", Resource: []string{"*"},
			Action: []string{"sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"}},
		// AWS::SQS::Queue.
		{Sid: "StackQueue", Effect: "Allow", Resource: []string{v.arn("sqs", DLQName(w))},
			Action: []string{"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags",
				"sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"}},
		// AWS::CloudWatch::Alarm.
		{Sid: "StackAlarms", Effect: "Allow", Resource: v.alarms(),
			Action: []string{"cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
				"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"}},
		// AWS::KMS::Key: a key is created with the stack's tags, and KMS
		// authorizes CreateKey, and TagResource during it, on "*"
		// (https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html);
		// the request must carry this workload's tag.
		{Sid: "CreateWorkloadKey", Effect: "Allow", Resource: []string{"*"}, Action: []string{"kms:CreateKey", "kms:TagResource"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:RequestTag/" + naming.TagWorkload: w}}},
		// AWS::KMS::Key after creation, and the grants and data keys Lambda,
		// SNS, SQS and Logs ask for with the caller's rights when a resource
		// is created with the key: only keys tagged as this workload's.
		{Sid: "ManageWorkloadKey", Effect: "Allow", Resource: []string{v.arn("kms", "key/*")}, Condition: workloadKey,
			Action: []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation",
				"kms:EnableKey", "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey", "kms:GetKeyPolicy",
				"kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
				"kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription"}},
		// AWS::KMS::Alias: alias actions are authorized on the alias and on
		// the key, so both are named; the alias pins the name.
		// https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
		{Sid: "StackKeyAlias", Effect: "Allow", Resource: []string{v.arn("kms", "alias/oha-"+w+"-recovery"), v.arn("kms", "key/*")},
			Action: []string{"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"}},
		{Sid: "ListKeyAliases", Effect: "Allow", Resource: []string{"*"}, Action: []string{"kms:ListAliases"}},
		// AWS::Scheduler::Schedule.
		{Sid: "KeepAliveSchedule", Effect: "Allow", Resource: []string{v.arn("scheduler", "schedule/default/"+KeepAliveName(w))},
			Action: []string{"scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"}},
	}
	return iamDoc{Version: "2012-10-17", Statement: st}
}

// boundaryDoc is the union of the function role's and the keep-alive role's
// statements, resolved from the template's own policy builders.
func boundaryDoc(v vars) (iamDoc, error) {
	var out []iamStatement
	for _, src := range []struct {
		prefix string
		doc    m
	}{{"Function", basePolicy(v.w)}, {"FunctionLaunch", launchPolicy(v.w)}, {"KeepAlive", keepAlivePolicy()}} {
		for _, s := range src.doc["Statement"].([]any) {
			st, err := v.resolveStatement(s.(m))
			if err != nil {
				return iamDoc{}, fmt.Errorf("recovery stack boundary: %w", err)
			}
			st.Sid = src.prefix + st.Sid
			out = append(out, st)
		}
	}
	return iamDoc{Version: "2012-10-17", Statement: out}, nil
}

// resolveStatement turns one template statement into a concrete one. The
// stack's key has no name to put in an ARN, so a statement on it becomes
// key/* conditioned on the workload tag the stack puts on the key.
func (v vars) resolveStatement(s m) (iamStatement, error) {
	st := iamStatement{Sid: s["Sid"].(string), Effect: s["Effect"].(string), Action: s["Action"].([]string)}
	onKey := false
	for _, r := range s["Resource"].([]any) {
		res, key, err := v.resolve(r)
		if err != nil {
			return st, fmt.Errorf("%s: %w", st.Sid, err)
		}
		onKey = onKey || key
		st.Resource = append(st.Resource, res)
	}
	if c, ok := s["Condition"].(m); ok {
		st.Condition = map[string]map[string]any{}
		for op, kv := range c {
			st.Condition[op] = map[string]any{}
			for k, val := range kv.(m) {
				if vm, ok := val.(m); ok {
					r, _, err := v.resolve(vm)
					if err != nil {
						return st, fmt.Errorf("%s: %w", st.Sid, err)
					}
					val = r
				}
				st.Condition[op][k] = val
			}
		}
	}
	if onKey {
		if st.Condition == nil {
			st.Condition = map[string]map[string]any{}
		}
		st.Condition["StringEquals"] = map[string]any{"aws:ResourceTag/" + naming.TagWorkload: v.w}
	}
	return st, nil
}

func (v vars) resolve(r any) (res string, key bool, err error) {
	switch x := r.(type) {
	case string:
		return x, false, nil
	case m:
		if s, ok := x["Fn::Sub"].(string); ok {
			rep := strings.NewReplacer("${AWS::Partition}", v.partition, "${AWS::Region}", v.region,
				"${AWS::AccountId}", v.account, "${"+pRole+"}", v.role)
			out := rep.Replace(s)
			if strings.Contains(out, "${") {
				return "", false, fmt.Errorf("unresolved %q", s)
			}
			return out, false, nil
		}
		if ref, ok := x["Ref"].(string); ok && ref == "AlertsTopic" {
			return v.arn("sns", TopicName(v.w)), false, nil
		}
		if ga, ok := x["Fn::GetAtt"].([]string); ok && len(ga) == 2 && ga[1] == "Arn" {
			switch ga[0] {
			case "Key":
				return v.arn("kms", "key/*"), true, nil
			case "DeadLetterQueue":
				return v.arn("sqs", DLQName(v.w)), false, nil
			}
		}
	}
	return "", false, fmt.Errorf("cannot resolve %v outside the stack", r)
}

// allowedActions lists a document's Allow actions, sorted.
func (d iamDoc) allowedActions() []string {
	seen := map[string]bool{}
	for _, s := range d.Statement {
		if s.Effect == "Allow" {
			for _, a := range s.Action {
				seen[a] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
