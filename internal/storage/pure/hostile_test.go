package pure_test

// Contract tests against a hostile or broken FlashArray: the real client over
// real HTTPS against the REST 2.x model in model_test.go with its hostile
// knobs (echo, foreverPages, padPages, refuse), plus a loopback "trap" server
// for redirects. No fakes of the client.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/pure"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

// TestEchoedSecretsNeverLeak: the array echoes, in every error body and in
// response headers, the api-token and x-auth-token it was sent, as header
// lines, upper-cased, in base64 and inside a JSON field. Failed logins, a
// session renewal, refused sessions and refused calls all happen; a volume is
// even named after the token. No form of the API token or of any session
// token may reach an error, a log line or a returned value.
func TestEchoedSecretsNeverLeak(t *testing.T) {
	f := newFixture(t, func(m *pureModel, _ *pure.Config) {
		m.echo = true
		m.vols = append(m.vols, &pVol{id: m.id(), name: "vol-" + m.token, provisioned: 1 << 30})
	})
	ctx := context.Background()
	var texts []string
	redactedParts := 0
	keep := func(err error) {
		require.Error(t, err)
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		redactedParts = max(redactedParts, strings.Count(err.Error(), storage.Redacted))
	}
	o := runSetup(t, f.c, bootVol, -1)
	texts = append(texts, fmt.Sprint(o))
	for _, v := range o.vols {
		assert.NotContains(t, v.Name, f.m.token, "a volume named after the token is left out")
	}
	f.m.set(func(m *pureModel) { m.expireOnce = true })
	keep(f.c.DeleteHost(ctx, o.host)) // renewal, then a 400 (host has connections) that echoes the new session
	f.m.set(func(m *pureModel) { m.rejectSessions = true })
	_, err := f.c.Volumes(ctx)
	keep(err)
	f.m.set(func(m *pureModel) { m.rejectSessions = false })

	wrong := "Wrong-Token-0123456789abcdef"
	bad := f.cfg
	bad.Credentials.Secret = wrong
	bc, err := pure.New(bad)
	require.NoError(t, err)
	keep(bc.Login(ctx))

	texts = append(texts, f.logs.String())
	assert.GreaterOrEqual(t, redactedParts, 4, "the echo reached the client in its forms (header line, upper case, base64, JSON)")
	secrets := []string{f.m.token, wrong}
	f.m.set(func(m *pureModel) { secrets = append(secrets, m.issued...) })
	require.GreaterOrEqual(t, len(secrets), 4)
	for _, s := range secrets {
		storagetest.NoSecretForms(t, "", s, texts...)
	}
}

// redirectTrap is the host a redirect names; it records what secret
// material reaches it. It must see nothing from the client.
type redirectTrap struct {
	mu   sync.Mutex
	hits []string
}

func (tr *redirectTrap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tr.mu.Lock()
	tr.hits = append(tr.hits, fmt.Sprintf("%s %s api-token=%t x-auth-token=%t", r.Method, r.URL.Path,
		r.Header.Get("api-token") != "", r.Header.Get("x-auth-token") != ""))
	tr.mu.Unlock()
	// Answer as an array would, so a followed redirect "works".
	w.Header().Set("x-auth-token", "trap-session")
	writeJSON(w, http.StatusOK, map[string]any{"version": []string{"2.36"}, "items": []any{}})
}

func (tr *redirectTrap) seen() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.hits...)
}

// TestRedirectsAreNotFollowed: FlashArray answers the version negotiation,
// the login or a call with a redirect to another host. Go would forward the
// custom api-token and x-auth-token headers to any host. The client must not
// go there, must not read the redirect's body as a vendor error, and must not
// echo the Location.
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		status             int
		login              bool
	}{
		{"api_version 302", http.MethodGet, "/api/api_version", http.StatusFound, true},
		{"login 307", http.MethodPost, "/api/2.36/login", http.StatusTemporaryRedirect, true},
		{"login 308", http.MethodPost, "/api/2.36/login", http.StatusPermanentRedirect, true},
		{"call 302", http.MethodGet, "/api/2.36/volumes", http.StatusFound, false},
		{"call 307", http.MethodGet, "/api/2.36/volumes", http.StatusTemporaryRedirect, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel()
			tr := &redirectTrap{}
			trapSrv, trapCA := storagetest.TLSServer(t, tr)
			inner := m.handler()
			srv, ca := storagetest.TLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == tc.method && r.URL.Path == tc.path {
					w.Header().Set("Location", trapSrv.URL+r.URL.RequestURI())
					writeErr(w, tc.status, "", "Volume does not exist.")
					return
				}
				inner.ServeHTTP(w, r)
			}))
			bundle := filepath.Join(t.TempDir(), "bundle.pem")
			var pems []byte
			for _, f := range []string{ca, trapCA} {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				pems = append(pems, b...)
			}
			require.NoError(t, os.WriteFile(bundle, pems, 0o600))
			hc, _, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: bundle})
			require.NoError(t, err)
			var logs bytes.Buffer
			c, err := pure.New(pure.Config{Endpoint: srv.URL, Credentials: storage.Credentials{Secret: m.token}, HTTP: hc,
				Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			require.NoError(t, err)
			assert.Nil(t, hc.CheckRedirect, "New must not change the caller's client")
			if tc.login {
				err = c.Login(t.Context())
			} else {
				require.NoError(t, c.Login(t.Context()))
				_, err = c.Volumes(t.Context())
			}
			assert.Empty(t, tr.seen(), "the redirect target got requests")
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.status, se.Status)
			assert.NotEqual(t, storage.KindNotFound, se.Kind, "a redirect's body is not read as not-found")
			assert.Contains(t, err.Error(), "redirect")
			assert.NotContains(t, err.Error(), strings.TrimPrefix(trapSrv.URL, "https://"), "the Location is not echoed")
			storagetest.NoSecretForms(t, "", m.token, err.Error(), logs.String())

			// The trap was reachable all along with the caller's own client.
			resp, err := hc.Get(trapSrv.URL + "/probe")
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			require.NoError(t, resp.Body.Close())
			assert.Len(t, tr.seen(), 1)
		})
	}
}

