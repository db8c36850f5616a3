package alletra_test

// This file is a model of HPE WSAPI 1.x (/api/v1), served over TLS by
// storagetest.TLSServer on loopback. It is not a fake behind an interface: the
// client under test speaks real HTTP to it. It reproduces the credentials
// session (POST/DELETE /api/v1/credentials, X-HP3PAR-WSAPI-SessionKey, 403
// code 6 for an invalid key), {"total","members"} collections, the host, VLUN,
// volume-action and port shapes, the "field EQ value" VLUN query, and
// {"code","desc"} errors with the codes python-3parclient's WSAPI mock uses
// (5, 16, 17, 19, 22, 23, 26, 73). The code for "LUN already in use" is not
// published in anything we could read; the model answers 409 code 29 for it
// (LXD's "volume already exported" code), and the client never depends on it.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

const (
	cInvUserPass   = 5
	cInvSessionKey = 6
	cInvInput      = 12
	cExistentHost  = 16
	cNonExistHost  = 17
	cNonExistVLUN  = 19
	cExistentVol   = 22
	cNonExistVol   = 23
	cExportedVLUN  = 26
	cAlreadyExport = 29
	cExceedsLength = 57
	cExistentPath  = 73
)

type hVol struct {
	ID                         int
	Name                       string
	SizeMiB                    int64
	ProvisioningType, CopyType int
	CopyOf                     string
}

type hHost struct {
	ID            int
	Name          string
	Persona       int
	OS            string
	ISCSI         []string
	NQN           string
	TransportType int
}

type hVLUN struct {
	Vol, Host string
	LUN       int
}

type hPort struct {
	Node, Slot, CardPort       int
	Protocol, LinkState        int
	IPAddr, ISCSIName, NodeWWN string
}

type hpModel struct {
	t  *testing.T
	mu sync.Mutex

	user, password string
	sessions       map[string]bool
	keys           []string // every session key handed out
	logins         int
	logouts        int
	requests       []string

	expireAfter int // answer 403 code 6 on the Nth authenticated call, once
	calls       int
	expired     bool

	autoLUNBase  int
	hideHostOnce string
	subsysNQN    string // reported on the VLUNs of NVMe hosts

	// hostile and broken knobs
	echo       bool // every error body and response header echoes the request's secrets (storagetest.Echo)
	refuse     int  // DELETE of hosts, volumes and VLUNs answers this status and changes nothing (0: off)
	refuseCode int
	failAfter  bool // DELETE of hosts, volumes and VLUNs does the change, then answers 500
	// override answers a request instead of the model when it returns true
	// (a stand-in for one odd answer: a status, a body shape).
	override func(w http.ResponseWriter, r *http.Request) bool

	volumes []*hVol
	hosts   []*hHost
	vluns   []*hVLUN
	ports   []hPort
	nextID  int
}

func newModel(t *testing.T) *hpModel {
	return &hpModel{t: t, user: "3paradm", password: "Wsapi-Pa55-never-logged", sessions: map[string]bool{}, autoLUNBase: 1, nextID: 100}
}

func (m *hpModel) id() int { m.nextID++; return m.nextID }

func (m *hpModel) addVolume(name string, sizeMiB int64, provType int) {
	m.volumes = append(m.volumes, &hVol{ID: m.id(), Name: name, SizeMiB: sizeMiB, ProvisioningType: provType, CopyType: 1})
}

func (m *hpModel) activeSessions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

func (m *hpModel) state() (hosts []hHost, vluns []hVLUN, vols []hVol) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range m.hosts {
		hosts = append(hosts, *h)
	}
	for _, v := range m.vluns {
		vluns = append(vluns, *v)
	}
	for _, v := range m.volumes {
		vols = append(vols, *v)
	}
	return hosts, vluns, vols
}

