package wizard_test

// Unit tests, no fakes: plan over every shipped example, compared byte for byte
// with golden files. Regenerate with `go test ./wizard -run Golden -update` and
// review the diff.

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

var update = flag.Bool("update", false, "rewrite golden files")

func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4)
	return files
}

func noUUID() uuid.UUID { panic("examples pin their identity; plan must not generate one") }

func TestPlanGolden(t *testing.T) {
	for _, ex := range examples(t) {
		name := strings.TrimSuffix(filepath.Base(ex), ".yaml")
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "plan")
			p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: ex, OutDir: out, NewUUID: noUUID}, nil)
			require.NoError(t, err)
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				require.NoError(t, os.RemoveAll(golden))
			}
			for _, f := range p.Files {
				onDisk, err := os.ReadFile(filepath.Join(out, f.Path))
				require.NoError(t, err)
				require.Equal(t, f.Data, onDisk, "written file differs from the rendered one: %s", f.Path)
				gp := filepath.Join(golden, f.Path)
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(gp), 0o755))
					require.NoError(t, os.WriteFile(gp, f.Data, 0o644))
					continue
				}
				want, err := os.ReadFile(gp)
				require.NoError(t, err, "missing golden file: run go test ./wizard -run Golden -update")
				assert.Equal(t, string(want), string(f.Data), "artifact %s differs from %s", f.Path, gp)
			}
			// No stale golden files: every golden file is still produced.
			err = filepath.Walk(golden, func(path string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(golden, path)
				assert.NotNil(t, p.File(filepath.ToSlash(rel)), "golden file %s is no longer produced", rel)
				return nil
			})
			require.NoError(t, err)
		})
	}
}

func TestPlanIsByteIdenticalAcrossRuns(t *testing.T) {
	for _, ex := range examples(t) {
		a := filepath.Join(t.TempDir(), "a")
		b := filepath.Join(t.TempDir(), "b")
		pa, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: ex, OutDir: a, NewUUID: noUUID}, nil)
		require.NoError(t, err)
		pb, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: ex, OutDir: b, NewUUID: noUUID}, nil)
		require.NoError(t, err)
		require.Equal(t, len(pa.Files), len(pb.Files))
		for i := range pa.Files {
			assert.Equal(t, pa.Files[i].Path, pb.Files[i].Path)
			assert.True(t, bytes.Equal(pa.Files[i].Data, pb.Files[i].Data), "%s: %s differs between runs", ex, pa.Files[i].Path)
		}
		// A re-run into the same folder replaces it with the same bytes.
		pc, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: ex, OutDir: a, NewUUID: noUUID}, nil)
		require.NoError(t, err)
		for _, f := range pc.Files {
			got, err := os.ReadFile(filepath.Join(a, f.Path))
			require.NoError(t, err)
			assert.Equal(t, f.Data, got)
		}
	}
}

func TestIdentityIsGeneratedOnceAndKept(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml"))
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "identity:") || strings.HasPrefix(line, "  uuid:") {
			continue
		}
		kept = append(kept, line)
	}
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(answers, []byte(strings.Join(kept, "\n")), 0o600))
	out := filepath.Join(dir, "plan")

	first := uuid.MustParse("11111111-2222-4333-8444-555555555555")
	calls := 0
	gen := func() uuid.UUID { calls++; return first }
	p1, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: gen}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Equal(t, wizard.NewlyCreated, p1.Source)
	assert.Contains(t, string(p1.File("summary.txt")), "Pin it: add `identity: {uuid: "+first.String()+"}`")

	// Second run: the identity comes back from the plan folder; the generator is never called.
	p2, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.NoError(t, err)
	assert.Equal(t, wizard.FromPlanDir, p2.Source)
	assert.Equal(t, p1.Identity, p2.Identity)
	assert.Equal(t, p1.File("user-data/user-data.txt"), p2.File("user-data/user-data.txt"))

	// Answers that pin a different identity than the folder holds: refused, nothing changed.
	other := append([]byte(strings.Join(kept, "\n")), []byte("\nidentity:\n  uuid: 99999999-2222-4333-8444-555555555555\n")...)
	require.NoError(t, os.WriteFile(answers, other, 0o600))
	before, err := os.ReadFile(filepath.Join(out, "identity.json"))
	require.NoError(t, err)
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "differs from")
	after, err := os.ReadFile(filepath.Join(out, "identity.json"))
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestPlanRefusesForeignFolder(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o600))
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: examples(t)[0], OutDir: out, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "holds no earlier plan")
	assert.NoFileExists(t, filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".lock"), "a refused folder gets no lock file beside it")
	got, err := os.ReadFile(filepath.Join(out, "notes.txt"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(got))
}

// The answers kept alone in a new plan folder: plan writes the plan around
// them and keeps them (issue 9 item 3), instead of calling the folder foreign.
func TestPlanIntoTheFolderOfItsAnswers(t *testing.T) {
	out := t.TempDir()
	src, err := os.ReadFile(examples(t)[0])
	require.NoError(t, err)
	answers := filepath.Join(out, "answers.yaml")
	require.NoError(t, os.WriteFile(answers, src, 0o600))
	p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.NoError(t, err)
	got, err := os.ReadFile(answers)
	require.NoError(t, err)
	assert.Equal(t, src, got)
	assert.FileExists(t, filepath.Join(out, "identity.json"))
	assert.NotNil(t, p.File("summary.txt"))
	// Another lone file is still foreign.
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o600))
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: other, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "holds no earlier plan")
}

func TestIdentityFolderRefusesAnotherWorkloadOrName(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml"))
	require.NoError(t, err)
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	out := filepath.Join(dir, "plan")
	write := func(body string) {
		t.Helper()
		require.NoError(t, os.WriteFile(answers, []byte(body), 0o600))
	}
	unpinned := strings.Replace(string(src), "identity:\n  uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01\n", "", 1)
	require.NotEqual(t, string(src), unpinned)
	write(unpinned)
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: uuid.New}, nil)
	require.NoError(t, err)
	before, err := os.ReadFile(filepath.Join(out, "identity.json"))
	require.NoError(t, err)

	// Another workload planned into the same folder must not inherit the identity.
	write(strings.Replace(unpinned, "workload: db01", "workload: db02", 1))
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "belongs to workload db01, not db02")

	// A new naming authority would change the IQN on the wire: refused, not silent.
	write(strings.Replace(unpinned, "outposts:", "identity:\n  iqn_authority: iqn.2020-01.net.example\noutposts:", 1))
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "would change from")

	after, err := os.ReadFile(filepath.Join(out, "identity.json"))
	require.NoError(t, err)
	assert.Equal(t, before, after, "refused runs leave the folder as it was")
}
