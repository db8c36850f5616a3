package wizard_test

// Unit test, no fakes: the operator policy plan renders is scoped to the
// workload. Every statement that can change something names the workload (or
// its subnets, security group, image, secrets) in its resources, or is
// conditioned on the workload tag. Only read-only APIs get "*".

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

var readOnlyPrefixes = []string{"Describe", "Get", "List"}

func readOnly(action string) bool {
	_, op, _ := strings.Cut(action, ":")
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func TestOperatorPolicyIsScopedToTheWorkload(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "ontap-iscsi-chap.yaml"))
	require.NoError(t, err)
	s, err := spec.Parse(data)
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	raw, err := wizard.OperatorPolicy(s)
	require.NoError(t, err)
	var doc wizard.PolicyDocument
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.Statement)

	scopeTokens := []string{s.Workload, s.Instance.KeyPair, s.Outposts.PrimarySubnet, s.Outposts.SecondarySubnet, s.Instance.SecurityGroup,
		s.Instance.HelperAMI, s.Instance.InstanceProfile, s.Instance.InstanceProfileRole, "outposts-ha-"}
	sids := map[string]bool{}
	for _, st := range doc.Statement {
		assert.False(t, sids[st.Sid], "duplicate Sid %s", st.Sid)
		sids[st.Sid] = true
		if st.Effect == "Deny" {
			assert.Equal(t, "DenyStartFenced", st.Sid, "the only Deny")
			continue
		}
		assert.Equal(t, "Allow", st.Effect)
		conditioned := false
		for _, kv := range st.Condition {
			for k, v := range kv {
				if strings.Contains(k, "outposts-ha:workload") && v == any(s.Workload) {
					conditioned = true
				}
				if k == "ec2:CreateAction" || k == "iam:PassedToService" {
					conditioned = true
				}
			}
		}
		for _, res := range st.Resource {
			if conditioned {
				continue
			}
			scoped := false
			for _, tok := range scopeTokens {
				if tok != "" && strings.Contains(res, tok) {
					scoped = true
				}
			}
			if strings.HasPrefix(res, "arn:aws:secretsmanager:") {
				scoped = true // the exact secret ARNs from the answers
			}
			if scoped {
				continue
			}
			for _, a := range st.Action {
				assert.True(t, readOnly(a), "statement %s grants %s on unscoped resource %s", st.Sid, a, res)
			}
		}
	}
	// The policy may read the array credentials but never the CHAP secret values.
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if a == "secretsmanager:GetSecretValue" {
				for _, r := range st.Resource {
					assert.NotContains(t, r, "chap", "setup never needs to read CHAP secret values")
				}
			}
		}
	}
	assert.True(t, sids["PassInstanceRole"])
	assert.Contains(t, string(raw), "role/oha-erp01-role")
}

func examplePolicy(t *testing.T, name string) (*spec.Spec, []byte, wizard.PolicyDocument) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", name))
	require.NoError(t, err)
	s, err := spec.Parse(data)
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	raw, err := wizard.OperatorPolicy(s)
	require.NoError(t, err)
	var doc wizard.PolicyDocument
	require.NoError(t, json.Unmarshal(raw, &doc))
	return s, raw, doc
}

func exampleNames(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, m)
	var out []string
	for _, p := range m {
		out = append(out, filepath.Base(p))
	}
	return out
}

