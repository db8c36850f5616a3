package main

// Unit tests, no fakes: the CLI runs in-process through run(), the same path
// main uses, against real files.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestPlanExample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plan")
	ex := filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml")
	stdout, stderr, code := runCLI(t, "plan", ex, "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "outposts-ha plan for workload db01")
	assert.Contains(t, stdout, "Wrote ")
	_, err := os.Stat(filepath.Join(dir, "launch-templates", "lt-db01-recovery.json"))
	assert.NoError(t, err)
}

func TestPlanBadAnswersExitsTwoAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "a.yaml")
	require.NoError(t, os.WriteFile(answers, []byte("workload: Bad_Name\nregion: us-west-2\n"), 0o600))
	out := filepath.Join(dir, "plan")
	_, stderr, code := runCLI(t, "plan", answers, "--out", out)
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, stderr, "workload:")
	assert.Contains(t, stderr, "storage.vendor:")
	assert.Contains(t, stderr, "outposts.primary_subnet:")
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err))
}

func TestUnknownKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "a.yaml")
	require.NoError(t, os.WriteFile(answers, []byte("workload: web01\nregoin: us-west-2\n"), 0o600))
	_, stderr, code := runCLI(t, "plan", answers, "--out", filepath.Join(dir, "p"))
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, stderr, "regoin")
}

func TestNotBuiltCommandsSaySo(t *testing.T) {
	for _, c := range notBuilt {
		_, stderr, code := runCLI(t, c.use)
		assert.Equal(t, exitError, code, c.use)
		assert.Contains(t, stderr, c.use+" is not built yet", c.use)
		_, stderr, code = runCLI(t, c.use, "--workload", "x")
		assert.Equal(t, exitError, code, c.use)
		assert.Contains(t, stderr, c.use+" is not built yet", "flags of a future command are not an unknown-flag error")
	}
	stdout, _, code := runCLI(t, "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "[not built yet]")
	assert.Contains(t, stdout, "plan")
}

func TestHelpOfEveryCommandShowsHelp(t *testing.T) {
	// Issue 10 item 22: `<command> --help` always shows help, even for
	// commands not built yet (they used to say "not built yet", exit 1).
	cmds := [][]string{{"plan"}, {"array"}, {"array", "check"}, {"version"}}
	for _, c := range notBuilt {
		cmds = append(cmds, []string{c.use})
	}
	for _, c := range cmds {
		for _, h := range []string{"--help", "-h"} {
			stdout, stderr, code := runCLI(t, append(append([]string{}, c...), h)...)
			assert.Equal(t, exitOK, code, "%v %s: %s", c, h, stderr)
			assert.Contains(t, stdout, "Usage:", "%v %s", c, h)
			assert.NotContains(t, stderr, "not built yet", "%v %s", c, h)
		}
		stdout, _, code := runCLI(t, append([]string{"help"}, c...)...)
		assert.Equal(t, exitOK, code, "help %v", c)
		assert.Contains(t, stdout, "Usage:", "help %v", c)
	}
}

func TestExitCodeTableInHelp(t *testing.T) {
	stdout, _, code := runCLI(t, "--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"Exit codes:", "0    ok", "1    error", "2    bad usage or bad input, nothing changed", "unknown flag or command",
		"extra\n       argument", "missing or unreadable answers file", "non-empty\n       --out", "existing --save-answers path", "130  interrupted"} {
		assert.Contains(t, stdout, want)
	}
}

func TestBadUsageExitsTwoAndChangesNothing(t *testing.T) {
	dir := t.TempDir()
	ex := filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml")
	fifo := filepath.Join(dir, "fifo.yaml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	existing := filepath.Join(dir, "existing.yaml")
	require.NoError(t, os.WriteFile(existing, []byte("x"), 0o600))
	notEmpty := filepath.Join(dir, "notempty")
	require.NoError(t, os.MkdirAll(notEmpty, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(notEmpty, "mine.txt"), []byte("operator's file"), 0o600))
	out := filepath.Join(dir, "out")
	cases := map[string][]string{
		"unknown command":             {"plna", ex},
		"unknown subcommand":          {"array", "chek", ex},
		"unknown flag":                {"plan", ex, "--outt", out},
		"unknown flag on root":        {"--nope"},
		"extra argument to plan":      {"plan", ex, ex, "--out", out},
		"extra argument to version":   {"version", "now"},
		"missing argument":            {"array", "check"},
		"extra argument to check":     {"array", "check", ex, ex},
		"no answers, no save":         {"plan", "--out", out},
		"missing answers file":        {"plan", filepath.Join(dir, "nope.yaml"), "--out", out},
		"answers file is a folder":    {"plan", dir, "--out", out},
		"answers file is a FIFO":      {"plan", fifo, "--out", out},
		"answers file is a device":    {"plan", "/dev/zero", "--out", out},
		"check: missing answers file": {"array", "check", filepath.Join(dir, "nope.yaml")},
		"check: answers file is FIFO": {"array", "check", fifo},
		"save-answers with a file":    {"plan", ex, "--save-answers", filepath.Join(dir, "new.yaml"), "--out", out},
		"existing save path":          {"plan", "--save-answers", existing, "--out", out},
		"non-empty --out":             {"plan", ex, "--out", notEmpty},
		"bad --timeout":               {"array", "check", ex, "--timeout", "0s"},
		"bad flag value":              {"array", "check", ex, "--timeout", "soon"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, args...)
			assert.Equal(t, exitInvalid, code, "stdout %s\nstderr %s", stdout, stderr)
			assert.True(t, strings.HasPrefix(stderr, "outposts-ha: "), stderr)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "nothing written")
			_, err = os.Stat(filepath.Join(dir, "new.yaml"))
			assert.True(t, os.IsNotExist(err), "no answers saved")
			b, err := os.ReadFile(filepath.Join(notEmpty, "mine.txt"))
			require.NoError(t, err)
			assert.Equal(t, "operator's file", string(b))
		})
	}
}

