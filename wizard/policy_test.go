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
	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
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
	parts, err := wizard.OperatorPolicies(s)
	require.NoError(t, err)
	doc := unionOf(t, parts)
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
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

// examplePolicy renders an example's operator policies: the parts plan
// writes, and their union (what an operator with all of them attached may
// do; the scoping tests judge the union).
func examplePolicy(t *testing.T, name string) (*spec.Spec, []wizard.OperatorPolicyPart, wizard.PolicyDocument) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", name))
	require.NoError(t, err)
	s, err := spec.Parse(data)
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	parts, err := wizard.OperatorPolicies(s)
	require.NoError(t, err)
	return s, parts, unionOf(t, parts)
}

// unionOf joins the parts' statements, in order.
func unionOf(t *testing.T, parts []wizard.OperatorPolicyPart) wizard.PolicyDocument {
	t.Helper()
	union := wizard.PolicyDocument{Version: "2012-10-17"}
	for _, p := range parts {
		var doc wizard.PolicyDocument
		require.NoError(t, json.Unmarshal(p.Document, &doc), p.File)
		require.Equal(t, "2012-10-17", doc.Version, p.File)
		require.NotEmpty(t, doc.Statement, p.File)
		union.Statement = append(union.Statement, doc.Statement...)
	}
	return union
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
// policies, each part as the document IAM gets: zero unexplained findings.
func TestParliamentOperatorPolicy(t *testing.T) {
	tool := testenv.NeedScanTool(t, "parliament")
	used := map[string]bool{}
	for _, name := range exampleNames(t) {
		_, parts, _ := examplePolicy(t, name)
		for _, p := range parts { // each managed policy on its own
			for _, f := range testenv.Parliament(t, tool, p.Document) {
				key := f.Sid + " " + f.Issue
				if operatorParliamentExplained[key] == "" {
					t.Errorf("%s %s: unexplained parliament finding %s", name, p.File, f)
				}
				used[key] = true
			}
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

// The operator's grant is split by concern into managed policies: plan
// writes exactly OperatorPolicyFiles, no statement is in two parts, and the
// Deny on starting a fenced primary sits beside the Allow it limits. Unit,
// real renderer, no fakes.
func TestOperatorPolicyPartsSplitByConcern(t *testing.T) {
	assert.Equal(t, []string{"iam/operator-policy-setup.json", "iam/operator-policy-recovery.json"}, wizard.OperatorPolicyFiles())
	for _, ex := range examples(t) {
		name := filepath.Base(ex)
		s, parts, _ := examplePolicy(t, name)
		var files []string
		where := map[string]string{}
		for _, p := range parts {
			files = append(files, p.File)
			var doc wizard.PolicyDocument
			require.NoError(t, json.Unmarshal(p.Document, &doc))
			for _, st := range doc.Statement {
				assert.Empty(t, where[st.Sid], "%s: %s in %s and %s", name, st.Sid, where[st.Sid], p.File)
				where[st.Sid] = p.File
			}
		}
		assert.Equal(t, wizard.OperatorPolicyFiles(), files, name)
		assert.Equal(t, where["FenceAndRetireWorkloadInstances"], where["DenyStartFenced"], name)
		assert.Equal(t, "iam/operator-policy-setup.json", where["ReadInventory"], name)
		assert.Equal(t, "iam/operator-policy-recovery.json", where["RecoveryStack"], name)

		id, err := wizard.DeriveIdentity(s, mustUUID())
		require.NoError(t, err)
		p, err := wizard.Render(s, id, wizard.FromAnswers)
		require.NoError(t, err)
		for _, part := range parts {
			assert.Equal(t, string(part.Document)+"\n", string(p.File(part.File)), "%s: plan writes %s", name, part.File)
			assert.Contains(t, string(p.File("summary.txt")), part.File, "%s: the summary names %s", name, part.File)
		}
		assert.Nil(t, p.File("iam/operator-policy.json"), "%s: the single over-quota document is gone", name)
	}
}

// IAM's quotas on policy size, counted as IAM counts them: characters
// without white space ("IAM and AWS STS quotas",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
// a customer managed policy 6,144; a role's inline policies 10,240 in
// aggregate; a role trust policy 2,048 (the default quota).
const (
	quotaManaged    = 6144
	quotaRoleInline = 10240
	quotaTrust      = 2048
)

// TestRenderedIAMPoliciesFitTheQuotas renders every example's plan (real
// renderer, no fakes) and checks every IAM document in it against the quota
// for how it is attached: the operator policies and the stack roles'
// boundary (customer managed policies), the CloudFormation service role's
// inline policy and trust policy (iam/), and, in the stack template, each
// role's trust policy and the aggregate of its inline policies (Policies
// plus AWS::IAM::Policy resources on it), with CloudFormation's intrinsics
// resolved to real-length values (12-digit account, a full KMS key ARN);
// then recovery/stack's own boundary and service-role goldens. An iam/ file
// this test does not know fails it, so a new document cannot skip the check.
// On the tree before the split it fails: iam/operator-policy.json was 6,618
// to 6,936 characters.
func TestRenderedIAMPoliciesFitTheQuotas(t *testing.T) {
	for _, ex := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(ex), ".yaml")
		data, err := os.ReadFile(ex)
		require.NoError(t, err)
		s, err := spec.Parse(data)
		require.NoError(t, err)
		require.NoError(t, s.Validate())
		id, err := wizard.DeriveIdentity(s, mustUUID())
		require.NoError(t, err)
		p, err := wizard.Render(s, id, wizard.FromAnswers)
		require.NoError(t, err)
		iamFiles := 0
		for _, f := range p.Files {
			if !strings.HasPrefix(f.Path, "iam/") {
				continue
			}
			iamFiles++
			base := strings.TrimSuffix(strings.TrimPrefix(f.Path, "iam/"), ".json")
			var limit int
			switch {
			case strings.HasPrefix(base, "operator-policy"), base == "stack-boundary-policy":
				limit = quotaManaged
			case base == "stack-service-role-policy": // the service role's only inline policy
				limit = quotaRoleInline
			case strings.HasSuffix(base, "-trust"):
				limit = quotaTrust
			default:
				t.Errorf("%s: %s: no quota known for this IAM document: add it here", name, f.Path)
				continue
			}
			n := awsxtest.PolicyChars(string(f.Data))
			t.Logf("%s %s: %d of %d", name, f.Path, n, limit)
			assert.LessOrEqual(t, n, limit, "%s: %s is %d characters without white space, over IAM's %d", name, f.Path, n, limit)
		}
		assert.GreaterOrEqual(t, iamFiles, 4, name)

		var tpl []byte
		for _, f := range p.Files {
			if strings.HasPrefix(f.Path, "stack/") && strings.HasSuffix(f.Path, ".yaml") {
				tpl = f.Data
			}
		}
		require.NotNil(t, tpl, "%s: no stack template", name)
		checkTemplateRolePolicies(t, name, s.Region, tpl)
	}
	// The stack package's own rendered configurations (its goldens; one is
	// in aws-us-gov), read only.
	stackDocs, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "recovery", "stack", "testdata", "*.json"))
	require.NoError(t, err)
	seen := 0
	for _, f := range stackDocs {
		limit := map[string]int{".boundary.json": quotaManaged, ".service-role-policy.json": quotaRoleInline, ".service-role-trust.json": quotaTrust}
		for suffix, l := range limit {
			if !strings.HasSuffix(f, suffix) {
				continue
			}
			seen++
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			n := awsxtest.PolicyChars(string(b))
			t.Logf("%s: %d of %d", filepath.Base(f), n, l)
			assert.LessOrEqual(t, n, l, "%s is %d characters without white space, over IAM's %d", filepath.Base(f), n, l)
		}
	}
	assert.Positive(t, seen, "no recovery/stack policy goldens found")
}