// TestEndlessPagingStops: an array whose every page carries a fresh
// continuation token, or pages that are huge, must end in a clear error, not
// run forever or out of memory.
func TestEndlessPagingStops(t *testing.T) {
	t.Run("pages", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, _ *pure.Config) { m.foreverPages = true })
		_, err := f.c.Volumes(context.Background())
		require.Error(t, err)
		assert.ErrorContains(t, err, fmt.Sprintf("%d pages", storage.MaxListPages))
		n := f.m.requestsMatching("GET /api/2.36/volumes")
		assert.LessOrEqual(t, n, storage.MaxListPages+1)
		assert.GreaterOrEqual(t, n, storage.MaxListPages)
	})
	t.Run("bytes", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, _ *pure.Config) { m.foreverPages, m.padPages = true, 4<<20 })
		_, err := f.c.Volumes(context.Background())
		require.Error(t, err)
		assert.ErrorContains(t, err, "MiB")
		assert.LessOrEqual(t, f.m.requestsMatching("GET /api/2.36/volumes"), storage.MaxListBytes/(4<<20)+1)
	})
}

// TestArrayTextCannotForgeOutput: terminal escapes in the version list, in a
// port's IQN and in a volume name must not reach an error, a log line or a
// returned value.
func TestArrayTextCannotForgeOutput(t *testing.T) {
	const forge = "\x1b[2K\r\x1b[1Aarray check: OK\u202e"
	f := newFixture(t, func(m *pureModel, c *pure.Config) {
		m.versions = []string{"2.36", "2.99" + forge, "1.0\x1b]0;pwned\x07"}
		m.ports[0].iqn = "iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60" + forge
		m.vols = append(m.vols, &pVol{id: m.id(), name: "vol" + forge, provisioned: 1})
		c.APIVersion = "2.35"
	})
	ctx := context.Background()
	err := f.c.Login(ctx)
	require.Error(t, err)
	assert.ErrorContains(t, err, "2.99", "the offered versions are shown")
	texts := []string{err.Error()}

	f2 := newFixture(t, func(m *pureModel, _ *pure.Config) {
		m.ports[0].iqn = "iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60" + forge
		m.vols = append(m.vols, &pVol{id: m.id(), name: "vol" + forge, provisioned: 1})
	})
	vols, err := f2.c.Volumes(ctx)
	require.NoError(t, err)
	assert.Len(t, vols, 5, "the volume with a forged name is left out")
	tgt, err := f2.c.Target(ctx, storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, targetIQN, tgt.Name)
	texts = append(texts, fmt.Sprint(vols, tgt), f.logs.String(), f2.logs.String())
	for _, s := range texts {
		assert.NotContains(t, s, "\x1b", "no escape in %q", s)
		assert.NotContains(t, s, "\u202e")
		assert.NotContains(t, s, "\r")
	}
}

// TestRefusedDeletesAreNotSuccess: the array refuses the disconnect, the
// host delete and the volume destroy, and the objects are still there. Only
// "already gone" is success; a refusal must be reported.
func TestRefusedDeletesAreNotSuccess(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	o := runSetup(t, f.c, bootVol, -1)
	f.m.set(func(m *pureModel) { m.refuse = true })
	assert.Error(t, f.c.Unmap(ctx, o.host, o.mapping.Volume), "connection still there")
	f.m.set(func(m *pureModel) { m.conns = nil })
	assert.Error(t, f.c.DeleteHost(ctx, o.host), "host still there")
	assert.Error(t, f.c.DeleteVolume(ctx, o.mapping.Volume), "volume still there, not destroyed")
	f.m.set(func(m *pureModel) {
		assert.Len(t, m.hosts, 1)
		assert.False(t, m.vols[0].destroyed)
		m.refuse = false
	})
	require.NoError(t, f.c.DeleteHost(ctx, o.host))
	require.NoError(t, f.c.DeleteVolume(ctx, o.mapping.Volume))
}

// TestNotFoundRefusalIsNotGone: the array answers the deletes with 404 while
// the objects stay: the client reports an error that callers cannot absorb
// as "already gone".
func TestNotFoundRefusalIsNotGone(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	o := runSetup(t, f.c, bootVol, -1)
	f.m.set(func(m *pureModel) {
		m.override = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodDelete && r.Method != http.MethodPatch {
				return false
			}
			writeErr(w, 404, "", "Does not exist.")
			return true
		}
	})
	uerr := f.c.Unmap(ctx, o.host, o.mapping.Volume)
	require.Error(t, uerr)
	assert.NotErrorIs(t, uerr, storage.ErrNotFound)
	assert.ErrorContains(t, uerr, "still lists the connection")
	f.m.set(func(m *pureModel) { m.conns = nil })
	herr := f.c.DeleteHost(ctx, o.host)
	require.Error(t, herr)
	assert.NotErrorIs(t, herr, storage.ErrNotFound)
	verr := f.c.DeleteVolume(ctx, o.mapping.Volume)
	require.Error(t, verr)
	assert.NotErrorIs(t, verr, storage.ErrNotFound)
	assert.ErrorContains(t, verr, "still lists the volume")
}
