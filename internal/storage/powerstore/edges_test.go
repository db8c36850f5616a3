package powerstore_test

// Contract tests of edges a mutation run leaves untested unless asked: exact
// error shapes, status and Content-Range bounds, login and logout answers,
// concurrent renewal, input limits, lost answers. The real client over real
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

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/powerstore"
)

// answer makes the model serve status, headers and body for method+path.
func answer(method, path string, status int, body string, hdr ...string) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != method || r.URL.Path != path {
			return false
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
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
		{name: "coded, lower-case hex", status: 404, body: `{"messages":[{"code":"0xe0a08001000e","severity":"Error","message_l10n":"Volume not found"}]}`,
			kind: storage.KindNotFound, exact: "powerstore: list volumes: not found (HTTP 404, code 0xE0A08001000E): array says: Volume not found"},
		{name: "upper-case 0X", status: 422, body: `{"messages":[{"code":"0XE0A080010014","message_l10n":"in use"}]}`,
			kind: storage.KindAlreadyExists, has: []string{"code 0xE0A080010014"}},
		{name: "short code", status: 422, body: `{"messages":[{"code":"x"}]}`, kind: storage.KindInvalid,
			exact: "powerstore: list volumes: request rejected (HTTP 422, code X)"},
		{name: "bare 0x", status: 422, body: `{"messages":[{"code":"0x"}]}`, kind: storage.KindInvalid,
			exact: "powerstore: list volumes: request rejected (HTTP 422, code 0X)"},
		{name: "no body", status: 500, body: ``, kind: storage.KindTransient, exact: "powerstore: list volumes: temporary array error (HTTP 500)"},
		{name: "not JSON", status: 503, body: `<html/>`, kind: storage.KindTransient, exact: "powerstore: list volumes: temporary array error (HTTP 503)"},
		{name: "300 is a redirect", status: 300, body: `{"messages":[{"code":"0xE0A08001000E"}]}`, kind: storage.KindUnknown, has: []string{"redirect"}},
		{name: "399 is a redirect", status: 399, body: `{}`, kind: storage.KindUnknown, has: []string{"redirect"}},
		{name: "400 is no redirect", status: 400, body: `{}`, kind: storage.KindInvalid, hasnt: []string{"redirect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			require.NoError(t, c.Login(t.Context()))
			setOverride(e, answer("GET", "/api/rest/volume", tc.status, tc.body))
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

const oneVol = `[{"id":"4f0c1c1e-1111-4222-8333-944455556666","name":"a","size":1,"type":"Primary"}]`
const twoVols = `[{"id":"4f0c1c1e-1111-4222-8333-944455556666","name":"a","size":1,"type":"Primary"},` +
	`{"id":"4f0c1c1e-1111-4222-8333-944455556667","name":"b","size":1,"type":"Primary"}]`

func TestPagingEdges(t *testing.T) {
	type page struct {
		status int
		rng    string
		body   string
	}
	for _, tc := range []struct {
		name  string
		pages []page
		want  int    // volumes
		err   string // or this error
		calls int
	}{
		{name: "200 ends it", pages: []page{{200, "", twoVols}}, want: 2, calls: 1},
		{name: "206 with unit word, last page", pages: []page{{206, "items 0-1/2", twoVols}}, want: 2, calls: 1},
		{name: "206 exactly at the end", pages: []page{{206, "0-1/3", twoVols}, {206, "2-2/3", oneVol}}, want: 3, calls: 2},
		{name: "empty 200", pages: []page{{200, "", ""}}, want: 0, calls: 1},
		{name: "206 without Content-Range", pages: []page{{206, "", twoVols}}, err: "usable Content-Range", calls: 1},
		{name: "206 with last before first", pages: []page{{206, "3-1/5", twoVols}}, err: "usable Content-Range", calls: 1},
		{name: "206 with a word for a number", pages: []page{{206, "0-x/5", twoVols}}, err: "usable Content-Range", calls: 1},
		{name: "206 with no total", pages: []page{{206, "0-1", twoVols}}, err: "usable Content-Range", calls: 1},
		{name: "206 with a bad total", pages: []page{{206, "0-1/many", twoVols}}, err: "usable Content-Range", calls: 1},
		{name: "206 with a bad first", pages: []page{{206, "a-1/5", twoVols}}, err: "usable Content-Range", calls: 1},
		{name: "206 of an empty collection", pages: []page{{206, "0-0/0", oneVol}}, want: 1, calls: 1},
		{name: "206 with a negative first", pages: []page{{206, "-1-1/5", twoVols}}, err: "usable Content-Range", calls: 1},
		{name: "no progress", pages: []page{{206, "0-1/5", twoVols}, {206, "0-1/5", twoVols}}, err: "did not advance past item 2", calls: 2},
		{name: "416 after a page: the rest was deleted", pages: []page{{206, "0-1/5", twoVols}, {416, "", `{"messages":[{"code":"0xE04040010005"}]}`}}, want: 2, calls: 2},
		{name: "bad range code after a page", pages: []page{{206, "0-1/5", twoVols}, {400, "", `{"messages":[{"code":"0xE04040010005"}]}`}}, want: 2, calls: 2},
		{name: "416 on the first page", pages: []page{{416, "", `{}`}}, err: "HTTP 416", calls: 1},
		{name: "other error after a page", pages: []page{{206, "0-1/5", twoVols}, {400, "", `{}`}}, err: "HTTP 400", calls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			require.NoError(t, c.Login(t.Context()))
			n := 0
			setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/rest/volume" {
					return false
				}
				p := tc.pages[min(n, len(tc.pages)-1)]
				n++
				var hdr []string
				if p.rng != "" {
					hdr = []string{"Content-Range", p.rng}
				}
				return answer("GET", "/api/rest/volume", p.status, p.body, hdr...)(w, r)
			})
			vols, err := c.Volumes(t.Context())
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
			} else {
				require.NoError(t, err)
				assert.Len(t, vols, tc.want)
			}
			assert.Equal(t, tc.calls, n)
		})
	}
}

