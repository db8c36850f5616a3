// Linter tests on the rendered templates, with the real cfn-lint from the
// repository's .venv (scripts/setup.sh). testenv.NeedTool skips without it on
// a developer machine and fails under `make test` (OUTPOSTS_HA_REQUIRE_TOOLS=1).
package stack

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

type lintFinding struct {
	Level    string `json:"Level"`
	Message  string `json:"Message"`
	Filename string `json:"Filename"`
	Rule     struct {
		ID string `json:"Id"`
	} `json:"Rule"`
	Location struct {
		Start struct {
			Line int `json:"LineNumber"`
		} `json:"Start"`
	} `json:"Location"`
}

// Every rendered template passes cfn-lint with no finding at any level:
// errors, warnings and informational (--include-checks I), in every Region
// the golden configs use (one cfn-lint run: its start-up dominates). Nothing
// is ignored. The experimental rules (-e) are not run: their only finding is
// I4010, which asks for a vendor-specific architecture-description Metadata
// block.
func TestCfnLintRenderedTemplates(t *testing.T) {
	lint := testenv.NeedTool(t, "cfn-lint")
	dir := t.TempDir()
	args := []string{"--format", "json", "--include-checks", "I", "--regions"}
	seen := map[string]bool{}
	for _, gc := range goldenConfigs {
		if !seen[gc.cfg.Region] {
			args = append(args, gc.cfg.Region)
			seen[gc.cfg.Region] = true
		}
	}
	args = append(args, "--")
	for _, gc := range goldenConfigs {
		path := filepath.Join(dir, gc.name+".yaml")
		require.NoError(t, os.WriteFile(path, mustRender(t, gc.cfg).Template, 0o600))
		args = append(args, path)
	}
	out, err := exec.Command(lint, args...).Output()
	var findings []lintFinding
	require.NoError(t, json.Unmarshal(out, &findings), "cfn-lint output: %s (exit: %v)", out, err)
	for _, f := range findings {
		t.Errorf("cfn-lint %s %s %s line %d: %s", filepath.Base(f.Filename), f.Level, f.Rule.ID, f.Location.Start.Line, f.Message)
	}
	assert.NoError(t, err, "cfn-lint exit status")
}

// cfn-lint must actually lint: a template with a known mistake fails.
func TestCfnLintCatchesMistakes(t *testing.T) {
	lint := testenv.NeedTool(t, "cfn-lint")
	r := mustRender(t, goldenConfigs[0].cfg)
	bad := strings.Replace(string(r.Template), "Runtime: provided.al2023", "Runtime: python3.8", 1)
	require.NotEqual(t, string(r.Template), bad)
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o600))
	out, err := exec.Command(lint, "--format", "json", "--", path).Output()
	assert.Error(t, err)
	var findings []lintFinding
	require.NoError(t, json.Unmarshal(out, &findings))
	assert.NotEmpty(t, findings, "deprecated runtime must be reported")
}

// Every resource whose type supports tags carries the workload tag, judged by
// the CloudFormation resource schemas cfn-lint ships. The one exception is
// the KMS key (see render.go): Deploy's stack-level tags tag it.
func TestTaggableResourcesCarryWorkloadTag(t *testing.T) {
	lint := testenv.NeedTool(t, "cfn-lint")
	schemas := cfnLintSchemas(t, lint)
	stackTagged := map[string]bool{"AWS::KMS::Key": true}
	for _, gc := range goldenConfigs {
		tp := parseTemplate(t, mustRender(t, gc.cfg).Template)
		for id, r := range tp.Resources {
			taggable := schemas.taggable(t, gc.cfg.Region, r.Type)
			tags, has := r.Properties["Tags"]
			if !taggable {
				assert.False(t, has, "%s (%s) is not taggable but has Tags", id, r.Type)
				continue
			}
			if stackTagged[r.Type] {
				assert.False(t, has, "%s: moto cannot create it with Tags; if that changed, drop the exception", id)
				continue
			}
			require.True(t, has, "%s: %s supports tags but has none", gc.name, id)
			assert.Contains(t, tags, map[string]any{"Key": naming.TagWorkload, "Value": gc.cfg.Workload}, "%s: %s", gc.name, id)
			assert.Contains(t, tags, map[string]any{"Key": naming.TagManaged, "Value": naming.ManagedBy}, "%s: %s", gc.name, id)
		}
	}
	st := map[string]string{}
	for _, tg := range stackTags("web01") {
		st[*tg.Key] = *tg.Value
	}
	assert.Equal(t, map[string]string{naming.TagWorkload: "web01", naming.TagManaged: naming.ManagedBy}, st)
}

type schemaDir string

// cfnLintSchemas finds the CloudFormation resource schemas that cfn-lint 1.x
// ships, through a Python that imports cfnlint: the repository's .venv (the
// pinned version setup.sh installs), the one beside the cfn-lint found, or the
// one its shebang names.
func cfnLintSchemas(t *testing.T, lint string) schemaDir {
	t.Helper()
	candidates := []string{filepath.Join(testenv.RepoRoot(), ".venv", "bin", "python3")}
	if real, err := filepath.EvalSymlinks(lint); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(real), "python3"))
	}
	if f, err := os.Open(lint); err == nil {
		line, _ := bufio.NewReader(f).ReadString('\n')
		_ = f.Close()
		if py := strings.TrimSpace(strings.TrimPrefix(line, "#!")); strings.Contains(filepath.Base(py), "python") {
			candidates = append(candidates, py)
		}
	}
	for _, py := range candidates {
		out, err := exec.Command(py, "-c", "import cfnlint, os; print(os.path.dirname(cfnlint.__file__))").Output()
		if err != nil {
			continue
		}
		dir := filepath.Join(strings.TrimSpace(string(out)), "data", "schemas")
		if _, err := os.Stat(filepath.Join(dir, "providers", "us-west-2.json")); err == nil {
			return schemaDir(dir)
		}
	}
	t.Fatalf("no cfn-lint 1.x schemas found through %v: run scripts/setup.sh", candidates)
	return ""
}

func (d schemaDir) taggable(t *testing.T, region, typ string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(string(d), "providers", region+".json"))
	require.NoError(t, err)
	var idx map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &idx))
	raw, ok := idx[typ]
	require.True(t, ok, "no schema for %s in %s", typ, region)
	var hash string
	if json.Unmarshal(raw, &hash) == nil {
		raw, err = os.ReadFile(filepath.Join(string(d), "resources", hash+".json"))
		require.NoError(t, err)
	}
	var schema struct {
		Tagging    struct{ Taggable *bool } `json:"tagging"`
		Properties map[string]any           `json:"properties"`
	}
	require.NoError(t, json.Unmarshal(raw, &schema))
	if schema.Tagging.Taggable != nil {
		return *schema.Tagging.Taggable
	}
	_, ok = schema.Properties["Tags"]
	return ok
}