// wantOperatorActions is every action the operator policy allows, for every
// example: a new one must be added here on purpose, with its reason.
var wantOperatorActions = []string{
	"cloudformation:CreateStack", "cloudformation:DeleteStack",
	"cloudformation:DescribeStackEvents",
	"cloudformation:DescribeStackResources", // status lists the stack's resources (read only)
	"cloudformation:DescribeStacks", "cloudformation:GetTemplate", "cloudformation:TagResource", "cloudformation:UpdateStack",
	"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "cloudwatch:SetAlarmState",
	"ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:CreateTags", "ec2:DeleteLaunchTemplate",
	"ec2:DeleteTags",       // abort removes setup's LNI mark (outposts-ha:setup-lni) from the two subnets; that key only
	"ec2:GetConsoleOutput", // the helper's console tail (iPXE failure line) on a failed launch; workload-tagged instances only
	"ec2:DescribeImages", "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypes", "ec2:DescribeInstances",
	"ec2:DescribeKeyPairs", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates", "ec2:DescribeSecurityGroups",
	"ec2:DescribeSubnets", "ec2:ModifyLaunchTemplate", "ec2:ModifySubnetAttribute", "ec2:RunInstances",
	"ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances",
	"iam:GetInstanceProfile",
	"iam:ListInstanceProfiles", // setup's inventory offers the account's instance profiles (a list action)
	"iam:GetRole",              // setup checks the CloudFormation service role exists before deploying through it
	"iam:PassRole",             // the instance role to EC2, and now the service role to CloudFormation only
	"kms:Decrypt",              // read the dead-letter queue's messages (stack key, through SQS only)
	"lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:InvokeFunction",
	"logs:DescribeLogGroups",                                               // a list action: "*" (parliament); status finds the function's log group
	"logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents", // read the function's log group
	"outposts:GetOutpost", "outposts:GetOutpostInstanceTypes", "outposts:ListAssets", "outposts:ListOutposts",
	"s3:CreateBucket", "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:GetObject", "s3:ListBucket",
	"s3:PutBucketOwnershipControls", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutEncryptionConfiguration", "s3:PutObject",
	"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
	"secretsmanager:ListSecrets", // setup's inventory offers secret names; "*" (no resource type), no value is read
	"sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
	"sqs:GetQueueAttributes", "sqs:ReceiveMessage", // read the dead-letter queue
	"ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParametersByPath", "ssm:ListTagsForResource", "ssm:PutParameter",
	"sts:GetCallerIdentity", "tag:GetResources",
}

// TestOperatorPolicyCoversTheToolsCalls reads the SDK calls setup makes as
// the operator (the inventory, checks and helper launch in internal/outposts,
// the steps in wizard; not their tests) and asserts the policy allows each
// one, as service:Operation. Real files, no fakes. A new call there fails
// here until the policy grants it.
func TestOperatorPolicyCoversTheToolsCalls(t *testing.T) {
	allowed := map[string]bool{}
	for _, name := range exampleNames(t) {
		_, _, doc := examplePolicy(t, name)
		for _, st := range doc.Statement {
			if st.Effect == "Allow" {
				for _, a := range st.Action {
					allowed[a] = true
				}
			}
		}
	}
	// This project's own types in package outposts that end in Input.
	notSDK := map[string]bool{"outposts.HelperInput": true, "outposts.TemplateInput": true}
	re := regexp.MustCompile(`\b(ec2|iam|ssm|sns|sqs|sts|cloudformation|cloudwatch|lambda|s3|secretsmanager|outposts)\.([A-Z][A-Za-z0-9]*)Input\b`)
	root := testenv.RepoRoot()
	var files []string
	for _, pat := range []string{"internal/outposts/*.go", "wizard/*.go"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		require.NoError(t, err)
		files = append(files, m...)
	}
	calls := map[string][]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if notSDK[m[1]+"."+m[2]+"Input"] {
				continue
			}
			calls[m[1]+":"+m[2]] = append(calls[m[1]+":"+m[2]], filepath.Base(f))
		}
	}
	require.Contains(t, calls, "ec2:GetConsoleOutput", "the scan finds the helper's calls")
	require.Contains(t, calls, "outposts:GetOutpostInstanceTypes", "the scan finds the inventory's calls")
	for a, where := range calls {
		assert.True(t, allowed[a], "%s (called in %v) is not allowed by the operator policy", a, where)
	}
}

