package wizard_test

// COPIED from internal/storage/pure/model_test.go at commit f229b08 (identifiers
// prefixed pm), because a _test.go file of another package cannot be imported.
// It is a test-only MODEL of the FlashArray REST 2.x API, not the array and
// not a mock of the client: setup's integration tests drive the real pure
// client against it. Keep it in sync by hand when the original changes.

// This file is a MODEL of the FlashArray REST 2.x API (not a mock of the
// client): an in-memory array served over HTTPS by storagetest.TLSServer with
// the documented paths under /api/2.N/, GET /api/api_version, token login
// (api-token request header -> x-auth-token response header), session checks
// on every call, {"items", "continuation_token", "more_items_remaining",
// "total_item_count"} collections paged by limit/continuation_token, the
// name='x' filter, and {"errors": [{"context", "message"}]} error bodies with
// no codes, as FlashArray sends them (400 for "already exists" and "does not
// exist"). Knobs let a test inject what a real array does under concurrency or
// session loss: another writer creating the host or connection first, a session
// invalidated once, every session refused, a lowest-free LUN other than 1.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

type pmVol struct {
	id, name    string
	provisioned int64
	destroyed   bool
}

type pmHost struct {
	name       string
	iqns, nqns []string
}

type pmConn struct {
	host, vol string
	lun       int
}

type pmPort struct{ name, iqn, nqn, portal, wwn string }

type pmSnap struct{ id, name, source string }

type pmModel struct {
	mu       sync.Mutex
	token    string
	user     string
	versions []string
	seq      int
	sessions map[string]bool
	issued   []string // every session token handed out
	vols     []*pmVol
	hosts    []*pmHost
	conns    []pmConn
	ports    []pmPort
	snaps    []*pmSnap

	// knobs
	firstLUN       int  // lowest LUN handed out when none is asked for (FlashArray counts up from 1)
	raceHost       bool // another writer creates the host between our GET and our POST
	raceConn       bool // another writer connects the volume between our GET and our POST
	expireOnce     bool // the next authenticated request finds its session gone
	rejectSessions bool // every session token is refused
	echo           bool // hostile: every error body and response header echoes the request's secrets (storagetest.Echo)
	foreverPages   bool // broken: every list page has an item and a fresh continuation_token
	padPages       int  // broken: bytes of padding in every list page
	refuse         bool // DELETE /connections, DELETE /hosts and PATCH /volumes answer 400 and change nothing
	failAfter      bool // DELETE /connections, DELETE /hosts and PATCH /volumes do the change, then answer 500
	hideConns      bool // GET /connections lists nothing
	// override answers a request instead of the model when it returns true
	// (a stand-in for one odd answer: a status, a body shape).
	override func(w http.ResponseWriter, r *http.Request) bool

	requests []string
	logins   int
}

func pmNewModel() *pmModel {
	m := &pmModel{
		token: "5f9d2c4e-1b7a-4e3f-9a6c-0d8e2b1f7c3a", user: "oha-automation",
		versions: []string{"1.17", "1.19", "2.0", "2.4", "2.21", "2.36"},
		sessions: map[string]bool{}, firstLUN: 1,
	}
	for i, n := range []string{"web01-boot", "web01-data", "db01-boot", "db01-data", "scratch"} {
		m.vols = append(m.vols, &pmVol{id: m.id(), name: n, provisioned: int64(i+1) << 30})
	}
	m.vols = append(m.vols, &pmVol{id: m.id(), name: "old-vol", provisioned: 1 << 30, destroyed: true})
	m.ports = []pmPort{
		{name: "CT0.ETH4", iqn: "iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60", portal: "192.168.50.20:3260"},
		{name: "CT1.ETH4", iqn: "iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60", portal: "192.168.50.21:3260"},
		{name: "CT1.ETH5", iqn: "iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60", portal: "[fd00::21]:3260"},
		{name: "CT0.FC0", wwn: "52:4A:93:7B:12:34:56:00"},
		{name: "CT0.ETH6", nqn: "nqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60", portal: "192.168.60.20:4420"},
	}
	return m
}

