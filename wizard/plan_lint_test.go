package wizard_test

// Linters on the real plan output of every shipped example: shellcheck on every
// generated shell script and cfn-lint on every rendered stack template. Both are
// real tools (installed by scripts/setup.sh); under `make test` a missing tool
// fails the test.

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

func TestPlanArtifactsPassLinters(t *testing.T) {
	shellcheck := testenv.NeedTool(t, "shellcheck")
	cfnlint := testenv.NeedTool(t, "cfn-lint")
	var scripts, templates int
	for _, ex := range examples(t) {
		out := filepath.Join(t.TempDir(), "plan")
		p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: ex, OutDir: out, NewUUID: noUUID}, nil)
		require.NoError(t, err)
		for _, f := range p.Files {
			path := filepath.Join(out, f.Path)
			switch {
			case strings.HasSuffix(f.Path, ".sh"):
				scripts++
				cmd := exec.Command(shellcheck, "--shell=bash", "--severity=style", path)
				b, err := cmd.CombinedOutput()
				require.NoError(t, err, "shellcheck %s (%s):\n%s", f.Path, ex, b)
			case strings.HasPrefix(f.Path, "stack/") && strings.HasSuffix(f.Path, ".yaml"):
				templates++
				cmd := exec.Command(cfnlint, "--regions", "us-west-2", "--", path)
				b, err := cmd.CombinedOutput()
				require.NoError(t, err, "cfn-lint %s (%s):\n%s", f.Path, ex, b)
			}
		}
	}
	require.Positive(t, scripts, "no shell scripts were checked")
	require.Equal(t, len(examples(t)), templates)
}
