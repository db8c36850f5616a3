package powerstore_test

// Contract tests against a hostile or broken PowerStore: the real client over
// real HTTPS against the model in model_test.go with its hostile knobs (echo,
// foreverPages, padPages, refuse). No fakes of the client.

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/powerstore"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

// TestEchoedSecretsNeverLeak: the array echoes, in every error body and in
// response headers, the Basic password in plain, the Authorization header
// (base64 of user:password), a JSON login body holding the password, and the
// DELL-EMC-TOKEN and auth_cookie (plain, upper-cased, base64, JSON field).
// A failed login, a session renewal and refused calls all happen, and a
// volume is named after the password. No form of the password, of a token or
// of a cookie may reach an error, a log line or a returned value.
func TestEchoedSecretsNeverLeak(t *testing.T) {
	ctx := t.Context()
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const password = `Pa55"wo\rd<never>&Logged`
	e := start(t, func(m *psModel) {
		m.password = password
		m.echo = true
		m.expireAfter = 5
		m.addVolume("vol-"+password, gib)
	})
	withLog := func(cfg *powerstore.Config) { cfg.Log = lg }
	var texts []string
	redacted := 0
	note := func(err error) {
		require.Error(t, err)
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		redacted = strings.Count(err.Error(), storage.Redacted)
	}
	typo := password + "-typo"
	bad := e.client(t, withLog, func(cfg *powerstore.Config) { cfg.Credentials.Secret = typo })
	note(bad.Login(ctx))
	assert.GreaterOrEqual(t, redacted, 3, "the login echo reached the client: plain, Basic header, JSON body")

	c := e.client(t, withLog)
	res, err := runSetup(ctx, c, -1)
	require.NoError(t, err)
	texts = append(texts, fmt.Sprint(res))
	for _, v := range res.vols {
		assert.NotContains(t, v.Name, "Pa55", "a volume named after the password is left out")
	}
	require.NoError(t, c.Login(ctx))
	note(c.DeleteHost(ctx, res.host)) // refused: it has a mapping; the body echoes token and cookie
	assert.GreaterOrEqual(t, redacted, 4, "the session echo reached the client: header line, upper case, base64, JSON")
	note(c.DeleteVolume(ctx, res.mapped.Volume))
	require.NoError(t, c.Logout(ctx))

	texts = append(texts, logs.String())
	require.Contains(t, logs.String(), "array session expired", "a renewal happened")
	storagetest.NoSecretForms(t, e.m.user, password, texts...)
	storagetest.NoSecretForms(t, e.m.user, typo, texts...)
	require.GreaterOrEqual(t, len(e.m.secrets), 4)
	for _, s := range e.m.secrets {
		storagetest.NoSecretForms(t, "", s, texts...)
	}
}

// TestEndlessPagingStops: an array that always has one more page, or whose
// pages are huge, ends in a clear error.
func TestEndlessPagingStops(t *testing.T) {
	t.Run("pages", func(t *testing.T) {
		e := start(t, func(m *psModel) { m.foreverPages = true })
		_, err := e.client(t).Volumes(t.Context())
		require.Error(t, err)
		assert.ErrorContains(t, err, fmt.Sprintf("%d pages", storage.MaxListPages))
		n := e.m.count("GET /api/rest/volume")
		assert.LessOrEqual(t, n, storage.MaxListPages+1)
		assert.GreaterOrEqual(t, n, storage.MaxListPages)
	})
	t.Run("bytes", func(t *testing.T) {
		e := start(t, func(m *psModel) { m.foreverPages, m.padPages = true, 4<<20 })
		_, err := e.client(t).Volumes(t.Context())
		require.Error(t, err)
		assert.ErrorContains(t, err, "MiB")
		assert.LessOrEqual(t, e.m.count("GET /api/rest/volume"), storage.MaxListBytes/(4<<20)+1)
	})
}

