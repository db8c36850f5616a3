// Scanner tests (issue 8 §5), with the real checkov 3.x and parliament 1.6.x
// pinned in .venv-scan (testenv.NeedScanTool: fails under make test when
// missing, skips elsewhere). Every rendered template passes checkov with no
// failed check; the only suppressions are the template's own
// Metadata.checkov.skip entries, each with its reason. The service role's
// policy and the stack roles' policies (as the boundary resolves them) pass
// parliament except for the findings listed below, each explained.
package stack

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

type checkovCheck struct {
	CheckID     string `json:"check_id"`
	Resource    string `json:"resource"`
	FilePath    string `json:"file_path"`
	CheckResult struct {
		Result          string `json:"result"`
		SuppressComment string `json:"suppress_comment"`
	} `json:"check_result"`
}

type checkovReport struct {
	Results struct {
		Passed  []checkovCheck `json:"passed_checks"`
		Failed  []checkovCheck `json:"failed_checks"`
		Skipped []checkovCheck `json:"skipped_checks"`
	} `json:"results"`
	Summary struct {
		Passed        int `json:"passed"`
		Failed        int `json:"failed"`
		Skipped       int `json:"skipped"`
		ParsingErrors int `json:"parsing_errors"`
	} `json:"summary"`
}

// runCheckov scans every template in dir (one run: start-up dominates) with
// the CloudFormation framework only and no download from the vendor's API.
func runCheckov(t *testing.T, dir string) checkovReport {
	t.Helper()
	ck := testenv.NeedScanTool(t, "checkov")
	cmd := exec.Command(ck, "-d", dir, "--framework", "cloudformation", "--skip-download", "-o", "json")
	cmd.Env = append(os.Environ(), "BC_SKIP_MAPPING=TRUE", "CHECKOV_NO_UPDATE_CHECK=1")
	out, err := cmd.Output()
	var rep checkovReport
	require.NoError(t, json.Unmarshal(out, &rep), "checkov output: %.2000s (exit: %v)", out, err)
	return rep
}

// wantCheckovSkips are the deliberate exceptions, by resource: the template's
// Metadata holds the reasons (TestTemplateFunction checks they are there).
var wantCheckovSkips = []string{"CKV_AWS_116 AWS::Lambda::Function.FailoverFunction", "CKV_AWS_117 AWS::Lambda::Function.FailoverFunction"}

func TestCheckovRenderedTemplates(t *testing.T) {
	dir := t.TempDir()
	for _, gc := range goldenConfigs {
		require.NoError(t, os.WriteFile(filepath.Join(dir, gc.name+".yaml"), mustRender(t, gc.cfg).Template, 0o600))
	}
	rep := runCheckov(t, dir)
	for _, f := range rep.Results.Failed {
		t.Errorf("checkov %s failed for %s in %s", f.CheckID, f.Resource, filepath.Base(f.FilePath))
	}
	assert.Zero(t, rep.Summary.ParsingErrors)
	assert.Greater(t, rep.Summary.Passed, 30*len(goldenConfigs), "checkov must actually check the templates")
	perFile := map[string][]string{}
	for _, s := range rep.Results.Skipped {
		assert.NotEmpty(t, s.CheckResult.SuppressComment, "%s on %s: a suppression needs its reason", s.CheckID, s.Resource)
		perFile[filepath.Base(s.FilePath)] = append(perFile[filepath.Base(s.FilePath)], s.CheckID+" "+s.Resource)
	}
	require.Len(t, perFile, len(goldenConfigs))
	for f, got := range perFile {
		sort.Strings(got)
		assert.Equal(t, wantCheckovSkips, got, f)
	}
}

