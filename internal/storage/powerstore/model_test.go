package powerstore_test

// This file is a model of the PowerStore REST API, served over TLS by
// storagetest.TLSServer on loopback. It is not a fake behind an interface: the
// client under test speaks real HTTP to it. It reproduces what the client relies
// on: paths under /api/rest, the login_session/DELL-EMC-TOKEN/auth_cookie
// session, select= projections (only "id" without one), eq./neq. filters,
// Range/Content-Range pagination with 206, and {"messages":[{"code":...}]}
// error bodies with the codes Dell's gopowerstore names. Where the real code is
// not published in anything we could read, the model uses a placeholder code
// (codePlaceholder*); the client never depends on those.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

const (
	codeUnknownVolume     = "0xE0A08001000E"
	codeNoHostForID       = "0xE0A010010003"
	codeHostNotAttached   = "0xE0A01001001E"
	codeSnapshotNameInUse = "0xE0A060010012"
	codeInitiatorInHost   = "0xE0A01001000C"
	codeVolumeAttached    = "0xE0A080020001"
	codeBadRange          = "0xE04040010005"

	codePlaceholderHostName  = "0xE0FFFFFF0001" // host name in use (placeholder)
	codePlaceholderInitiator = "0xE0FFFFFF0002" // initiator belongs to another host (placeholder)
	codePlaceholderLUN       = "0xE0FFFFFF0003" // LUN in use on the host (placeholder)
	codePlaceholderHasMaps   = "0xE0FFFFFF0004" // host still has mappings (placeholder)
)

type mVolume struct {
	ID, Name, Type string
	Size           int64
	SourceID       string
}

type mInit struct{ PortName, PortType string }

type mHost struct {
	ID, Name, OSType string
	Initiators       []mInit
}

type mMap struct {
	ID, HostID, VolumeID string
	LUN                  int
}

type mPool struct {
	ID, Address, IPPortID, ApplianceID string
	Purposes                           []string
}

type psModel struct {
	t  *testing.T
	mu sync.Mutex

	user, password string
	sessions       map[string]string // auth_cookie -> DELL-EMC-TOKEN
	secrets        []string          // every token and cookie handed out
	logins         int
	logouts        int
	basicOnAPI     int // non-login requests that carried an Authorization header
	requests       []string

	// expireAfter invalidates the session on the Nth authenticated call, once.
	expireAfter int
	calls       int
	expired     bool

	pageMax        int    // the most items one page returns
	autoLUNBase    int    // the lowest LUN the array assigns on its own
	hideHostOnce   string // the first lookup of this host name finds nothing
	passwordChange bool

	// hostile and broken knobs
	echo         bool // every error body and response header echoes the request's secrets (storagetest.Echo)
	foreverPages bool // every collection page is partial with one more item to come
	padPages     int  // bytes of padding added to every collection item
	refuse       int  // detach, DELETE host and DELETE volume answer this status and change nothing (0: off)
	refuseCode   string
	failAfter    bool // detach, DELETE host and DELETE volume do the change, then answer 500
	// override answers a request instead of the model when it returns true
	// (a stand-in for one odd answer: a status, a body shape, a header).
	override func(w http.ResponseWriter, r *http.Request) bool

	volumes []*mVolume
	hosts   []*mHost
	maps    []*mMap
	pool    []mPool
	ports   map[string]string // ip_port id -> target_iqn
	nvmNQN  string
}

func newModel(t *testing.T) *psModel {
	return &psModel{
		t: t, user: "admin", password: "Pa55-word-never-logged",
		sessions: map[string]string{}, pageMax: 2, autoLUNBase: 1,
		ports: map[string]string{},
	}
}

func (m *psModel) addVolume(name string, size int64) *mVolume {
	v := &mVolume{ID: uuid.NewString(), Name: name, Type: "Primary", Size: size}
	m.volumes = append(m.volumes, v)
	return v
}

