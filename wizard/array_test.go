package wizard_test

// Unit tests. Secrets Manager is a fake behind the one-method SecretGetter
// interface here (array_integration_test.go runs the same path against moto).
// Arrays are fakes behind storage.Array, except the real generic client;
// portal probes use real loopback listeners behind an address-mapping dial,
// or a fake dial where the test is about concurrency or validation.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/wizard"
)

type fakeSecrets struct {
	wizard.SecretGetter
	values map[string]string
	calls  int
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	v, ok := f.values[aws.ToString(in.SecretId)]
	if !ok {
		return nil, errors.New("ResourceNotFoundException: secret not found")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

func specWithCreds(t *testing.T, vendor string, ref spec.CredentialsRef) *spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(validONTAP))
	require.NoError(t, err)
	s.Storage.Vendor = vendor
	if vendor == "pure" {
		s.Storage.Management.Username = ""
	}
	s.Storage.Management.Credentials = ref
	return s
}

const arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/ontap-AbCdEf"

func TestResolveCredentials(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		vendor   string
		ref      spec.CredentialsRef
		secrets  map[string]string
		env      map[string]string
		prompt   func(string) (string, error)
		wantUser string
		want     string
		wantErr  string
	}{
		{name: "plain secret", vendor: "ontap", ref: spec.CredentialsRef{SecretARN: arn}, secrets: map[string]string{arn: "pa55w0rd-plain"}, wantUser: "oha", want: "pa55w0rd-plain"},
		{name: "json secret", vendor: "ontap", ref: spec.CredentialsRef{SecretARN: arn}, secrets: map[string]string{arn: `{"username":"other","password":"pa55w0rd-json"}`}, wantUser: "oha", want: "pa55w0rd-json"},
		{name: "pure token in json", vendor: "pure", ref: spec.CredentialsRef{SecretARN: arn}, secrets: map[string]string{arn: `{"api_token":"tok-123-secret"}`}, want: "tok-123-secret"},
		{name: "json without password", vendor: "ontap", ref: spec.CredentialsRef{SecretARN: arn}, secrets: map[string]string{arn: `{"user":"x"}`}, wantErr: "holds no password"},
		{name: "missing secret", vendor: "ontap", ref: spec.CredentialsRef{SecretARN: arn}, secrets: map[string]string{}, wantErr: "read array credentials from " + arn},
		{name: "env", vendor: "ontap", ref: spec.CredentialsRef{Env: "ARRAY_PW"}, env: map[string]string{"ARRAY_PW": "pa55w0rd-env"}, wantUser: "oha", want: "pa55w0rd-env"},
		{name: "env unset", vendor: "ontap", ref: spec.CredentialsRef{Env: "ARRAY_PW"}, env: map[string]string{}, wantErr: "ARRAY_PW (storage.management.credentials.env) is empty or unset"},
		{name: "prompt", vendor: "ontap", ref: spec.CredentialsRef{Prompt: true}, prompt: func(string) (string, error) { return "pa55w0rd-typed", nil }, wantUser: "oha", want: "pa55w0rd-typed"},
		{name: "prompt without terminal", vendor: "ontap", ref: spec.CredentialsRef{Prompt: true}, wantErr: "asks for the array password in a terminal, and stdin is not a terminal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := specWithCreds(t, tc.vendor, tc.ref)
			fs := &fakeSecrets{values: tc.secrets}
			src := wizard.CredentialSources{Secrets: fs, Getenv: func(k string) string { return tc.env[k] }, Prompt: tc.prompt}
			c, err := wizard.ResolveCredentials(ctx, s, src)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				for _, v := range tc.secrets {
					assert.NotContains(t, err.Error(), v, "a secret value leaked into the error")
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantUser, c.Username)
			assert.Equal(t, tc.want, c.Secret)
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", c, c, c, c), tc.want, "credentials must not print their secret")
		})
	}
}