func (m *hpModel) count(prefix string) int {
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func wsErr(w http.ResponseWriter, status, code int, desc string) {
	writeJSON(w, status, map[string]any{"code": code, "desc": desc})
}

func (m *hpModel) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, auth bool, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.requests = append(m.requests, r.Method+" "+r.URL.Path)
			if m.echo {
				e := storagetest.Echo(r, storagetest.ReadBody(r))
				storagetest.EchoHeaders(w, e)
				body, _ := json.Marshal(map[string]any{"code": 999, "desc": e})
				w = storagetest.EchoErrors(w, body)
			}
			if m.override != nil && m.override(w, r) {
				return
			}
			if auth && !m.authorised(w, r) {
				return
			}
			if m.failAfter && r.Method == http.MethodDelete && !strings.HasPrefix(r.URL.Path, "/api/v1/credentials") {
				h(httptest.NewRecorder(), r) // the change happens; its answer is lost
				wsErr(w, http.StatusInternalServerError, 0, "internal error")
				return
			}
			if m.refuse != 0 && r.Method == http.MethodDelete && !strings.HasPrefix(r.URL.Path, "/api/v1/credentials") {
				wsErr(w, m.refuse, m.refuseCode, "refused by the array")
				return
			}
			h(w, r)
		})
	}
	route("POST /api/v1/credentials", false, m.login)
	route("DELETE /api/v1/credentials/{key}", false, m.logout)
	route("GET /api/v1/volumes", true, m.listVolumes)
	route("GET /api/v1/volumes/{name}", true, m.getVolume)
	route("POST /api/v1/volumes/{name}", true, m.volumeAction)
	route("DELETE /api/v1/volumes/{name}", true, m.deleteVolume)
	route("GET /api/v1/hosts/{name}", true, m.getHost)
	route("POST /api/v1/hosts", true, m.createHost)
	route("PUT /api/v1/hosts/{name}", true, m.modifyHost)
	route("DELETE /api/v1/hosts/{name}", true, m.deleteHost)
	route("GET /api/v1/vluns", true, m.listVLUNs)
	route("POST /api/v1/vluns", true, m.createVLUN)
	route("DELETE /api/v1/vluns/{spec}", true, m.deleteVLUN)
	route("GET /api/v1/ports", true, m.listPorts)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		m.t.Errorf("unmodelled request %s %s", r.Method, r.URL.Path)
		wsErr(w, http.StatusNotImplemented, 0, "not modelled")
	})
	return mux
}

func (m *hpModel) authorised(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("X-HP3PAR-WSAPI-SessionKey")
	if !m.sessions[key] {
		wsErr(w, http.StatusForbidden, cInvSessionKey, "invalid session key")
		return false
	}
	m.calls++
	if m.expireAfter > 0 && !m.expired && m.calls >= m.expireAfter {
		m.expired = true
		delete(m.sessions, key)
		wsErr(w, http.StatusForbidden, cInvSessionKey, "invalid session key")
		return false
	}
	return true
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		wsErr(w, http.StatusUnsupportedMediaType, cInvInput, "Content-Type must be application/json")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		wsErr(w, http.StatusBadRequest, cInvInput, "invalid input: "+err.Error())
		return false
	}
	return true
}

func (m *hpModel) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.User != m.user || body.Password != m.password {
		wsErr(w, http.StatusForbidden, cInvUserPass, "invalid username or password")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	key := "0-" + hex.EncodeToString(b) + "-skey"
	m.sessions[key] = true
	m.keys = append(m.keys, key)
	m.logins++
	w.Header().Set("Location", "/api/v1/credentials/"+key)
	writeJSON(w, http.StatusCreated, map[string]string{"key": key})
}

func (m *hpModel) logout(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if !m.sessions[key] {
		wsErr(w, http.StatusForbidden, cInvSessionKey, "invalid session key")
		return
	}
	delete(m.sessions, key)
	m.logouts++
	w.WriteHeader(http.StatusOK)
}