func TestSaveAnswersWithAnswersFileIsRefused(t *testing.T) {
	ex := filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml")
	dir := t.TempDir()
	_, stderr, code := runCLI(t, "plan", ex, "--save-answers", filepath.Join(dir, "s.yaml"), "--out", filepath.Join(dir, "p"))
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, stderr, "give one or the other")
}

func TestExistingSavePathRefusedBeforeTheFirstQuestion(t *testing.T) {
	// The answers are piped: if a question were asked, stderr would show it.
	save := filepath.Join(t.TempDir(), "a.yaml")
	require.NoError(t, os.WriteFile(save, []byte("keep"), 0o600))
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"plan", "--save-answers", save}, strings.NewReader("web01\n"), &out, &errb)
	assert.Equal(t, exitInvalid, exitCode(err, &errb))
	assert.Contains(t, errb.String(), "exists")
	assert.NotContains(t, errb.String(), "orkload", "no question was asked")
}

func TestRenderTimeProblemExitsTwo(t *testing.T) {
	// Issue 9 item 9: a problem found only while rendering (user data over
	// 16 KiB) is bad input: exit 2, nothing written.
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml"))
	require.NoError(t, err)
	var cc strings.Builder
	cc.WriteString("guest:\n  cloud_config: |\n    runcmd:\n")
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&cc, "      - echo line-%04d-padding-padding-padding-padding\n", i)
	}
	dir := t.TempDir()
	answers := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(answers, append(src, []byte(cc.String())...), 0o600))
	out := filepath.Join(dir, "plan")
	_, stderr, code := runCLI(t, "plan", answers, "--out", out)
	assert.Equal(t, exitInvalid, code, stderr)
	assert.Contains(t, stderr, "16")
	_, err = os.Stat(out)
	assert.True(t, os.IsNotExist(err))
}

func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f), "/dev/null is a character device, not a terminal")
	assert.False(t, isTerminal(strings.NewReader("")))
}

func TestFormatVersion(t *testing.T) {
	// Unit, fake BuildInfo values as go build / go install / go test record them.
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "2daf98e1234567890abcdef"}, {Key: "vcs.time", Value: "2026-11-29T14:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	cases := []struct {
		name, ldflags string
		bi            *debug.BuildInfo
		want          string
	}{
		{"ldflags win", "v1.4.0-3-gabc", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: vcs}, "v1.4.0-3-gabc (commit 2daf98e12345, modified tree, 2026-11-29T14:00:00Z, go1.26.8)"},
		{"go install module version", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0 (go1.26.8)"},
		{"go build pseudo-version", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261129140000-2daf98e12345+dirty"}, Settings: vcs}, "v0.0.0-20261129140000-2daf98e12345+dirty (2026-11-29T14:00:00Z, go1.26.8)"},
		{"devel with VCS", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs}, "devel-2daf98e12345-dirty (2026-11-29T14:00:00Z, go1.26.8)"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, formatVersion(tc.ldflags, tc.bi), tc.name)
	}
	none := formatVersion("", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	assert.NotEqual(t, "(devel)", none)
	assert.Contains(t, none, "without version or VCS information")
	assert.NotContains(t, formatVersion("", nil), "(devel)")
}

func TestVersionAndCompletion(t *testing.T) {
	stdout, _, code := runCLI(t, "version")
	require.Equal(t, exitOK, code)
	assert.True(t, strings.HasPrefix(stdout, "outposts-ha "), stdout)
	flag, _, code := runCLI(t, "--version")
	require.Equal(t, exitOK, code)
	assert.Equal(t, stdout, flag, "--version prints what version prints")
	assert.NotContains(t, stdout, "(devel)")
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		stdout, stderr, code := runCLI(t, "completion", sh)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, stdout, "outposts-ha", sh)
	}
}

func TestMissingAnswersFile(t *testing.T) {
	_, stderr, code := runCLI(t, "plan", filepath.Join(t.TempDir(), "nope.yaml"))
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, stderr, "nope.yaml does not exist")
}