func TestOpenArrayPerVendor(t *testing.T) {
	for _, vendor := range []string{"ontap", "pure", "powerstore", "alletra"} {
		s := specWithCreds(t, vendor, spec.CredentialsRef{Env: "X"})
		if vendor != "ontap" {
			s.Storage.Management.SVM = ""
		}
		arr, warning, err := wizard.OpenArray(s, storage.Credentials{Username: "oha", Secret: "pw"}, storage.TLSOptions{}, nil)
		require.NoError(t, err, vendor)
		assert.Empty(t, warning)
		assert.Contains(t, fmt.Sprintf("%T", arr), vendor, "vendor %s got client %T", vendor, arr)
	}
	s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
	_, warning, err := wizard.OpenArray(s, storage.Credentials{Username: "oha", Secret: "pw"}, storage.TLSOptions{Insecure: true}, nil)
	require.NoError(t, err)
	assert.Contains(t, warning, "verification of the array is OFF")
	_, _, err = wizard.OpenArray(s, storage.Credentials{Username: "oha", Secret: "pw"}, storage.TLSOptions{CAFile: "/nonexistent/ca.pem"}, nil)
	require.ErrorContains(t, err, "array CA file")
}

func TestPromptWithoutTerminalNamesTheAlternatives(t *testing.T) {
	// Unit, no fakes beyond the absent prompt: the message says a prompt needs
	// a terminal and names both unattended sources.
	s := specWithCreds(t, "ontap", spec.CredentialsRef{Prompt: true})
	_, err := wizard.ResolveCredentials(context.Background(), s, wizard.CredentialSources{Getenv: func(string) string { return "" }})
	require.ErrorIs(t, err, wizard.ErrPromptNeedsTerminal)
	for _, want := range []string{"terminal", "credentials.env", "environment variable", "credentials.secret_arn", "Secrets Manager"} {
		assert.Contains(t, err.Error(), want)
	}
}

// genericSpec is a generic-vendor answers file with the given portals.
func genericSpec(t *testing.T, portals ...string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(strings.Join([]string{
		"workload: web01", "region: us-west-2", "storage:", "  vendor: generic", "  protocol: iscsi", "  boot:",
		"    target: iqn.2003-01.org.linux-iscsi.san1:boot", `    portals: ["` + strings.Join(portals, `", "`) + `"]`, "    lun: 3",
		"outposts:", "  primary_subnet: subnet-0a1b2c3d", "  secondary_subnet: subnet-0f1e2d3c",
		"instance:", "  type: c6id.large", "  helper_ami: ami-0123abcd", "  security_group: sg-0123abcd", "  instance_profile: p",
		"failover:", "  notification_email: ops@example.com", ""}, "\n")))
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	return s
}

// loopbackDial is a real TCP dialer that sends each SAN address the answers
// name to a loopback address (answers refuse loopback portals, and tests talk
// to 127.0.0.0/8 only). Addresses not in the map are refused without a dial.
func loopbackDial(t *testing.T, to map[string]string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		real, ok := to[addr]
		if !ok {
			t.Errorf("dialled %s, which the test did not expect", addr)
			return nil, errors.New("unexpected dial")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, real)
	}
}

// listen opens a real loopback listener that accepts and closes connections.
func listen(t *testing.T) string {
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

// closedPort is a loopback address where nothing listens (connection refused).
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := ln.Addr().String()
	ln.Close()
	return a
}

func byWhat(rep wizard.CheckReport) map[string]wizard.CheckResult {
	m := map[string]wizard.CheckResult{}
	for _, r := range rep.Results {
		m[r.What] = r
	}
	return m
}