func TestLoginEdges(t *testing.T) {
	okBody := `[{"id":"s1","idle_timeout":3600,"is_password_change_required":false}]`
	for _, tc := range []struct {
		name   string
		status int
		body   string
		hdr    []string
		cookie bool
		kind   storage.Kind
		has    string
	}{
		{name: "403", status: 403, body: `{}`, kind: storage.KindAuth},
		{name: "500", status: 500, body: `{}`, kind: storage.KindTransient},
		{name: "no token", status: 200, body: okBody, cookie: true, kind: storage.KindAuth, has: "no DELL-EMC-TOKEN"},
		{name: "no cookie", status: 200, body: okBody, hdr: []string{"DELL-EMC-TOKEN", "tok-1"}, kind: storage.KindAuth, has: "auth_cookie"},
		{name: "not JSON", status: 200, body: `<html/>`, hdr: []string{"DELL-EMC-TOKEN", "tok-1"}, cookie: true, kind: storage.KindUnknown, has: "decode login session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t)
			setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/api/rest/login_session" {
					return false
				}
				if tc.cookie {
					http.SetCookie(w, &http.Cookie{Name: "auth_cookie", Value: "ck-1"})
				}
				return answer("GET", "/api/rest/login_session", tc.status, tc.body, tc.hdr...)(w, r)
			})
			err := e.client(t).Login(t.Context())
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.kind, se.Kind, "%v", err)
			assert.Contains(t, err.Error(), tc.has)
		})
	}
	t.Run("empty body with token and cookie", func(t *testing.T) {
		e := start(t)
		setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/api/rest/login_session" {
				return false
			}
			e.m.sessions["ck-1"] = "tok-1"
			http.SetCookie(w, &http.Cookie{Name: "auth_cookie", Value: "ck-1"})
			w.Header().Set("DELL-EMC-TOKEN", "tok-1")
			w.WriteHeader(200)
			return true
		})
		c := e.client(t)
		require.NoError(t, c.Login(t.Context()))
		_, err := c.Volumes(t.Context())
		require.NoError(t, err)
	})
	for status, ok := range map[int]bool{204: true, 401: true, 403: true, 500: false, 400: false} {
		t.Run("logout answered "+http.StatusText(status), func(t *testing.T) {
			e := start(t)
			c := e.client(t)
			require.NoError(t, c.Login(t.Context()))
			setOverride(e, answer("POST", "/api/rest/logout", status, ``))
			err := c.Logout(t.Context())
			assert.Equal(t, ok, err == nil, "%v", err)
		})
	}
	t.Run("refused again after a fresh login", func(t *testing.T) {
		e := start(t)
		c := e.client(t)
		require.NoError(t, c.Login(t.Context()))
		setOverride(e, answer("GET", "/api/rest/volume", 403, `{"messages":[{"message_l10n":"no permission"}]}`))
		_, err := c.Volumes(t.Context())
		assert.ErrorIs(t, err, storage.ErrAuth)
		assert.ErrorContains(t, err, "no permission")
		assert.Equal(t, 2, e.m.logins, "one renewal, no more")
	})
}

