package main

// Unit tests of the setup command's argument handling and refusals that
// need no AWS (nothing real is reached: each case stops before loading a
// config). The apply itself: setup_integration_test.go.

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func TestSetupCommandRefusals(t *testing.T) {
	ex := filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no answers", []string{"setup"}, "one answers file"},
		{"two answers", []string{"setup", ex, ex, "--yes"}, "one answers file"},
		{"not confirmed", []string{"setup", ex}, "--yes"},
		{"missing file", []string{"setup", filepath.Join(t.TempDir(), "none.yaml"), "--yes"}, "does not exist"},
		{"bad workload to abort", []string{"setup", "--abort", "Bad Name"}, "--abort"},
		{"abort with two files", []string{"setup", "--abort", "db01", ex, ex}, "answers file"},
		{"unknown flag", []string{"setup", ex, "--yes", "--force"}, "unknown flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, c.args...)
			assert.Equal(t, exitInvalid, code, stderr)
			assert.Contains(t, stderr, c.want)
			assert.Empty(t, stdout, "no step started")
		})
	}
}

func TestSetupCommandNeedsAPinnedIdentity(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	unpinned := regexp.MustCompile(`(?m)^  uuid: .*\n`).ReplaceAll(src, nil)
	assert.NotEqual(t, src, unpinned)
	dir := t.TempDir()
	answers := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(answers, unpinned, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "setup", answers, "--yes", "--out", filepath.Join(dir, "plan"))
	assert.Equal(t, exitInvalid, code, stderr)
	assert.Contains(t, stderr, "no pinned identity")
}