// addISCSIPortal adds a storage IP with the iSCSI purpose on an ip_port whose target IQN is iqn.
func (m *psModel) addISCSIPortal(addr, portID, iqn string) {
	m.ports[portID] = iqn
	m.pool = append(m.pool, mPool{ID: "IP" + strconv.Itoa(len(m.pool)+1), Address: addr, IPPortID: portID,
		ApplianceID: "A1", Purposes: []string{"Storage_Iscsi_Target", "Storage_Replication"}})
}

func (m *psModel) addNVMePortal(addr, appliance string) {
	m.pool = append(m.pool, mPool{ID: "IP" + strconv.Itoa(len(m.pool)+1), Address: addr, IPPortID: "IP_PORT_" + addr,
		ApplianceID: appliance, Purposes: []string{"Storage_NVMe_TCP_Port"}})
}

func (m *psModel) activeSessions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

func (m *psModel) snapshot() (hosts []mHost, maps []mMap, vols []mVolume) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range m.hosts {
		hosts = append(hosts, *h)
	}
	for _, mp := range m.maps {
		maps = append(maps, *mp)
	}
	for _, v := range m.volumes {
		vols = append(vols, *v)
	}
	return hosts, maps, vols
}

func (m *psModel) count(prefix string) int {
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

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	e := map[string]any{"severity": "Error", "message_l10n": msg}
	if code != "" {
		e["code"] = code
	}
	writeJSON(w, status, map[string]any{"messages": []any{e}})
}

func (m *psModel) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, auth bool, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.requests = append(m.requests, r.Method+" "+r.URL.Path)
			if m.echo {
				e := storagetest.Echo(r, storagetest.ReadBody(r))
				storagetest.EchoHeaders(w, e)
				body, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{"code": "0xE0000000000", "severity": "Error", "message_l10n": e}}})
				w = storagetest.EchoErrors(w, body)
			}
			if m.override != nil && m.override(w, r) {
				return
			}
			if auth && !m.authorised(w, r) {
				return
			}
			if m.refuse != 0 && (r.Method == http.MethodDelete || strings.HasSuffix(r.URL.Path, "/detach")) {
				writeErr(w, m.refuse, m.refuseCode, "refused by the array")
				return
			}
			if m.failAfter && (r.Method == http.MethodDelete || strings.HasSuffix(r.URL.Path, "/detach")) {
				h(httptest.NewRecorder(), r) // the change happens; its answer is lost
				writeErr(w, http.StatusInternalServerError, "", "internal error")
				return
			}
			h(w, r)
		})
	}
	route("GET /api/rest/login_session", false, m.login)
	route("POST /api/rest/logout", true, m.logout)
	route("GET /api/rest/volume", true, m.listVolumes)
	route("DELETE /api/rest/volume/{id}", true, m.deleteVolume)
	route("POST /api/rest/volume/{id}/attach", true, m.attach)
	route("POST /api/rest/volume/{id}/detach", true, m.detach)
	route("POST /api/rest/volume/{id}/snapshot", true, m.snap)
	route("GET /api/rest/host", true, m.listHosts)
	route("POST /api/rest/host", true, m.createHost)
	route("PATCH /api/rest/host/{id}", true, m.modifyHost)
	route("DELETE /api/rest/host/{id}", true, m.deleteHost)
	route("GET /api/rest/host_volume_mapping", true, m.listMaps)
	route("GET /api/rest/ip_pool_address", true, m.listPool)
	route("GET /api/rest/ip_port/{id}", true, m.getIPPort)
	route("GET /api/rest/cluster", true, m.listCluster)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		m.t.Errorf("unmodelled request %s %s", r.Method, r.URL.Path)
		writeErr(w, http.StatusNotImplemented, "", "not modelled")
	})
	return mux
}

