package ontap_test

// Contract tests of edges a mutation run leaves untested unless asked: exact
// error shapes and codes, status bounds, links, jobs, lost answers, input
// limits. The real client over real HTTPS against the model in model_test.go;
// where one odd answer is needed, the model's override knob serves it (a
// stand-in for that one answer, not a fake of the client).

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/ontap"
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

func TestErrorShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		kind       storage.Kind
		code       string
		exact      string
		has, hasnt []string
	}{
		{name: "target and message", status: 400, body: `{"error":{"code":"262179","message":"Unexpected argument.","target":"foo"}}`,
			kind: storage.KindInvalid, code: "262179", exact: `ontap: list volumes: request rejected (HTTP 400, code 262179): foo: Unexpected argument.`},
		{name: "numeric code", status: 400, body: `{"error":{"code":4,"message":"entry doesn't exist"}}`, kind: storage.KindNotFound, code: "4",
			exact: `ontap: list volumes: not found (HTTP 400, code 4): entry doesn't exist`},
		{name: "null code", status: 400, body: `{"error":{"code":null,"message":"m"}}`, kind: storage.KindInvalid, code: "",
			exact: `ontap: list volumes: request rejected (HTTP 400): m`},
		{name: "duplicate map", status: 400, body: `{"error":{"code":"1254207"}}`, kind: storage.KindAlreadyExists, code: "1254207"},
		{name: "duplicate IQN", status: 400, body: `{"error":{"code":"5374035"}}`, kind: storage.KindAlreadyExists, code: "5374035"},
		{name: "duplicate NQN", status: 400, body: `{"error":{"code":"72089705"}}`, kind: storage.KindAlreadyExists, code: "72089705"},
		{name: "igroup not found", status: 400, body: `{"error":{"code":"5374852"}}`, kind: storage.KindNotFound},
		{name: "LUN not found", status: 400, body: `{"error":{"code":"5374875"}}`, kind: storage.KindNotFound},
		{name: "igroup missing", status: 400, body: `{"error":{"code":"5374878"}}`, kind: storage.KindNotFound},
		{name: "map not found", status: 400, body: `{"error":{"code":"5374922"}}`, kind: storage.KindNotFound},
		{name: "403", status: 403, body: `{}`, kind: storage.KindAuth},
		{name: "404", status: 404, body: `{}`, kind: storage.KindNotFound},
		{name: "409", status: 409, body: `{}`, kind: storage.KindAlreadyExists},
		{name: "429", status: 429, body: `{}`, kind: storage.KindTransient},
		{name: "499", status: 499, body: `{}`, kind: storage.KindInvalid},
		{name: "no body", status: 500, body: ``, kind: storage.KindTransient, exact: "ontap: list volumes: temporary array error (HTTP 500)"},
		{name: "message without target", status: 503, body: `{"error":{"message":"busy"}}`, kind: storage.KindTransient,
			exact: "ontap: list volumes: temporary array error (HTTP 503): busy"},
		{name: "300 is a redirect", status: 300, body: `{"error":{"code":"4"}}`, kind: storage.KindUnknown, has: []string{"redirect"}, hasnt: []string{"code 4"}},
		{name: "399 is a redirect", status: 399, body: `{}`, kind: storage.KindUnknown, has: []string{"redirect"}},
		{name: "400 is no redirect", status: 400, body: `{}`, kind: storage.KindInvalid, hasnt: []string{"redirect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *ontapModel, _ *ontap.Config) {
				m.override = answer("GET", "/api/storage/luns", tc.status, tc.body)
			})
			_, err := f.c.Volumes(context.Background())
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.kind, se.Kind)
			assert.Equal(t, tc.status, se.Status)
			if tc.code != "" || tc.exact != "" {
				assert.Equal(t, tc.code, se.Code)
			}
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
		err        string
	}{
		{name: "299", status: 299, body: `{"records":[{"uuid":"u1","name":"/vol/v/a"}]}`, want: 1},
		{name: "empty 200", status: 200, body: ``, want: 0},
		{name: "empty next link ends it", status: 200, body: `{"records":[{"uuid":"u1","name":"/vol/v/a"}],"_links":{"next":{"href":""}}}`, want: 1},
		{name: "a link out of /api", status: 200, body: `{"records":[],"_links":{"next":{"href":"/other/luns"}}}`, err: "refusing link"},
		{name: "a link with a host", status: 200, body: `{"records":[],"_links":{"next":{"href":"//evil.example/api/luns"}}}`, err: "refusing link"},
		{name: "a link with user info", status: 200, body: `{"records":[],"_links":{"next":{"href":"https://u:p@evil/api/x"}}}`, err: "refusing link"},
		{name: "an opaque link", status: 200, body: `{"records":[],"_links":{"next":{"href":"mailto:x@y"}}}`, err: "refusing link"},
		{name: "a link that loops", status: 200, body: `{"records":[],"_links":{"next":{"href":"/api/storage/luns?x=1"}}}`, err: "pagination loops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(m *ontapModel, _ *ontap.Config) {
				m.override = answer("GET", "/api/storage/luns", tc.status, tc.body)
			})
			vols, err := f.c.Volumes(context.Background())
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				assert.LessOrEqual(t, f.m.requestsMatching("GET /api/storage/luns"), 2)
				return
			}
			require.NoError(t, err)
			assert.Len(t, vols, tc.want)
			assert.Equal(t, 1, f.m.requestsMatching("GET /api/storage/luns"))
		})
	}
}

