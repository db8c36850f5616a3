package pure_test

// Contract tests of the edges a mutation run showed untested: exact error
// shapes, status boundaries, version negotiation, LUN checks, lost answers.
// The real client over real HTTPS against the model in model_test.go; where
// one odd answer is needed, the model's override knob serves it (a stand-in
// for that one answer, not a fake of the client).

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/pure"
)

// answer makes the model serve status and body for method+path.
func answer(method, path string, status int, body string) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method || r.URL.Path != path {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return true
	}
}

// TestErrorShapes: each FlashArray error body shape gives the kind from the
// status and the text from the body, joined the documented way.
func TestErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		kind       storage.Kind
		exact      string // whole Error() when set
		has, hasnt []string
	}{
		{name: "context and message", status: 400, body: `{"errors":[{"context":"web01","message":"Volume does not exist."}]}`,
			kind: storage.KindInvalid, exact: "pure: list volumes: request rejected (HTTP 400): web01: Volume does not exist."},
		{name: "empty entries skipped", status: 400, body: `{"errors":[{"context":"","message":""},{"message":"m1"},{"context":"c2","message":"m2"}]}`,
			kind: storage.KindInvalid, exact: "pure: list volumes: request rejected (HTTP 400): m1; c2: m2"},
		{name: "gateway message", status: 429, body: `{"message":"Too many requests."}`,
			kind: storage.KindTransient, exact: "pure: list volumes: temporary array error (HTTP 429): Too many requests."},
		{name: "no body", status: 500, body: ``, kind: storage.KindTransient, exact: "pure: list volumes: temporary array error (HTTP 500)"},
		{name: "not JSON", status: 502, body: `<html>bad gateway</html>`, kind: storage.KindTransient, exact: "pure: list volumes: temporary array error (HTTP 502)"},
		{name: "409", status: 409, body: `{"errors":[{"message":"exists"}]}`, kind: storage.KindAlreadyExists},
		{name: "404", status: 404, body: `{}`, kind: storage.KindNotFound},
		{name: "300 is a redirect", status: 300, body: `{"errors":[{"message":"Volume does not exist."}]}`, kind: storage.KindUnknown,
			has: []string{"redirect"}, hasnt: []string{"does not exist"}},
		{name: "399 is a redirect", status: 399, body: `{}`, kind: storage.KindUnknown, has: []string{"redirect"}},
		{name: "400 is no redirect", status: 400, body: `{}`, kind: storage.KindInvalid, hasnt: []string{"redirect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			require.NoError(t, f.c.Login(context.Background()))
			f.m.set(func(m *pureModel) { m.override = answer("GET", "/api/2.36/volumes", tc.status, tc.body) })
			_, err := f.c.Volumes(context.Background())
			require.Error(t, err)
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.kind, se.Kind)
			assert.Equal(t, tc.status, se.Status)
			if tc.exact != "" {
				assert.Equal(t, tc.exact, err.Error())
			}
			for _, s := range tc.has {
				assert.Contains(t, err.Error(), s)
			}
			for _, s := range tc.hasnt {
				assert.NotContains(t, err.Error(), s)
			}
		})
	}
}

// TestSuccessEdges: any 2xx is success, an empty 200 body is an empty
// collection, and more_items_remaining=false ends paging even with a token.
func TestSuccessEdges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   int
	}{
		{name: "299", status: 299, body: `{"items":[{"id":"v1","name":"a","provisioned":1}]}`, want: 1},
		{name: "empty 200", status: 200, body: ``, want: 0},
		{name: "blank 200", status: 200, body: "  \n", want: 0},
		{name: "token but no more items", status: 200,
			body: `{"items":[{"id":"v1","name":"a","provisioned":1}],"continuation_token":"ct-9","more_items_remaining":false}`, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			require.NoError(t, f.c.Login(context.Background()))
			f.m.set(func(m *pureModel) { m.override = answer("GET", "/api/2.36/volumes", tc.status, tc.body) })
			vols, err := f.c.Volumes(context.Background())
			require.NoError(t, err)
			assert.Len(t, vols, tc.want)
			assert.Equal(t, 1, f.m.requestsMatching("GET /api/2.36/volumes"), "one page only")
		})
	}
}