// checkov must be able to fail: the issue's five findings come back on a
// template stripped of the fixes and of the suppressions.
func TestCheckovCatchesMistakes(t *testing.T) {
	r := mustRender(t, goldenConfigs[0].cfg)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(r.Template, &doc))
	res := doc["Resources"].(map[string]any)
	fn := res["FailoverFunction"].(map[string]any)
	delete(fn, "Metadata")
	props := fn["Properties"].(map[string]any)
	delete(props, "ReservedConcurrentExecutions")
	delete(props, "KmsKeyArn")
	delete(res["LogGroup"].(map[string]any)["Properties"].(map[string]any), "KmsKeyId")
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "old.json"), b, 0o600))
	rep := runCheckov(t, dir)
	var ids []string
	for _, f := range rep.Results.Failed {
		ids = append(ids, f.CheckID)
	}
	sort.Strings(ids)
	assert.Equal(t, []string{"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_158", "CKV_AWS_173"}, ids)
}

// parliamentExplained are the parliament findings that stand, by statement
// and issue, with the reason.
var parliamentExplained = map[string]string{
	// KMS authorizes kms:TagResource during CreateKey (the stack's tags ride
	// on it) before the key exists, so it cannot name a key; the
	// statement is conditioned on the request carrying the workload tag.
	// https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html
	"CreateWorkloadKey RESOURCE_STAR": "kms:TagResource at key creation has no key ARN yet",
	// RunInstances is authorized on every resource a launch touches; the
	// launch statements are split because each resource type needs a
	// different condition (the template's workload tag, ec2:LaunchTemplate,
	// none for the network), and parliament wants every type in each.
	// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html#iam-example-runinstances
	"FunctionLaunchLaunchFromWorkloadTemplate RESOURCE_MISMATCH": "RunInstances split by resource type on purpose",
	"FunctionLaunchLaunchInstanceFromTemplate RESOURCE_MISMATCH": "RunInstances split by resource type on purpose",
	"FunctionLaunchLaunchSupportingResources RESOURCE_MISMATCH":  "RunInstances split by resource type on purpose",
}

func TestParliamentServiceRoleAndStackRoles(t *testing.T) {
	tool := testenv.NeedScanTool(t, "parliament")
	used := map[string]bool{}
	for _, gc := range goldenConfigs {
		sr, _, _ := mustServiceRole(t, gc.cfg, "123456789012")
		// Not the trust policy: parliament reads identity policies only (it
		// reports a trust policy's missing Resource as malformed).
		for what, doc := range map[string][]byte{"service role": sr.Policy, "stack roles (boundary)": sr.Boundary} {
			for _, f := range testenv.Parliament(t, tool, doc) {
				if parliamentExplained[f.Sid+" "+f.Issue] == "" {
					t.Errorf("%s %s: unexplained parliament finding %s", gc.name, what, f)
				}
				used[f.Sid+" "+f.Issue] = true
			}
		}
	}
	for k := range parliamentExplained {
		assert.True(t, used[k], "explained finding %q no longer occurs: drop it", k)
	}
}

// parliament must be able to fail, and name the statement.
func TestParliamentCatchesMistakes(t *testing.T) {
	tool := testenv.NeedScanTool(t, "parliament")
	doc, err := json.MarshalIndent(iamDoc{Version: "2012-10-17", Statement: []iamStatement{
		{Sid: "Fine", Effect: "Allow", Action: []string{"sns:Publish"}, Resource: []string{"arn:aws:sns:us-west-2:123456789012:t"}},
		{Sid: "UnsubscribeOnTopic", Effect: "Allow", Action: []string{"sns:Unsubscribe"}, Resource: []string{"arn:aws:sns:us-west-2:123456789012:t"}},
	}}, "", "  ")
	require.NoError(t, err)
	fs := testenv.Parliament(t, tool, doc)
	require.Len(t, fs, 1)
	assert.Equal(t, "UnsubscribeOnTopic", fs[0].Sid)
	assert.Equal(t, "RESOURCE_MISMATCH", fs[0].Issue)
	assert.True(t, strings.Contains(string(fs[0].Detail), "sns:Unsubscribe"))
}