// checkTemplateRolePolicies sizes the stack template's role policies.
func checkTemplateRolePolicies(t *testing.T, name, region string, tpl []byte) {
	t.Helper()
	var doc struct {
		Parameters map[string]map[string]any `yaml:"Parameters"`
		Resources  map[string]struct {
			Type       string         `yaml:"Type"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(tpl, &doc))
	const account = "123456789012"
	part := "aws"
	if strings.HasPrefix(region, "us-gov-") {
		part = "aws-us-gov"
	} else if strings.HasPrefix(region, "cn-") {
		part = "aws-cn"
	}
	// Parameters in an ARN: the longest value the parameter allows, else a
	// long stand-in (the role path/name the template accepts).
	param := func(p string) string {
		if _, ok := doc.Parameters[p]; !ok {
			return ""
		}
		return strings.Repeat("r", 64)
	}
	arnOf := func(res string) (string, bool) {
		r, ok := doc.Resources[res]
		if !ok {
			return "", false
		}
		switch r.Type {
		case "AWS::KMS::Key":
			return "arn:" + part + ":kms:" + region + ":" + account + ":key/" + "1234abcd-12ab-34cd-56ef-1234567890ab", true
		case "AWS::SQS::Queue":
			n, _ := r.Properties["QueueName"].(string)
			return "arn:" + part + ":sqs:" + region + ":" + account + ":" + n, n != ""
		case "AWS::SNS::Topic":
			n, _ := r.Properties["TopicName"].(string)
			return "arn:" + part + ":sns:" + region + ":" + account + ":" + n, n != ""
		}
		return "", false
	}
	var resolve func(v any) any
	resolve = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 1 {
				for k, arg := range x {
					switch k {
					case "Fn::Sub":
						str, ok := arg.(string)
						require.True(t, ok, "%s: Fn::Sub with variables is not resolved here: %v", name, arg)
						out := regexp.MustCompile(`\$\{([^}]+)\}`).ReplaceAllStringFunc(str, func(m string) string {
							switch v := m[2 : len(m)-1]; v {
							case "AWS::Partition":
								return part
							case "AWS::Region":
								return region
							case "AWS::AccountId":
								return account
							case "AWS::URLSuffix":
								return "amazonaws.com.cn"
							default:
								r := param(v)
								require.NotEmpty(t, r, "%s: cannot resolve %s", name, m)
								return r
							}
						})
						return out
					case "Ref":
						ref, _ := arg.(string)
						if ref == "AWS::AccountId" {
							return account
						}
						if a, ok := arnOf(ref); ok {
							return a
						}
						if r := param(ref); r != "" {
							return r
						}
						t.Errorf("%s: cannot resolve Ref %s in a policy", name, ref)
						return ""
					case "Fn::GetAtt":
						ga, _ := arg.([]any)
						if len(ga) == 2 && ga[1] == "Arn" {
							if a, ok := arnOf(ga[0].(string)); ok {
								return a
							}
						}
						t.Errorf("%s: cannot resolve Fn::GetAtt %v in a policy", name, arg)
						return ""
					}
				}
			}
			out := map[string]any{}
			for k, e := range x {
				out[k] = resolve(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = resolve(e)
			}
			return out
		}
		return v
	}
	size := func(v any) int {
		b, err := json.Marshal(resolve(v))
		require.NoError(t, err)
		return awsxtest.PolicyChars(string(b))
	}
	inline := map[string]int{}
	roles := 0
	for rn, r := range doc.Resources {
		switch r.Type {
		case "AWS::IAM::Role":
			roles++
			n := size(r.Properties["AssumeRolePolicyDocument"])
			t.Logf("%s %s trust: %d of %d", name, rn, n, quotaTrust)
			assert.LessOrEqual(t, n, quotaTrust, "%s: %s's trust policy is %d characters, over IAM's %d", name, rn, n, quotaTrust)
			list, _ := r.Properties["Policies"].([]any)
			for _, e := range list {
				inline[rn] += size(e.(map[string]any)["PolicyDocument"])
			}
		case "AWS::IAM::Policy": // inline, on each role it names
			n := size(r.Properties["PolicyDocument"])
			list, _ := r.Properties["Roles"].([]any)
			require.NotEmpty(t, list, "%s: %s names no role", name, rn)
			for _, e := range list {
				ref, _ := e.(map[string]any)["Ref"].(string)
				require.NotEmpty(t, ref, "%s: %s: a role not given by Ref", name, rn)
				inline[ref] += n
			}
		case "AWS::IAM::ManagedPolicy":
			n := size(r.Properties["PolicyDocument"])
			assert.LessOrEqual(t, n, quotaManaged, "%s: managed policy %s is %d characters, over IAM's %d", name, rn, n, quotaManaged)
		}
	}
	assert.Positive(t, roles, "%s: the template has no role", name)
	for rn, n := range inline {
		t.Logf("%s %s inline policies: %d of %d", name, rn, n, quotaRoleInline)
		assert.LessOrEqual(t, n, quotaRoleInline, "%s: %s's inline policies total %d characters, over IAM's %d", name, rn, n, quotaRoleInline)
	}
}

// Answers that would push a part over IAM's managed-policy quota (here 16
// data volumes, each with its own long-named CHAP secret) are refused as
// bad input naming the file, rather than rendered for IAM to refuse. Unit,
// real renderer; the spec is changed after validation on purpose.
func TestOperatorPolicyPartOverQuotaIsRefused(t *testing.T) {
	s, _, _ := examplePolicy(t, "ontap-iscsi-chap.yaml")
	s.Storage.Data = nil
	for i := 0; i < spec.MaxDataVolumes; i++ {
		v := s.Storage.Boot
		v.CHAPSecretARN = "arn:aws:secretsmanager:" + s.Region + ":123456789012:secret:" + strings.Repeat("c", 300) + string(rune('a'+i)) + "-AbCdEf"
		s.Storage.Data = append(s.Storage.Data, v)
	}
	_, err := wizard.OperatorPolicies(s)
	require.Error(t, err)
	assert.True(t, wizard.IsInputError(err), "%v", err)
	assert.Contains(t, err.Error(), "iam/operator-policy-setup.json")
	assert.Contains(t, err.Error(), "at most 6,144")
	t.Log(err)
}
