package alletra_test

// Contract tests of edges a mutation run leaves untested unless asked: exact
// error shapes, status bounds, login and logout answers, concurrent renewal,
// input limits, lost answers, port filtering. The real client over real
// HTTPS against the model in model_test.go; where one odd answer is needed,
// the model's override knob serves it (a stand-in for that one answer, not a
// fake of the client).

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/alletra"
)

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

func setOverride(e env, f func(w http.ResponseWriter, r *http.Request) bool) {
	e.m.mu.Lock()
	e.m.override = f
	e.m.mu.Unlock()
}

func TestErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		kind       storage.Kind
		exact      string
		has, hasnt []string
	}{
		{name: "numeric code", status: 404, body: `{"code":23,"desc":"volume does not exist"}`, kind: storage.KindNotFound,
			exact: "alletra: list volumes: not found (HTTP 404, code 23): array says: volume does not exist"},
		{name: "string code", status: 400, body: `{"code":"E42","desc":"odd"}`, kind: storage.KindInvalid,
			exact: "alletra: list volumes: request rejected (HTTP 400, code E42): array says: odd"},
		{name: "existent host", status: 409, body: `{"code":16}`, kind: storage.KindAlreadyExists},
		{name: "existent volume", status: 409, body: `{"code":22}`, kind: storage.KindAlreadyExists},
		{name: "non-existent host", status: 404, body: `{"code":17}`, kind: storage.KindNotFound},
		{name: "non-existent VLUN", status: 404, body: `{"code":19}`, kind: storage.KindNotFound},
		{name: "existent path is not already-exists", status: 409, body: `{"code":73}`, kind: storage.KindInvalid},
		{name: "exported VLUN", status: 409, body: `{"code":26}`, kind: storage.KindInvalid},
		{name: "host in set", status: 409, body: `{"code":77}`, kind: storage.KindInvalid},
		{name: "bad password code on a call", status: 400, body: `{"code":5}`, kind: storage.KindAuth},
		{name: "no body", status: 500, body: ``, kind: storage.KindTransient, exact: "alletra: list volumes: temporary array error (HTTP 500)"},
		{name: "not JSON", status: 502, body: `<html/>`, kind: storage.KindTransient, exact: "alletra: list volumes: temporary array error (HTTP 502)"},
		{name: "300 is a redirect", status: 300, body: `{"code":23}`, kind: storage.KindUnknown, has: []string{"redirect"}, hasnt: []string{"code 23"}},
		{name: "399 is a redirect", status: 399, body: `{}`, kind: storage.KindUnknown, has: []string{"redirect"}},
		{name: "400 is no redirect", status: 400, body: `{}`, kind: storage.KindInvalid, hasnt: []string{"redirect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			require.NoError(t, c.Login(t.Context()))
			setOverride(e, answer("GET", "/api/v1/volumes", tc.status, tc.body))
			_, err := c.Volumes(t.Context())
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

func TestSuccessEdges(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       int
	}{
		{name: "299", status: 299, body: `{"total":1,"members":[{"name":"a","sizeMiB":1,"copyType":1}]}`, want: 1},
		{name: "empty 200", status: 200, body: ``, want: 0},
		{name: "blank 200", status: 200, body: " \n", want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			require.NoError(t, c.Login(t.Context()))
			setOverride(e, answer("GET", "/api/v1/volumes", tc.status, tc.body))
			vols, err := c.Volumes(t.Context())
			require.NoError(t, err)
			assert.Len(t, vols, tc.want)
		})
	}
}

func TestLoginEdges(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		kind       storage.Kind
		has        string
	}{
		{name: "401", status: 401, body: `{}`, kind: storage.KindAuth},
		{name: "403", status: 403, body: `{}`, kind: storage.KindAuth},
		{name: "400 code 5", status: 400, body: `{"code":5,"desc":"invalid username or password"}`, kind: storage.KindAuth},
		{name: "400 other code", status: 400, body: `{"code":12,"desc":"invalid input"}`, kind: storage.KindInvalid},
		{name: "500", status: 500, body: `{}`, kind: storage.KindTransient},
		{name: "no key", status: 201, body: `{}`, kind: storage.KindAuth, has: "no session key"},
		{name: "not JSON", status: 201, body: `<html/>`, kind: storage.KindAuth, has: "no session key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, func(m *hpModel) { m.override = answer("POST", "/api/v1/credentials", tc.status, tc.body) })
			err := e.client(t).Login(t.Context())
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.kind, se.Kind, "%v", err)
			assert.Contains(t, err.Error(), tc.has)
		})
	}
	for status, ok := range map[int]bool{200: true, 204: true, 401: true, 403: true, 404: true, 500: false, 400: false} {
		t.Run("logout answered "+http.StatusText(status), func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			require.NoError(t, c.Login(t.Context()))
			setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodDelete || !strings.HasPrefix(r.URL.Path, "/api/v1/credentials/") {
					return false
				}
				w.WriteHeader(status)
				return true
			})
			err := c.Logout(t.Context())
			assert.Equal(t, ok, err == nil, "%v", err)
		})
	}
	t.Run("refused again after a fresh login", func(t *testing.T) {
		e := start(t)
		c := e.client(t)
		require.NoError(t, c.Login(t.Context()))
		setOverride(e, answer("GET", "/api/v1/volumes", 403, `{"code":6,"desc":"invalid session key"}`))
		_, err := c.Volumes(t.Context())
		assert.ErrorIs(t, err, storage.ErrAuth)
		assert.Equal(t, 2, e.m.logins, "one renewal, no more")
	})
}