func (m *psModel) authorised(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		m.basicOnAPI++
	}
	ck, err := r.Cookie("auth_cookie")
	tok := r.Header.Get("DELL-EMC-TOKEN")
	if err != nil || m.sessions[ck.Value] == "" || m.sessions[ck.Value] != tok {
		writeErr(w, http.StatusUnauthorized, "", "session is not valid")
		return false
	}
	m.calls++
	if m.expireAfter > 0 && !m.expired && m.calls >= m.expireAfter {
		m.expired = true
		delete(m.sessions, ck.Value)
		writeErr(w, http.StatusUnauthorized, "", "session expired")
		return false
	}
	return true
}

func (m *psModel) login(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != m.user || p != m.password {
		writeErr(w, http.StatusUnauthorized, "", "authentication failed")
		return
	}
	tok, ck := "tok-"+randHex(12), "ck-"+randHex(12)
	m.sessions[ck] = tok
	m.secrets = append(m.secrets, tok, ck)
	m.logins++
	w.Header().Set("DELL-EMC-TOKEN", tok)
	http.SetCookie(w, &http.Cookie{Name: "auth_cookie", Value: ck, Path: "/", Secure: true, HttpOnly: true})
	writeJSON(w, http.StatusOK, []any{map[string]any{
		"id": uuid.NewString(), "user": u, "idle_timeout": 3600, "is_password_change_required": m.passwordChange}})
}

func (m *psModel) logout(w http.ResponseWriter, r *http.Request) {
	ck, _ := r.Cookie("auth_cookie")
	delete(m.sessions, ck.Value)
	m.logouts++
	w.WriteHeader(http.StatusNoContent)
}

// decode reads a request body strictly: a field the API does not know is a 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		writeErr(w, http.StatusBadRequest, "0xE04040030001", "Content-Type must be application/json")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, "0xE04040030001", "invalid request body: "+err.Error())
		return false
	}
	return true
}

