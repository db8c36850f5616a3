// Guards of the contract check itself: every SDK call in the project has
// rules, and the recovery stack the project renders passes the template
// rules. Real files of this repository, no emulator.
package awsxtest

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found")
		dir = parent
	}
}

var sdkInputRE = regexp.MustCompile(`\b(ec2|ssm|sns|cloudformation|cloudwatch|lambda|s3|iam|sqs|secretsmanager|sts)\.([A-Z][A-Za-z0-9]*Input)\b`)

// TestEveryProjectCallHasRules reads every Go file of the module (code and
// tests, which also go through the check) and asserts each SDK input type it
// names has contract rules. A new AWS call fails here until its rules exist
// (rules_<service>.go, with the API reference page).
func TestEveryProjectCallHasRules(t *testing.T) {
	root := moduleRoot(t)
	used := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".cache", ".venv", ".venv-scan", "vendor", "node_modules", "testdata", "build", "out":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasPrefix(path, filepath.Join(root, "internal", "awsx", "awsxtest")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range sdkInputRE.FindAllStringSubmatch(string(b), -1) {
			name := m[1] + "." + m[2]
			rel, _ := filepath.Rel(root, path)
			if !slices.Contains(used[name], rel) {
				used[name] = append(used[name], rel)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, used, "found no SDK calls at all: the scan is broken")
	covered := CoveredInputs()
	for _, name := range sortedKeys(used) {
		if !slices.Contains(covered, name) {
			t.Errorf("%s (used in %v) has no AWS contract rules: add them in internal/awsx/awsxtest/rules_*.go", name, used[name])
		}
	}
	// The calls the issue names must be among them.
	for _, must := range []string{"sns.PublishInput", "ssm.PutParameterInput", "ec2.RunInstancesInput", "cloudformation.CreateStackInput", "s3.PutObjectInput"} {
		assert.Contains(t, used, must)
	}
}

// TestRecoveryStackGoldensPassTheContract runs the CreateStack rules on the
// recovery stack template and parameters deploy sends
// (recovery/stack/testdata/deploy-*; the plan-* goldens hold placeholders
// that setup replaces), with the named IAM capability deploy passes.
func TestRecoveryStackGoldensPassTheContract(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), "recovery", "stack", "testdata")
	tpls, err := filepath.Glob(filepath.Join(dir, "deploy-*.template.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, tpls)
	for _, tpl := range tpls {
		t.Run(filepath.Base(tpl), func(t *testing.T) {
			body, err := os.ReadFile(tpl)
			require.NoError(t, err)
			var params []cfntypes.Parameter
			pb, err := os.ReadFile(strings.TrimSuffix(tpl, ".template.yaml") + ".parameters.json")
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(pb, &params))
			in := &cloudformation.CreateStackInput{StackName: aws.String("autorestart-x"), TemplateBody: aws.String(string(body)),
				Parameters: params, Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}}
			for _, v := range Check("us-west-2", in) {
				t.Errorf("contract violation in the rendered stack: %s", v)
			}
		})
	}
}

// TestRenderedPoliciesPassTheGrammar runs the IAM policy grammar on every
// policy document the project renders into its goldens: the operator policy
// (wizard), and the CloudFormation service role's policy, trust policy and
// permissions boundary (recovery/stack). Real files; sizes are logged (the
// managed-policy quota is 6,144 characters without white space).
func TestRenderedPoliciesPassTheGrammar(t *testing.T) {
	root := moduleRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "wizard", "testdata", "golden", "*", "iam", "*.json"))
	require.NoError(t, err)
	more, err := filepath.Glob(filepath.Join(root, "recovery", "stack", "testdata", "*.json"))
	require.NoError(t, err)
	n := 0
	for _, f := range append(files, more...) {
		if strings.HasSuffix(f, ".parameters.json") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		kind := IdentityPolicy
		if strings.Contains(filepath.Base(f), "trust") {
			kind = TrustPolicy
		}
		rel, _ := filepath.Rel(root, f)
		t.Logf("%s: %d characters without white space", rel, PolicyChars(string(b)))
		for _, v := range CheckPolicy(string(b), kind) {
			t.Errorf("%s: %s", rel, v)
		}
		n++
	}
	assert.Positive(t, n, "no rendered policies found")
}