func TestJobs(t *testing.T) {
	ctx := context.Background()
	t.Run("job never ends", func(t *testing.T) {
		f := newFixture(t, func(m *ontapModel, c *ontap.Config) {
			c.JobTimeout = time.Nanosecond // any wait is over it: the first poll that is still running ends it
			m.override = func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/api/cluster/jobs/") {
					return false
				}
				writeJSON(w, 200, map[string]any{"state": "running"})
				return true
			}
		})
		_, err := f.c.Snapshot(ctx, f.volume(t, bootLUN), "snap1")
		assert.ErrorIs(t, err, storage.ErrTransient)
		assert.ErrorContains(t, err, `still "running"`)
		assert.Equal(t, 1, f.m.requestsMatching("GET /api/cluster/jobs/"))
	})
	t.Run("job failure code classifies", func(t *testing.T) {
		f := newFixture(t, func(m *ontapModel, _ *ontap.Config) {
			m.override = func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/api/cluster/jobs/") {
					return false
				}
				writeJSON(w, 200, map[string]any{"state": "failure", "code": 5374922, "message": "gone"})
				return true
			}
		})
		_, err := f.c.Snapshot(ctx, f.volume(t, bootLUN), "snap1")
		assert.ErrorIs(t, err, storage.ErrNotFound)
		assert.ErrorContains(t, err, "failed with code 5374922: gone")
	})
	t.Run("bad job id", func(t *testing.T) {
		f := newFixture(t, func(m *ontapModel, _ *ontap.Config) {
			m.override = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/snapshots") {
					return false
				}
				writeJSON(w, 202, map[string]any{"job": map[string]any{"uuid": "../../x"}})
				return true
			}
		})
		_, err := f.c.Snapshot(ctx, f.volume(t, bootLUN), "snap1")
		assert.ErrorContains(t, err, `job id "../../x"`)
		assert.Equal(t, 0, f.m.requestsMatching("GET /api/cluster/jobs/"))
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		f := newFixture(t, func(m *ontapModel, c *ontap.Config) {
			c.JobPoll = time.Hour
			m.override = func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasPrefix(r.URL.Path, "/api/cluster/jobs/") {
					return false
				}
				writeJSON(w, 200, map[string]any{"state": "running"})
				return true
			}
		})
		vol := f.volume(t, bootLUN)
		cctx, cancel := context.WithCancel(ctx)
		f.m.set(func(m *ontapModel) {
			inner := m.override
			m.override = func(w http.ResponseWriter, r *http.Request) bool {
				done := inner(w, r)
				if done {
					cancel() // the poll answered "running"; the caller gives up
				}
				return done
			}
		})
		_, err := f.c.Snapshot(cctx, vol, "snap1")
		assert.ErrorIs(t, err, context.Canceled, "the wait ends with the caller's context, not after an hour")
		assert.Equal(t, storage.KindUnknown, storage.KindOf(err))
	})
}