// TestArrayTextCannotForgeOutput: terminal escapes in a target IQN, an IPv6
// zone, a cluster NQN and a volume name. Malformed target names and addresses
// are dropped (never cleaned into another name); nothing forged reaches a
// returned value, an error or a log line.
func TestArrayTextCannotForgeOutput(t *testing.T) {
	const forge = "\x1b[2K\r\x1b[1Aarray check: OK\u202e"
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := start(t, func(m *psModel) {
		m.ports["IP_PORT_A"] = iqnNodeA + forge
		m.addISCSIPortal("fe80::1%eth0"+forge, "IP_PORT_B", iqnNodeB)
		m.addISCSIPortal("fe80::2%"+forge, "IP_PORT_B", iqnNodeB)
		m.addNVMePortal("192.168.60.10", "A1")
		m.nvmNQN = subsysNQN + forge
		m.addVolume("vol"+forge, gib)
	})
	c := e.client(t, func(cfg *powerstore.Config) { cfg.Log = lg })
	ts, err := c.Targets(t.Context(), storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, []storage.Target{{Name: iqnNodeB, Protocol: storage.ISCSI,
		Endpoints: []storage.Endpoint{{Address: "192.168.50.12", Port: 3260}}}}, ts, "forged IQN and zoned addresses dropped")
	_, nerr := c.Target(t.Context(), storage.NVMeTCP)
	require.ErrorIs(t, nerr, storage.ErrUnsupported, "a forged subsystem NQN is not used")
	vols, err := c.Volumes(t.Context())
	require.NoError(t, err)
	assert.Len(t, vols, 5)
	for _, s := range []string{fmt.Sprint(ts, vols), nerr.Error(), logs.String()} {
		assert.NotContains(t, s, "\x1b")
		assert.NotContains(t, s, "\u202e")
		assert.NotContains(t, s, "\r")
	}
	assert.Contains(t, logs.String(), "unusable target IQN")
}

// TestRefusedDeletesAreNotSuccess: the array refuses the detach, the host
// delete and the volume delete and the objects are still there, once with a
// plain refusal and once with a "not found" code it should not have sent.
// Only an object that is gone on a re-read is success.
func TestRefusedDeletesAreNotSuccess(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		codes  [3]string // detach, host, volume
	}{
		{name: "refused", status: 422, codes: [3]string{"0xE0FFFFFF0009", "0xE0FFFFFF0009", "0xE0FFFFFF0009"}},
		{name: "claims not found", status: 404, codes: [3]string{"0xE0A01001001E", "0xE0A010010003", "0xE0A08001000E"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			e := start(t)
			c := e.client(t)
			res, err := runSetup(ctx, c, -1)
			require.NoError(t, err)
			set := func(code string) {
				e.m.mu.Lock()
				e.m.refuse, e.m.refuseCode = tc.status, code
				e.m.mu.Unlock()
			}
			set(tc.codes[0])
			uerr := c.Unmap(ctx, res.host, res.mapped.Volume)
			assert.Error(t, uerr, "mapping still there")
			assert.NotErrorIs(t, uerr, storage.ErrNotFound, "never absorbable as already gone")
			e.m.mu.Lock()
			e.m.maps = nil
			e.m.mu.Unlock()
			set(tc.codes[1])
			herr := c.DeleteHost(ctx, res.host)
			assert.Error(t, herr, "host still there")
			assert.NotErrorIs(t, herr, storage.ErrNotFound)
			set(tc.codes[2])
			verr := c.DeleteVolume(ctx, res.mapped.Volume)
			assert.Error(t, verr, "volume still there")
			assert.NotErrorIs(t, verr, storage.ErrNotFound)
			hosts, _, vols := e.m.snapshot()
			assert.Len(t, hosts, 1)
			assert.Len(t, vols, 5)

			set("")
			e.m.mu.Lock()
			e.m.refuse = 0
			e.m.mu.Unlock()
			require.NoError(t, c.DeleteHost(ctx, res.host))
			require.NoError(t, c.DeleteVolume(ctx, res.mapped.Volume))
			require.NoError(t, c.Logout(ctx))
		})
	}
}

// TestIPPortLookupsAreBounded: an array listing a distinct ip_port for each
// of many iSCSI addresses gets at most 256 ip_port lookups, then an error.
func TestIPPortLookupsAreBounded(t *testing.T) {
	e := start(t, func(m *psModel) {
		m.pageMax = 1000
		for i := range 300 {
			m.addISCSIPortal(fmt.Sprintf("192.168.%d.%d", 51+i/200, 1+i%200), fmt.Sprintf("IP_PORT_%d", i), iqnNodeA)
		}
	})
	_, err := e.client(t).Targets(t.Context(), storage.ISCSI)
	assert.ErrorContains(t, err, "more than 256 ports")
	assert.Equal(t, 256, e.m.count("GET /api/rest/ip_port/"))

	e2 := start(t, func(m *psModel) {
		m.pageMax = 1000
		for i := range 254 { // 256 ports with the fixture's two
			m.addISCSIPortal(fmt.Sprintf("192.168.%d.%d", 51+i/200, 1+i%200), fmt.Sprintf("IP_PORT_%d", i), iqnNodeA)
		}
	})
	ts, err := e2.client(t).Targets(t.Context(), storage.ISCSI)
	require.NoError(t, err)
	assert.Len(t, ts[0].Endpoints, 256)
}
