// Package testenv gates tests on outside tools and servers. A test that needs
// shellcheck, cfn-lint, moto or qemu calls one of these helpers: on a developer
// machine without the tool it skips with the reason; when OUTPOSTS_HA_REQUIRE_TOOLS=1
// (set by `make test`, and therefore by CI) a missing tool fails the test instead,
// so CI can never go green by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Required reports whether missing tools must fail tests rather than skip them.
func Required() bool { return os.Getenv("OUTPOSTS_HA_REQUIRE_TOOLS") == "1" }

// NeedTool returns the path of an executable, or skips/fails the test. The
// project's own pinned copies come first: the repository's .venv/bin (moto,
// cfn-lint) and .venv-scan/bin (checkov, parliament), which scripts/setup.sh
// installs. Only then PATH, so a stale or broken shim of the same name on PATH
// cannot stand in for the pinned tool.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	if p := venvTool(RepoRoot(), name); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missing(t, name+" is not installed (run scripts/setup.sh)")
	return ""
}

// venvTool is name in one of the project's venvs under root, or "".
func venvTool(root, name string) string {
	if root == "" {
		return ""
	}
	for _, venv := range []string{".venv", ".venv-scan"} {
		p := filepath.Join(root, venv, "bin", name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// NeedEmulator returns the AWS emulator endpoint from AWS_ENDPOINT_URL, or
// skips/fails. Integration tests never run without one, so they can never reach
// a real AWS account.
func NeedEmulator(t testing.TB) string {
	t.Helper()
	ep := os.Getenv("AWS_ENDPOINT_URL")
	if ep == "" {
		missing(t, "AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh (make integration)")
	}
	return ep
}

func missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("required tool missing: %s", why)
	}
	t.Skipf("skipping: %s (set OUTPOSTS_HA_REQUIRE_TOOLS=1 to make this fatal)", why)
}

// RepoRoot is the module root, found from this source file's location.
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