func TestCheckArrayGenericSkipsWhatItCannotDoAndFailsOnPortals(t *testing.T) {
	// Real generic client; real loopback TCP behind a dial that maps the SAN
	// addresses to loopback.
	s := genericSpec(t, "192.168.50.10", "192.168.50.11:3261")
	arr, _, err := wizard.OpenArray(s, storage.Credentials{}, storage.TLSOptions{}, nil)
	require.NoError(t, err)
	dial := loopbackDial(t, map[string]string{"192.168.50.10:3260": listen(t), "192.168.50.11:3261": closedPort(t)})
	rep, err := wizard.CheckArray(context.Background(), arr, s, wizard.CheckOptions{ProbeTimeout: time.Minute, Dial: dial})
	require.NoError(t, err)
	got := byWhat(rep)
	for _, what := range []string{"login", "volumes", "target discovery"} {
		assert.Equal(t, wizard.CheckSkipped, got[what].Status, what)
		assert.Contains(t, got[what].Detail, "skipped (generic: no array API)", what)
	}
	assert.Equal(t, wizard.CheckOK, got["portal 192.168.50.10:3260"].Status, "%+v", rep)
	assert.Equal(t, wizard.CheckFailed, got["portal 192.168.50.11:3261"].Status, "%+v", rep)
	assert.Contains(t, got["portal 192.168.50.11:3261"].Detail, "refused")
	assert.True(t, rep.Failed(), "an unreachable portal fails the check")
	assert.Contains(t, rep.Verdict(), "verdict: FAILED: 1 of 2 checks failed, 3 skipped")
	assert.Contains(t, rep.Verdict(), "nothing was changed")

	ok := genericSpec(t, "192.168.50.10")
	arr, _, err = wizard.OpenArray(ok, storage.Credentials{}, storage.TLSOptions{}, nil)
	require.NoError(t, err)
	rep, err = wizard.CheckArray(context.Background(), arr, ok, wizard.CheckOptions{ProbeTimeout: time.Minute,
		Dial: loopbackDial(t, map[string]string{"192.168.50.10:3260": listen(t)})})
	require.NoError(t, err)
	assert.False(t, rep.Failed(), "%+v", rep)
	assert.Contains(t, rep.Verdict(), "verdict: OK: 1 checks passed, 3 skipped")
}

// fakeArray is a fake behind storage.Array (no emulator exists for arrays; the
// vendor clients have their own contract tests against modelled APIs).
type fakeArray struct {
	storage.Array
	vols     []storage.Volume
	target   storage.Target
	loginErr error
	// block makes Login (or Volumes) wait until its context ends.
	blockLogin, blockVolumes bool
	started                  chan struct{} // closed when a blocking call starts
	mu                       sync.Mutex
	logins, outs             int
}

func (f *fakeArray) Login(ctx context.Context) error {
	f.mu.Lock()
	f.logins++
	f.mu.Unlock()
	if f.blockLogin {
		close(f.started)
		<-ctx.Done()
		return fmt.Errorf("ontap: login: %w", ctx.Err())
	}
	return f.loginErr
}

func (f *fakeArray) Logout(ctx context.Context) error {
	f.mu.Lock()
	f.outs++
	f.mu.Unlock()
	<-ctx.Done() // a logout that never answers: only its own deadline ends it
	return ctx.Err()
}

func (f *fakeArray) Volumes(ctx context.Context) ([]storage.Volume, error) {
	if f.blockVolumes {
		close(f.started)
		<-ctx.Done()
		return nil, fmt.Errorf("ontap: list volumes: %w", ctx.Err())
	}
	return f.vols, nil
}

func (f *fakeArray) Target(context.Context, storage.Protocol) (storage.Target, error) {
	return f.target, nil
}

// okDial accepts every portal without a network (fake).
func okDial(context.Context, string, string) (net.Conn, error) {
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, nil
}