func TestTransportErrors(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		f := newFixture(t, func(m *ontapModel, c *ontap.Config) {
			hc := *c.HTTP
			hc.Timeout = 200 * time.Millisecond // the server never answers; any bound works
			c.HTTP = &hc
			m.override = func(http.ResponseWriter, *http.Request) bool {
				m.mu.Unlock()
				<-release
				m.mu.Lock()
				return true
			}
		})
		t.Cleanup(func() { close(release) }) // before the server's own cleanup, which waits for this handler
		assert.ErrorIs(t, f.c.Login(context.Background()), storage.ErrTransient)
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		c, err := ontap.New(ontap.Config{Endpoint: "https://" + addr, Credentials: storage.Credentials{Username: "u", Secret: "p"}, SVM: "svm1"})
		require.NoError(t, err)
		assert.ErrorIs(t, c.Login(context.Background()), storage.ErrTransient)
	})
}

// TestLostAnswers: the change happened but its answer was lost (500): a
// re-read that shows the object gone makes Unmap, DeleteHost and
// DeleteVolume succeed.
func TestLostAnswers(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	o := runSetup(t, f.c, bootLUN, -1)
	f.m.set(func(m *ontapModel) { m.failAfter = true })
	require.NoError(t, f.c.Unmap(ctx, o.host, o.mapping.Volume))
	require.NoError(t, f.c.DeleteHost(ctx, o.host))
	require.NoError(t, f.c.DeleteVolume(ctx, o.mapping.Volume))
	f.m.set(func(m *ontapModel) {
		assert.Empty(t, m.lunMaps)
		assert.Empty(t, m.igroups)
		assert.Len(t, m.luns, 4)
	})
}

func TestNewBounds(t *testing.T) {
	good := ontap.Config{Endpoint: "https://c1", Credentials: storage.Credentials{Username: "a", Secret: "p"}, SVM: "svm1"}
	for _, tc := range []struct {
		mutate func(*ontap.Config)
		ok     bool
	}{
		{func(c *ontap.Config) { c.PageSize = 10000 }, true},
		{func(c *ontap.Config) { c.PageSize = 10001 }, false},
		{func(c *ontap.Config) { c.JobPoll = -1 }, false},
		{func(c *ontap.Config) { c.JobTimeout = -1 }, false},
		{func(c *ontap.Config) { c.JobPoll, c.JobTimeout = 0, 0 }, true},
		{func(c *ontap.Config) { c.Subsystem = "sub_1.a-b" }, true},
		{func(c *ontap.Config) { c.Protocol = storage.NVMeTCP }, true},
		{func(c *ontap.Config) { c.Endpoint = "ftp://c1" }, false},
		{func(c *ontap.Config) { c.Endpoint = "https://c1/?q=1" }, false},
		{func(c *ontap.Config) { c.Endpoint = "https://c1/#frag" }, false},
		{func(c *ontap.Config) { c.Endpoint = "https://c1/" }, true},
	} {
		cfg := good
		tc.mutate(&cfg)
		c, err := ontap.New(cfg)
		assert.Equal(t, tc.ok, err == nil, "%+v: %v", cfg, err)
		if err == nil {
			assert.Contains(t, c.String(), "svm: svm1")
		}
	}
}

