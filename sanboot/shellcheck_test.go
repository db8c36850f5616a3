// Linters on every generated script (real tools, gated by testenv): shellcheck
// at its strictest severity (style) and bash -n on each bash script, including
// the ones taken back out of the rendered user data; python3's compiler on the
// part handler and on the parsers embedded in the scripts. pwsh is not on this
// machine, so the PowerShell scripts are checked by golden files and the
// structure tests only.
package sanboot

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

// generatedShell returns every bash script this package renders, by name.
func generatedShell(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, c := range append(dataVolumeCases(), localBootCases()...) {
		b, err := c.render()
		require.NoError(t, err, c.name)
		out[c.name] = b
	}
	for _, c := range userDataCases() {
		res, err := UserData(c.spec())
		require.NoError(t, err, c.name)
		if res.Parts == nil {
			continue
		}
		parsed, err := ParseMultipart(res.UserData)
		require.NoError(t, err)
		for _, p := range parsed {
			if p.ContentType != TypePerBoot && p.ContentType != TypeLocalBoot {
				continue
			}
			body, err := UnpackPart(p)
			require.NoError(t, err)
			out[c.name+"/"+p.Filename] = body
		}
	}
	return out
}

func TestShellcheckGeneratedScripts(t *testing.T) {
	t.Parallel()
	sc := testenv.NeedTool(t, "shellcheck")
	for name, script := range generatedShell(t) {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(sc, "--shell=bash", "--severity=style", "--external-sources", "-")
			cmd.Stdin = bytes.NewReader(script)
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "shellcheck:\n%s", out)
		})
	}
}

func TestBashParsesGeneratedScripts(t *testing.T) {
	t.Parallel()
	bash := testenv.NeedTool(t, "bash")
	for name, script := range generatedShell(t) {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bash, "-n")
			cmd.Stdin = bytes.NewReader(script)
			out, err := cmd.CombinedOutput()
			assert.NoError(t, err, "bash -n:\n%s", out)
		})
	}
}

// TestShellcheckCatchesBreakage proves the linter gate can fail.
func TestShellcheckCatchesBreakage(t *testing.T) {
	sc := testenv.NeedTool(t, "shellcheck")
	cmd := exec.Command(sc, "--shell=bash", "--severity=style", "-")
	cmd.Stdin = strings.NewReader("#!/bin/bash\nx=$1\nrm -rf $x/\n")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "SC2086")
}

var embeddedPython = regexp.MustCompile(`(?s)readonly (CHAP_PY|FABRICS_PY)='(.*?)'\n`)

func TestPythonCompiles(t *testing.T) {
	t.Parallel()
	py := testenv.NeedTool(t, "python3")
	check := func(t *testing.T, name, src string) {
		cmd := exec.Command(py, "-c", "import ast, sys; ast.parse(sys.stdin.read(), sys.argv[1])", name)
		cmd.Stdin = strings.NewReader(src)
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s:\n%s", name, out)
	}
	check(t, "part-handler", partHandler)
	found := map[string]bool{}
	for name, script := range generatedShell(t) {
		for _, m := range embeddedPython.FindAllStringSubmatch(string(script), -1) {
			found[m[1]] = true
			check(t, name+"/"+m[1], m[2])
		}
	}
	assert.Equal(t, map[string]bool{"CHAP_PY": true, "FABRICS_PY": true}, found)
	// Embedded in single quotes, the parsers must hold no single quote.
	for _, src := range []string{shCHAP, shDHCHAP} {
		m := embeddedPython.FindStringSubmatch(src)
		require.NotNil(t, m)
		assert.NotContains(t, m[2], "'")
	}
	// Python 3.6 (RHEL 8) has no walrus operator or match statement.
	for _, src := range []string{partHandler, shCHAP, shDHCHAP} {
		assert.NotContains(t, src, ":=")
		assert.NotRegexp(t, `(?m)^\s*match `, src)
	}
}