func TestCheckArrayFailsOnMissingVolumeOrOtherTarget(t *testing.T) {
	s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
	o := wizard.CheckOptions{Dial: okDial, LogoutTimeout: time.Millisecond}
	ok := &fakeArray{
		vols:   []storage.Volume{{Name: "/vol/web01/boot", SizeBytes: 1 << 30}, {Name: "/vol/web01/data"}},
		target: storage.Target{Name: s.Storage.Boot.Target, Endpoints: []storage.Endpoint{{Address: "192.168.50.10", Port: 3260}}},
	}
	rep, err := wizard.CheckArray(context.Background(), ok, s, o)
	require.NoError(t, err)
	assert.Equal(t, 1, ok.logins)
	assert.Equal(t, 1, ok.outs, "always logs out")
	// The logout fake never answers; its own deadline ends it and it is reported.
	assert.Equal(t, wizard.CheckFailed, byWhat(rep)["logout"].Status)

	missing := &fakeArray{vols: ok.vols[:1], target: ok.target}
	rep, err = wizard.CheckArray(context.Background(), missing, s, o)
	require.NoError(t, err)
	assert.Equal(t, wizard.CheckFailed, byWhat(rep)["storage.data[0].volume"].Status)
	assert.True(t, rep.Failed())

	other := &fakeArray{vols: ok.vols, target: storage.Target{Name: "iqn.1992-08.com.netapp:sn.other:vs.9"}}
	rep, err = wizard.CheckArray(context.Background(), other, s, o)
	require.NoError(t, err)
	assert.Equal(t, wizard.CheckFailed, byWhat(rep)["storage.boot.target"].Status, "%+v", rep)
	assert.Equal(t, 1, other.outs)
}

// tlsError is a real certificate verification failure: a real TLS server on
// loopback with a certificate the client does not trust.
func tlsError(t *testing.T) error {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	resp, err := (&http.Client{}).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	return &storage.Error{Vendor: "ontap", Op: "login", Err: err}
}

// refusedError is a real "connection refused" from loopback.
func refusedError(t *testing.T) error {
	_, err := net.Dial("tcp", closedPort(t))
	require.Error(t, err)
	return &storage.Error{Vendor: "ontap", Op: "login", Kind: storage.KindTransient, Err: &url.Error{Op: "Get", URL: "https://a", Err: err}}
}

func TestCheckArrayClassifiesLoginFailuresAndStillProbesPortals(t *testing.T) {
	cases := []struct {
		class string
		err   error
		fix   string
	}{
		// DNS and timeout errors are constructed (a real lookup would leave loopback).
		{"DNS", &storage.Error{Vendor: "ontap", Op: "login", Err: &url.Error{Op: "Get", URL: "https://x", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "ontap1.example.net", IsNotFound: true}}}}, "does not resolve"},
		{"refused", refusedError(t), "nothing accepts connections"},
		{"TLS", tlsError(t), "--array-ca-file"},
		{"auth", &storage.Error{Vendor: "ontap", Op: "login", Kind: storage.KindAuth, Status: 401}, "storage.management.username"},
		{"timeout", &storage.Error{Vendor: "ontap", Op: "login", Kind: storage.KindTransient, Err: &url.Error{Op: "Get", URL: "https://x", Err: os.ErrDeadlineExceeded}}, "--timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.class, func(t *testing.T) {
			s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
			var mu sync.Mutex
			var dialled []string
			dial := func(_ context.Context, _, addr string) (net.Conn, error) {
				mu.Lock()
				dialled = append(dialled, addr)
				mu.Unlock()
				return okDial(nil, "", "")
			}
			arr := &fakeArray{loginErr: tc.err}
			rep, err := wizard.CheckArray(context.Background(), arr, s, wizard.CheckOptions{Dial: dial, Endpoint: s.Storage.Management.Endpoint})
			require.NoError(t, err)
			login := byWhat(rep)["login"]
			assert.Equal(t, wizard.CheckFailed, login.Status)
			assert.True(t, strings.HasPrefix(login.Detail, tc.class+": "), "detail %q", login.Detail)
			assert.Contains(t, login.Fix, tc.fix)
			n := 0
			for _, r := range rep.Results {
				if strings.Contains(r.Detail, tc.err.Error()[:20]) {
					n++
				}
			}
			assert.Equal(t, 1, n, "the login failure is printed once: %+v", rep)
			assert.Equal(t, wizard.CheckSkipped, byWhat(rep)["volumes"].Status)
			assert.Equal(t, wizard.CheckSkipped, byWhat(rep)["target discovery"].Status)
			assert.ElementsMatch(t, []string{"192.168.50.10:3260", "192.168.50.11:3260"}, dialled, "the answers' portals are probed after a failed login")
			assert.Equal(t, 0, arr.outs, "no logout without a session")
			assert.True(t, rep.Failed())
		})
	}
}

