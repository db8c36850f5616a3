// Unit tests of the CloudFormation service role and the roles' permissions
// boundary (servicerole.go). No fakes: RenderServiceRole is pure. The handler
// coverage test reads the real CloudFormation resource schemas cfn-lint
// ships (testenv gate: fails under make test without cfn-lint).
package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func mustServiceRole(t testing.TB, c Config, account string) (ServiceRole, iamDoc, iamDoc) {
	t.Helper()
	sr, err := RenderServiceRole(c, account)
	require.NoError(t, err)
	var pol, bnd iamDoc
	require.NoError(t, json.Unmarshal(sr.Policy, &pol))
	require.NoError(t, json.Unmarshal(sr.Boundary, &bnd))
	return sr, pol, bnd
}

func TestServiceRoleGolden(t *testing.T) {
	for _, gc := range goldenConfigs {
		t.Run(gc.name, func(t *testing.T) {
			sr, _, _ := mustServiceRole(t, gc.cfg, "")
			checkGolden(t, filepath.Join("testdata", gc.name+".service-role-trust.json"), sr.Trust)
			checkGolden(t, filepath.Join("testdata", gc.name+".service-role-policy.json"), sr.Policy)
			checkGolden(t, filepath.Join("testdata", gc.name+".boundary.json"), sr.Boundary)
		})
	}
}

func TestServiceRoleNames(t *testing.T) {
	c := goldenConfigs[0].cfg
	sr, _, _ := mustServiceRole(t, c, "123456789012")
	assert.Equal(t, "oha-web01-us-west-2-cfn", sr.Name)
	assert.Equal(t, "arn:aws:iam::123456789012:role/oha-web01-us-west-2-cfn", sr.Arn)
	assert.Equal(t, ServiceRoleArn("aws", "123456789012", "web01", "us-west-2"), sr.Arn)
	assert.Equal(t, "arn:aws:iam::123456789012:policy/oha-web01-us-west-2-boundary", sr.BoundaryArn)
	var trust iamDoc
	require.NoError(t, json.Unmarshal(sr.Trust, &trust))
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, map[string]string{"Service": "cloudformation.amazonaws.com"}, trust.Statement[0].Principal)
	assert.Equal(t, []string{"sts:AssumeRole"}, trust.Statement[0].Action)
	// The longest workload name in the longest Region still fits IAM's 64.
	long := strings.Repeat("a", 32)
	for _, n := range []string{ServiceRoleName(long, "ap-southeast-4"), FunctionRoleName(long, "ap-southeast-4"), KeepAliveRoleName(long, "ap-southeast-4")} {
		assert.LessOrEqual(t, len(n), 64, n)
	}
	sr, _, _ = mustServiceRole(t, goldenConfigs[2].cfg, "")
	assert.Equal(t, "arn:aws-us-gov:iam::*:role/oha-app7-us-gov-west-1-cfn", sr.Arn, "offline: account *, the Region's partition")
}

// The service role is where the escalation used to be. It may create or
// change only the stack's two roles, only with the boundary, never touch a
// boundary, and pass each role only to its service.
func TestServiceRoleCannotEscalate(t *testing.T) {
	c := goldenConfigs[0].cfg
	sr, pol, _ := mustServiceRole(t, c, "123456789012")
	roles := []string{"arn:aws:iam::123456789012:role/oha-web01-us-west-2-failover", "arn:aws:iam::123456789012:role/oha-web01-us-west-2-dlqping"}
	boundaryKeyed := map[string]bool{"iam:CreateRole": true, "iam:PutRolePolicy": true, "iam:DeleteRolePolicy": true}
	for _, s := range pol.Statement {
		assert.Equal(t, "Allow", s.Effect)
		for _, a := range s.Action {
			assert.NotContains(t, a, "*", "%s: wildcard action", s.Sid)
			assert.NotContains(t, []string{"iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
				"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:CreateUser", "iam:PutUserPolicy"}, a, s.Sid)
			if !strings.HasPrefix(a, "iam:") {
				continue
			}
			if a == "iam:PassRole" {
				require.Len(t, s.Resource, 1, s.Sid)
				svc := s.Condition["StringEquals"]["iam:PassedToService"]
				switch s.Resource[0] {
				case roles[0]:
					assert.Equal(t, "lambda.amazonaws.com", svc)
				case roles[1]:
					assert.Equal(t, "scheduler.amazonaws.com", svc)
				default:
					t.Errorf("%s passes %s", s.Sid, s.Resource[0])
				}
				continue
			}
			assert.ElementsMatch(t, roles, s.Resource, "%s: %s only on the stack's roles", s.Sid, a)
			if boundaryKeyed[a] {
				assert.Equal(t, map[string]map[string]any{"ArnLike": {"iam:PermissionsBoundary": sr.BoundaryArn}}, s.Condition, "%s: %s without the boundary", s.Sid, a)
			}
		}
	}
	// The instance role (the function passes it to EC2) is out of reach.
	for _, s := range pol.Statement {
		for _, r := range s.Resource {
			assert.NotContains(t, r, c.InstanceProfileRole)
		}
	}
}