func volDoc(v *hVol) map[string]any {
	d := map[string]any{"id": v.ID, "name": v.Name, "sizeMiB": v.SizeMiB, "provisioningType": v.ProvisioningType,
		"copyType": v.CopyType, "wwn": "60002AC0000000000000" + strconv.Itoa(v.ID), "state": 1}
	if v.CopyOf != "" {
		d["copyOf"] = v.CopyOf
		d["readOnly"] = true
	}
	return d
}

func (m *hpModel) volume(name string) *hVol {
	for _, v := range m.volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}

func (m *hpModel) host(name string) *hHost {
	for _, h := range m.hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

func (m *hpModel) listVolumes(w http.ResponseWriter, _ *http.Request) {
	ms := []any{}
	for _, v := range m.volumes {
		ms = append(ms, volDoc(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(ms), "members": ms})
}

func (m *hpModel) getVolume(w http.ResponseWriter, r *http.Request) {
	v := m.volume(r.PathValue("name"))
	if v == nil {
		wsErr(w, http.StatusNotFound, cNonExistVol, "volume does not exist")
		return
	}
	writeJSON(w, http.StatusOK, volDoc(v))
}

func (m *hpModel) volumeAction(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Action     string `json:"action"`
		Parameters struct {
			Name     string `json:"name"`
			ReadOnly bool   `json:"readOnly"`
			Comment  string `json:"comment"`
		} `json:"parameters"`
	}
	if !decode(w, r, &body) {
		return
	}
	v := m.volume(r.PathValue("name"))
	if v == nil {
		wsErr(w, http.StatusNotFound, cNonExistVol, "volume does not exist")
		return
	}
	if body.Action != "createSnapshot" || body.Parameters.Name == "" {
		wsErr(w, http.StatusBadRequest, cInvInput, "unsupported action or missing name")
		return
	}
	if len(body.Parameters.Name) > 31 {
		wsErr(w, http.StatusBadRequest, cExceedsLength, "name too long")
		return
	}
	if m.volume(body.Parameters.Name) != nil {
		wsErr(w, http.StatusConflict, cExistentVol, "volume exists")
		return
	}
	m.volumes = append(m.volumes, &hVol{ID: m.id(), Name: body.Parameters.Name, SizeMiB: v.SizeMiB, ProvisioningType: 3, CopyType: 3, CopyOf: v.Name})
	w.WriteHeader(http.StatusCreated)
}

func (m *hpModel) deleteVolume(w http.ResponseWriter, r *http.Request) {
	v := m.volume(r.PathValue("name"))
	if v == nil {
		wsErr(w, http.StatusNotFound, cNonExistVol, "volume does not exist")
		return
	}
	for _, x := range m.vluns {
		if x.Vol == v.Name {
			wsErr(w, http.StatusConflict, cExportedVLUN, "volume is exported")
			return
		}
	}
	m.volumes = slices.DeleteFunc(m.volumes, func(x *hVol) bool { return x == v })
	w.WriteHeader(http.StatusOK)
}

func (m *hpModel) getHost(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	h := m.host(name)
	if h == nil || name == m.hideHostOnce {
		m.hideHostOnce = ""
		wsErr(w, http.StatusNotFound, cNonExistHost, "host does not exist")
		return
	}
	iscsi := []any{}
	for _, n := range h.ISCSI {
		iscsi = append(iscsi, map[string]any{"name": n, "IPAddr": "", "hostSpeed": 0})
	}
	nvme := []any{}
	if h.NQN != "" {
		nvme = append(nvme, map[string]any{"nqn": h.NQN, "IP": ""})
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": h.ID, "name": h.Name, "persona": h.Persona,
		"descriptors": map[string]any{"os": h.OS}, "iSCSIPaths": iscsi, "NVMETCPPaths": nvme, "FCPaths": []any{}})
}

func (m *hpModel) pathOwner(p string) *hHost {
	for _, h := range m.hosts {
		if h.NQN == p || slices.Contains(h.ISCSI, p) {
			return h
		}
	}
	return nil
}