func TestConcurrentRenewalLogsInOnce(t *testing.T) {
	e := start(t)
	c := e.client(t)
	require.NoError(t, c.Login(t.Context()))
	e.m.mu.Lock()
	e.m.sessions = map[string]string{} // the array dropped every session
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
		c := e.client(t, func(cfg *powerstore.Config) {
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
		c, err := powerstore.New(powerstore.Config{Endpoint: "https://" + addr, Credentials: storage.Credentials{Username: "u", Secret: "p"}})
		require.NoError(t, err)
		assert.ErrorIs(t, c.Login(t.Context()), storage.ErrTransient)
	})
}

// TestInputLimits: the limits are inclusive, checked before any request.
func TestInputLimits(t *testing.T) {
	e := start(t)
	c := e.client(t)
	ctx := t.Context()
	longIQN := func(n int) string {
		return "iqn.2006-03.com.amazon.aws:" + strings.Repeat("a", n-len("iqn.2006-03.com.amazon.aws:"))
	}
	for _, tc := range []struct {
		spec storage.HostSpec
		ok   bool
	}{
		{storage.HostSpec{Name: strings.Repeat("h", 128), Initiator: initiatorIQN, Protocol: storage.ISCSI}, true},
		{storage.HostSpec{Name: strings.Repeat("h", 129), Initiator: initiatorIQN, Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "h223", Initiator: longIQN(223), Protocol: storage.ISCSI}, true},
		{storage.HostSpec{Name: "h224", Initiator: longIQN(224), Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "", Initiator: initiatorIQN, Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "nvme", Initiator: hostNQN, Protocol: storage.NVMeTCP, OS: storage.Windows}, true},
		{storage.HostSpec{Name: "eui", Initiator: "eui.0123456789abcdef", Protocol: storage.ISCSI}, true},
		{storage.HostSpec{Name: "naa", Initiator: "naa.0123456789abcdef", Protocol: storage.ISCSI}, true},
		{storage.HostSpec{Name: "bad", Initiator: "nqn.x", Protocol: storage.ISCSI}, false},
		{storage.HostSpec{Name: "bad2", Initiator: "iqn.x", Protocol: storage.NVMeTCP}, false},
		{storage.HostSpec{Name: "bad3", Initiator: initiatorIQN, Protocol: storage.ISCSI, OS: "aix"}, false},
	} {
		e.m.mu.Lock()
		before := len(e.m.requests)
		e.m.mu.Unlock()
		h, err := c.EnsureHost(ctx, tc.spec)
		if tc.ok {
			require.NoError(t, err, "%s", tc.spec.Name)
			assert.Equal(t, tc.spec.Name, h.Name)
			continue
		}
		assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "%s: %v", tc.spec.Name, err)
		e.m.mu.Lock()
		assert.Equal(t, before, len(e.m.requests), "%s: refused before any request", tc.spec.Name)
		e.m.mu.Unlock()
	}
	hosts, _, _ := e.m.snapshot()
	for _, h := range hosts {
		if h.Name == "nvme" {
			assert.Equal(t, "Windows", h.OSType)
			assert.Equal(t, "NVMe", h.Initiators[0].PortType)
		}
	}
	vols, err := c.Volumes(ctx)
	require.NoError(t, err)
	_, err = c.Snapshot(ctx, vols[0], strings.Repeat("s", 128))
	require.NoError(t, err)
	_, err = c.Snapshot(ctx, vols[0], strings.Repeat("s", 129))
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
	_, err = c.Snapshot(ctx, storage.Volume{Name: "x"}, "s")
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "a volume without id")
	_, err = c.Map(ctx, storage.Host{ID: uuid.NewString()}, storage.Volume{Name: "x"}, -1)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err), "a volume without id")
	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.Unmap(ctx, storage.Host{ID: uuid.NewString()}, storage.Volume{Name: "x"})))
	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.DeleteVolume(ctx, storage.Volume{Name: "x"})))
	assert.Equal(t, storage.KindInvalid, storage.KindOf(c.DeleteHost(ctx, storage.Host{ID: "ohaweb01"})), "a name where the id belongs")
}