func TestCheckArrayProbesConcurrentlyWithACap(t *testing.T) {
	// Fake dial with a barrier: each probe waits until maxInFlight probes are
	// in flight at once. Sequential probes would never meet it and would all
	// fail; more than the cap in flight is an error.
	const limit = 4
	s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
	s.Storage.Boot.Portals, s.Storage.Data[0].Portals = nil, nil
	var eps []storage.Endpoint
	for i := 1; i <= 3*limit; i++ {
		eps = append(eps, storage.Endpoint{Address: fmt.Sprintf("192.168.50.%d", i), Port: 3260})
	}
	var mu sync.Mutex
	inFlight, maxSeen := 0, 0
	arrived := make(chan struct{}, 3*limit)
	release := make(chan struct{})
	go func() {
		// Each batch of `limit` arrivals opens the gate for that batch.
		for n := 0; n < 3; n++ {
			for i := 0; i < limit; i++ {
				<-arrived
			}
			release <- struct{}{}
		}
	}()
	gate := sync.NewCond(&mu)
	batch := 0
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) {
		mu.Lock()
		inFlight++
		if inFlight > maxSeen {
			maxSeen = inFlight
		}
		my := batch
		mu.Unlock()
		arrived <- struct{}{}
		mu.Lock()
		for batch == my {
			gate.Wait()
		}
		inFlight--
		mu.Unlock()
		return okDial(ctx, "", addr)
	}
	go func() {
		for range release {
			mu.Lock()
			batch++
			gate.Broadcast()
			mu.Unlock()
		}
	}()
	arr := &fakeArray{vols: []storage.Volume{{Name: "/vol/web01/boot"}, {Name: "/vol/web01/data"}},
		target: storage.Target{Name: s.Storage.Boot.Target, Endpoints: eps}}
	done := make(chan struct{})
	var rep wizard.CheckReport
	go func() {
		defer close(done)
		rep, _ = wizard.CheckArray(context.Background(), arr, s, wizard.CheckOptions{MaxConcurrentProbes: limit, Dial: dial, LogoutTimeout: time.Millisecond})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Minute): // hang guard only, not a budget
		t.Fatal("probes never ran " + fmt.Sprint(limit) + " at a time")
	}
	close(release)
	assert.Equal(t, limit, maxSeen, "at most the cap in flight, and the cap reached")
	ok := 0
	for _, r := range rep.Results {
		if strings.HasPrefix(r.What, "portal ") && r.Status == wizard.CheckOK {
			ok++
		}
	}
	assert.Equal(t, 3*limit, ok, "%+v", rep)
}

func TestCheckArrayDialsOnlyValidPortalsAndQuotesArrayText(t *testing.T) {
	// Fake array that reports hostile endpoints, names and messages.
	s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
	s.Storage.Boot.Portals, s.Storage.Data[0].Portals = nil, nil
	forged := "\x1b[2K\rok   login"
	arr := &fakeArray{
		vols: []storage.Volume{{Name: "/vol/web01/boot" + forged}, {Name: "/vol/web01/data"}},
		target: storage.Target{Name: "iqn.1992-08.com.netapp:sn.4f6b:vs.3\x1b]0;owned\a", Endpoints: []storage.Endpoint{
			{Address: "192.168.50.10", Port: 3260},
			{Address: "255.255.255.255", Port: 3260},
			{Address: "224.0.0.1", Port: 3260},
			{Address: "127.0.0.1", Port: 3260},
			{Address: "0.0.0.0", Port: 3260},
			{Address: "array.example.net", Port: 3260},
			{Address: "192.168.50.12", Port: 70000},
			{Address: "fe80::1%eth0", Port: 3260},
			{Address: "192.168.50.13\x1b[31m" + strings.Repeat("A", 5000), Port: 3260},
		}},
	}
	var dialled []string
	var mu sync.Mutex
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) {
		mu.Lock()
		dialled = append(dialled, addr)
		mu.Unlock()
		return okDial(ctx, "", addr)
	}
	rep, err := wizard.CheckArray(context.Background(), arr, s, wizard.CheckOptions{Dial: dial, LogoutTimeout: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, []string{"192.168.50.10:3260"}, dialled, "only the valid portal is dialled")
	bad := 0
	for _, r := range rep.Results {
		for _, f := range []string{r.What, r.Detail, r.Fix} {
			for _, c := range f {
				assert.False(t, c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0), "control character %U in %q", c, f)
			}
			assert.Less(t, len(f), 700, "capped: %q", f)
		}
		if strings.HasPrefix(r.What, "portal ") && r.Status == wizard.CheckFailed {
			bad++
		}
	}
	assert.Equal(t, 8, bad, "every invalid endpoint is a failed line: %+v", rep)
	assert.Equal(t, wizard.CheckFailed, byWhat(rep)["target discovery"].Status, "a target name with escapes is not a valid IQN")
	assert.Equal(t, wizard.CheckFailed, byWhat(rep)["storage.boot.volume"].Status, "a forged name is not the answers' volume")
}

