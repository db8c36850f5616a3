package wizard

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// PolicyDocument is an IAM policy document.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// OperatorPolicy renders the least-privilege policy an operator needs to run
// setup (and drill, failback, cleanup, status) for this one workload. Every
// write is scoped to the workload's names or tags; only APIs without
// resource-level permissions get "*", and those are read-only. The account is
// "*" in ARNs because plan runs offline: an identity policy only ever grants in
// its own account.
func OperatorPolicy(s *spec.Spec) ([]byte, error) {
	w, r := s.Workload, s.Region
	part := naming.Partition(r)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:*:%s", part, service, r, resource)
	}
	prefix := "oha-" + w + "-"
	tagged := map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + naming.TagWorkload: w}}
	requestTagged := map[string]map[string]any{"StringEquals": {"aws:RequestTag/" + naming.TagWorkload: w}}
	subnets := []string{arn("ec2", "subnet/"+s.Outposts.PrimarySubnet), arn("ec2", "subnet/"+s.Outposts.SecondarySubnet)}

	st := []Statement{
		{Sid: "ReadInventory", Effect: "Allow", Resource: []string{"*"}, Action: []string{
			"ec2:DescribeSubnets", "ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeImages",
			"ec2:DescribeSecurityGroups", "ec2:DescribeKeyPairs", "ec2:DescribeInstanceTypes",
			"ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions",
			"outposts:ListOutposts", "outposts:GetOutpost", "outposts:GetOutpostInstanceTypes", "outposts:ListAssets",
			"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "sts:GetCallerIdentity", "tag:GetResources",
		}},
		{Sid: "EnableLNIOnTheTwoSubnets", Effect: "Allow", Action: []string{"ec2:ModifySubnetAttribute"}, Resource: subnets},
		{Sid: "CreateWorkloadLaunchTemplates", Effect: "Allow", Action: []string{"ec2:CreateLaunchTemplate"},
			Resource: []string{arn("ec2", "launch-template/*")}, Condition: requestTagged},
		{Sid: "ManageWorkloadLaunchTemplates", Effect: "Allow", Resource: []string{arn("ec2", "launch-template/*")}, Condition: tagged,
			Action: []string{"ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate"}},
		{Sid: "LaunchFromWorkloadTemplates", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{arn("ec2", "launch-template/*")}, Condition: tagged},
		{Sid: "LaunchTaggedInstances", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{arn("ec2", "instance/*"), arn("ec2", "network-interface/*"), arn("ec2", "volume/*")}, Condition: requestTagged},
		{Sid: "LaunchIntoWorkloadNetwork", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: append(append([]string{}, subnets...), arn("ec2", "security-group/"+s.Instance.SecurityGroup),
				fmt.Sprintf("arn:%s:ec2:%s::image/%s", part, r, s.Instance.HelperAMI))},
		{Sid: "TagOnCreate", Effect: "Allow", Action: []string{"ec2:CreateTags"}, Resource: []string{arn("ec2", "*/*")},
			Condition: map[string]map[string]any{"StringEquals": {"ec2:CreateAction": []string{"RunInstances", "CreateLaunchTemplate"}}}},
		{Sid: "FenceAndRetireWorkloadInstances", Effect: "Allow", Resource: []string{arn("ec2", "instance/*")}, Condition: tagged,
			Action: []string{"ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances", "ec2:CreateTags"}},
		{Sid: "PassInstanceRole", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource:  []string{"arn:" + part + ":iam::*:role/" + instanceRole(s)},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
		{Sid: "ReadInstanceProfile", Effect: "Allow", Action: []string{"iam:GetInstanceProfile"},
			Resource: []string{"arn:" + part + ":iam::*:instance-profile/" + s.Instance.InstanceProfile}},
		{Sid: "WorkloadRecord", Effect: "Allow",
			Resource: []string{arn("ssm", "parameter"+naming.ParamPrefix(w)+"*")},
			Action:   []string{"ssm:GetParameter", "ssm:GetParametersByPath", "ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:ListTagsForResource"}},
		{Sid: "RecoveryStack", Effect: "Allow", Resource: []string{arn("cloudformation", "stack/"+naming.Stack(w)+"/*")},
			Action: []string{"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
				"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:GetTemplate", "cloudformation:TagResource"}},
		{Sid: "StackRoles", Effect: "Allow", Resource: []string{"arn:" + part + ":iam::*:role/" + prefix + "*"},
			Action: []string{"iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
				"iam:GetRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:PassRole"}},
		{Sid: "StackFunction", Effect: "Allow", Resource: []string{arn("lambda", "function:"+prefix+"*")},
			Action: []string{"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
				"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:AddPermission", "lambda:RemovePermission",
				"lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig",
				"lambda:TagResource", "lambda:ListTags", "lambda:InvokeFunction"}},
		{Sid: "StackLogs", Effect: "Allow", Resource: []string{arn("logs", "log-group:/aws/lambda/"+prefix+"*")},
			Action: []string{"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:TagResource", "logs:DescribeLogGroups"}},
		{Sid: "StackTopic", Effect: "Allow", Resource: []string{arn("sns", prefix+"*")},
			Action: []string{"sns:CreateTopic", "sns:DeleteTopic", "sns:Subscribe", "sns:Unsubscribe", "sns:GetTopicAttributes",
				"sns:SetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:TagResource", "sns:Publish"}},
		{Sid: "StackQueue", Effect: "Allow", Resource: []string{arn("sqs", prefix+"*")},
			Action: []string{"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:TagQueue"}},
		{Sid: "StackAlarms", Effect: "Allow", Resource: []string{arn("cloudwatch", "alarm:"+prefix+"*")},
			Action: []string{"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:SetAlarmState"}},
		{Sid: "StackKeyCreate", Effect: "Allow", Action: []string{"kms:CreateKey"}, Resource: []string{"*"}, Condition: requestTagged},
		{Sid: "StackKeyManage", Effect: "Allow", Resource: []string{arn("kms", "key/*")}, Condition: tagged,
			Action: []string{"kms:DescribeKey", "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:CreateAlias", "kms:DeleteAlias"}},
		{Sid: "StackKeyAlias", Effect: "Allow", Resource: []string{arn("kms", "alias/"+prefix+"*")},
			Action: []string{"kms:CreateAlias", "kms:DeleteAlias"}},
		{Sid: "FunctionBundleBucket", Effect: "Allow", Resource: []string{"arn:" + part + ":s3:::outposts-ha-*-" + r, "arn:" + part + ":s3:::outposts-ha-*-" + r + "/lambda/*"},
			Action: []string{"s3:CreateBucket", "s3:ListBucket", "s3:GetBucketLocation", "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration",
				"s3:PutBucketOwnershipControls", "s3:PutBucketTagging", "s3:GetBucketTagging", "s3:PutObject", "s3:GetObject"}},
	}
	if s.Instance.KeyPair != "" {
		st = append(st, Statement{Sid: "LaunchWithKeyPair", Effect: "Allow", Action: []string{"ec2:RunInstances"},
			Resource: []string{arn("ec2", "key-pair/"+s.Instance.KeyPair)}})
	}
	var secrets []string
	if m := s.Storage.Management; m != nil && m.Credentials.SecretARN != "" {
		secrets = append(secrets, m.Credentials.SecretARN)
	}
	chap := map[string]bool{}
	for _, v := range append([]spec.Volume{s.Storage.Boot}, s.Storage.Data...) {
		if v.CHAPSecretARN != "" && !chap[v.CHAPSecretARN] {
			chap[v.CHAPSecretARN] = true
		}
	}
	if len(secrets) > 0 {
		st = append(st, Statement{Sid: "ReadArrayCredentials", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: secrets})
	}
	if len(chap) > 0 {
		// setup only checks that the CHAP secrets exist; it never reads their values.
		st = append(st, Statement{Sid: "CheckCHAPSecretsExist", Effect: "Allow", Action: []string{"secretsmanager:DescribeSecret"}, Resource: sortedKeys(chap)})
	}
	return json.MarshalIndent(PolicyDocument{Version: "2012-10-17", Statement: st}, "", "  ")
}

// instanceRole is the role inside the instance profile; when the answers do not
// name it, setup resolves it from the profile, and the policy assumes the
// common convention of the same name.
func instanceRole(s *spec.Spec) string {
	if s.Instance.InstanceProfileRole != "" {
		return s.Instance.InstanceProfileRole
	}
	return s.Instance.InstanceProfile
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