// TestVersionNegotiationEdges: the lowest 2.x is usable; the offered list is
// shown capped at 20 entries.
func TestVersionNegotiationEdges(t *testing.T) {
	t.Run("only 2.0", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, _ *pure.Config) { m.versions = []string{"1.19", "2.0"} })
		require.NoError(t, f.c.Login(context.Background()))
		assert.Equal(t, "2.0", f.c.APIVersion())
	})
	many := func(n int) []string {
		var vs []string
		for i := range n {
			vs = append(vs, "2."+strconv.Itoa(i+1))
		}
		return vs
	}
	t.Run("20 offered", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, c *pure.Config) { m.versions, c.APIVersion = many(20), "2.99" })
		err := f.c.Login(context.Background())
		assert.ErrorIs(t, err, storage.ErrUnsupported)
		assert.NotContains(t, err.Error(), "more")
		assert.Contains(t, err.Error(), `"2.20"`)
	})
	t.Run("21 offered", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, c *pure.Config) { m.versions, c.APIVersion = many(21), "2.99" })
		err := f.c.Login(context.Background())
		assert.ErrorContains(t, err, "and 1 more")
		assert.NotContains(t, err.Error(), `"2.21"`)
	})
	t.Run("none", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, _ *pure.Config) { m.versions = []string{"1.19"} })
		err := f.c.Login(context.Background())
		assert.ErrorIs(t, err, storage.ErrUnsupported)
		assert.ErrorContains(t, err, `"1.19"`)
	})
	t.Run("String before and after", func(t *testing.T) {
		f := newFixture(t, nil)
		assert.Contains(t, f.c.String(), "not negotiated")
		require.NoError(t, f.c.Login(context.Background()))
		assert.Contains(t, f.c.String(), "api: 2.36")
	})
}

// TestLoginEdges: a 400 on login is a refused token; a login answer without
// items still opens the session; Logout tells a failure from a dropped
// session.
func TestLoginEdges(t *testing.T) {
	t.Run("400 is auth", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, _ *pure.Config) {
			m.override = answer("POST", "/api/2.36/login", 400, `{"errors":[{"message":"Bad token."}]}`)
		})
		assert.ErrorIs(t, f.c.Login(context.Background()), storage.ErrAuth)
	})
	t.Run("no items", func(t *testing.T) {
		f := newFixture(t, func(m *pureModel, _ *pure.Config) {
			m.override = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/2.36/login" {
					return false
				}
				m.sessions["sess-x"] = true
				w.Header().Set("x-auth-token", "sess-x")
				writeJSON(w, 200, map[string]any{"items": []any{}})
				return true
			}
		})
		require.NoError(t, f.c.Login(context.Background()))
		_, err := f.c.Volumes(context.Background())
		require.NoError(t, err)
	})
	t.Run("logout refused by the array", func(t *testing.T) {
		f := newFixture(t, nil)
		require.NoError(t, f.c.Login(context.Background()))
		f.m.set(func(m *pureModel) { m.override = answer("POST", "/api/2.36/logout", 500, `{}`) })
		assert.ErrorIs(t, f.c.Logout(context.Background()), storage.ErrTransient)
	})
	t.Run("logout of a dropped session", func(t *testing.T) {
		f := newFixture(t, nil)
		require.NoError(t, f.c.Login(context.Background()))
		f.m.set(func(m *pureModel) { m.override = answer("POST", "/api/2.36/logout", 401, `{}`) })
		assert.NoError(t, f.c.Logout(context.Background()))
	})
	t.Run("refused again keeps the array's words", func(t *testing.T) {
		f := newFixture(t, nil)
		require.NoError(t, f.c.Login(context.Background()))
		f.m.set(func(m *pureModel) { m.rejectSessions = true })
		_, err := f.c.Volumes(context.Background())
		assert.ErrorIs(t, err, storage.ErrAuth)
		assert.ErrorContains(t, err, "refused again right after a fresh login")
		assert.ErrorContains(t, err, "Session expired or invalid.")
		f.m.set(func(m *pureModel) { m.override = answer("GET", "/api/2.36/volumes", 401, ``) })
		_, err = f.c.Volumes(context.Background())
		assert.ErrorContains(t, err, "no detail")
	})
}

// TestConcurrentRenewalLogsInOnce: eight calls find the session gone at once;
// one of them logs in again and the others use that session.
func TestConcurrentRenewalLogsInOnce(t *testing.T) {
	f := newFixture(t, nil)
	require.NoError(t, f.c.Login(context.Background()))
	f.m.set(func(m *pureModel) { m.sessions = map[string]bool{} }) // the array dropped every session
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = f.c.Volumes(context.Background()) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	f.m.set(func(m *pureModel) { assert.Equal(t, 2, m.logins, "one login, one renewal") })
}

