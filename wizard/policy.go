package wizard

import (
	"encoding/json"
	"fmt"
	"sort"
	"unicode"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/recovery"
	"github.com/outposts-ha/outposts-ha/recovery/stack"
)

// stackTagFenced is the tag the failover function puts on a fenced primary
// (CONTRACT.md).
const stackTagFenced = naming.TagFenced

// CloudFormationServiceRole renders the workload's CloudFormation service
// role (trust, inline policy) and the permissions boundary of the roles the
// stack creates, for an administrator to create once (account "*": plan runs
// offline; stack.EnsureServiceRole fills in the account).
func CloudFormationServiceRole(s *spec.Spec) (stack.ServiceRole, error) {
	p, err := recovery.ParsePolicy(s.Failover.Policy)
	if err != nil {
		return stack.ServiceRole{}, err
	}
	return stack.RenderServiceRole(stack.Config{
		Workload:            s.Workload,
		Region:              s.Region,
		Policy:              p,
		AlarmPeriods:        s.Failover.DetectionPeriods,
		AlarmDatapoints:     s.Failover.DatapointsToAlarm,
		NotificationEmail:   s.Failover.NotificationEmail,
		InstanceProfileRole: instanceRole(s),
		PrimaryOutpostID:    s.Outposts.PrimaryOutpost,
		SecondaryOutpostID:  s.Outposts.SecondaryOutpost,
	}, "")
}

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

