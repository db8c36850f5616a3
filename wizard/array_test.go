package wizard_test

// Unit tests. Secrets Manager is a fake behind the one-method SecretGetter
// interface here (array_integration_test.go runs the same path against moto);
// portal probes use real loopback listeners.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
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
		{name: "prompt without terminal", vendor: "ontap", ref: spec.CredentialsRef{Prompt: true}, wantErr: "needs an interactive terminal"},
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

func TestCheckArrayGenericProbesPortals(t *testing.T) {
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
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()

	s, err := spec.Parse([]byte(strings.Join([]string{
		"workload: web01", "region: us-west-2", "storage:", "  vendor: generic", "  protocol: iscsi", "  boot:",
		"    target: iqn.2003-01.org.linux-iscsi.san1:boot", `    portals: ["` + ln.Addr().String() + `", "` + closedAddr + `"]`, "    lun: 3",
		"outposts:", "  primary_subnet: subnet-0a1b2c3d", "  secondary_subnet: subnet-0f1e2d3c",
		"instance:", "  type: c6id.large", "  helper_ami: ami-0123abcd", "  security_group: sg-0123abcd", "  instance_profile: p",
		"failover:", "  notification_email: ops@example.com", ""}, "\n")))
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	arr, _, err := wizard.OpenArray(s, storage.Credentials{}, storage.TLSOptions{}, nil)
	require.NoError(t, err)
	res, err := wizard.CheckArray(context.Background(), arr, s, time.Second)
	require.NoError(t, err)
	got := map[string]bool{}
	for _, r := range res {
		got[r.What] = r.OK
	}
	assert.True(t, got["portal "+ln.Addr().String()], "open loopback portal is reachable: %+v", res)
	assert.False(t, got["portal "+closedAddr], "closed loopback portal is reported unreachable: %+v", res)
	assert.True(t, got["target discovery"])
}

// fakeArray is a fake behind storage.Array (no emulator exists for arrays; the
// vendor clients have their own contract tests against modelled APIs).
type fakeArray struct {
	storage.Array
	vols   []storage.Volume
	target storage.Target
	logins int
	outs   int
}

func (f *fakeArray) Login(context.Context) error  { f.logins++; return nil }
func (f *fakeArray) Logout(context.Context) error { f.outs++; return nil }
func (f *fakeArray) Volumes(context.Context) ([]storage.Volume, error) {
	return f.vols, nil
}
func (f *fakeArray) Target(context.Context, storage.Protocol) (storage.Target, error) {
	return f.target, nil
}

func TestCheckArrayFailsOnMissingVolumeOrOtherTarget(t *testing.T) {
	s := specWithCreds(t, "ontap", spec.CredentialsRef{Env: "X"})
	ok := &fakeArray{
		vols:   []storage.Volume{{Name: "/vol/web01/boot", SizeBytes: 1 << 30}, {Name: "/vol/web01/data"}},
		target: storage.Target{Name: s.Storage.Boot.Target},
	}
	res, err := wizard.CheckArray(context.Background(), ok, s, 10*time.Millisecond)
	require.NoError(t, err, "%+v", res)
	assert.Equal(t, 1, ok.logins)
	assert.Equal(t, 1, ok.outs, "always logs out")

	missing := &fakeArray{vols: ok.vols[:1], target: ok.target}
	_, err = wizard.CheckArray(context.Background(), missing, s, 10*time.Millisecond)
	require.ErrorContains(t, err, "1 check(s) failed")

	other := &fakeArray{vols: ok.vols, target: storage.Target{Name: "iqn.1992-08.com.netapp:sn.other:vs.9"}}
	res, err = wizard.CheckArray(context.Background(), other, s, 10*time.Millisecond)
	require.Error(t, err)
	found := false
	for _, r := range res {
		if r.What == "storage.boot.target" && !r.OK {
			found = true
		}
	}
	assert.True(t, found, "the target mismatch is reported: %+v", res)
	assert.Equal(t, 1, other.outs)
}