func (m *hpModel) createHost(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name          string   `json:"name"`
		ISCSINames    []string `json:"iSCSINames"`
		NQN           string   `json:"NQN"`
		TransportType int      `json:"transportType"`
		Persona       int      `json:"persona"`
		Descriptors   struct {
			OS      string `json:"os"`
			Comment string `json:"comment"`
		} `json:"descriptors"`
	}
	if !decode(w, r, &body) {
		return
	}
	switch {
	case body.Name == "":
		wsErr(w, http.StatusBadRequest, 40, "name not specified")
		return
	case len(body.Name) > 31:
		wsErr(w, http.StatusBadRequest, cExceedsLength, "host name is too long")
		return
	case body.NQN != "" && body.TransportType != 2:
		wsErr(w, http.StatusBadRequest, cInvInput, "an NQN needs transportType 2 (TCP)")
		return
	case body.NQN != "" && len(body.ISCSINames) > 0:
		wsErr(w, http.StatusBadRequest, 44, "parameters cannot be present at the same time")
		return
	}
	for _, p := range append(slices.Clone(body.ISCSINames), body.NQN) {
		if p != "" && m.pathOwner(p) != nil {
			wsErr(w, http.StatusConflict, cExistentPath, "path already claimed by other host")
			return
		}
	}
	if m.host(body.Name) != nil {
		wsErr(w, http.StatusConflict, cExistentHost, "host exists")
		return
	}
	m.hosts = append(m.hosts, &hHost{ID: m.id(), Name: body.Name, Persona: body.Persona, OS: body.Descriptors.OS,
		ISCSI: body.ISCSINames, NQN: body.NQN, TransportType: body.TransportType})
	w.Header().Set("Location", "/api/v1/hosts/"+body.Name)
	w.WriteHeader(http.StatusCreated)
}

func (m *hpModel) modifyHost(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PathOperation int      `json:"pathOperation"`
		ISCSINames    []string `json:"iSCSINames"`
	}
	if !decode(w, r, &body) {
		return
	}
	h := m.host(r.PathValue("name"))
	if h == nil {
		wsErr(w, http.StatusNotFound, cNonExistHost, "host does not exist")
		return
	}
	if body.PathOperation != 1 || len(body.ISCSINames) == 0 {
		wsErr(w, http.StatusBadRequest, 78, "pathOperation 1 with iSCSINames is modelled")
		return
	}
	for _, p := range body.ISCSINames {
		if m.pathOwner(p) != nil {
			wsErr(w, http.StatusConflict, cExistentPath, "iSCSI name is already claimed by other host")
			return
		}
	}
	h.ISCSI = append(h.ISCSI, body.ISCSINames...)
	w.WriteHeader(http.StatusOK)
}

func (m *hpModel) deleteHost(w http.ResponseWriter, r *http.Request) {
	h := m.host(r.PathValue("name"))
	if h == nil {
		wsErr(w, http.StatusNotFound, cNonExistHost, "host does not exist")
		return
	}
	for _, v := range m.vluns {
		if v.Host == h.Name {
			wsErr(w, http.StatusConflict, cExportedVLUN, "has exported VLUN")
			return
		}
	}
	m.hosts = slices.DeleteFunc(m.hosts, func(x *hHost) bool { return x == h })
	w.WriteHeader(http.StatusOK)
}

var queryRE = regexp.MustCompile(`^"(volumeName|hostname) EQ ([^" ]+)"$`)