// The statements added for setup's inventory and helper: each as tight as
// the action allows (Service Authorization Reference, cited in policy.go).
func TestOperatorPolicyInventoryAndHelperStatements(t *testing.T) {
	s, _, doc := examplePolicy(t, "ontap-iscsi-chap.yaml")
	by := map[string]wizard.Statement{}
	for _, st := range doc.Statement {
		by[st.Sid] = st
	}
	r := s.Region
	subnets := []string{"arn:aws:ec2:" + r + ":*:subnet/" + s.Outposts.PrimarySubnet, "arn:aws:ec2:" + r + ":*:subnet/" + s.Outposts.SecondarySubnet}
	assert.Equal(t, []string{"ec2:GetConsoleOutput"}, by["ReadWorkloadConsole"].Action)
	assert.Equal(t, []string{"arn:aws:ec2:" + r + ":*:instance/*"}, by["ReadWorkloadConsole"].Resource)
	assert.Equal(t, map[string]map[string]any{"StringEquals": {"aws:ResourceTag/outposts-ha:workload": s.Workload}}, by["ReadWorkloadConsole"].Condition)
	assert.Equal(t, subnets, by["EnableLNIOnTheTwoSubnets"].Resource)
	assert.Empty(t, by["EnableLNIOnTheTwoSubnets"].Condition)
	assert.Equal(t, subnets, by["MarkTheTwoSubnets"].Resource)
	assert.Equal(t, map[string]map[string]any{
		"ForAllValues:StringEquals": {"aws:TagKeys": []any{wizard.TagSetupLNI}},
		"Null":                      {"aws:TagKeys": "false"},
	}, by["MarkTheTwoSubnets"].Condition)
	assert.Contains(t, by["ReadInventory"].Action, "secretsmanager:ListSecrets")
	assert.Contains(t, by["ReadInventory"].Action, "iam:ListInstanceProfiles")
	assert.Equal(t, []string{"arn:aws:outposts:" + r + ":*:outpost/*"}, by["ReadOutposts"].Resource)
	// Everything that is not a read names the two subnets or the workload tag.
	for _, sid := range []string{"MarkTheTwoSubnets", "EnableLNIOnTheTwoSubnets"} {
		for _, res := range by[sid].Resource {
			assert.NotContains(t, res, "*:subnet/*", sid)
		}
	}
}

func TestOperatorPolicyExactActions(t *testing.T) {
	union := map[string]bool{}
	for _, name := range exampleNames(t) {
		_, _, doc := examplePolicy(t, name)
		for _, st := range doc.Statement {
			if st.Effect == "Allow" {
				for _, a := range st.Action {
					union[a] = true
				}
			}
		}
	}
	var got []string
	for a := range union {
		got = append(got, a)
	}
	sort.Strings(got)
	want := append([]string{}, wantOperatorActions...)
	sort.Strings(want)
	assert.Equal(t, want, got)
}

// Issue 8 §2: the operator can no longer create or change roles, and passes
// exactly two roles, each to one service. The old pattern role/oha-<w>-*
// (which also matched the instance role) is gone.
func TestOperatorPolicyCannotEscalate(t *testing.T) {
	for _, name := range exampleNames(t) {
		s, _, doc := examplePolicy(t, name)
		passed := map[string]any{}
		for _, st := range doc.Statement {
			for _, a := range st.Action {
				assert.NotContains(t, []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRolePolicy",
					"iam:UpdateAssumeRolePolicy", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:PutRolePermissionsBoundary",
					"iam:DeleteRolePermissionsBoundary", "iam:TagRole", "kms:PutKeyPolicy", "kms:CreateGrant", "lambda:CreateFunction",
					"lambda:UpdateFunctionCode", "cloudformation:CreateChangeSet"}, a, "%s: %s", name, st.Sid)
				assert.False(t, strings.HasSuffix(a, ":*"), "%s: wildcard action %s", name, a)
				if a != "iam:PassRole" {
					continue
				}
				require.Len(t, st.Resource, 1)
				assert.NotContains(t, st.Resource[0], "*-", "no role pattern")
				assert.False(t, strings.HasSuffix(st.Resource[0], "*"), "%s: PassRole on a pattern %s", name, st.Resource[0])
				svc := st.Condition["StringEquals"]["iam:PassedToService"]
				require.NotNil(t, svc, "%s: PassRole without iam:PassedToService", st.Sid)
				passed[st.Resource[0]] = svc
			}
			for _, r := range st.Resource {
				assert.NotContains(t, r, ":role/oha-"+s.Workload+"-*", "%s: the old role pattern", name)
			}
		}
		region := s.Region
		part := "aws"
		if strings.HasPrefix(region, "us-gov-") {
			part = "aws-us-gov"
		}
		role := s.Instance.InstanceProfileRole
		if role == "" {
			role = s.Instance.InstanceProfile
		}
		assert.Equal(t, map[string]any{
			"arn:" + part + ":iam::*:role/" + role:                                   "ec2.amazonaws.com",
			"arn:" + part + ":iam::*:role/oha-" + s.Workload + "-" + region + "-cfn": "cloudformation.amazonaws.com",
		}, passed, name)
	}
}