// TestLostAnswers: the change happened but its answer was lost (500): a
// re-read that shows the object gone makes Unmap, DeleteHost and
// DeleteVolume succeed.
func TestLostAnswers(t *testing.T) {
	ctx := t.Context()
	e := start(t)
	c := e.client(t)
	res, err := runSetup(ctx, c, -1)
	require.NoError(t, err)
	require.NoError(t, c.Login(ctx))
	e.m.mu.Lock()
	e.m.failAfter = true
	e.m.mu.Unlock()
	require.NoError(t, c.Unmap(ctx, res.host, res.mapped.Volume))
	require.NoError(t, c.DeleteHost(ctx, res.host))
	require.NoError(t, c.DeleteVolume(ctx, res.mapped.Volume))
	hosts, maps, vols := e.m.snapshot()
	assert.Empty(t, hosts)
	assert.Empty(t, maps)
	assert.Len(t, vols, 4)
}

// TestMapEdges: an existing mapping at another LUN is returned as the array
// holds it; a requested LUN that another volume holds is a conflict, before
// and after the attach.
func TestMapEdges(t *testing.T) {
	ctx := t.Context()
	e := start(t)
	c := e.client(t)
	res, err := runSetup(ctx, c, -1)
	require.NoError(t, err)
	m, err := c.Map(ctx, res.host, res.mapped.Volume, 3)
	require.NoError(t, err)
	assert.Equal(t, 26, m.LUN, "the array's LUN, not the requested one")
	vols, err := c.Volumes(ctx)
	require.NoError(t, err)
	var other storage.Volume
	for _, v := range vols {
		if v.Name == "web01-data" {
			other = v
		}
	}
	_, err = c.Map(ctx, res.host, other, 26)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "LUN 26 on host ohaweb01 is already used by volume "+res.mapped.Volume.ID)
	got, err := c.Map(ctx, res.host, other, 0)
	require.NoError(t, err)
	assert.Equal(t, 0, got.LUN, "LUN 0 can be asked for")
	// Another writer takes LUN 7 between the check and the attach.
	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/attach") {
			return false
		}
		e.m.maps = append(e.m.maps, &mMap{ID: uuid.NewString(), HostID: res.host.ID, VolumeID: "other-writer", LUN: 7})
		e.m.override = nil
		return answer("POST", r.URL.Path, 422, `{"messages":[{"code":"0xE0FFFFFF0003","message_l10n":"LUN in use"}]}`)(w, r)
	})
	var third storage.Volume
	for _, v := range vols {
		if v.Name == "db02-boot" {
			third = v
		}
	}
	_, err = c.Map(ctx, res.host, third, 7)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "used by volume other-writer")
	assert.ErrorContains(t, err, "LUN in use")
}

// TestLogAndRefusalEdges: what the client only logs is logged (an OS type or
// LUN other than asked), a refused initiator add is an error, and a requested
// LUN 0 that another volume holds is refused before any attach.
func TestLogAndRefusalEdges(t *testing.T) {
	ctx := t.Context()
	var logs strings.Builder
	var mu sync.Mutex
	lg := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	e := start(t, func(m *psModel) {
		m.hosts = append(m.hosts, &mHost{ID: uuid.NewString(), Name: hostName, OSType: "Windows"})
	})
	c := e.client(t, func(cfg *powerstore.Config) { cfg.Log = lg })

	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPatch {
			return false
		}
		return answer(r.Method, r.URL.Path, 422, `{"messages":[{"code":"0xE0FFFFFF0002","message_l10n":"refused"}]}`)(w, r)
	})
	_, err := c.EnsureHost(ctx, spec)
	require.Error(t, err, "the initiator was not added")
	assert.ErrorContains(t, err, "refused")
	setOverride(e, nil)

	h, err := c.EnsureHost(ctx, spec)
	require.NoError(t, err)
	mu.Lock()
	assert.Contains(t, logs.String(), "different OS type")
	mu.Unlock()

	vols, err := c.Volumes(ctx)
	require.NoError(t, err)
	m, err := c.Map(ctx, h, vols[0], 0)
	require.NoError(t, err)
	require.Equal(t, 0, m.LUN)
	mu.Lock()
	assert.NotContains(t, logs.String(), "different LUN than requested", "mapped where asked")
	mu.Unlock()
	_, err = c.Map(ctx, h, vols[0], 5)
	require.NoError(t, err)
	mu.Lock()
	assert.Equal(t, 1, strings.Count(logs.String(), "different LUN than requested"))
	mu.Unlock()
	m2, err := c.Map(ctx, h, vols[2], 4)
	require.NoError(t, err)
	require.Equal(t, 4, m2.LUN)
	_, err = c.Map(ctx, h, vols[2], 0)
	require.NoError(t, err, "already mapped: returned as the array holds it")
	mu.Lock()
	assert.Equal(t, 2, strings.Count(logs.String(), "different LUN than requested"), "asking for 0 is asking too")
	mu.Unlock()

	// The initiator add happens but its answer is lost: the re-read decides.
	h3spec := storage.HostSpec{Name: "ohaweb03", Initiator: otherIQN, Protocol: storage.ISCSI}
	e.m.mu.Lock()
	e.m.hosts = append(e.m.hosts, &mHost{ID: uuid.NewString(), Name: "ohaweb03", OSType: "Linux"})
	e.m.override = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPatch {
			return false
		}
		for _, hh := range e.m.hosts {
			if hh.Name == "ohaweb03" {
				hh.Initiators = append(hh.Initiators, mInit{PortName: otherIQN, PortType: "iSCSI"})
			}
		}
		return answer(r.Method, r.URL.Path, 500, `{}`)(w, r)
	}
	e.m.mu.Unlock()
	_, err = c.EnsureHost(ctx, h3spec)
	require.NoError(t, err, "the add happened; its lost answer is not a failure")
	setOverride(e, nil)

	_, err = c.Map(ctx, h, vols[1], 0)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.Equal(t, 1, e.m.count("POST /api/rest/volume/"+vols[0].ID+"/attach"))
	assert.Equal(t, 0, e.m.count("POST /api/rest/volume/"+vols[1].ID+"/attach"), "refused before any attach")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestMoreEdges: an attach that errs but maps is used (and logged); LUN 0
