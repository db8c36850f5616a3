package main

// CLI tests of array check, in-process through run(). Real parts: the answers
// parser, the vendor clients, the AWS SDK's Secrets Manager client, TLS and
// TCP on loopback. Fakes: portal probes go through dialPortal, which maps the
// SAN addresses the answers must name (loopback portals are refused there) to
// loopback listeners; AWS credentials and endpoints come from a test
// environment that reaches only 127.0.0.1.

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

// mapDial sends each address in m to its loopback stand-in; any other
// address fails the test without a dial.
func mapDial(t *testing.T, m map[string]string) {
	t.Helper()
	dialPortal = func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := m[addr]
		if !ok {
			t.Errorf("probe of %s, which the test did not map to loopback", addr)
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrPermission}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
	t.Cleanup(func() { dialPortal = nil })
}

func acceptAndClose(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

func closedLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := ln.Addr().String()
	ln.Close()
	return a
}

// acceptAndHang accepts connections and never answers, until the test ends.
// accepted gets one value per connection.
func acceptAndHang(t *testing.T) (addr string, accepted chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted = make(chan struct{}, 64)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), accepted
}

func writeAnswers(t *testing.T, example string, replace ...string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", example))
	require.NoError(t, err)
	body := string(src)
	for i := 0; i+1 < len(replace); i += 2 {
		require.Contains(t, body, replace[i])
		body = strings.Replace(body, replace[i], replace[i+1], 1)
	}
	p := filepath.Join(t.TempDir(), "answers.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// ontapAnswers is the ONTAP example with the endpoint and credential source
// replaced, and no CA file.
func ontapAnswers(t *testing.T, endpoint, credential string) string {
	return writeAnswers(t, "ontap-iscsi-chap.yaml",
		"https://ontap-cluster1.example.net", endpoint,
		"secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:oha/ontap-admin-AbCdEf", credential,
		"    ca_file: /etc/outposts-ha/ontap-ca.pem\n", "")
}

// isolateAWS points the SDK at nothing but loopback: no profile, no shared
// files, no IMDS, Secrets Manager at smEndpoint.
func isolateAWS(t *testing.T, smEndpoint string, withKeys bool) {
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for k, v := range map[string]string{
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SECRETS_MANAGER": smEndpoint,
		"AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
	if withKeys {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTESTTEST")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	}
}

func TestArrayCheckGenericSkipsAndFailsOnAnUnreachablePortal(t *testing.T) {
	answers := filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml")
	mapDial(t, map[string]string{"192.168.50.10:3260": acceptAndClose(t), "192.168.50.11:3260": closedLoopback(t)})
	stdout, stderr, code := runCLI(t, "array", "check", answers)
	assert.Equal(t, exitError, code, "a failed portal fails the check: %s", stdout)
	assert.Empty(t, stderr, "the verdict is the one report")
	assert.Regexp(t, `(?m)^skip login +skipped \(generic: no array API\)$`, stdout)
	assert.Regexp(t, `(?m)^skip target discovery +skipped \(generic: no array API\)`, stdout)
	assert.NotRegexp(t, `(?m)^ok +login`, stdout)
	assert.Regexp(t, `(?m)^ok +portal 192\.168\.50\.10:3260 +TCP reachable$`, stdout)
	assert.Regexp(t, `(?m)^FAIL portal 192\.168\.50\.11:3260 +not reachable from here \(refused\)`, stdout)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	assert.Equal(t, "verdict: FAILED: 1 of 2 checks failed, 3 skipped; nothing was changed on the array", lines[len(lines)-1])

	mapDial(t, map[string]string{"192.168.50.10:3260": acceptAndClose(t), "192.168.50.11:3260": acceptAndClose(t)})
	stdout, stderr, code = runCLI(t, "array", "check", answers)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "verdict: OK: 2 checks passed, 3 skipped; nothing was changed on the array")
}

func TestArrayCheckLoginFailuresAreClassifiedOnceAndPortalsStillProbed(t *testing.T) {
	// Real ONTAP client; real loopback TCP and TLS. localhost resolves from
	// /etc/hosts (answers refuse loopback IP literals as endpoints).
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, tlsPort, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
	require.NoError(t, err)
	_, closedPort, err := net.SplitHostPort(closedLoopback(t))
	require.NoError(t, err)
	t.Setenv("OHA_TEST_ARRAY_PW", "pa55-word-never-shown")
	cases := map[string]struct{ endpoint, class, fix string }{
		"refused": {"https://localhost:" + closedPort, "refused", "nothing accepts connections"},
		"TLS":     {"https://localhost:" + tlsPort, "TLS", "--array-ca-file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			answers := ontapAnswers(t, tc.endpoint, "env: OHA_TEST_ARRAY_PW")
			mapDial(t, map[string]string{"10.20.30.11:3260": acceptAndClose(t), "10.20.30.12:3260": acceptAndClose(t)})
			stdout, stderr, code := runCLI(t, "array", "check", answers, "--timeout", "10m")
			assert.Equal(t, exitError, code)
			assert.Empty(t, stderr)
			assert.Regexp(t, `(?m)^FAIL login +`+tc.class+`: `, stdout)
			assert.Contains(t, stdout, "     fix: ")
			assert.Contains(t, stdout, tc.fix)
			assert.Equal(t, 1, strings.Count(stdout, "FAIL login"), "printed once")
			assert.Regexp(t, `(?m)^skip volumes +skipped \(login failed\)$`, stdout)
			assert.Regexp(t, `(?m)^ok +portal 10\.20\.30\.11:3260`, stdout, "portals are probed after a failed login")
			assert.Regexp(t, `(?m)^ok +portal 10\.20\.30\.12:3260`, stdout)
			assert.Contains(t, stdout, "verdict: FAILED: 1 of 3 checks failed")
			assert.NotContains(t, stdout, "pa55-word-never-shown")
		})
	}
}

func TestArrayCheckWithoutAWSCredentialsSaysSoInOneLine(t *testing.T) {
	isolateAWS(t, "http://"+closedLoopback(t), false)
	answers := ontapAnswers(t, "https://ontap-cluster1.example.net",
		"secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:oha/ontap-admin-AbCdEf")
	stdout, stderr, code := runCLI(t, "array", "check", answers)
	assert.Equal(t, exitError, code)
	assert.Empty(t, stdout)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.Contains(t, stderr, "no AWS credentials")
	assert.Contains(t, stderr, "AWS_PROFILE")
	assert.Contains(t, stderr, "--profile")
	for _, chain := range []string{"IMDS", "operation error", "failed to refresh", "get identity"} {
		assert.NotContains(t, stderr, chain)
	}
}

func TestArrayCheckSecretsManagerThatNeverAnswersTimesOut(t *testing.T) {
	// Real SDK client against a loopback server that accepts and never
	// replies; the injected --timeout is short. The assertion is on the
	// outcome (a deadline message, exit 1), not on elapsed time.
	addr, _ := acceptAndHang(t)
	isolateAWS(t, "http://"+addr, true)
	answers := ontapAnswers(t, "https://ontap-cluster1.example.net",
		"secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:oha/ontap-admin-AbCdEf")
	stdout, stderr, code := runCLI(t, "array", "check", answers, "--timeout", "2s")
	assert.Equal(t, exitError, code, stderr)
	assert.Empty(t, stdout)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	// On a machine so loaded that 2s pass before the request is sent, the
	// deadline still ends the check, with the same message.
	assert.Contains(t, stderr, "no answer before the overall deadline (--timeout)")
	assert.NotContains(t, stderr, "operation error")
}

func TestArrayCheckPromptWithoutTerminal(t *testing.T) {
	answers := ontapAnswers(t, "https://ontap-cluster1.example.net", "prompt: true")
	devnull, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer devnull.Close()
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"array", "check", answers}, devnull, &out, &errb)
	code := exitCode(err, &errb)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errb.String(), "asks for the array password in a terminal, and stdin is not a terminal")
	assert.Contains(t, errb.String(), "environment variable")
	assert.Contains(t, errb.String(), "Secrets Manager")
	assert.Empty(t, out.String())
}