func TestConcurrentRenewalLogsInOnce(t *testing.T) {
	e := start(t)
	c := e.client(t)
	require.NoError(t, c.Login(t.Context()))
	e.m.mu.Lock()
	e.m.sessions = map[string]bool{} // the array dropped every session
	e.m.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.Volumes(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 2, e.m.logins, "one login, one renewal")
}

func TestTransportErrors(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		e := start(t)
		t.Cleanup(func() { close(release) }) // before the server's own cleanup, which waits for this handler
		setOverride(e, func(http.ResponseWriter, *http.Request) bool {
			e.m.mu.Unlock()
			<-release
			e.m.mu.Lock()
			return true
		})
		c := e.client(t, func(cfg *alletra.Config) {
			hc := *cfg.HTTP
			hc.Timeout = 200 * time.Millisecond // the server never answers; any bound works
			cfg.HTTP = &hc
		})
		assert.ErrorIs(t, c.Login(t.Context()), storage.ErrTransient)
	})
	t.Run("cancelled", func(t *testing.T) {
		e := start(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := e.client(t).Login(ctx)
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
		assert.Equal(t, storage.KindUnknown, storage.KindOf(err))
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		c, err := alletra.New(alletra.Config{Endpoint: "https://" + addr, Credentials: storage.Credentials{Username: "u", Secret: "p"}})
		require.NoError(t, err)
		assert.ErrorIs(t, c.Login(t.Context()), storage.ErrTransient)
	})
}

// TestInputLimits: the limits are inclusive, checked before any request.
func TestInputLimits(t *testing.T) {
	e := start(t)
	c := e.client(t)
	ctx := t.Context()
	require.NoError(t, c.Login(ctx))
	longIQN := func(n int) string {
		return "iqn.2006-03.com.amazon.aws:" + strings.Repeat("a", n-len("iqn.2006-03.com.amazon.aws:"))
	}
	for _, tc := range []struct {
		spec storage.HostSpec
		ok   bool
	}{
		{storage.HostSpec{Name: strings.Repeat("h", 31), Initiator: initiatorIQN, Protocol: storage.ISCSI}, true},
		{storage.HostSpec{Name: strings.Repeat("h", 32), Initiator: initiatorIQN, Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "h223", Initiator: longIQN(223), Protocol: storage.ISCSI}, true},
		{storage.HostSpec{Name: "h224", Initiator: longIQN(224), Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "", Initiator: initiatorIQN, Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "a/b", Initiator: initiatorIQN, Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "a b", Initiator: initiatorIQN, Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "eui", Initiator: "eui.0123456789abcdef", Protocol: storage.ISCSI, OS: storage.Windows}, true},
		{storage.HostSpec{Name: "naa", Initiator: "naa.0123456789abcdef", Protocol: storage.ISCSI}, true},
		{storage.HostSpec{Name: "bad", Initiator: "nqn.x", Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "bad2", Initiator: "iqn.x", Protocol: storage.NVMeTCP}, false},
		{storage.HostSpec{Name: "bad3", Initiator: initiatorIQN, Protocol: storage.ISCSI, OS: "aix"}, false},
		{storage.HostSpec{Name: "bad4", Initiator: initiatorIQN, Protocol: "fc"}, false},
	} {
		before := e.m.count("")
		h, err := c.EnsureHost(ctx, tc.spec)
		if tc.ok {
			require.NoError(t, err, "%s", tc.spec.Name)
			assert.Equal(t, tc.spec.Name, h.Name)
			continue
		}
		assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "%s: %v", tc.spec.Name, err)
		assert.Equal(t, before, e.m.count(""), "%s: refused before any request", tc.spec.Name)
	}
	hosts, _, _ := e.m.state()
	for _, h := range hosts {
		if h.Name == "eui" {
			assert.Equal(t, 11, h.Persona, "WindowsServer persona")
			assert.Equal(t, "Windows", h.OS)
		}
		if h.Name == "naa" {
			assert.Equal(t, 2, h.Persona, "Generic-ALUA persona")
		}
	}
	vol := storage.Volume{ID: "web01-boot", Name: "web01-boot"}
	_, err := c.Snapshot(ctx, vol, strings.Repeat("s", 31))
	require.NoError(t, err)
	_, err = c.Snapshot(ctx, vol, strings.Repeat("s", 32))
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
	_, err = c.Map(ctx, storage.Host{Name: hostName}, vol, 16384)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "LUN above 16383")
	_, err = c.Map(ctx, storage.Host{Name: "eui"}, vol, 16383)
	require.NoError(t, err, "LUN 16383 is allowed")
	_, err = c.Map(ctx, storage.Host{Name: "a,b"}, vol, -1)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.Unmap(ctx, storage.Host{Name: hostName}, storage.Volume{Name: "x?y"})))
	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.DeleteVolume(ctx, storage.Volume{Name: strings.Repeat("v", 64)})))
	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.DeleteHost(ctx, storage.Host{Name: "h#1"})))
}