// taken by another writer during the attach is a conflict; a fresh snapshot
// needs no lookup; a host given by name only is deleted.
func TestMoreEdges(t *testing.T) {
	ctx := t.Context()
	var logs strings.Builder
	var mu sync.Mutex
	lg := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	e := start(t)
	c := e.client(t, func(cfg *powerstore.Config) { cfg.Log = lg })
	h, err := c.EnsureHost(ctx, spec)
	require.NoError(t, err)
	vols, err := c.Volumes(ctx)
	require.NoError(t, err)

	// The attach is done but its answer says 500.
	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/rest/volume/"+vols[0].ID+"/attach" {
			return false
		}
		e.m.maps = append(e.m.maps, &mMap{ID: uuid.NewString(), HostID: h.ID, VolumeID: vols[0].ID, LUN: 9})
		return answer(r.Method, r.URL.Path, 500, `{}`)(w, r)
	})
	m, err := c.Map(ctx, h, vols[0], -1)
	require.NoError(t, err)
	assert.Equal(t, 9, m.LUN)
	mu.Lock()
	assert.Contains(t, logs.String(), "attach reported an error but the volume is mapped")
	mu.Unlock()

	// Another writer takes LUN 0 between the check and the attach.
	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/rest/volume/"+vols[1].ID+"/attach" {
			return false
		}
		e.m.maps = append(e.m.maps, &mMap{ID: uuid.NewString(), HostID: h.ID, VolumeID: "other-writer", LUN: 0})
		return answer(r.Method, r.URL.Path, 422, `{"messages":[{"code":"0xE0FFFFFF0003"}]}`)(w, r)
	})
	_, err = c.Map(ctx, h, vols[1], 0)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "LUN 0 on host ohaweb01 is already used by volume other-writer")
	setOverride(e, nil)

	before := e.m.count("GET /api/rest/volume")
	_, err = c.Snapshot(ctx, vols[2], "fresh-snap")
	require.NoError(t, err)
	assert.Equal(t, before, e.m.count("GET /api/rest/volume"), "a snapshot the array created with an id needs no lookup")

	e.m.mu.Lock()
	e.m.maps = nil
	e.m.mu.Unlock()
	require.NoError(t, c.DeleteHost(ctx, storage.Host{Name: hostName}))
	hosts, _, _ := e.m.snapshot()
	assert.Empty(t, hosts, "deleted by name")
}

// TestRangeAsksForOnePage: collection GETs ask for items offset to
// offset+999 (PowerStore pages by the Range the client sends).
func TestRangeAsksForOnePage(t *testing.T) {
	e := start(t)
	c := e.client(t)
	require.NoError(t, c.Login(t.Context()))
	var ranges []string
	setOverride(e, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/rest/volume" {
			ranges = append(ranges, r.Header.Get("Range"))
		}
		return false
	})
	_, err := c.Volumes(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, ranges)
	assert.Equal(t, "0-999", ranges[0])
	assert.Equal(t, "2-1001", ranges[1], "the next page starts after the last item the array sent")
}
