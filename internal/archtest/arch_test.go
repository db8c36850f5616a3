// Package archtest guards the import graph DESIGN.md promises: only the CLI
// and the TUI import charm packages; sanboot and recovery never import each
// other; sanboot and the array clients never import the AWS SDK; nothing
// imports cmd/.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/outposts-ha/outposts-ha"

type pkg struct {
	ImportPath string
	Deps       []string
}

func listDeps(t *testing.T) []pkg {
	t.Helper()
	if testing.Short() {
		t.Skip("go list is slow; skipped under -short only")
	}
	cmd := exec.Command("go", "list", "-deps=false", "-json", module+"/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	require.NoError(t, err)
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

func hasPrefix(list []string, prefix string) string {
	for _, d := range list {
		if d == prefix || strings.HasPrefix(d, prefix+"/") {
			return d
		}
	}
	return ""
}

func TestImportRules(t *testing.T) {
	for _, p := range listDeps(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		charmOK := rel == "cmd/outposts-ha" || rel == "wizard/tui" || strings.HasPrefix(rel, "wizard/tui/")
		if d := hasPrefix(p.Deps, "github.com/charmbracelet"); d != "" && !charmOK {
			t.Errorf("%s depends on %s: only cmd/outposts-ha and wizard/tui may use charm packages", rel, d)
		}
		if strings.HasPrefix(rel, "sanboot") {
			if d := hasPrefix(p.Deps, module+"/recovery"); d != "" {
				t.Errorf("sanboot depends on %s", d)
			}
			if d := hasPrefix(p.Deps, "github.com/aws"); d != "" {
				t.Errorf("sanboot must stay pure; it depends on %s", d)
			}
			if d := hasPrefix(p.Deps, "net/http"); d != "" {
				t.Errorf("sanboot must stay pure; it depends on %s", d)
			}
		}
		if strings.HasPrefix(rel, "recovery") {
			if d := hasPrefix(p.Deps, module+"/sanboot"); d != "" {
				t.Errorf("%s depends on %s: recovery and sanboot never import each other", rel, d)
			}
		}
		if strings.HasPrefix(rel, "internal/storage") {
			if d := hasPrefix(p.Deps, "github.com/aws"); d != "" {
				t.Errorf("%s depends on %s: array clients never import the AWS SDK", rel, d)
			}
		}
		if !strings.HasPrefix(rel, "cmd/") {
			if d := hasPrefix(p.Deps, module+"/cmd"); d != "" {
				t.Errorf("%s imports %s", rel, d)
			}
		}
	}
}