// TestTransportErrors: no answer in time, or nothing listening, is transient.
func TestTransportErrors(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		f := newFixture(t, func(m *pureModel, c *pure.Config) {
			hc := *c.HTTP
			hc.Timeout = 200 * time.Millisecond // the server below never answers; any bound works
			c.HTTP = &hc
			m.override = func(http.ResponseWriter, *http.Request) bool {
				m.mu.Unlock()
				<-release
				m.mu.Lock()
				return true
			}
		})
		t.Cleanup(func() { close(release) }) // before the server's own cleanup, which waits for this handler
		err := f.c.Login(context.Background())
		assert.ErrorIs(t, err, storage.ErrTransient)
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		c, err := pure.New(pure.Config{Endpoint: "https://" + addr, Credentials: storage.Credentials{Secret: "tok"}})
		require.NoError(t, err)
		assert.ErrorIs(t, c.Login(context.Background()), storage.ErrTransient)
	})
}

// TestMapEdges: the highest LUN is allowed; a volume connected at another LUN
// than asked is a conflict; the array's own refusal is kept; a connection the
// array does not list afterwards is not reported as mapped.
func TestMapEdges(t *testing.T) {
	ctx := context.Background()
	t.Run("LUN 4095", func(t *testing.T) {
		f := newFixture(t, nil)
		o := runSetup(t, f.c, bootVol, -1)
		m, err := f.c.Map(ctx, o.host, f.volume(t, "web01-data"), 4095)
		require.NoError(t, err)
		assert.Equal(t, 4095, m.LUN)
		assert.GreaterOrEqual(t, f.m.requestsMatching("GET /api/2.36/connections?host_names=ohaweb01&limit=2&volume_names=web01-data"), 1,
			"the read-back asks for this volume's connection")
	})
	t.Run("connected at another LUN", func(t *testing.T) {
		f := newFixture(t, nil)
		o := runSetup(t, f.c, bootVol, -1)
		_, err := f.c.Map(ctx, o.host, o.mapping.Volume, o.mapping.LUN+1)
		assert.ErrorIs(t, err, storage.ErrLUNConflict)
		assert.ErrorContains(t, err, fmt.Sprintf("already connected to this host as LUN %d, not the requested %d", o.mapping.LUN, o.mapping.LUN+1))
	})
	t.Run("LUN used by another volume", func(t *testing.T) {
		f := newFixture(t, nil)
		o := runSetup(t, f.c, bootVol, -1)
		_, err := f.c.Map(ctx, o.host, f.volume(t, "web01-data"), o.mapping.LUN)
		assert.ErrorIs(t, err, storage.ErrLUNConflict)
		assert.ErrorContains(t, err, "is already used by "+bootVol)
	})
	t.Run("array refuses the connection", func(t *testing.T) {
		f := newFixture(t, nil)
		o := runSetup(t, f.c, bootVol, -1)
		_, err := f.c.Map(ctx, o.host, storage.Volume{Name: "no-such-volume"}, -1)
		var se *storage.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, storage.KindInvalid, se.Kind)
		assert.Contains(t, err.Error(), "no-such-volume: Volume does not exist.")
	})
	t.Run("connection not listed afterwards", func(t *testing.T) {
		f := newFixture(t, nil)
		o := runSetup(t, f.c, bootVol, -1)
		f.m.set(func(m *pureModel) { m.hideConns = true })
		_, err := f.c.Map(ctx, o.host, f.volume(t, "web01-data"), -1)
		require.Error(t, err)
		assert.ErrorContains(t, err, "array reports no LUN")
	})
}

// TestDeleteEdges: a delete whose answer is lost but which happened is
// success; a Host without initiators is deleted by name.
func TestDeleteEdges(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	o := runSetup(t, f.c, bootVol, -1)
	f.m.set(func(m *pureModel) { m.failAfter = true })
	require.NoError(t, f.c.Unmap(ctx, o.host, o.mapping.Volume), "disconnected, answer lost")
	require.NoError(t, f.c.DeleteHost(ctx, storage.Host{Name: hostName}), "deleted, answer lost; no initiators given")
	require.NoError(t, f.c.DeleteVolume(ctx, o.mapping.Volume), "destroyed, answer lost")
	f.m.set(func(m *pureModel) {
		assert.Empty(t, m.conns)
		assert.Empty(t, m.hosts)
		assert.True(t, m.vols[0].destroyed)
	})
}

func TestNewPageSizeBounds(t *testing.T) {
	for size, ok := range map[int]bool{-1: false, 0: true, 1: true, 10000: true, 10001: false} {
		_, err := pure.New(pure.Config{Endpoint: "https://fa", Credentials: storage.Credentials{Secret: "t"}, PageSize: size})
		assert.Equal(t, ok, err == nil, "PageSize %d: %v", size, err)
		if !ok {
			assert.True(t, strings.Contains(err.Error(), "PageSize"))
		}
	}
}
