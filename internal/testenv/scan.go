package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NeedScanTool returns the path of a security scanner (checkov, parliament),
// preferring the pinned scanner venv .venv-scan/bin that setup installs, then
// the places NeedTool looks (PATH, .venv/bin); it skips or, under
// OUTPOSTS_HA_REQUIRE_TOOLS=1, fails the test when none has it.
func NeedScanTool(t testing.TB, name string) string {
	t.Helper()
	if root := RepoRoot(); root != "" {
		p := filepath.Join(root, ".venv-scan", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return NeedTool(t, name)
}

// ParliamentFinding is one parliament finding, with the Sid of the statement
// it points at ("" when it points at no statement).
type ParliamentFinding struct {
	Issue    string          `json:"issue"`
	Severity string          `json:"severity"`
	Detail   json.RawMessage `json:"detail"`
	Location struct {
		Line int `json:"line"`
	} `json:"location"`
	Sid string `json:"-"`
}

func (f ParliamentFinding) String() string {
	return fmt.Sprintf("%s %s (statement %q): %s", f.Severity, f.Issue, f.Sid, f.Detail)
}

// Parliament runs parliament (the path NeedScanTool returned) on one policy
// document, given on stdin as its CLI expects, and returns every finding.
// doc must be indented JSON with one statement object opening per line (as
// json.MarshalIndent writes it), so each finding's line names its Sid.
func Parliament(t testing.TB, tool string, doc []byte) []ParliamentFinding {
	t.Helper()
	cmd := exec.Command(tool, "--json")
	cmd.Stdin = bytes.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %s: %v (%s)", tool, err, stderr.String())
	}
	// The line a statement opens on -> its Sid.
	sids := map[int]string{}
	lines := strings.Split(string(doc), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "{" && i+1 < len(lines) {
			if k, v, ok := strings.Cut(strings.TrimSpace(lines[i+1]), ":"); ok && k == `"Sid"` {
				sids[i+1] = strings.Trim(strings.TrimSpace(v), `",`)
			}
		}
	}
	var fs []ParliamentFinding
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		var f ParliamentFinding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("parliament output %q: %v (stderr %s)", l, err, stderr.String())
		}
		f.Sid = sids[f.Location.Line]
		fs = append(fs, f)
	}
	if len(fs) == 0 && err != nil {
		t.Fatalf("parliament failed without findings: %v (%s)", err, stderr.String())
	}
	return fs
}