// operatorStatements are the least-privilege grant an operator needs to run
// setup (and drill, failback, cleanup, status) for this one workload. Every
// write is scoped to the workload's names or tags; only APIs without
// resource-level permissions get "*", and those are read-only. The account is
// "*" in ARNs because plan runs offline: an identity policy only ever grants in
// its own account.
//
// The recovery stack is created, updated and deleted by CloudFormation
// through the workload's service role (recovery/stack/servicerole.go), so
// this policy holds no IAM, Lambda, SNS, SQS, KMS or alarm writes for the
// stack's resources: only the stack actions and iam:PassRole on that one
// role, passed to CloudFormation. It cannot create or change any role
// (issue 8 §2: CreateRole/PutRolePolicy plus an unconditioned PassRole on
// role/oha-<w>-* amounted to administrator, and that pattern also matched
// the instance role).
//
// The grant is two customer managed policies, by concern (setup, recovery):
// together they are over IAM's 6,144-character quota for one managed policy
// (OperatorPolicies).
func operatorStatements(s *spec.Spec) (setup, operate []Statement) {
	w, r := s.Workload, s.Region
	part := naming.Partition(r)
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:*:%s", part, service, r, resource)
	}
	iamArn := func(resource string) string { return "arn:" + part + ":iam::*:" + resource }
	tagged := map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + naming.TagWorkload: w}}
	requestTagged := map[string]map[string]any{"StringEquals": {"aws:RequestTag/" + naming.TagWorkload: w}}
	subnets := []string{arn("ec2", "subnet/"+s.Outposts.PrimarySubnet), arn("ec2", "subnet/"+s.Outposts.SecondarySubnet)}
	alarms := []string{
		arn("cloudwatch", "alarm:"+stack.StatusAlarmName(w)), arn("cloudwatch", "alarm:"+stack.ConnectedAlarmName(w)),
		arn("cloudwatch", "alarm:"+stack.DLQAlarmName(w)), arn("cloudwatch", "alarm:"+stack.DLQMissingAlarmName(w)),
	}
	logGroup := arn("logs", "log-group:"+stack.LogGroupName(w))
	urlSuffix := "amazonaws.com"
	if part == "aws-cn" {
		urlSuffix = "amazonaws.com.cn"
	}

	setup = []Statement{
		{Sid: "ReadInventory", Effect: "Allow", Resource: []string{"*"}, Action: []string{
			"ec2:DescribeSubnets", "ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeImages",
			"ec2:DescribeSecurityGroups", "ec2:DescribeKeyPairs", "ec2:DescribeInstanceTypes",
			"ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions",
			"outposts:ListOutposts", "outposts:ListAssets",
			// List actions take only "*" (parliament: logs:DescribeLogGroups).
			"cloudwatch:GetMetricData", "logs:DescribeLogGroups", "sts:GetCallerIdentity", "tag:GetResources",
			// setup's inventory lists secret names (no value is read).
			// ListSecrets has no resource type: "*" only.
			// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
			"secretsmanager:ListSecrets",
			// The inventory offers the account's instance profiles. The
			// reference gives the listing the instance-profile resource type
			// (the path prefix listed); parliament's bundled copy gives none
			// and wants "*". instance-profile/* would match every profile
			// anyway, so "*" grants nothing more.
			// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
			"iam:ListInstanceProfiles",
		}},
		// setup's inventory reads every Outpost of the account before the
		// operator picks two: GetOutpost when a ListOutposts page leaves the
		// hardware type out, GetOutpostInstanceTypes for every server. Both
		// are reads on the outpost resource type.
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsoutposts.html
		{Sid: "ReadOutposts", Effect: "Allow", Resource: []string{arn("outposts", "outpost/*")},
			Action: []string{"outposts:GetOutpost", "outposts:GetOutpostInstanceTypes"}},
		// ModifySubnetAttribute takes the subnet resource type: the two
		// subnets and nothing else.
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
		{Sid: "EnableLNIOnTheTwoSubnets", Effect: "Allow", Action: []string{"ec2:ModifySubnetAttribute"}, Resource: subnets},
		// setup marks a subnet whose LNI it enables (TagSetupLNI, the proof
		// for resume and abort) and abort removes the mark: on the two
		// subnets, that one tag key only, and never a DeleteTags without keys
		// (which would remove every tag).
		{Sid: "MarkTheTwoSubnets", Effect: "Allow", Action: []string{"ec2:CreateTags", "ec2:DeleteTags"}, Resource: subnets,
			Condition: map[string]map[string]any{
				"ForAllValues:StringEquals": {"aws:TagKeys": []string{TagSetupLNI}},
				"Null":                      {"aws:TagKeys": "false"},
			}},
		// The helper's console tail (the iPXE failure line) when it fails:
		// GetConsoleOutput takes the instance resource type with
		// aws:ResourceTag, so the workload's instances only.
		// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
		{Sid: "ReadWorkloadConsole", Effect: "Allow", Action: []string{"ec2:GetConsoleOutput"},
			Resource: []string{arn("ec2", "instance/*")}, Condition: tagged},
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
		{Sid: "PassInstanceRole", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource:  []string{iamArn("role/" + instanceRole(s))},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
		{Sid: "ReadInstanceProfile", Effect: "Allow", Action: []string{"iam:GetInstanceProfile"},
			Resource: []string{iamArn("instance-profile/" + s.Instance.InstanceProfile)}},
	}
	operate = []Statement{
		{Sid: "FenceAndRetireWorkloadInstances", Effect: "Allow", Resource: []string{arn("ec2", "instance/*")}, Condition: tagged,
			Action: []string{"ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances", "ec2:CreateTags"}},
		// A fenced primary must never run beside the recovery instance: an
		// explicit Deny beats the Allow above.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
		{Sid: "DenyStartFenced", Effect: "Deny", Action: []string{"ec2:StartInstances"}, Resource: []string{arn("ec2", "instance/*")},
			Condition: map[string]map[string]any{"StringEquals": {"ec2:ResourceTag/" + stackTagFenced: "true"}}},
		{Sid: "WorkloadRecord", Effect: "Allow",
			Resource: []string{arn("ssm", "parameter"+naming.ParamPrefix(w)+"*")},
			Action:   []string{"ssm:GetParameter", "ssm:GetParametersByPath", "ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:ListTagsForResource"}},
		// The stack actions Deploy and Delete make, and reads for status.
		// Deliberately not cloudformation:*: without CreateChangeSet no
		// existing resource can be imported into the stack, where the
		// service role would manage it.
		{Sid: "RecoveryStack", Effect: "Allow", Resource: []string{arn("cloudformation", "stack/"+naming.Stack(w)+"/*")},
			Action: []string{"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
				"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResources",
				"cloudformation:GetTemplate", "cloudformation:TagResource"}},
		// CloudFormation makes the stack's calls as this role; an
		// administrator creates it (and its boundary) once.
		// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
		{Sid: "PassStackServiceRole", Effect: "Allow", Action: []string{"iam:PassRole"},
			Resource:  []string{iamArn("role/" + stack.ServiceRoleName(w, r))},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}},
		{Sid: "CheckStackServiceRole", Effect: "Allow", Action: []string{"iam:GetRole"},
			Resource: []string{iamArn("role/" + stack.ServiceRoleName(w, r))}},
		// drill invokes the function; status reads it.
		{Sid: "InvokeAndReadFunction", Effect: "Allow", Resource: []string{arn("lambda", "function:"+stack.FunctionName(w))},
			Action: []string{"lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:InvokeFunction"}},
		// What the tool tells the operator to read: the function's log
		// group and the dead-letter queue (messages are encrypted with the
		// stack's key, used through SQS only).
		{Sid: "ReadFunctionLogs", Effect: "Allow", Resource: []string{logGroup, logGroup + ":*"},
			Action: []string{"logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"}},
		{Sid: "ReadDeadLetterQueue", Effect: "Allow", Resource: []string{arn("sqs", stack.DLQName(w))},
			Action: []string{"sqs:GetQueueAttributes", "sqs:ReceiveMessage"}},
		{Sid: "DecryptDeadLetters", Effect: "Allow", Resource: []string{arn("kms", "key/*")}, Action: []string{"kms:Decrypt"},
			Condition: map[string]map[string]any{"StringEquals": {
				"aws:ResourceTag/" + naming.TagWorkload: w,
				"kms:ViaService":                        "sqs." + r + "." + urlSuffix,
			}}},
		// status reads the alarms; drill may set one to exercise the path.
		{Sid: "WorkloadAlarms", Effect: "Allow", Resource: alarms,
			Action: []string{"cloudwatch:DescribeAlarms", "cloudwatch:SetAlarmState"}},
		{Sid: "ReadAlertsTopic", Effect: "Allow", Resource: []string{arn("sns", stack.TopicName(w))},
			Action: []string{"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"}},
		{Sid: "FunctionBundleBucket", Effect: "Allow", Resource: []string{"arn:" + part + ":s3:::outposts-ha-*-" + r, "arn:" + part + ":s3:::outposts-ha-*-" + r + "/lambda/*"},
			Action: []string{"s3:CreateBucket", "s3:ListBucket", "s3:GetBucketLocation", "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration",
				"s3:PutBucketOwnershipControls", "s3:PutBucketTagging", "s3:GetBucketTagging", "s3:PutObject", "s3:GetObject"}},
	}
	if s.Instance.KeyPair != "" {
		setup = append(setup, Statement{Sid: "LaunchWithKeyPair", Effect: "Allow", Action: []string{"ec2:RunInstances"},
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
		setup = append(setup, Statement{Sid: "ReadArrayCredentials", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: secrets})
	}
	if len(chap) > 0 {
		// setup only checks that the CHAP secrets exist; it never reads their values.
		setup = append(setup, Statement{Sid: "CheckCHAPSecretsExist", Effect: "Allow", Action: []string{"secretsmanager:DescribeSecret"}, Resource: sortedKeys(chap)})
	}
	return setup, operate
}

// ManagedPolicyMaxChars is IAM's quota on one customer managed policy:
// 6,144 characters, white space not counted ("IAM and AWS STS quotas",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
// CreatePolicy and CreatePolicyVersion refuse a larger document.
const ManagedPolicyMaxChars = 6144

// OperatorPolicyPart is one customer managed policy of the operator's grant.
type OperatorPolicyPart struct {
	Concern  string // "setup" or "recovery"
	File     string // its path in the plan folder
	Document []byte // the policy document (indented JSON)
}

// operatorConcerns name the parts, in order: the inventory, the two
// subnets, the launch templates, launches and the instance role; then the
// workload's instances, record, recovery stack and what drill and status
// read. The Deny on starting a fenced primary sits beside the Allow it
// limits. Attach both: setup needs both, and IAM evaluates the policies
// attached to one identity together, so the grant is their union.
var operatorConcerns = []string{"setup", "recovery"}

// OperatorPolicyFiles are the plan folder's operator policy files, in order.
func OperatorPolicyFiles() []string {
	out := make([]string, len(operatorConcerns))
	for i, c := range operatorConcerns {
		out[i] = "iam/operator-policy-" + c + ".json"
	}
	return out
}

// OperatorPolicies renders the operator's grant as customer managed
// policies, each within ManagedPolicyMaxChars (the whole grant in one
// document is over it, about 6,600 to 6,900 characters). It refuses, as bad input, answers that would make a
// part too large for IAM to accept.
func OperatorPolicies(s *spec.Spec) ([]OperatorPolicyPart, error) {
	setup, operate := operatorStatements(s)
	files := OperatorPolicyFiles()
	var out []OperatorPolicyPart
	for i, st := range [][]Statement{setup, operate} {
		doc, err := json.MarshalIndent(PolicyDocument{Version: "2012-10-17", Statement: st}, "", "  ")
		if err != nil {
			return nil, err
		}
		if n := policyChars(doc); n > ManagedPolicyMaxChars {
			return nil, problem("storage", fmt.Sprintf("the operator policy %s would be %d characters without white space; IAM accepts at most 6,144 in a managed policy", files[i], n),
				"use fewer distinct secrets (one CHAP secret may serve several volumes) or shorter names")
		}
		out = append(out, OperatorPolicyPart{Concern: operatorConcerns[i], File: files[i], Document: doc})
	}
	return out, nil
}

// policyChars counts a policy document as IAM's quotas do: characters,
// white space excluded.
func policyChars(doc []byte) int {
	n := 0
	for _, r := range string(doc) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
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
