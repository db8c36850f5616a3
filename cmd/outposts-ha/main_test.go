package main

// Unit tests, no fakes: the CLI runs in-process through run(), the same path
// main uses, against real files.

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
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
	}
	stdout, _, code := runCLI(t, "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "[not built yet]")
	assert.Contains(t, stdout, "plan")
}

func TestVersionAndCompletion(t *testing.T) {
	stdout, _, code := runCLI(t, "version")
	require.Equal(t, exitOK, code)
	assert.True(t, strings.HasPrefix(stdout, "outposts-ha "), stdout)
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		stdout, stderr, code := runCLI(t, "completion", sh)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, stdout, "outposts-ha", sh)
	}
}

func TestMissingAnswersFile(t *testing.T) {
	_, stderr, code := runCLI(t, "plan", filepath.Join(t.TempDir(), "nope.yaml"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "read answers")
}

func TestInteractivePlanSavesAnswersAndPlans(t *testing.T) {
	dir := t.TempDir()
	in := strings.Join([]string{
		"web01", "us-west-2", "1", "5", "1",
		"iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.10", "10", "",
		"subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "",
		"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "", "oha-web01",
		"1", "1", "ops@example.com", "y",
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

func TestArrayCheckGenericOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml"))
	require.NoError(t, err)
	answers := filepath.Join(t.TempDir(), "a.yaml")
	body := strings.Replace(string(src), `portals: ["192.168.50.10:3260", "192.168.50.11"]`, `portals: ["`+ln.Addr().String()+`"]`, 1)
	require.NotEqual(t, string(src), body)
	require.NoError(t, os.WriteFile(answers, []byte(body), 0o600))
	stdout, stderr, code := runCLI(t, "array", "check", answers, "--probe-timeout", "1s")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "ok   portal "+ln.Addr().String())
	assert.Contains(t, stdout, "nothing was changed")
}