// TestLUNZero: LUN 0 is a real iSCSI LUN on ONTAP: it can be asked for, it
// conflicts like any other, and a map already at 0 is found, not re-created.
func TestLUNZero(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.firstAutoLUN = 26 })
	o := runSetup(t, f.c, bootLUN, 0)
	assert.Equal(t, 0, o.mapping.LUN, "asked for 0, got 0 although the array would pick 26")
	posts := f.m.requestsMatching("POST /api/protocols/san/lun-maps")
	again, err := f.c.Map(ctx, o.host, o.mapping.Volume, 0)
	require.NoError(t, err)
	assert.Equal(t, 0, again.LUN)
	auto, err := f.c.Map(ctx, o.host, o.mapping.Volume, -1)
	require.NoError(t, err)
	assert.Equal(t, 0, auto.LUN)
	assert.Equal(t, posts, f.m.requestsMatching("POST /api/protocols/san/lun-maps"), "an existing map at 0 is not re-created")

	_, err = f.c.Map(ctx, o.host, o.mapping.Volume, 1)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "already mapped to this host as LUN 0, not the requested 1")
	_, err = f.c.Map(ctx, o.host, f.volume(t, "/vol/vol_web01/data1"), 0)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "LUN 0 is already used by "+bootLUN)
	assert.Equal(t, posts, f.m.requestsMatching("POST /api/protocols/san/lun-maps"), "conflicts are found before any POST")
}

// TestMapConflictsAndRaces: the highest LUN is allowed; LUN checks hold for
// 0; a map POST the array refuses keeps the array's words; another writer
// taking the number during the POST is a conflict; an array that maps at
// another number than asked is a conflict.
func TestMapConflictsAndRaces(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) { m.firstAutoLUN = 26 })
	o := runSetup(t, f.c, bootLUN, 3)
	require.Equal(t, 3, o.mapping.LUN)
	_, err := f.c.Map(ctx, o.host, o.mapping.Volume, 0)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "already mapped to this host as LUN 3, not the requested 0: unmap it first")

	top, err := f.c.Map(ctx, o.host, f.volume(t, "/vol/vol_web01/data1"), 4095)
	require.NoError(t, err)
	assert.Equal(t, 4095, top.LUN)

	data2 := f.volume(t, "/vol/vol_web01/data2")
	f.m.set(func(m *ontapModel) {
		m.override = answer("POST", "/api/protocols/san/lun-maps", 400, `{"error":{"code":"5374875","message":"The LUN is offline."}}`)
	})
	_, err = f.c.Map(ctx, o.host, data2, -1)
	assert.ErrorContains(t, err, "The LUN is offline.", "the array's refusal, not a missing read-back")

	f.m.set(func(m *ontapModel) {
		m.override = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost || r.URL.Path != "/api/protocols/san/lun-maps" {
				return false
			}
			m.lunMaps = append(m.lunMaps, mLunMap{lun: m.luns[3].uuid, igroup: o.host.ID, number: 7})
			writeErr(w, 400, "5374102", "LUN number is in use", "")
			return true
		}
	})
	_, err = f.c.Map(ctx, o.host, data2, 7)
	assert.ErrorIs(t, err, storage.ErrLUNConflict, "another writer took 7 during the POST")

	f.m.set(func(m *ontapModel) {
		m.override = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost || r.URL.Path != "/api/protocols/san/lun-maps" {
				return false
			}
			m.lunMaps = append(m.lunMaps, mLunMap{lun: data2.ID, igroup: o.host.ID, number: 9})
			writeJSON(w, 201, map[string]any{})
			return true
		}
	})
	_, err = f.c.Map(ctx, o.host, data2, 0)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "is mapped as LUN 9, not the requested 0")
}

// TestNamespaceIDChecks: a namespace mapped at one ID and asked at another,
// or an ID another namespace holds, is a conflict found before any POST.
func TestNamespaceIDChecks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(m *ontapModel, c *ontap.Config) {
		m.nvmeOn = true
		c.Protocol = storage.NVMeTCP
	})
	vols, err := f.c.Volumes(ctx)
	require.NoError(t, err)
	h, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP})
	require.NoError(t, err)
	m1, err := f.c.Map(ctx, h, vols[0], 2)
	require.NoError(t, err)
	require.Equal(t, 2, m1.LUN)
	posts := f.m.requestsMatching("POST /api/protocols/nvme/subsystem-maps")
	_, err = f.c.Map(ctx, h, vols[0], 3)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "already mapped as namespace ID 2, not the requested 3")
	_, err = f.c.Map(ctx, h, vols[1], 2)
	assert.ErrorIs(t, err, storage.ErrLUNConflict)
	assert.ErrorContains(t, err, "namespace ID 2 is already used by /vol/vol_nvme/ns_boot")
	assert.Equal(t, posts, f.m.requestsMatching("POST /api/protocols/nvme/subsystem-maps"), "found before any POST")
	_, err = f.c.Map(ctx, h, vols[1], 4096)
	assert.Equal(t, storage.KindInvalid, storage.KindOf(err))
}