func TestInteractivePlanSavesAnswersAndPlans(t *testing.T) {
	dir := t.TempDir()
	in := strings.Join([]string{
		"web01", "us-west-2", "1", "5", "1", // workload, region, linux, generic, iscsi
		"iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.10", "10", "", "0", // boot, no CHAP, no data volumes
		"subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "", "", // outposts
		"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "", "oha-web01", "", // instance
		"1", "", // DHCP, default timeout
		"1", "ops@example.com", "", "y", // confirmed, no advanced, write
	}, "\n") + "\n"
	var out, errb bytes.Buffer
	save := filepath.Join(dir, "web01.yaml")
	err := run(context.Background(), []string{"plan", "--save-answers", save, "--out", filepath.Join(dir, "plan")},
		strings.NewReader(in), &out, &errb)
	require.NoError(t, err, errb.String())
	answers, err := os.ReadFile(save)
	require.NoError(t, err)
	assert.Contains(t, string(answers), "workload: web01")
	ipxe, err := os.ReadFile(filepath.Join(dir, "plan", "user-data", "boot.ipxe"))
	require.NoError(t, err)
	assert.Contains(t, string(ipxe), "::3260:a:iqn.2003-01.org.linux-iscsi.san1:boot-web01", "LUN 10 is 'a' in the SAN URI")
	// A second interactive run never overwrites the saved answers.
	err = run(context.Background(), []string{"plan", "--save-answers", save}, strings.NewReader(in), &out, &errb)
	require.ErrorContains(t, err, "exists")
}

func TestPipedInputEndingEarlyExitsTwo(t *testing.T) {
	// Real wizard in accessible mode on piped input that stops after two answers.
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"plan", "--save-answers", filepath.Join(dir, "a.yaml"), "--out", filepath.Join(dir, "p")},
		strings.NewReader("web01\nus-west-2\n"), &out, &errb)
	assert.Equal(t, exitInvalid, exitCode(err, &errb), errb.String())
	assert.Contains(t, errb.String(), "input ended while asking guest_os")
	_, statErr := os.Stat(filepath.Join(dir, "p"))
	assert.True(t, os.IsNotExist(statErr))
}

func TestPipedBadLineExitsTwo(t *testing.T) {
	// Real wizard in accessible mode on piped input whose first answer is refused
	// (a workload name with an upper-case letter): the run stops at that line,
	// nothing after it is read, nothing is written, and the exit code is 2.
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"plan", "--save-answers", filepath.Join(dir, "a.yaml"), "--out", filepath.Join(dir, "p")},
		strings.NewReader("Web01\nus-west-2\n"), &out, &errb)
	require.Error(t, err)
	assert.Equal(t, exitInvalid, exitCode(err, &errb), errb.String())
	assert.Contains(t, errb.String(), "input line 1")
	for _, p := range []string{"a.yaml", "p"} {
		_, statErr := os.Stat(filepath.Join(dir, p))
		assert.True(t, os.IsNotExist(statErr), p)
	}
}

func TestUsageErrorsNameTheProblem(t *testing.T) {
	for args, want := range map[string]string{
		"plna":                 `unknown command "plna" for "outposts-ha"; did you mean plan?`,
		"array chek":           `unknown command "chek" for "outposts-ha array"; did you mean check?`,
		"plan a.yaml b.yaml":   `unexpected extra argument "b.yaml": outposts-ha plan takes at most one answers file`,
		"array check":          `missing argument: outposts-ha array check needs one answers file`,
		"version now":          `unexpected argument "now": outposts-ha version takes no arguments`,
		"plan --outt x a.yaml": `unknown flag: --outt (see 'outposts-ha plan --help')`,
	} {
		_, stderr, code := runCLI(t, strings.Fields(args)...)
		assert.Equal(t, exitInvalid, code, args)
		assert.Contains(t, stderr, want, args)
	}
}

func TestNoAtTheFinalQuestionIsCancelledAndKeepsTheAnswers(t *testing.T) {
	// Real wizard, accessible mode: No at the final question, then Yes to
	// saving the answers. Exit 1 (not done, by choice), no plan, answers kept,
	// and cmd adds no second "cancelled" line of its own.
	dir := t.TempDir()
	in := strings.Join([]string{
		"web01", "us-west-2", "1", "5", "1",
		"iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.10", "10", "", "0",
		"subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "", "",
		"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "", "oha-web01", "",
		"1", "", "1", "ops@example.com", "",
		"n", "y", // do not render; do save
	}, "\n") + "\n"
	save := filepath.Join(dir, "web01.yaml")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"plan", "--save-answers", save, "--out", filepath.Join(dir, "plan")}, strings.NewReader(in), &out, &errb)
	assert.Equal(t, exitError, exitCode(err, &errb), errb.String())
	assert.Contains(t, errb.String(), "cancelled")
	assert.NotContains(t, errb.String(), "outposts-ha: cancelled")
	_, statErr := os.Stat(save)
	assert.NoError(t, statErr, "the answers were saved")
	_, statErr = os.Stat(filepath.Join(dir, "plan"))
	assert.True(t, os.IsNotExist(statErr), "no plan rendered")
}
