package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A broken shim of the same name earlier on PATH must not win over the
// project's pinned venv copy (issue 9, item 17). Real files in a temp dir; no fakes.
func TestNeedToolPrefersProjectVenvOverPATH(t *testing.T) {
	root := t.TempDir()
	venvBin := filepath.Join(root, ".venv", "bin")
	scanBin := filepath.Join(root, ".venv-scan", "bin")
	shimDir := filepath.Join(root, "shim")
	for _, d := range []string{venvBin, scanBin, shimDir} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	write := func(p string) {
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	}
	write(filepath.Join(venvBin, "cfn-lint"))
	write(filepath.Join(scanBin, "checkov"))
	write(filepath.Join(shimDir, "cfn-lint"))
	write(filepath.Join(shimDir, "checkov"))

	require.Equal(t, filepath.Join(venvBin, "cfn-lint"), venvTool(root, "cfn-lint"))
	require.Equal(t, filepath.Join(scanBin, "checkov"), venvTool(root, "checkov"))
	require.Equal(t, "", venvTool(root, "shellcheck"), "a tool in no venv falls through to PATH")
	require.Equal(t, "", venvTool("", "cfn-lint"))

	// A directory or a non-executable file of that name is not the tool.
	require.NoError(t, os.WriteFile(filepath.Join(venvBin, "parliament"), []byte("x"), 0o644))
	require.Equal(t, "", venvTool(root, "parliament"))
}

// Through the exported entry point, with the real repository: the pinned
// cfn-lint in .venv is chosen even when a shim named cfn-lint is first on PATH.
func TestNeedToolIgnoresShimOnPATH(t *testing.T) {
	if venvTool(RepoRoot(), "cfn-lint") == "" {
		missing(t, "cfn-lint is not installed in .venv (run scripts/setup.sh)")
	}
	shimDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(shimDir, "cfn-lint"), []byte("#!/bin/sh\nexit 3\n"), 0o755))
	t.Setenv("PATH", shimDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	got := NeedTool(t, "cfn-lint")
	require.Equal(t, filepath.Join(RepoRoot(), ".venv", "bin", "cfn-lint"), got)
}