// TestLostAnswers: the change happened but its answer was lost (500): a
// re-read that shows the object gone makes Unmap, DeleteHost and
// DeleteVolume succeed.
func TestLostAnswers(t *testing.T) {
	ctx := t.Context()
	e := start(t)
	c := e.client(t)
	res, err := runSetup(ctx, c, spec, -1)
	require.NoError(t, err)
	require.NoError(t, c.Login(ctx))
	e.m.mu.Lock()
	e.m.failAfter = true
	e.m.mu.Unlock()
	require.NoError(t, c.Unmap(ctx, res.host, res.mapped.Volume))
	require.NoError(t, c.DeleteHost(ctx, res.host))
	require.NoError(t, c.DeleteVolume(ctx, res.mapped.Volume))
	hosts, vluns, vols := e.m.state()
	assert.Empty(t, hosts)
	assert.Empty(t, vluns)
	assert.Len(t, vols, 4)
}

// TestPortFiltering: only READY ports of the protocol with a usable address
// serve a target; targets with more portals come first.
func TestPortFiltering(t *testing.T) {
	e := start(t, func(m *hpModel) {
		m.ports = []hPort{
			{Node: 0, Slot: 1, CardPort: 1, Protocol: 2, LinkState: 4, IPAddr: "192.168.50.30", ISCSIName: portIQN0},
			{Node: 0, Slot: 1, CardPort: 2, Protocol: 2, LinkState: 4, IPAddr: "192.168.50.31", ISCSIName: portIQN1},
			{Node: 0, Slot: 1, CardPort: 3, Protocol: 2, LinkState: 4, IPAddr: "192.168.50.32", ISCSIName: portIQN1},
			{Node: 0, Slot: 1, CardPort: 4, Protocol: 2, LinkState: 4, IPAddr: "0.0.0.0", ISCSIName: portIQN0},
			{Node: 0, Slot: 1, CardPort: 5, Protocol: 2, LinkState: 5, IPAddr: "192.168.50.35", ISCSIName: portIQN0},
			{Node: 0, Slot: 1, CardPort: 6, Protocol: 2, LinkState: 4, IPAddr: "192.168.50.36"},
			{Node: 0, Slot: 1, CardPort: 7, Protocol: 6, LinkState: 4, IPAddr: "192.168.50.37", ISCSIName: portIQN0},
		}
	})
	ts, err := e.client(t).Targets(t.Context(), storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, []storage.Target{
		{Name: portIQN1, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{{Address: "192.168.50.31", Port: 3260}, {Address: "192.168.50.32", Port: 3260}}},
		{Name: portIQN0, Protocol: storage.ISCSI, Endpoints: []storage.Endpoint{{Address: "192.168.50.30", Port: 3260}}},
	}, ts)
	e2 := start(t, func(m *hpModel) { m.ports = m.ports[3:4] })
	_, err = e2.client(t).Target(t.Context(), storage.ISCSI)
	assert.ErrorIs(t, err, storage.ErrUnsupported)
	_, err = e2.client(t).Target(t.Context(), "fc")
	assert.ErrorIs(t, err, storage.ErrUnsupported)

	e3 := start(t, func(m *hpModel) {
		m.ports = []hPort{{Node: 0, Slot: 4, CardPort: 1, Protocol: 6, LinkState: 4}, {Node: 0, Slot: 4, CardPort: 2, Protocol: 6, LinkState: 5}}
	})
	_, err = e3.client(t).TargetsForHost(t.Context(), storage.NVMeTCP, storage.Host{Name: hostName})
	assert.ErrorIs(t, err, storage.ErrUnsupported)
	assert.ErrorContains(t, err, "(1 ready NVMe ports without one)")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestLogAndRefusalEdges: what the client only logs is logged (a persona,
// LUN or export error it works around), a refused initiator add is an
// error, LUN 0 held by another volume is refused before the export and
// during it, and a 63-character name is allowed.
func TestLogAndRefusalEdges(t *testing.T) {
	ctx := t.Context()
	var logs strings.Builder
	var mu sync.Mutex
	logged := func(s string) bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), s)
	}
	lg := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	e := start(t, func(m *hpModel) { m.hosts = append(m.hosts, &hHost{ID: 7, Name: hostName, Persona: 11}) })
	c := e.client(t, func(cfg *alletra.Config) { cfg.Log = lg })

	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		return answer(r.Method, r.URL.Path, 409, `{"code":73,"desc":"iSCSI name is already claimed by other host"}`)(w, r)
	})
	_, err := c.EnsureHost(ctx, spec)
	require.Error(t, err, "the initiator was not added")
	assert.ErrorContains(t, err, "already claimed")
	// The add happens but its answer is lost: the re-read decides.
	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut {
			return false
		}
		e.m.hosts[len(e.m.hosts)-1].ISCSI = append(e.m.hosts[len(e.m.hosts)-1].ISCSI, initiatorIQN)
		return answer(r.Method, r.URL.Path, 500, `{}`)(w, r)
	})
	h, err := c.EnsureHost(ctx, spec)
	require.NoError(t, err, "the add happened; its lost answer is not a failure")
	setOverride(e, nil)
	assert.True(t, logged("different persona"))

	boot := storage.Volume{ID: "web01-boot", Name: "web01-boot"}
	data := storage.Volume{ID: "web01-data", Name: "web01-data"}
	m, err := c.Map(ctx, h, boot, 0)
	require.NoError(t, err)
	require.Equal(t, 0, m.LUN)
	assert.False(t, logged("different LUN than requested"), "exported where asked")
	_, err = c.Map(ctx, h, boot, 5)
	require.NoError(t, err)
	assert.True(t, logged("different LUN than requested"))
	_, err = c.Map(ctx, h, data, 0)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.Equal(t, 1, e.m.count("POST /api/v1/vluns"), "refused before any export")

	assert.False(t, logged("export reported an error"), "no export has failed yet")
	// The export is done but its answer says 500.
	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/vluns" {
			return false
		}
		e.m.vluns = append(e.m.vluns, &hVLUN{Vol: "db02-boot", Host: hostName, LUN: 3})
		return answer(r.Method, r.URL.Path, 500, `{}`)(w, r)
	})
	m, err = c.Map(ctx, h, storage.Volume{ID: "db02-boot", Name: "db02-boot"}, -1)
	require.NoError(t, err)
	assert.Equal(t, 3, m.LUN)
	assert.True(t, logged("export reported an error but the volume is exported"))

	// Another writer takes LUN 0 of a second host between the check and the export.
	h2, err := c.EnsureHost(ctx, storage.HostSpec{Name: "ohaweb02", Initiator: otherIQN, Protocol: storage.ISCSI})
	require.NoError(t, err)
	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/vluns" {
			return false
		}
		e.m.vluns = append(e.m.vluns, &hVLUN{Vol: "other-writer", Host: "ohaweb02", LUN: 0})
		return answer(r.Method, r.URL.Path, 409, `{"code":29}`)(w, r)
	})
	_, err = c.Map(ctx, h2, storage.Volume{ID: "archive", Name: "archive"}, 0)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "LUN 0 on host ohaweb02 is already used by volume other-writer")
	setOverride(e, nil)

	assert.NoError(t, c.DeleteVolume(ctx, storage.Volume{Name: strings.Repeat("v", 63)}), "63 characters is a valid name (absent: success)")
	assert.Equal(t, 1, e.m.count("DELETE /api/v1/volumes/"+strings.Repeat("v", 63)))
}
