package alletra_test

// Contract tests: the real client speaks HTTPS to the WSAPI model in
// model_test.go on loopback, fronted by a handler that answers one path with a
// redirect to a second loopback HTTPS server (the "trap") that only records
// what reaches it. No fakes.

import (
	"bytes"
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
	"github.com/outposts-ha/outposts-ha/internal/storage/alletra"
	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

// trap is the host a redirect names. It must never see a request from the client.
type trap struct {
	mu       sync.Mutex
	password string
	hits     []string // "METHOD /path [what secret material arrived]"
}

func (tr *trap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var got []string
	if r.Header.Get("X-HP3PAR-WSAPI-SessionKey") != "" {
		got = append(got, "session key header")
	}
	if bytes.Contains(body, []byte(tr.password)) {
		got = append(got, "password in body")
	}
	tr.mu.Lock()
	tr.hits = append(tr.hits, fmt.Sprintf("%s %s %v", r.Method, r.URL.Path, got))
	tr.mu.Unlock()
	// Answer as an array would, so that a followed redirect "works".
	writeJSON(w, http.StatusCreated, map[string]any{"key": "trap-session-key", "total": 0, "members": []any{}})
}

func (tr *trap) seen() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.hits...)
}

// redirectBody is a vendor "not found" error document sent with the redirect:
// the client must not read it as NotFound, which callers absorb.
const redirectBody = `{"code":23,"desc":"volume does not exist"}`

// redirectOne answers method+path with status, a Location on the trap server
// and redirectBody, and passes every other request to the model.
func redirectOne(next http.Handler, method, path string, status int, to string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method && r.URL.Path == path {
			w.Header().Set("Location", to+r.URL.RequestURI())
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, redirectBody)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bothCAs writes one PEM bundle trusting the array and the trap, so the trap
// is reachable by the client's TLS settings and a zero hit count means the
// client refused to go there, not that the handshake failed.
func bothCAs(t *testing.T, files ...string) string {
	t.Helper()
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all = append(all, b...)
	}
	p := filepath.Join(t.TempDir(), "bundle.pem")
	require.NoError(t, os.WriteFile(p, all, 0o600))
	return p
}

// TestRedirectsAreNotFollowed: the array answers the login, or a normal call,
// with a redirect to another host. Go would send the session key header there,
// and on 307/308 the login body with the password. The client must refuse.
func TestRedirectsAreNotFollowed(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		status int
		login  bool // the redirect answers the login itself
	}{
		{name: "login 302", method: http.MethodPost, path: "/api/v1/credentials", status: http.StatusFound, login: true},
		{name: "login 307", method: http.MethodPost, path: "/api/v1/credentials", status: http.StatusTemporaryRedirect, login: true},
		{name: "login 308", method: http.MethodPost, path: "/api/v1/credentials", status: http.StatusPermanentRedirect, login: true},
		{name: "call 302", method: http.MethodGet, path: "/api/v1/volumes", status: http.StatusFound},
		{name: "call 307", method: http.MethodGet, path: "/api/v1/volumes", status: http.StatusTemporaryRedirect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel(t)
			fixture(m)
			tr := &trap{password: m.password}
			trapSrv, trapCA := storagetest.TLSServer(t, tr)
			srv, ca := storagetest.TLSServer(t, redirectOne(m.handler(), tc.method, tc.path, tc.status, trapSrv.URL))

			hc, warn, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: bothCAs(t, ca, trapCA)})
			require.NoError(t, err)
			require.Empty(t, warn)
			var logs bytes.Buffer
			c, err := alletra.New(alletra.Config{
				Endpoint:    srv.URL,
				Credentials: storage.Credentials{Username: m.user, Secret: m.password},
				HTTP:        hc,
				Log:         slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			require.NoError(t, err)
			assert.Nil(t, hc.CheckRedirect, "New must not change the caller's client")

			if tc.login {
				err = c.Login(t.Context())
			} else {
				require.NoError(t, c.Login(t.Context()))
				_, err = c.Volumes(t.Context())
			}
			assert.Empty(t, tr.seen(), "the redirect target got requests")
			require.Error(t, err)
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.status, se.Status)
			assert.Equal(t, storage.KindUnknown, se.Kind, "a redirect is neither auth, not-found nor already-exists")
			assert.Empty(t, se.Code, "the redirect's body is not read as a vendor error")
			assert.Contains(t, err.Error(), "redirect")
			assert.NotContains(t, err.Error(), strings.TrimPrefix(trapSrv.URL, "https://"), "the Location is not echoed")

			require.NoError(t, c.Logout(t.Context()))
			assert.Equal(t, 0, m.activeSessions(), "the session on the real array is closed")
			texts := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), logs.String()}
			storagetest.NoSecret(t, m.password, texts...)
			for _, k := range m.keys {
				storagetest.NoSecret(t, k, texts...)
			}

			// The trap was reachable all along: the caller's own client gets there.
			resp, err := hc.Get(trapSrv.URL + "/probe")
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Len(t, tr.seen(), 1, "the probe reached the trap")
		})
	}
}