// collection answers a GET on a collection: filters, select and Range.
func (m *psModel) collection(w http.ResponseWriter, r *http.Request, fields []string, docs []map[string]any) {
	q := r.URL.Query()
	var out []map[string]any
	for _, d := range docs {
		keep := true
		for k, vs := range q {
			if k == "select" || k == "order" {
				continue
			}
			if !slices.Contains(fields, k) {
				writeErr(w, http.StatusBadRequest, "0xE04040010001", "unknown filter field "+k)
				return
			}
			op, val, _ := strings.Cut(vs[0], ".")
			got := fmt.Sprint(d[k])
			switch op {
			case "eq":
				keep = keep && got == val
			case "neq":
				keep = keep && got != val
			default:
				writeErr(w, http.StatusBadRequest, "0xE04040010002", "unsupported filter operator "+op)
				return
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	proj, ok := project(w, q.Get("select"), fields, out)
	if !ok {
		return
	}
	total := len(proj)
	first, last := 0, 99 // PowerStore's default page
	if rg := r.Header.Get("Range"); rg != "" {
		a, b, found := strings.Cut(rg, "-")
		var err1, err2 error
		first, err1 = strconv.Atoi(a)
		last, err2 = strconv.Atoi(b)
		if !found || err1 != nil || err2 != nil || first < 0 || last < first {
			writeErr(w, http.StatusBadRequest, codeBadRange, "bad range "+rg)
			return
		}
	}
	if first >= total && total > 0 && !m.foreverPages {
		writeErr(w, http.StatusRequestedRangeNotSatisfiable, codeBadRange, "range beyond the collection")
		return
	}
	asked := first
	if m.foreverPages {
		first = 0 // every page re-serves the first item
	}
	last = min(last, first+m.pageMax-1, total-1)
	page := []map[string]any{}
	if total > 0 {
		page = proj[first : last+1]
	}
	if m.padPages > 0 {
		for i, d := range page {
			c := maps.Clone(d)
			c["padding"] = strings.Repeat("x", m.padPages)
			page[i] = c
		}
	}
	if m.foreverPages && total > 0 {
		w.Header().Set("Content-Range", fmt.Sprintf("%d-%d/%d", asked, asked, asked+10))
		writeJSON(w, http.StatusPartialContent, page[:1])
		return
	}
	if first == 0 && last >= total-1 {
		writeJSON(w, http.StatusOK, page)
		return
	}
	w.Header().Set("Content-Range", fmt.Sprintf("%d-%d/%d", first, last, total))
	writeJSON(w, http.StatusPartialContent, page)
}

// project keeps the selected fields; with no select the array returns only id.
func project(w http.ResponseWriter, sel string, fields []string, docs []map[string]any) ([]map[string]any, bool) {
	want := []string{"id"}
	if sel != "" {
		want = nil
		for f := range strings.SplitSeq(sel, ",") {
			f = strings.TrimSpace(f)
			if i := strings.IndexByte(f, '('); i >= 0 {
				f = f[:i]
			}
			if !slices.Contains(fields, f) {
				writeErr(w, http.StatusBadRequest, "0xE04040010003", "unknown select field "+f)
				return nil, false
			}
			want = append(want, f)
		}
	}
	out := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		p := map[string]any{}
		for _, f := range want {
			if v, ok := d[f]; ok {
				p[f] = v
			}
		}
		out = append(out, p)
	}
	return out, true
}

func volumeDoc(v *mVolume) map[string]any {
	d := map[string]any{"id": v.ID, "name": v.Name, "size": v.Size, "type": v.Type, "wwn": "naa.68ccf098" + v.ID[:8]}
	if v.SourceID != "" {
		d["protection_data"] = map[string]any{"source_id": v.SourceID, "creator_type": "User"}
	}
	return d
}

var volumeFields = []string{"id", "name", "size", "type", "wwn", "protection_data"}

func (m *psModel) listVolumes(w http.ResponseWriter, r *http.Request) {
	docs := make([]map[string]any, 0, len(m.volumes))
	for _, v := range m.volumes {
		docs = append(docs, volumeDoc(v))
	}
	m.collection(w, r, volumeFields, docs)
}

func (m *psModel) volume(id string) *mVolume {
	for _, v := range m.volumes {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (m *psModel) host(id string) *mHost {
	for _, h := range m.hosts {
		if h.ID == id {
			return h
		}
	}
	return nil
}

func (m *psModel) deleteVolume(w http.ResponseWriter, r *http.Request) {
	v := m.volume(r.PathValue("id"))
	if v == nil {
		writeErr(w, http.StatusNotFound, codeUnknownVolume, "volume not found")
		return
	}
	for _, mp := range m.maps {
		if mp.VolumeID == v.ID {
			writeErr(w, http.StatusUnprocessableEntity, codeVolumeAttached, "volume is attached to a host")
			return
		}
	}
	m.volumes = slices.DeleteFunc(m.volumes, func(x *mVolume) bool { return x == v })
	w.WriteHeader(http.StatusNoContent)
}

func (m *psModel) attach(w http.ResponseWriter, r *http.Request) {
	var body struct {
		HostID string `json:"host_id"`
		LUN    *int   `json:"logical_unit_number"`
	}
	if !decode(w, r, &body) {
		return
	}
	v := m.volume(r.PathValue("id"))
	if v == nil || v.Type == "Snapshot" {
		writeErr(w, http.StatusNotFound, codeUnknownVolume, "volume not found")
		return
	}
	if m.host(body.HostID) == nil {
		writeErr(w, http.StatusNotFound, codeNoHostForID, "no host object found for the specified id")
		return
	}
	used := map[int]bool{}
	for _, mp := range m.maps {
		if mp.HostID == body.HostID {
			if mp.VolumeID == v.ID {
				writeErr(w, http.StatusUnprocessableEntity, codeVolumeAttached, "volume is already attached to the host")
				return
			}
			used[mp.LUN] = true
		}
	}
	lun := m.autoLUNBase
	if body.LUN != nil {
		lun = *body.LUN
		if used[lun] {
			writeErr(w, http.StatusUnprocessableEntity, codePlaceholderLUN, "logical unit number is in use on the host")
			return
		}
	}
	for used[lun] {
		lun++
	}
	m.maps = append(m.maps, &mMap{ID: uuid.NewString(), HostID: body.HostID, VolumeID: v.ID, LUN: lun})
	w.WriteHeader(http.StatusNoContent)
}

func (m *psModel) detach(w http.ResponseWriter, r *http.Request) {
	var body struct {
		HostID string `json:"host_id"`
	}
	if !decode(w, r, &body) {
		return
	}
	if m.volume(r.PathValue("id")) == nil {
		writeErr(w, http.StatusNotFound, codeUnknownVolume, "volume not found")
		return
	}
	before := len(m.maps)
	m.maps = slices.DeleteFunc(m.maps, func(mp *mMap) bool { return mp.HostID == body.HostID && mp.VolumeID == r.PathValue("id") })
	if len(m.maps) == before {
		writeErr(w, http.StatusUnprocessableEntity, codeHostNotAttached, "host is not attached to the volume")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (m *psModel) snap(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if !decode(w, r, &body) {
		return
	}
	v := m.volume(r.PathValue("id"))
	if v == nil {
		writeErr(w, http.StatusNotFound, codeUnknownVolume, "volume not found")
		return
	}
	for _, x := range m.volumes {
		if x.Name == body.Name {
			writeErr(w, http.StatusUnprocessableEntity, codeSnapshotNameInUse, "snapshot name is already in use")
			return
		}
	}
	s := &mVolume{ID: uuid.NewString(), Name: body.Name, Type: "Snapshot", Size: v.Size, SourceID: v.ID}
	m.volumes = append(m.volumes, s)
	writeJSON(w, http.StatusCreated, map[string]string{"id": s.ID})
}

var hostFields = []string{"id", "name", "os_type", "host_initiators", "host_group_id", "description"}

func hostDoc(h *mHost) map[string]any {
	ins := []any{}
	for _, in := range h.Initiators {
		ins = append(ins, map[string]any{"port_name": in.PortName, "port_type": in.PortType, "active_sessions": []any{}})
	}
	return map[string]any{"id": h.ID, "name": h.Name, "os_type": h.OSType, "host_initiators": ins, "host_group_id": nil, "description": nil}
}

func (m *psModel) listHosts(w http.ResponseWriter, r *http.Request) {
	if name := strings.TrimPrefix(r.URL.Query().Get("name"), "eq."); name != "" && name == m.hideHostOnce {
		m.hideHostOnce = ""
		m.collection(w, r, hostFields, nil)
		return
	}
	docs := []map[string]any{}
	for _, h := range m.hosts {
		docs = append(docs, hostDoc(h))
	}
	m.collection(w, r, hostFields, docs)
}

func (m *psModel) initiatorOwner(port string) *mHost {
	for _, h := range m.hosts {
		for _, in := range h.Initiators {
			if strings.EqualFold(in.PortName, port) {
				return h
			}
		}
	}
	return nil
}

type initBody struct {
	PortName string `json:"port_name"`
	PortType string `json:"port_type"`
}

func validInit(w http.ResponseWriter, in initBody) bool {
	if !slices.Contains([]string{"iSCSI", "NVMe", "FC"}, in.PortType) || in.PortName == "" {
		writeErr(w, http.StatusBadRequest, "0xE0A01001002F", "the format of the port name or type is incorrect")
		return false
	}
	return true
}

func (m *psModel) createHost(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name       string     `json:"name"`
		OSType     string     `json:"os_type"`
		Initiators []initBody `json:"initiators"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Name == "" || !slices.Contains([]string{"Linux", "Windows", "ESXi"}, body.OSType) {
		writeErr(w, http.StatusBadRequest, "0xE04040030002", "name and a valid os_type are required")
		return
	}
	for _, h := range m.hosts {
		if h.Name == body.Name {
			writeErr(w, http.StatusUnprocessableEntity, codePlaceholderHostName, "host name is already in use")
			return
		}
	}
	h := &mHost{ID: uuid.NewString(), Name: body.Name, OSType: body.OSType}
	for _, in := range body.Initiators {
		if !validInit(w, in) {
			return
		}
		if m.initiatorOwner(in.PortName) != nil {
			writeErr(w, http.StatusUnprocessableEntity, codePlaceholderInitiator, "initiator is already used by another host")
			return
		}
		h.Initiators = append(h.Initiators, mInit(in))
	}
	m.hosts = append(m.hosts, h)
	writeJSON(w, http.StatusCreated, map[string]string{"id": h.ID})
}

func (m *psModel) modifyHost(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AddInitiators []initBody `json:"add_initiators"`
	}
	if !decode(w, r, &body) {
		return
	}
	h := m.host(r.PathValue("id"))
	if h == nil {
		writeErr(w, http.StatusNotFound, codeNoHostForID, "no host object found for the specified id")
		return
	}
	for _, in := range body.AddInitiators {
		if !validInit(w, in) {
			return
		}
		switch owner := m.initiatorOwner(in.PortName); {
		case owner == h:
			writeErr(w, http.StatusBadRequest, codeInitiatorInHost, "initiator already exists as part of the host")
			return
		case owner != nil:
			writeErr(w, http.StatusUnprocessableEntity, codePlaceholderInitiator, "initiator is already used by another host")
			return
		}
		h.Initiators = append(h.Initiators, mInit(in))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (m *psModel) deleteHost(w http.ResponseWriter, r *http.Request) {
	h := m.host(r.PathValue("id"))
	if h == nil {
		writeErr(w, http.StatusNotFound, codeNoHostForID, "no host object found for the specified id")
		return
	}
	for _, mp := range m.maps {
		if mp.HostID == h.ID {
			writeErr(w, http.StatusUnprocessableEntity, codePlaceholderHasMaps, "host has volumes attached")
			return
		}
	}
	m.hosts = slices.DeleteFunc(m.hosts, func(x *mHost) bool { return x == h })
	w.WriteHeader(http.StatusNoContent)
}

func (m *psModel) listMaps(w http.ResponseWriter, r *http.Request) {
	docs := []map[string]any{}
	for _, mp := range m.maps {
		docs = append(docs, map[string]any{"id": mp.ID, "host_id": mp.HostID, "volume_id": mp.VolumeID,
			"logical_unit_number": mp.LUN, "host_group_id": nil})
	}
	m.collection(w, r, []string{"id", "host_id", "volume_id", "logical_unit_number", "host_group_id"}, docs)
}

func (m *psModel) listPool(w http.ResponseWriter, r *http.Request) {
	docs := []map[string]any{}
	for _, p := range m.pool {
		docs = append(docs, map[string]any{"id": p.ID, "address": p.Address, "ip_port_id": p.IPPortID,
			"appliance_id": p.ApplianceID, "purposes": p.Purposes, "node_id": "N1"})
	}
	m.collection(w, r, []string{"id", "address", "ip_port_id", "appliance_id", "purposes", "node_id"}, docs)
}

func (m *psModel) getIPPort(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	iqn, ok := m.ports[id]
	if !ok {
		writeErr(w, http.StatusNotFound, "0xE04040020009", "instance was not found")
		return
	}
	proj, ok := project(w, r.URL.Query().Get("select"), []string{"id", "target_iqn", "current_usages"},
		[]map[string]any{{"id": id, "target_iqn": iqn, "current_usages": []string{"ISCSI"}}})
	if ok {
		writeJSON(w, http.StatusOK, proj[0])
	}
}

func (m *psModel) listCluster(w http.ResponseWriter, r *http.Request) {
	m.collection(w, r, []string{"id", "name", "nvm_subsystem_nqn", "master_appliance_id"},
		[]map[string]any{{"id": "0", "name": "PS-model", "nvm_subsystem_nqn": m.nvmNQN, "master_appliance_id": "A1"}})
}