// TestServiceShapesAndDeleteByID: services without "enabled" or "svm" are
// taken as this SVM's and enabled (ONTAP leaves out fields it was not asked
// for); a refused namespace map keeps the array's words; a Host given by id
// with no initiators is deleted although the array's igroup holds one.
func TestServiceShapesAndDeleteByID(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(m *ontapModel, _ *ontap.Config) {
		m.override = answer("GET", "/api/protocols/san/iscsi/services", 200,
			`{"records":[{"target":{"name":"iqn.1992-08.com.netapp:sn.4f6b0c1e:vs.3"}}],"num_records":1}`)
	})
	tgt, err := f.c.Target(ctx, storage.ISCSI)
	require.NoError(t, err)
	assert.Equal(t, "iqn.1992-08.com.netapp:sn.4f6b0c1e:vs.3", tgt.Name)

	n := newFixture(t, func(m *ontapModel, c *ontap.Config) {
		m.nvmeOn = true
		c.Protocol = storage.NVMeTCP
		m.override = answer("GET", "/api/protocols/nvme/services", 200, `{"records":[{}],"num_records":1}`)
	})
	vols, err := n.c.Volumes(ctx)
	require.NoError(t, err)
	h, err := n.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP})
	require.NoError(t, err)
	_, err = n.c.Target(ctx, storage.NVMeTCP)
	require.NoError(t, err, "a service record without svm or enabled serves this SVM")
	n.m.set(func(m *ontapModel) {
		m.override = answer("POST", "/api/protocols/nvme/subsystem-maps", 400, `{"error":{"code":"72090006","message":"The namespace is offline."}}`)
	})
	_, err = n.c.Map(ctx, h, vols[0], -1)
	assert.ErrorContains(t, err, "The namespace is offline.", "the array's refusal, not a missing read-back")

	d := newFixture(t, nil)
	o := runSetup(t, d.c, bootLUN, -1)
	require.NoError(t, d.c.Unmap(ctx, o.host, o.mapping.Volume))
	require.NoError(t, d.c.DeleteHost(ctx, storage.Host{ID: o.host.ID}), "no initiators given: nothing to compare")
	d.m.set(func(m *ontapModel) { assert.Empty(t, m.igroups) })
}

// TestNamespaceMapLostAnswer: the namespace map is made but the POST's answer
// is a 500: the re-read finds it and Map succeeds with the array's ID.
func TestNamespaceMapLostAnswer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(m *ontapModel, c *ontap.Config) {
		m.nvmeOn = true
		c.Protocol = storage.NVMeTCP
	})
	vols, err := f.c.Volumes(ctx)
	require.NoError(t, err)
	h, err := f.c.EnsureHost(ctx, storage.HostSpec{Name: hostName, Initiator: hostNQN, Protocol: storage.NVMeTCP})
	require.NoError(t, err)
	f.m.set(func(m *ontapModel) {
		m.override = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost || r.URL.Path != "/api/protocols/nvme/subsystem-maps" {
				return false
			}
			m.subMaps = append(m.subMaps, mSubMap{ns: vols[0].ID, sub: h.ID, nsid: 6})
			writeErr(w, 500, "", "internal error", "")
			return true
		}
	})
	got, err := f.c.Map(ctx, h, vols[0], -1)
	require.NoError(t, err)
	assert.Equal(t, 6, got.LUN)
}