func TestCheckArrayInterruptStopsAtOnce(t *testing.T) {
	// Fakes that block until their context ends. Cancelling (what the first
	// Ctrl-C does) must end the check without a logout; a logout with an
	// uncancellable context would block here for ever (the hang guard fails it).
	for _, where := range []string{"login", "volumes"} {
		t.Run(where, func(t *testing.T) {
			s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
			arr := &fakeArray{started: make(chan struct{}), blockLogin: where == "login", blockVolumes: where == "volumes"}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := wizard.CheckArray(ctx, arr, s, wizard.CheckOptions{Dial: okDial, LogoutTimeout: time.Hour})
				done <- err
			}()
			<-arr.started
			cancel()
			select {
			case err := <-done:
				require.ErrorIs(t, err, context.Canceled)
			case <-time.After(5 * time.Minute): // hang guard only
				t.Fatal("the check ignored the interrupt")
			}
			assert.Equal(t, 0, arr.outs, "no logout after an interrupt")
		})
	}
}

func TestCheckArrayDeadlineIsReportedAsFailure(t *testing.T) {
	// Injected short deadline; the fake blocks until it passes. The assertion
	// is on the outcome, not on how long it took.
	s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
	arr := &fakeArray{started: make(chan struct{}), blockVolumes: true, target: storage.Target{Name: s.Storage.Boot.Target}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	rep, err := wizard.CheckArray(ctx, arr, s, wizard.CheckOptions{Dial: okDial, LogoutTimeout: time.Millisecond})
	require.NoError(t, err)
	got := byWhat(rep)
	assert.Equal(t, wizard.CheckFailed, got["list volumes"].Status)
	assert.True(t, strings.HasPrefix(got["list volumes"].Detail, "timeout: "), got["list volumes"].Detail)
	assert.Equal(t, wizard.CheckFailed, got["deadline"].Status)
	assert.True(t, rep.Failed())
}

func TestClean(t *testing.T) {
	cases := map[string]string{
		"plain":                       "plain",
		"a\x1b[31mred\x1b[0m":         "a [31mred [0m",
		"line\r\nforged":              "line forged",
		"bidi\u202eevil\u200bzero":    "bidi evil zero",
		"c1\u009bx":                   "c1 x",
		"bad\xffutf8":                 "bad\ufffdutf8",
		strings.Repeat("x", 10) + "y": "xxxxx...",
	}
	for in, want := range cases {
		max := 100
		if strings.HasSuffix(in, "y") {
			max = 5
		}
		assert.Equal(t, want, wizard.Clean(in, max), "%q", in)
	}
	assert.Equal(t, `"a b"`, wizard.Quote("a\x07b"))
	assert.LessOrEqual(t, len([]rune(wizard.Quote(strings.Repeat("z", 1000)))), 170)
}