// The boundary is exactly what the template's roles are granted (and the
// Deny), resolved to concrete ARNs: nothing the stack's own roles need is
// cut off, nothing more can be granted.
func TestBoundaryMatchesTheStackRoles(t *testing.T) {
	for _, gc := range goldenConfigs {
		tp := parseTemplate(t, mustRender(t, gc.cfg).Template)
		_, actions, denied := iamProblemsDenied(tp, gc.cfg.Workload)
		_, _, bnd := mustServiceRole(t, gc.cfg, "123456789012")
		assert.Equal(t, actions, bnd.allowedActions(), gc.name)
		var deny []string
		for _, s := range bnd.Statement {
			for _, r := range s.Resource {
				assert.NotContains(t, r, "${", "%s: unresolved intrinsic", s.Sid)
				assert.True(t, r == "*" || strings.HasPrefix(r, "arn:"+naming.Partition(gc.cfg.Region)+":"), r)
			}
			if s.Effect == "Deny" {
				deny = append(deny, s.Action...)
				assert.Equal(t, map[string]map[string]any{"StringEquals": {"ec2:ResourceTag/" + tagFenced: "true"}}, s.Condition)
			}
			if s.Sid == "FunctionLaunchPassInstanceProfileRole" {
				assert.Equal(t, []string{"arn:" + naming.Partition(gc.cfg.Region) + ":iam::123456789012:role/" + gc.cfg.InstanceProfileRole}, s.Resource)
			}
			if s.Sid == "FunctionUseStackKey" {
				assert.Equal(t, map[string]map[string]any{"StringEquals": {"aws:ResourceTag/" + naming.TagWorkload: gc.cfg.Workload}}, s.Condition,
					"the key has no name: the boundary pins it by the workload tag")
			}
		}
		assert.Equal(t, denied, deny)
	}
}