func (m *pmModel) id() string {
	m.seq++
	return fmt.Sprintf("%08x-3c3c-4d4d-9e9e-%012x", m.seq*104729, m.seq)
}

func (m *pmModel) start(t testing.TB) (*httptest.Server, string) {
	return storagetest.TLSServer(t, m.handler())
}

func pmWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // an encode failure shows up as a client-side decode error
}

func pmWriteErr(w http.ResponseWriter, status int, context, msg string) {
	e := map[string]any{"message": msg}
	if context != "" {
		e["context"] = context
	}
	pmWriteJSON(w, status, map[string]any{"errors": []any{e}})
}

func pmItems(recs ...map[string]any) map[string]any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r
	}
	return map[string]any{"items": out, "total_item_count": len(recs), "more_items_remaining": false}
}

func (m *pmModel) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/api_version", func(w http.ResponseWriter, r *http.Request) {
		pmWriteJSON(w, 200, map[string]any{"version": m.versions})
	})
	mux.HandleFunc("POST /api/{ver}/login", func(w http.ResponseWriter, r *http.Request) {
		m.logins++
		if r.Header.Get("api-token") != m.token {
			pmWriteErr(w, 401, "", "Invalid API token.")
			return
		}
		s := "sess-" + m.id()
		m.sessions[s] = true
		m.issued = append(m.issued, s)
		w.Header().Set("x-auth-token", s)
		pmWriteJSON(w, 200, pmItems(map[string]any{"username": m.user}))
	})
	mux.HandleFunc("POST /api/{ver}/logout", func(w http.ResponseWriter, r *http.Request) {
		delete(m.sessions, r.Header.Get("x-auth-token"))
		pmWriteJSON(w, 200, map[string]any{})
	})

	mux.HandleFunc("GET /api/{ver}/volumes", func(w http.ResponseWriter, r *http.Request) {
		var recs []map[string]any
		for _, v := range m.vols {
			recs = append(recs, map[string]any{"id": v.id, "name": v.name, "provisioned": v.provisioned,
				"destroyed": v.destroyed, "serial": strings.ToUpper(v.id[:8]), "space": map[string]any{"total_physical": 0}})
		}
		m.serveList(w, r, recs)
	})
	mux.HandleFunc("PATCH /api/{ver}/volumes", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("names")
		var b struct {
			Destroyed *bool `json:"destroyed"`
		}
		if !pmDecode(w, r, &b) {
			return
		}
		i := slices.IndexFunc(m.vols, func(v *pmVol) bool { return v.name == name })
		switch {
		case i < 0:
			pmWriteErr(w, 400, name, "Volume does not exist.")
		case b.Destroyed == nil:
			pmWriteErr(w, 400, name, "Nothing to change.")
		case slices.ContainsFunc(m.conns, func(c pmConn) bool { return c.vol == name }):
			pmWriteErr(w, 400, name, "Volume has host connections.")
		default:
			m.vols[i].destroyed = *b.Destroyed
			pmWriteJSON(w, 200, pmItems(map[string]any{"name": name, "destroyed": *b.Destroyed}))
		}
	})

	mux.HandleFunc("GET /api/{ver}/hosts", func(w http.ResponseWriter, r *http.Request) {
		var recs []map[string]any
		for _, h := range m.hosts {
			recs = append(recs, m.hostJSON(h))
		}
		m.serveList(w, r, recs)
	})
	mux.HandleFunc("POST /api/{ver}/hosts", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("names")
		var b struct {
			IQNs []string `json:"iqns"`
			NQNs []string `json:"nqns"`
		}
		if !pmDecode(w, r, &b) {
			return
		}
		if m.raceHost {
			m.raceHost = false
			m.hosts = append(m.hosts, &pmHost{name: name, iqns: b.IQNs, nqns: b.NQNs})
		}
		if m.host(name) != nil {
			pmWriteErr(w, 400, name, "Host already exists.")
			return
		}
		for _, h := range m.hosts {
			for _, i := range append(b.IQNs, b.NQNs...) {
				if slices.Contains(h.iqns, i) || slices.Contains(h.nqns, i) {
					pmWriteErr(w, 400, name, "The specified IQN is already in use.")
					return
				}
			}
		}
		h := &pmHost{name: name, iqns: b.IQNs, nqns: b.NQNs}
		m.hosts = append(m.hosts, h)
		pmWriteJSON(w, 200, pmItems(m.hostJSON(h)))
	})
	mux.HandleFunc("PATCH /api/{ver}/hosts", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("names")
		var b struct {
			AddIQNs []string `json:"add_iqns"`
			AddNQNs []string `json:"add_nqns"`
		}
		if !pmDecode(w, r, &b) {
			return
		}
		h := m.host(name)
		if h == nil {
			pmWriteErr(w, 400, name, "Host does not exist.")
			return
		}
		h.iqns = append(h.iqns, b.AddIQNs...)
		h.nqns = append(h.nqns, b.AddNQNs...)
		pmWriteJSON(w, 200, pmItems(m.hostJSON(h)))
	})
	mux.HandleFunc("DELETE /api/{ver}/hosts", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("names")
		switch {
		case m.host(name) == nil:
			pmWriteErr(w, 400, name, "Host does not exist.")
		case slices.ContainsFunc(m.conns, func(c pmConn) bool { return c.host == name }):
			pmWriteErr(w, 400, name, "Host has connections.")
		default:
			m.hosts = slices.DeleteFunc(m.hosts, func(h *pmHost) bool { return h.name == name })
			pmWriteJSON(w, 200, map[string]any{})
		}
	})

	mux.HandleFunc("GET /api/{ver}/connections", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		host, vol := q.Get("host_names"), q.Get("volume_names")
		if host != "" && m.host(host) == nil {
			pmWriteErr(w, 400, host, "Host does not exist.")
			return
		}
		var recs []map[string]any
		for _, c := range m.conns {
			if !m.hideConns && (host == "" || c.host == host) && (vol == "" || c.vol == vol) {
				recs = append(recs, m.connJSON(c))
			}
		}
		m.serveList(w, r, recs)
	})
	mux.HandleFunc("POST /api/{ver}/connections", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		host, vol := q.Get("host_names"), q.Get("volume_names")
		var b struct {
			LUN *int `json:"lun"`
		}
		if r.ContentLength != 0 && !pmDecode(w, r, &b) {
			return
		}
		switch {
		case m.host(host) == nil:
			pmWriteErr(w, 400, host, "Host does not exist.")
			return
		case !slices.ContainsFunc(m.vols, func(v *pmVol) bool { return v.name == vol && !v.destroyed }):
			pmWriteErr(w, 400, vol, "Volume does not exist.")
			return
		}
		if m.raceConn {
			m.raceConn = false
			m.conns = append(m.conns, pmConn{host: host, vol: vol, lun: m.freeLUN(host)})
		}
		if slices.ContainsFunc(m.conns, func(c pmConn) bool { return c.host == host && c.vol == vol }) {
			pmWriteErr(w, 400, vol, "Connection already exists.")
			return
		}
		lun := m.freeLUN(host)
		if b.LUN != nil {
			if *b.LUN < 1 || *b.LUN > 4095 {
				pmWriteErr(w, 400, vol, "LUN must be between 1 and 4095.")
				return
			}
			if slices.ContainsFunc(m.conns, func(c pmConn) bool { return c.host == host && c.lun == *b.LUN }) {
				pmWriteErr(w, 400, vol, "LUN is already in use.")
				return
			}
			lun = *b.LUN
		}
		c := pmConn{host: host, vol: vol, lun: lun}
		m.conns = append(m.conns, c)
		pmWriteJSON(w, 200, pmItems(m.connJSON(c)))
	})
	mux.HandleFunc("DELETE /api/{ver}/connections", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		host, vol := q.Get("host_names"), q.Get("volume_names")
		before := len(m.conns)
		m.conns = slices.DeleteFunc(m.conns, func(c pmConn) bool { return c.host == host && c.vol == vol })
		if before == len(m.conns) {
			pmWriteErr(w, 400, vol, "Connection does not exist.")
			return
		}
		pmWriteJSON(w, 200, map[string]any{})
	})

	mux.HandleFunc("GET /api/{ver}/ports", func(w http.ResponseWriter, r *http.Request) {
		var recs []map[string]any
		for _, p := range m.ports {
			rec := map[string]any{"name": p.name, "iqn": nil, "nqn": nil, "portal": nil, "wwn": nil, "failover": nil}
			for k, v := range map[string]string{"iqn": p.iqn, "nqn": p.nqn, "portal": p.portal, "wwn": p.wwn} {
				if v != "" {
					rec[k] = v
				}
			}
			recs = append(recs, rec)
		}
		m.serveList(w, r, recs)
	})

	mux.HandleFunc("GET /api/{ver}/volume-snapshots", func(w http.ResponseWriter, r *http.Request) {
		var recs []map[string]any
		for _, s := range m.snaps {
			recs = append(recs, map[string]any{"id": s.id, "name": s.name, "destroyed": false,
				"source": map[string]any{"name": s.source}, "created": 1767225600000})
		}
		m.serveList(w, r, recs)
	})
	mux.HandleFunc("POST /api/{ver}/volume-snapshots", func(w http.ResponseWriter, r *http.Request) {
		src := r.URL.Query().Get("source_names")
		var b struct {
			Suffix string `json:"suffix"`
		}
		if !pmDecode(w, r, &b) {
			return
		}
		name := src + "." + b.Suffix
		switch {
		case !slices.ContainsFunc(m.vols, func(v *pmVol) bool { return v.name == src }):
			pmWriteErr(w, 400, src, "Volume does not exist.")
		case slices.ContainsFunc(m.snaps, func(s *pmSnap) bool { return s.name == name }):
			pmWriteErr(w, 400, name, "Snapshot already exists.")
		default:
			s := &pmSnap{id: m.id(), name: name, source: src}
			m.snaps = append(m.snaps, s)
			pmWriteJSON(w, 200, pmItems(map[string]any{"id": s.id, "name": s.name, "source": map[string]any{"name": src}}))
		}
	})

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.requests = append(m.requests, r.Method+" "+r.URL.RequestURI())
		if m.echo {
			parts := storagetest.EchoParts(r, storagetest.ReadBody(r))
			storagetest.EchoHeaders(w, strings.Join(parts, " | "))
			var errs []any
			for _, p := range parts {
				errs = append(errs, map[string]any{"context": "echo", "message": p})
			}
			body, _ := json.Marshal(map[string]any{"errors": errs, "message": strings.Join(parts, " | ")})
			w = storagetest.EchoErrors(w, body)
		}
		if m.override != nil && m.override(w, r) {
			return
		}
		changes := r.Method == http.MethodDelete || r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, "/volumes")
		if m.refuse && changes {
			pmWriteErr(w, 400, r.URL.Query().Get("names"), "Operation refused by the array.")
			return
		}
		if m.failAfter && changes && !strings.HasSuffix(r.URL.Path, "/login") {
			mux.ServeHTTP(httptest.NewRecorder(), r) // the change happens; its answer is lost
			pmWriteErr(w, 500, "", "Internal error.")
			return
		}
		if r.URL.Path != "/api/api_version" {
			ver := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/api/"), "/", 2)[0]
			if !slices.Contains(m.versions, ver) || strings.HasPrefix(ver, "1.") {
				pmWriteErr(w, 404, "", "Unknown API version.")
				return
			}
			if !strings.HasSuffix(r.URL.Path, "/login") {
				s := r.Header.Get("x-auth-token")
				if m.expireOnce && m.sessions[s] {
					m.expireOnce = false
					delete(m.sessions, s)
				}
				if !m.sessions[s] || m.rejectSessions {
					pmWriteErr(w, 401, "", "Session expired or invalid.")
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

func pmDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		pmWriteErr(w, 400, "", "Content-Type must be application/json.")
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		pmWriteErr(w, 400, "", "Invalid JSON.")
		return false
	}
	return true
}

func (m *pmModel) host(name string) *pmHost {
	for _, h := range m.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

func (m *pmModel) hostJSON(h *pmHost) map[string]any {
	n := 0
	for _, c := range m.conns {
		if c.host == h.name {
			n++
		}
	}
	return map[string]any{"name": h.name, "iqns": pmToAny(h.iqns), "nqns": pmToAny(h.nqns), "wwns": []any{},
		"connection_count": n, "personality": nil, "host_group": map[string]any{"name": nil}}
}

func (m *pmModel) connJSON(c pmConn) map[string]any {
	id := ""
	for _, v := range m.vols {
		if v.name == c.vol {
			id = v.id
		}
	}
	return map[string]any{"host": map[string]any{"name": c.host}, "host_group": map[string]any{"name": nil},
		"volume": map[string]any{"name": c.vol, "id": id}, "lun": c.lun}
}

func (m *pmModel) freeLUN(host string) int {
	n := m.firstLUN
	for slices.ContainsFunc(m.conns, func(c pmConn) bool { return c.host == host && c.lun == n }) {
		n++
	}
	return n
}

func pmToAny(s []string) []any {
	out := make([]any, 0, len(s))
	for _, v := range s {
		out = append(out, v)
	}
	return out
}

// serveList applies names/filter/destroyed and pages with limit and
// continuation_token.
func (m *pmModel) serveList(w http.ResponseWriter, r *http.Request, all []map[string]any) {
	q := r.URL.Query()
	var recs []map[string]any
	for _, rec := range all {
		if d := q.Get("destroyed"); d != "" && fmt.Sprint(rec["destroyed"]) != d {
			continue
		}
		recs = append(recs, rec)
	}
	if f := q.Get("filter"); f != "" {
		name, ok := strings.CutPrefix(f, "name='")
		if !ok || !strings.HasSuffix(name, "'") || strings.Count(f, "'") != 2 {
			pmWriteErr(w, 400, "", "Unsupported filter in this model: "+f)
			return
		}
		name = strings.TrimSuffix(name, "'")
		recs = slices.DeleteFunc(recs, func(rec map[string]any) bool { return rec["name"] != name })
	}
	if names := q.Get("names"); names != "" {
		kept := slices.DeleteFunc(slices.Clone(recs), func(rec map[string]any) bool { return rec["name"] != names })
		if len(kept) == 0 {
			pmWriteErr(w, 400, names, "Item does not exist.")
			return
		}
		recs = kept
	}
	start := 0
	if t := q.Get("continuation_token"); t != "" && !m.foreverPages {
		n, err := strconv.Atoi(strings.TrimPrefix(t, "ct-"))
		if err != nil || !strings.HasPrefix(t, "ct-") || n > len(recs) {
			pmWriteErr(w, 400, "", "Invalid continuation token.")
			return
		}
		start = n
	}
	limit := len(recs)
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			pmWriteErr(w, 400, "", "Invalid limit.")
			return
		}
		limit = n
	}
	end := min(start+limit, len(recs))
	page := make([]any, 0, end-start)
	for _, rec := range recs[start:end] {
		page = append(page, rec)
	}
	out := map[string]any{"items": page, "total_item_count": len(recs), "more_items_remaining": end < len(recs),
		"continuation_token": nil}
	if end < len(recs) {
		out["continuation_token"] = "ct-" + strconv.Itoa(end)
	}
	if m.foreverPages {
		m.seq++
		out["items"] = []any{all[0]}
		out["more_items_remaining"] = true
		out["continuation_token"] = "forever-" + strconv.Itoa(m.seq)
	}
	if m.padPages > 0 {
		out["padding"] = strings.Repeat("x", m.padPages)
	}
	pmWriteJSON(w, 200, out)
}

func (m *pmModel) set(f func(m *pmModel)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *pmModel) requestsMatching(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}