// CONTRACT.md / issue 8 §3: neither the operator nor the function may start a
// fenced primary.
func TestOperatorPolicyDeniesStartingFenced(t *testing.T) {
	for _, name := range exampleNames(t) {
		_, _, doc := examplePolicy(t, name)
		var deny *wizard.Statement
		for i, st := range doc.Statement {
			if st.Effect == "Deny" {
				require.Nil(t, deny, "one Deny")
				deny = &doc.Statement[i]
			}
		}
		require.NotNil(t, deny, name)
		assert.Equal(t, []string{"ec2:StartInstances"}, deny.Action)
		require.Len(t, deny.Resource, 1)
		assert.True(t, strings.HasSuffix(deny.Resource[0], ":instance/*"), deny.Resource[0])
		assert.Equal(t, map[string]map[string]any{"StringEquals": {"ec2:ResourceTag/outposts-ha:fenced": "true"}}, deny.Condition)
	}
}

// The operator can read what the tool tells it to read: the DLQ (and decrypt
// it through SQS with the stack's key) and the function's log group.
func TestOperatorPolicyReadsDLQAndLogs(t *testing.T) {
	s, _, doc := examplePolicy(t, "ontap-iscsi-chap.yaml")
	by := map[string]wizard.Statement{}
	for _, st := range doc.Statement {
		by[st.Sid] = st
	}
	r := s.Region
	assert.Equal(t, []string{"arn:aws:sqs:" + r + ":*:oha-erp01-dlq"}, by["ReadDeadLetterQueue"].Resource)
	assert.Contains(t, by["ReadDeadLetterQueue"].Action, "sqs:ReceiveMessage")
	assert.Equal(t, map[string]map[string]any{"StringEquals": {"aws:ResourceTag/outposts-ha:workload": "erp01", "kms:ViaService": "sqs." + r + ".amazonaws.com"}},
		by["DecryptDeadLetters"].Condition)
	assert.Equal(t, []string{"kms:Decrypt"}, by["DecryptDeadLetters"].Action)
	assert.Contains(t, by["ReadFunctionLogs"].Resource, "arn:aws:logs:"+r+":*:log-group:/aws/lambda/oha-erp01-failover:*")
	assert.Contains(t, by["ReadFunctionLogs"].Action, "logs:FilterLogEvents")
}

// operatorParliamentExplained: the parliament findings that stand, by
// statement and issue. RunInstances is authorized on every resource a launch
// touches; the launch statements are split because each resource type needs
// a different condition (tagged template, request tag on what is created,
// the exact network), and parliament wants every type in each statement.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html#iam-example-runinstances
var operatorParliamentExplained = map[string]string{
	"LaunchFromWorkloadTemplates RESOURCE_MISMATCH": "RunInstances split by resource type",
	"LaunchTaggedInstances RESOURCE_MISMATCH":       "RunInstances split by resource type",
	"LaunchIntoWorkloadNetwork RESOURCE_MISMATCH":   "RunInstances split by resource type",
	"LaunchWithKeyPair RESOURCE_MISMATCH":           "RunInstances split by resource type",
}

// Issue 8 §5: parliament (pinned in .venv-scan) on every example's operator
// policy: zero unexplained findings.
func TestParliamentOperatorPolicy(t *testing.T) {
	tool := testenv.NeedScanTool(t, "parliament")
	used := map[string]bool{}
	for _, name := range exampleNames(t) {
		_, raw, _ := examplePolicy(t, name)
		for _, f := range testenv.Parliament(t, tool, raw) {
			key := f.Sid + " " + f.Issue
			if operatorParliamentExplained[key] == "" {
				t.Errorf("%s: unexplained parliament finding %s", name, f)
			}
			used[key] = true
		}
	}
	for k := range operatorParliamentExplained {
		assert.True(t, used[k], "explained finding %q no longer occurs: drop it", k)
	}
}

// The service role documents plan can hand an administrator.
func TestCloudFormationServiceRoleForExamples(t *testing.T) {
	for _, name := range exampleNames(t) {
		data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", name))
		require.NoError(t, err)
		s, err := spec.Parse(data)
		require.NoError(t, err)
		require.NoError(t, s.Validate())
		sr, err := wizard.CloudFormationServiceRole(s)
		require.NoError(t, err)
		assert.Equal(t, "oha-"+s.Workload+"-"+s.Region+"-cfn", sr.Name)
		assert.True(t, json.Valid(sr.Policy) && json.Valid(sr.Trust) && json.Valid(sr.Boundary), name)
	}
}
