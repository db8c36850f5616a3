package alletra_test

// Contract tests against a hostile or broken WSAPI: the real client over real
// HTTPS against the model in model_test.go with its hostile knobs (echo,
// refuse). No fakes of the client.

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/alletra"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

// TestEchoedSecretsNeverLeak: the array echoes, in every error body and in
// response headers, the password from the login body (plain, upper-cased,
// base64, and the JSON login body itself) and the session key (header line,
// upper-cased, base64, JSON field). A failed login, a session renewal and
// refused calls all happen, and a volume is named after the password. No form
// of the password or of a session key may reach an error, a log line or a
// returned value.
func TestEchoedSecretsNeverLeak(t *testing.T) {
	ctx := t.Context()
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const password = `Wsapi"Pa55\never<logged>&`
	e := start(t, func(m *hpModel) {
		m.password = password
		m.echo = true
		m.expireAfter = 4
		m.addVolume("v-"+password, 1024, 2)
	})
	withLog := func(cfg *alletra.Config) { cfg.Log = lg }
	var texts []string
	redacted := 0
	note := func(err error) {
		require.Error(t, err)
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		redacted = strings.Count(err.Error(), storage.Redacted)
	}
	typo := password + "typo"
	bad := e.client(t, withLog, func(cfg *alletra.Config) { cfg.Credentials.Secret = typo })
	note(bad.Login(ctx))
	assert.GreaterOrEqual(t, redacted, 4, "the login echo reached the client: plain, upper, base64, JSON body")

	c := e.client(t, withLog)
	res, err := runSetup(ctx, c, spec, -1)
	require.NoError(t, err)
	texts = append(texts, fmt.Sprint(res))
	assert.Len(t, res.vols, 4, "a volume named after the password is left out")
	require.NoError(t, c.Login(ctx))
	note(c.DeleteHost(ctx, res.host)) // refused: the host has an export; the body echoes the key
	assert.GreaterOrEqual(t, redacted, 4, "the session echo reached the client: header line, upper case, base64, JSON")
	note(c.DeleteVolume(ctx, res.mapped.Volume))
	require.NoError(t, c.Logout(ctx))

	texts = append(texts, logs.String())
	require.Contains(t, logs.String(), "array session expired", "a renewal happened")
	storagetest.NoSecretForms(t, e.m.user, password, texts...)
	storagetest.NoSecretForms(t, e.m.user, typo, texts...)
	require.GreaterOrEqual(t, len(e.m.keys), 2)
	for _, k := range e.m.keys {
		storagetest.NoSecretForms(t, "", k, texts...)
	}
}

// TestArrayTextCannotForgeOutput: terminal escapes in a port's iSCSIName, an
// IPAddr with an IPv6 zone, a subsystem NQN and a volume name. Malformed
// names and addresses are dropped; nothing forged reaches a returned value,
// an error or a log line.
func TestArrayTextCannotForgeOutput(t *testing.T) {
	const forge = "\x1b[2K\r\x1b[1Aarray check: OK\u202e"
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, func(m *hpModel) {
		m.ports[0].ISCSIName = portIQN1 + forge
		m.ports = append(m.ports, hPort{Node: 2, Slot: 3, CardPort: 1, Protocol: 2, LinkState: 4, IPAddr: "fe80::1%eth0" + forge, ISCSIName: portIQN0})
		m.subsysNQN = subsysNQN + forge
		m.addVolume("vol"+forge, 1024, 2)
	})
	c := e.client(t, func(cfg *alletra.Config) { cfg.Log = lg })
	ts, err := c.Targets(t.Context(), storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, []storage.Target{{Name: portIQN0, Protocol: storage.ISCSI,
		Endpoints: []storage.Endpoint{{Address: "192.168.50.20", Port: 3260}}}}, ts, "forged iSCSIName and zoned address dropped")
	vols, err := c.Volumes(t.Context())
	require.NoError(t, err)
	assert.Len(t, vols, 4)

	nv := storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP, OS: storage.Linux}
	_, nerr := runSetup(t.Context(), c, nv, -1)
	require.Error(t, nerr, "a forged subsystem NQN is not used")
	for _, s := range []string{fmt.Sprint(ts, vols), nerr.Error(), logs.String()} {
		assert.NotContains(t, s, "\x1b")
		assert.NotContains(t, s, "\u202e")
		assert.NotContains(t, s, "\r")
	}
	assert.Contains(t, logs.String(), "unusable iSCSIName")
}

// TestRefusedDeletesAreNotSuccess: the array refuses the unexport, the host
// delete and the volume delete while the objects are still there, once with
// a plain refusal and once with a "does not exist" code it should not have
// sent. Only an object that is gone on a re-read is success.
func TestRefusedDeletesAreNotSuccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		codes  [3]int // vlun, host, volume
	}{
		{name: "refused", status: 409, codes: [3]int{26, 26, 26}},
		{name: "claims not found", status: 404, codes: [3]int{19, 17, 23}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			e := start(t)
			c := e.client(t)
			res, err := runSetup(ctx, c, spec, -1)
			require.NoError(t, err)
			set := func(status, code int) {
				e.m.mu.Lock()
				e.m.refuse, e.m.refuseCode = status, code
				e.m.mu.Unlock()
			}
			set(tc.status, tc.codes[0])
			uerr := c.Unmap(ctx, res.host, res.mapped.Volume)
			assert.Error(t, uerr, "export still there")
			assert.NotErrorIs(t, uerr, storage.ErrNotFound, "never absorbable as already gone")
			e.m.mu.Lock()
			e.m.vluns = nil
			e.m.mu.Unlock()
			set(tc.status, tc.codes[1])
			herr := c.DeleteHost(ctx, res.host)
			assert.Error(t, herr, "host still there")
			assert.NotErrorIs(t, herr, storage.ErrNotFound)
			set(tc.status, tc.codes[2])
			verr := c.DeleteVolume(ctx, res.mapped.Volume)
			assert.Error(t, verr, "volume still there")
			assert.NotErrorIs(t, verr, storage.ErrNotFound)
			hosts, _, vols := e.m.state()
			assert.Len(t, hosts, 1)
			assert.Len(t, vols, 5)

			set(0, 0)
			require.NoError(t, c.DeleteHost(ctx, res.host))
			require.NoError(t, c.DeleteVolume(ctx, res.mapped.Volume))
			require.NoError(t, c.Logout(ctx))
		})
	}
}