// listVLUNs lists each export twice, as WSAPI does: the VLUN template and an
// active VLUN on a port.
func (m *hpModel) listVLUNs(w http.ResponseWriter, r *http.Request) {
	field, value := "", ""
	if q := r.URL.Query().Get("query"); q != "" {
		sm := queryRE.FindStringSubmatch(q)
		if sm == nil {
			wsErr(w, http.StatusBadRequest, cInvInput, "invalid query "+q)
			return
		}
		field, value = sm[1], sm[2]
	}
	ms := []any{}
	for _, v := range m.vluns {
		if (field == "volumeName" && v.Vol != value) || (field == "hostname" && v.Host != value) {
			continue
		}
		for _, active := range []bool{false, true} {
			d := map[string]any{"volumeName": v.Vol, "hostname": v.Host, "lun": v.LUN, "active": active, "type": 4}
			if active {
				d["portPos"] = map[string]int{"node": 0, "slot": 3, "cardPort": 1}
				d["type"] = 5
			}
			if h := m.host(v.Host); h != nil && h.NQN != "" {
				d["Subsystem_NQN"] = m.subsysNQN
			}
			ms = append(ms, d)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(ms), "members": ms})
}

func (m *hpModel) createVLUN(w http.ResponseWriter, r *http.Request) {
	var body struct {
		VolumeName string `json:"volumeName"`
		Hostname   string `json:"hostname"`
		LUN        *int   `json:"lun"`
		AutoLun    bool   `json:"autoLun"`
		MaxAutoLun *int   `json:"maxAutoLun"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.LUN == nil {
		wsErr(w, http.StatusBadRequest, cInvInput, "missing LUN")
		return
	}
	if m.volume(body.VolumeName) == nil {
		wsErr(w, http.StatusNotFound, cNonExistVol, "volume does not exist")
		return
	}
	if m.host(body.Hostname) == nil {
		wsErr(w, http.StatusNotFound, cNonExistHost, "host does not exist")
		return
	}
	used := map[int]bool{}
	for _, v := range m.vluns {
		if v.Host == body.Hostname {
			if v.Vol == body.VolumeName {
				wsErr(w, http.StatusConflict, cAlreadyExport, "volume is already exported to the host")
				return
			}
			used[v.LUN] = true
		}
	}
	lun := *body.LUN
	if body.AutoLun {
		for lun = m.autoLUNBase; used[lun]; lun++ {
		}
	} else if used[lun] {
		wsErr(w, http.StatusConflict, cAlreadyExport, "LUN is already in use")
		return
	}
	m.vluns = append(m.vluns, &hVLUN{Vol: body.VolumeName, Host: body.Hostname, LUN: lun})
	w.Header().Set("Location", "/api/v1/vluns/"+body.VolumeName+","+strconv.Itoa(lun)+","+body.Hostname)
	w.WriteHeader(http.StatusCreated)
}

func (m *hpModel) deleteVLUN(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(r.PathValue("spec"), ",")
	if len(parts) != 3 {
		wsErr(w, http.StatusBadRequest, 40, "volumeName,lun,hostname is modelled")
		return
	}
	lun, err := strconv.Atoi(parts[1])
	if err != nil {
		wsErr(w, http.StatusBadRequest, cInvInput, "bad LUN")
		return
	}
	before := len(m.vluns)
	m.vluns = slices.DeleteFunc(m.vluns, func(v *hVLUN) bool { return v.Vol == parts[0] && v.LUN == lun && v.Host == parts[2] })
	if len(m.vluns) == before {
		wsErr(w, http.StatusNotFound, cNonExistVLUN, "VLUN does not exist")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (m *hpModel) listPorts(w http.ResponseWriter, _ *http.Request) {
	ms := []any{}
	for _, p := range m.ports {
		d := map[string]any{"portPos": map[string]int{"node": p.Node, "slot": p.Slot, "cardPort": p.CardPort},
			"mode": 2, "linkState": p.LinkState, "protocol": p.Protocol, "type": 8, "label": "",
			"nodeWWN": p.NodeWWN, "portWWN": p.NodeWWN}
		if p.IPAddr != "" {
			d["IPAddr"] = p.IPAddr
		}
		if p.ISCSIName != "" {
			d["iSCSIName"] = p.ISCSIName
		}
		ms = append(ms, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(ms), "members": ms})
}