// handlerExclusions are the permissions the resource type schemas list that
// the service role deliberately lacks, each with the reason: features this
// template does not use. A schema update that adds a permission fails
// TestServiceRoleCoversResourceHandlers until it is granted or listed here.
var handlerExclusions = map[string]string{
	"iam:AttachRolePolicy":                   "no managed policies: attaching one could exceed nothing (boundary) but is not needed",
	"iam:DetachRolePolicy":                   "no managed policies are ever attached",
	"iam:PutRolePermissionsBoundary":         "the boundary is set at CreateRole and must never be changed by the stack",
	"iam:DeleteRolePermissionsBoundary":      "the boundary must never be removed by the stack",
	"iam:GetUserPolicy":                      "AWS::IAM::Policy is attached to roles only",
	"iam:PutUserPolicy":                      "AWS::IAM::Policy is attached to roles only",
	"iam:DeleteUserPolicy":                   "AWS::IAM::Policy is attached to roles only",
	"iam:GetGroupPolicy":                     "AWS::IAM::Policy is attached to roles only",
	"iam:PutGroupPolicy":                     "AWS::IAM::Policy is attached to roles only",
	"iam:DeleteGroupPolicy":                  "AWS::IAM::Policy is attached to roles only",
	"sns:PutDataProtectionPolicy":            "no SNS data protection policy",
	"logs:PutDataProtectionPolicy":           "no log data protection policy",
	"logs:DeleteDataProtectionPolicy":        "no log data protection policy",
	"logs:CreateLogDelivery":                 "no log delivery",
	"s3:REST.PUT.OBJECT":                     "not an IAM action; log delivery to S3 is unused",
	"firehose:TagDeliveryStream":             "no Firehose delivery",
	"logs:PutResourcePolicy":                 "no log resource policy",
	"logs:DeleteResourcePolicy":              "no log resource policy",
	"logs:DescribeResourcePolicies":          "no log resource policy",
	"logs:PutIndexPolicy":                    "no log index policy",
	"logs:DeleteIndexPolicy":                 "no log index policy",
	"logs:DescribeIndexPolicies":             "no log index policy",
	"logs:PutLogGroupDeletionProtection":     "no deletion protection: cleanup removes the log group",
	"logs:PutBearerTokenAuthentication":      "no bearer-token ingestion",
	"lambda:GetCodeSigningConfig":            "no code signing config",
	"lambda:PutFunctionCodeSigningConfig":    "no code signing config",
	"lambda:DeleteFunctionCodeSigningConfig": "no code signing config",
	"lambda:GetLayerVersion":                 "no layers",
	"lambda:PutFunctionScalingConfig":        "no capacity-provider scaling",
	"lambda:GetFunctionScalingConfig":        "no capacity-provider scaling",
	"lambda:PassCapacityProvider":            "no capacity provider",
	"lambda:AssociateRuntimeAlias":           "no runtime alias",
	"lambda:PublishVersion":                  "no published versions: the function runs $LATEST",
	"elasticfilesystem:DescribeMountTargets": "no EFS",
	"s3files:ListMountTargets":               "no file system mounts",
}

type handlerSchema struct {
	Handlers map[string]struct {
		Permissions []string `json:"permissions"`
	} `json:"handlers"`
}

// The service role grants every permission the resource handlers of every
// resource type in the template list for create, update, delete and read,
// or the exclusion says why not (issue 8 §2: moto never checks these).
func TestServiceRoleCoversResourceHandlers(t *testing.T) {
	lint := testenv.NeedTool(t, "cfn-lint")
	dir := cfnLintSchemas(t, lint)
	for _, gc := range goldenConfigs {
		tp := parseTemplate(t, mustRender(t, gc.cfg).Template)
		_, pol, _ := mustServiceRole(t, gc.cfg, "123456789012")
		granted := map[string]bool{}
		for _, a := range pol.allowedActions() {
			granted[a] = true
		}
		types := map[string]bool{}
		for _, r := range tp.Resources {
			types[r.Type] = true
		}
		var missing []string
		for typ := range types {
			if typ == "AWS::CloudFormation::WaitConditionHandle" {
				continue // no API calls
			}
			sch := loadSchema(t, string(dir), gc.cfg.Region, typ)
			for op, h := range sch.Handlers {
				if op == "list" {
					continue // CloudFormation does not list resources of a stack
				}
				for _, p := range h.Permissions {
					if !granted[p] && handlerExclusions[p] == "" {
						missing = append(missing, typ+" "+op+": "+p)
					}
				}
			}
		}
		sort.Strings(missing)
		assert.Empty(t, missing, gc.name)
		for p := range handlerExclusions {
			assert.False(t, granted[p], "%s is granted: drop its exclusion", p)
		}
	}
}

func loadSchema(t *testing.T, dir, region, typ string) handlerSchema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "providers", region+".json"))
	require.NoError(t, err)
	var idx map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &idx))
	raw, ok := idx[typ]
	require.True(t, ok, "no schema for %s in %s", typ, region)
	var hash string
	if json.Unmarshal(raw, &hash) == nil {
		raw, err = os.ReadFile(filepath.Join(dir, "resources", hash+".json"))
		require.NoError(t, err)
	}
	var s handlerSchema
	require.NoError(t, json.Unmarshal(raw, &s))
	require.NotEmpty(t, s.Handlers, typ)
	return s
}
