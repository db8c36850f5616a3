package main

// Tests of the built binary (real: go build, a real process, a real SIGINT,
// the real AWS SDK against a loopback server that never answers).

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// builtBinary builds the CLI once per test run with `go build`, the way an
// operator builds it from a clone (no -ldflags). -buildvcs=true is explicit
// because this machine's go env sets GOFLAGS=-buildvcs=false; Go's default
// (auto) stamps VCS information in a git checkout.
func builtBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "oha-cli-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "outposts-ha")
		cmd := exec.Command("go", "build", "-buildvcs=true", "-o", builtBin, "./cmd/outposts-ha")
		cmd.Dir = testenv.RepoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	require.NoError(t, buildErr, "go build")
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func TestBuiltBinaryPrintsARealVersion(t *testing.T) {
	bin := builtBinary(t)
	// The revision the binary was built from (HEAD may move while tests run).
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	require.NoError(t, err)
	m := regexp.MustCompile(`vcs\.revision=([0-9a-f]{40})`).FindSubmatch(meta)
	require.NotNil(t, m, "go build stamped no revision:\n%s", meta)
	rev := string(m[1])[:12]
	require.NoError(t, exec.Command("git", "-C", testenv.RepoRoot(), "cat-file", "-e", string(m[1])+"^{commit}").Run(), "a commit of this repository")
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		require.NoError(t, err, "%v", args)
		v := string(out)
		assert.True(t, strings.HasPrefix(v, "outposts-ha "), v)
		assert.NotContains(t, v, "(devel)", "%v", args)
		assert.Contains(t, v, rev, "%v names the commit it was built from", args)
	}
}

func TestBuiltBinaryFirstCtrlCStopsAtOnce(t *testing.T) {
	// The binary waits on a Secrets Manager endpoint that accepts and never
	// answers, with an overall deadline of an hour. One SIGINT must end it
	// with 130. The 5-minute wait below only guards against a hang; it is not
	// a budget the test measures.
	bin := builtBinary(t)
	addr, accepted := acceptAndHang(t)
	isolateAWS(t, "http://"+addr, true)
	answers := ontapAnswers(t, "https://ontap-cluster1.example.net",
		"secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:oha/ontap-admin-AbCdEf")
	cmd := exec.Command(bin, "array", "check", answers, "--timeout", "1h")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-accepted:
	case err := <-done:
		t.Fatalf("exited before reaching Secrets Manager: %v\n%s", err, stderr.String())
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-done:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, stderr.String())
		assert.Equal(t, exitAborted, ee.ExitCode(), stderr.String())
		assert.Equal(t, "outposts-ha: interrupted\n", stderr.String())
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the first Ctrl-C did not stop array check")
	}
}
