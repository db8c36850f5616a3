package ontap_test

// This file is a MODEL of the ONTAP REST API (not a mock of the client): an
// in-memory SVM served over HTTPS by storagetest.TLSServer, with the documented
// paths, HTTP Basic auth on every call, {"records", "num_records", "_links"}
// collections paged by max_records and _links.next, the "fields" projection
// (a field the client forgets to ask for is missing, as on ONTAP), the
// {"error": {"code", "message", "target"}} error body with ONTAP's codes, and
// asynchronous jobs (202 + /api/cluster/jobs/{uuid}) for snapshot creation.
// Knobs let a test inject what a real cluster does under concurrency: another
// writer creating the igroup or the LUN map first, a 401 in the middle of a
// run, a lowest-free LUN number other than 0.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/storage/storagetest"
)

const (
	codeDupLUNMap = "1254207"
	codeDupIQN    = "5374035"
	codeDupNQN    = "72089705"
	codeNotFound  = "4"
	codeLUNMapNF  = "5374922"
)

type mUnit struct {
	uuid, name string
	size       int64
	volUUID    string
	volName    string
}

type mIgroup struct {
	uuid, name, protocol, osType string
	initiators                   []string
}

type mLunMap struct {
	lun, igroup string
	number      int
}

type mSubsystem struct {
	uuid, name, nqn, osType string
	hosts                   []string
}

type mSubMap struct {
	ns, sub string
	nsid    int
}

type mLIF struct {
	name, addr, state string
	services          []string
}

type mSnap struct{ uuid, name string }

type mJob struct {
	polls int
	fail  bool
	done  func()
	state string
}

type ontapModel struct {
	mu       sync.Mutex
	user     string
	pass     string
	svm      string
	svmUUID  string
	seq      int
	luns     []*mUnit
	spaces   []*mUnit // NVMe namespaces
	igroups  []*mIgroup
	lunMaps  []mLunMap
	subs     []*mSubsystem
	subMaps  []mSubMap
	iscsiOn  bool
	iscsiIQN string
	nvmeOn   bool
	lifs     []mLIF
	nvmeLIFs []mLIF // addr = transport_address, services = transport_protocols
	snaps    map[string][]mSnap
	jobs     map[string]*mJob

	// knobs
	firstAutoLUN  int  // ONTAP hands out the lowest free number from here (0 on a real cluster with no other maps)
	raceIgroup    bool // another writer creates the igroup between our GET and our POST
	raceLUNMap    bool // another writer maps the LUN between our GET and our POST
	raceInitiator bool // another writer adds the same initiator between our GET and our POST
	fail401       int  // answer this many upcoming requests with 401
	failSnapJob   bool // the snapshot job ends in failure
	foreignNext   bool // the next link of the first page points at another host
	echo          bool // hostile: every error body and response header echoes the request's secrets (storagetest.Echo)
	foreverPages  bool // broken: every page has a next link to a fresh page
	padPages      int  // broken: bytes of padding in every page
	refuse        int  // DELETE answers this status with refuseCode and changes nothing (0: off)
	refuseCode    string
	failAfter     bool // DELETE does the change, then answers 500
	// override answers a request instead of the model when it returns true
	// (a stand-in for one odd answer: a status, a body shape).
	override      func(w http.ResponseWriter, r *http.Request) bool
	srvURL        string
	requests      []string
	authedCalls   int
	rejectedCalls int
}

func newModel() *ontapModel {
	m := &ontapModel{
		user: "vsadmin", pass: "Ont@p-S3cret-pw!", svm: "svm1",
		iscsiOn: true, iscsiIQN: "iqn.1992-08.com.netapp:sn.4f6b0c1e:vs.3",
		snaps: map[string][]mSnap{}, jobs: map[string]*mJob{},
	}
	m.svmUUID = m.id()
	vol1, vol2 := m.id(), m.id()
	for i, n := range []string{"boot", "data1", "data2", "data3", "scratch"} {
		vu, vn := vol1, "vol_web01"
		if i >= 3 {
			vu, vn = vol2, "vol_other"
		}
		m.luns = append(m.luns, &mUnit{uuid: m.id(), name: "/vol/" + vn + "/" + n, size: int64(i+1) << 30, volUUID: vu, volName: vn})
	}
	m.spaces = []*mUnit{
		{uuid: m.id(), name: "/vol/vol_nvme/ns_boot", size: 20 << 30, volUUID: vol2, volName: "vol_nvme"},
		{uuid: m.id(), name: "/vol/vol_nvme/ns_data", size: 40 << 30, volUUID: vol2, volName: "vol_nvme"},
	}
	m.lifs = []mLIF{
		{name: "lif_iscsi_a", addr: "192.168.50.10", state: "up", services: []string{"data_core", "data_iscsi"}},
		{name: "lif_iscsi_b", addr: "192.168.50.11", state: "up", services: []string{"data_core", "data_iscsi"}},
		{name: "lif_mgmt", addr: "10.0.0.5", state: "up", services: []string{"management_https"}},
		{name: "lif_iscsi_down", addr: "192.168.50.12", state: "down", services: []string{"data_iscsi"}},
	}
	m.nvmeLIFs = []mLIF{
		{name: "lif_nvme_a", addr: "192.168.60.10", services: []string{"nvme_tcp"}},
		{name: "lif_fc_nvme", addr: "nn-0x2000005056a7c1b2:pn-0x2001005056a7c1b2", services: []string{"fc_nvme"}},
	}
	return m
}

func (m *ontapModel) id() string {
	m.seq++
	return fmt.Sprintf("%08x-5a5a-4b4b-8c8c-%012x", m.seq*7919, m.seq)
}

// start serves the model over HTTPS with a private CA.
func (m *ontapModel) start(t testing.TB) (*httptest.Server, string) {
	srv, ca := storagetest.TLSServer(t, m.handler())
	m.srvURL = srv.URL
	return srv, ca
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/hal+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the connection is the test's; an encode error shows up client-side
}

func writeErr(w http.ResponseWriter, status int, code, msg, target string) {
	e := map[string]any{"code": code, "message": msg}
	if target != "" {
		e["target"] = target
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func (m *ontapModel) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/svm/svms", m.list(func() []map[string]any {
		return []map[string]any{{"uuid": m.svmUUID, "name": m.svm, "state": "running"}}
	}))
	for _, kind := range []string{"luns", "namespaces"} {
		units := func() []*mUnit {
			if kind == "luns" {
				return m.luns
			}
			return m.spaces
		}
		mux.HandleFunc("GET /api/storage/"+kind, m.list(func() []map[string]any {
			var out []map[string]any
			for _, u := range units() {
				out = append(out, unitJSON(u, m.svm))
			}
			return out
		}))
		mux.HandleFunc("GET /api/storage/"+kind+"/{uuid}", func(w http.ResponseWriter, r *http.Request) {
			for _, u := range units() {
				if u.uuid == r.PathValue("uuid") {
					writeJSON(w, 200, project(unitJSON(u, m.svm), r.URL.Query().Get("fields")))
					return
				}
			}
			writeErr(w, 404, "5374875", "The specified LUN does not exist or is not accessible to the caller.", "uuid")
		})
		mux.HandleFunc("DELETE /api/storage/"+kind+"/{uuid}", func(w http.ResponseWriter, r *http.Request) {
			id := r.PathValue("uuid")
			if slices.ContainsFunc(m.lunMaps, func(x mLunMap) bool { return x.lun == id }) ||
				slices.ContainsFunc(m.subMaps, func(x mSubMap) bool { return x.ns == id }) {
				writeErr(w, 400, "5374908", "The LUN is mapped.", "")
				return
			}
			before := len(m.luns) + len(m.spaces)
			m.luns = slices.DeleteFunc(m.luns, func(u *mUnit) bool { return u.uuid == id })
			m.spaces = slices.DeleteFunc(m.spaces, func(u *mUnit) bool { return u.uuid == id })
			if before == len(m.luns)+len(m.spaces) {
				writeErr(w, 404, "5374875", "The specified LUN does not exist.", "uuid")
				return
			}
			writeJSON(w, 200, map[string]any{})
		})
	}

	mux.HandleFunc("GET /api/protocols/san/igroups", m.list(func() []map[string]any {
		var out []map[string]any
		for _, g := range m.igroups {
			out = append(out, igroupJSON(g, m.svm))
		}
		return out
	}))
	mux.HandleFunc("GET /api/protocols/san/igroups/{uuid}", func(w http.ResponseWriter, r *http.Request) {
		if g := m.igroup(r.PathValue("uuid")); g != nil {
			writeJSON(w, 200, project(igroupJSON(g, m.svm), r.URL.Query().Get("fields")))
			return
		}
		writeErr(w, 404, codeNotFound, "entry doesn't exist", "uuid")
	})
	mux.HandleFunc("POST /api/protocols/san/igroups", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			SVM        struct{ Name string }   `json:"svm"`
			Name       string                  `json:"name"`
			OSType     string                  `json:"os_type"`
			Protocol   string                  `json:"protocol"`
			Initiators []struct{ Name string } `json:"initiators"`
		}
		if !decode(w, r, &b) {
			return
		}
		if b.SVM.Name != m.svm || b.Name == "" || b.OSType == "" {
			writeErr(w, 400, "262197", "svm.name, name and os_type are required", "")
			return
		}
		if m.raceIgroup {
			m.raceIgroup = false
			g := &mIgroup{uuid: m.id(), name: b.Name, protocol: b.Protocol, osType: b.OSType}
			for _, i := range b.Initiators {
				g.initiators = append(g.initiators, i.Name)
			}
			m.igroups = append(m.igroups, g)
		}
		if slices.ContainsFunc(m.igroups, func(g *mIgroup) bool { return g.name == b.Name }) {
			// The exact code for a duplicate igroup name is not in the reference
			// material; the model uses a placeholder and the client keys on the
			// status and a re-read, never on this text.
			writeErr(w, 409, "model-duplicate-igroup", "An initiator group with this name already exists.", "name")
			return
		}
		g := &mIgroup{uuid: m.id(), name: b.Name, protocol: b.Protocol, osType: b.OSType}
		if g.protocol == "" {
			g.protocol = "mixed"
		}
		for _, i := range b.Initiators {
			g.initiators = append(g.initiators, i.Name)
		}
		m.igroups = append(m.igroups, g)
		writeJSON(w, 201, map[string]any{"num_records": 1})
	})
	mux.HandleFunc("POST /api/protocols/san/igroups/{uuid}/initiators", func(w http.ResponseWriter, r *http.Request) {
		g := m.igroup(r.PathValue("uuid"))
		if g == nil {
			writeErr(w, 404, codeNotFound, "entry doesn't exist", "igroup.uuid")
			return
		}
		var b struct{ Name string }
		if !decode(w, r, &b) {
			return
		}
		if m.raceInitiator {
			m.raceInitiator = false
			g.initiators = append(g.initiators, b.Name)
		}
		if slices.Contains(g.initiators, b.Name) {
			writeErr(w, 409, codeDupIQN, "The initiator is already in the initiator group.", "name")
			return
		}
		g.initiators = append(g.initiators, b.Name)
		writeJSON(w, 201, map[string]any{})
	})
	mux.HandleFunc("DELETE /api/protocols/san/igroups/{uuid}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("uuid")
		if m.igroup(id) == nil {
			writeErr(w, 404, codeNotFound, "entry doesn't exist", "uuid")
			return
		}
		if slices.ContainsFunc(m.lunMaps, func(x mLunMap) bool { return x.igroup == id }) {
			writeErr(w, 400, "5374921", "The initiator group is mapped to LUNs.", "")
			return
		}
		m.igroups = slices.DeleteFunc(m.igroups, func(g *mIgroup) bool { return g.uuid == id })
		writeJSON(w, 200, map[string]any{})
	})

	mux.HandleFunc("GET /api/protocols/san/lun-maps", m.list(func() []map[string]any {
		var out []map[string]any
		for _, x := range m.lunMaps {
			out = append(out, m.lunMapJSON(x))
		}
		return out
	}))
	mux.HandleFunc("GET /api/protocols/san/lun-maps/{lun}/{ig}", func(w http.ResponseWriter, r *http.Request) {
		for _, x := range m.lunMaps {
			if x.lun == r.PathValue("lun") && x.igroup == r.PathValue("ig") {
				writeJSON(w, 200, project(m.lunMapJSON(x), r.URL.Query().Get("fields")))
				return
			}
		}
		writeErr(w, 404, codeLUNMapNF, "The specified LUN map does not exist.", "")
	})
	mux.HandleFunc("POST /api/protocols/san/lun-maps", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			SVM    struct{ Name string } `json:"svm"`
			Igroup struct{ Name, UUID string }
			LUN    struct{ Name, UUID string }
			Number *int `json:"logical_unit_number"`
		}
		if !decode(w, r, &b) {
			return
		}
		var g *mIgroup
		for _, x := range m.igroups {
			if x.uuid == b.Igroup.UUID || (b.Igroup.UUID == "" && x.name == b.Igroup.Name) {
				g = x
			}
		}
		var u *mUnit
		for _, x := range m.luns {
			if x.uuid == b.LUN.UUID || (b.LUN.UUID == "" && x.name == b.LUN.Name) {
				u = x
			}
		}
		switch {
		case b.SVM.Name != m.svm:
			writeErr(w, 400, "262197", "svm is required", "svm")
			return
		case g == nil:
			writeErr(w, 404, "5374878", "The specified initiator group does not exist.", "igroup")
			return
		case u == nil:
			writeErr(w, 404, "5374875", "The specified LUN does not exist.", "lun")
			return
		}
		if m.raceLUNMap {
			m.raceLUNMap = false
			m.lunMaps = append(m.lunMaps, mLunMap{lun: u.uuid, igroup: g.uuid, number: m.freeLUN(g.uuid)})
		}
		if slices.ContainsFunc(m.lunMaps, func(x mLunMap) bool { return x.lun == u.uuid && x.igroup == g.uuid }) {
			writeErr(w, 409, codeDupLUNMap, "The LUN is already mapped to this initiator group.", "")
			return
		}
		n := m.freeLUN(g.uuid)
		if b.Number != nil {
			if *b.Number < 0 || *b.Number > 4095 {
				writeErr(w, 400, "262179", "logical_unit_number out of range", "logical_unit_number")
				return
			}
			if slices.ContainsFunc(m.lunMaps, func(x mLunMap) bool { return x.igroup == g.uuid && x.number == *b.Number }) {
				writeErr(w, 400, "model-lun-in-use", "The LUN ID is in use.", "logical_unit_number")
				return
			}
			n = *b.Number
		}
		m.lunMaps = append(m.lunMaps, mLunMap{lun: u.uuid, igroup: g.uuid, number: n})
		writeJSON(w, 201, map[string]any{"num_records": 1})
	})
	mux.HandleFunc("DELETE /api/protocols/san/lun-maps/{lun}/{ig}", func(w http.ResponseWriter, r *http.Request) {
		before := len(m.lunMaps)
		m.lunMaps = slices.DeleteFunc(m.lunMaps, func(x mLunMap) bool {
			return x.lun == r.PathValue("lun") && x.igroup == r.PathValue("ig")
		})
		if before == len(m.lunMaps) {
			writeErr(w, 404, codeLUNMapNF, "The specified LUN map does not exist.", "")
			return
		}
		writeJSON(w, 200, map[string]any{})
	})

	mux.HandleFunc("GET /api/protocols/san/iscsi/services", m.list(func() []map[string]any {
		if !m.iscsiOn {
			return nil
		}
		return []map[string]any{{"svm": map[string]any{"name": m.svm, "uuid": m.svmUUID}, "enabled": true,
			"target": map[string]any{"name": m.iscsiIQN, "alias": m.svm}}}
	}))
	mux.HandleFunc("GET /api/network/ip/interfaces", m.list(func() []map[string]any {
		var out []map[string]any
		for _, l := range m.lifs {
			out = append(out, map[string]any{"uuid": m.svmUUID + l.name, "name": l.name, "state": l.state, "enabled": true,
				"ip": map[string]any{"address": l.addr, "netmask": "24"}, "services": toAny(l.services),
				"svm": map[string]any{"name": m.svm}})
		}
		return out
	}))

	// NVMe
	mux.HandleFunc("GET /api/protocols/nvme/services", m.list(func() []map[string]any {
		if !m.nvmeOn {
			return nil
		}
		return []map[string]any{{"svm": map[string]any{"name": m.svm, "uuid": m.svmUUID}, "enabled": true}}
	}))
	mux.HandleFunc("GET /api/protocols/nvme/interfaces", m.list(func() []map[string]any {
		var out []map[string]any
		for _, l := range m.nvmeLIFs {
			out = append(out, map[string]any{"uuid": m.svmUUID + l.name, "name": l.name, "enabled": true,
				"transport_address": l.addr, "transport_protocols": toAny(l.services), "svm": map[string]any{"name": m.svm}})
		}
		return out
	}))
	mux.HandleFunc("GET /api/protocols/nvme/subsystems", m.list(func() []map[string]any {
		var out []map[string]any
		for _, s := range m.subs {
			out = append(out, subsystemJSON(s, m.svm))
		}
		return out
	}))
	mux.HandleFunc("GET /api/protocols/nvme/subsystems/{uuid}", func(w http.ResponseWriter, r *http.Request) {
		for _, s := range m.subs {
			if s.uuid == r.PathValue("uuid") {
				writeJSON(w, 200, project(subsystemJSON(s, m.svm), r.URL.Query().Get("fields")))
				return
			}
		}
		writeErr(w, 404, codeNotFound, "entry doesn't exist", "uuid")
	})
	mux.HandleFunc("POST /api/protocols/nvme/subsystems", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			SVM    struct{ Name string }  `json:"svm"`
			Name   string                 `json:"name"`
			OSType string                 `json:"os_type"`
			Hosts  []struct{ NQN string } `json:"hosts"`
		}
		if !decode(w, r, &b) {
			return
		}
		if b.SVM.Name != m.svm || b.Name == "" || b.OSType == "" {
			writeErr(w, 400, "262197", "svm.name, name and os_type are required", "")
			return
		}
		if slices.ContainsFunc(m.subs, func(s *mSubsystem) bool { return s.name == b.Name }) {
			writeErr(w, 409, "model-duplicate-subsystem", "duplicate entry", "name")
			return
		}
		s := &mSubsystem{uuid: m.id(), name: b.Name, osType: b.OSType,
			nqn: "nqn.1992-08.com.netapp:sn.4f6b0c1e:subsystem." + b.Name}
		for _, h := range b.Hosts {
			s.hosts = append(s.hosts, h.NQN)
		}
		m.subs = append(m.subs, s)
		writeJSON(w, 201, map[string]any{"num_records": 1})
	})
	mux.HandleFunc("POST /api/protocols/nvme/subsystems/{uuid}/hosts", func(w http.ResponseWriter, r *http.Request) {
		var s *mSubsystem
		for _, x := range m.subs {
			if x.uuid == r.PathValue("uuid") {
				s = x
			}
		}
		var b struct{ NQN string }
		if s == nil || !decode(w, r, &b) {
			if s == nil {
				writeErr(w, 404, codeNotFound, "entry doesn't exist", "subsystem.uuid")
			}
			return
		}
		if slices.Contains(s.hosts, b.NQN) {
			writeErr(w, 409, codeDupNQN, "The host is already in the subsystem.", "nqn")
			return
		}
		s.hosts = append(s.hosts, b.NQN)
		writeJSON(w, 201, map[string]any{})
	})
	mux.HandleFunc("DELETE /api/protocols/nvme/subsystems/{uuid}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("uuid")
		i := slices.IndexFunc(m.subs, func(s *mSubsystem) bool { return s.uuid == id })
		switch {
		case i < 0:
			writeErr(w, 404, codeNotFound, "entry doesn't exist", "uuid")
		case slices.ContainsFunc(m.subMaps, func(x mSubMap) bool { return x.sub == id }):
			writeErr(w, 400, "72090028", "The subsystem is mapped.", "")
		case len(m.subs[i].hosts) > 0 && r.URL.Query().Get("allow_delete_with_hosts") != "true":
			writeErr(w, 400, "72090029", "The subsystem has hosts.", "")
		default:
			m.subs = slices.Delete(m.subs, i, i+1)
			writeJSON(w, 200, map[string]any{})
		}
	})
	mux.HandleFunc("GET /api/protocols/nvme/subsystem-maps", m.list(func() []map[string]any {
		var out []map[string]any
		for _, x := range m.subMaps {
			out = append(out, m.subMapJSON(x))
		}
		return out
	}))
	mux.HandleFunc("GET /api/protocols/nvme/subsystem-maps/{ns}/{sub}", func(w http.ResponseWriter, r *http.Request) {
		for _, x := range m.subMaps {
			if x.ns == r.PathValue("ns") && x.sub == r.PathValue("sub") {
				writeJSON(w, 200, project(m.subMapJSON(x), r.URL.Query().Get("fields")))
				return
			}
		}
		writeErr(w, 404, codeNotFound, "entry doesn't exist", "")
	})
	mux.HandleFunc("POST /api/protocols/nvme/subsystem-maps", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			SVM       struct{ Name string } `json:"svm"`
			Subsystem struct{ UUID string }
			Namespace struct{ UUID string }
			NSID      string `json:"nsid"`
		}
		if !decode(w, r, &b) {
			return
		}
		if !slices.ContainsFunc(m.subs, func(s *mSubsystem) bool { return s.uuid == b.Subsystem.UUID }) ||
			!slices.ContainsFunc(m.spaces, func(u *mUnit) bool { return u.uuid == b.Namespace.UUID }) {
			writeErr(w, 404, codeNotFound, "entry doesn't exist", "")
			return
		}
		if slices.ContainsFunc(m.subMaps, func(x mSubMap) bool { return x.ns == b.Namespace.UUID }) {
			writeErr(w, 409, "72090019", "The namespace is already mapped.", "")
			return
		}
		n := 1
		for slices.ContainsFunc(m.subMaps, func(x mSubMap) bool { return x.sub == b.Subsystem.UUID && x.nsid == n }) {
			n++
		}
		if b.NSID != "" {
			v, err := strconv.ParseUint(strings.TrimSuffix(b.NSID, "h"), 16, 32)
			if err != nil || len(b.NSID) != 9 {
				writeErr(w, 400, "262179", "invalid nsid", "nsid")
				return
			}
			n = int(v)
		}
		m.subMaps = append(m.subMaps, mSubMap{ns: b.Namespace.UUID, sub: b.Subsystem.UUID, nsid: n})
		writeJSON(w, 201, map[string]any{"num_records": 1})
	})
	mux.HandleFunc("DELETE /api/protocols/nvme/subsystem-maps/{ns}/{sub}", func(w http.ResponseWriter, r *http.Request) {
		before := len(m.subMaps)
		m.subMaps = slices.DeleteFunc(m.subMaps, func(x mSubMap) bool { return x.ns == r.PathValue("ns") && x.sub == r.PathValue("sub") })
		if before == len(m.subMaps) {
			writeErr(w, 404, codeNotFound, "entry doesn't exist", "")
			return
		}
		writeJSON(w, 200, map[string]any{})
	})

	// Snapshots and jobs.
	mux.HandleFunc("GET /api/storage/volumes/{uuid}/snapshots", func(w http.ResponseWriter, r *http.Request) {
		var recs []map[string]any
		for _, s := range m.snaps[r.PathValue("uuid")] {
			recs = append(recs, map[string]any{"uuid": s.uuid, "name": s.name, "create_time": "2026-01-01T00:00:00Z"})
		}
		m.serveList(w, r, recs)
	})
	mux.HandleFunc("POST /api/storage/volumes/{uuid}/snapshots", func(w http.ResponseWriter, r *http.Request) {
		vol := r.PathValue("uuid")
		var b struct{ Name string }
		if !decode(w, r, &b) {
			return
		}
		if b.Name == "" {
			writeErr(w, 400, "262197", "name is required", "name")
			return
		}
		jid := m.id()
		m.jobs[jid] = &mJob{state: "running", fail: m.failSnapJob, done: func() {
			m.snaps[vol] = append(m.snaps[vol], mSnap{uuid: m.id(), name: b.Name})
		}}
		writeJSON(w, 202, map[string]any{"job": map[string]any{"uuid": jid,
			"_links": map[string]any{"self": map[string]any{"href": "/api/cluster/jobs/" + jid}}}})
	})
	mux.HandleFunc("GET /api/cluster/jobs/{uuid}", func(w http.ResponseWriter, r *http.Request) {
		j := m.jobs[r.PathValue("uuid")]
		if j == nil {
			writeErr(w, 404, codeNotFound, "entry doesn't exist", "uuid")
			return
		}
		j.polls++
		rec := map[string]any{"uuid": r.PathValue("uuid"), "state": j.state}
		if j.polls >= 2 && j.state == "running" {
			if j.fail {
				j.state = "failure"
				rec["code"] = 1638555
				rec["message"] = "Snapshot copy could not be created."
			} else {
				j.state = "success"
				j.done()
			}
			rec["state"] = j.state
		}
		writeJSON(w, 200, project(rec, r.URL.Query().Get("fields")))
	})

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.requests = append(m.requests, r.Method+" "+r.URL.RequestURI())
		if m.echo {
			e := storagetest.Echo(r, storagetest.ReadBody(r))
			storagetest.EchoHeaders(w, e)
			body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "999", "message": e, "target": "echo"}})
			w = storagetest.EchoErrors(w, body)
		}
		if m.override != nil && m.override(w, r) {
			return
		}
		if m.failAfter && r.Method == http.MethodDelete && m.authorized(r) {
			mux.ServeHTTP(httptest.NewRecorder(), r) // the change happens; its answer is lost
			writeErr(w, 500, "", "internal error", "")
			return
		}
		if m.refuse != 0 && r.Method == http.MethodDelete && m.authorized(r) {
			writeErr(w, m.refuse, m.refuseCode, "refused by the cluster", "")
			return
		}
		if m.fail401 > 0 {
			m.fail401--
			m.rejectedCalls++
			writeErr(w, 401, "6", "not authorized for that command", "")
			return
		}
		if !m.authorized(r) {
			m.rejectedCalls++
			writeErr(w, 401, "6", "not authorized for that command", "")
			return
		}
		m.authedCalls++
		mux.ServeHTTP(w, r)
	})
}

func (m *ontapModel) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
	return strings.HasPrefix(h, "Basic ") && err == nil && string(raw) == m.user+":"+m.pass
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Header.Get("Content-Type") != "application/json" {
		writeErr(w, 400, "262185", "Content-Type must be application/json", "")
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeErr(w, 400, "262185", "invalid JSON body", "")
		return false
	}
	return true
}

func (m *ontapModel) igroup(id string) *mIgroup {
	for _, g := range m.igroups {
		if g.uuid == id {
			return g
		}
	}
	return nil
}

func (m *ontapModel) freeLUN(igroup string) int {
	n := m.firstAutoLUN
	for slices.ContainsFunc(m.lunMaps, func(x mLunMap) bool { return x.igroup == igroup && x.number == n }) {
		n++
	}
	return n
}

func unitJSON(u *mUnit, svm string) map[string]any {
	return map[string]any{"uuid": u.uuid, "name": u.name, "os_type": "linux", "enabled": true,
		"svm":      map[string]any{"name": svm},
		"space":    map[string]any{"size": u.size, "used": 0},
		"location": map[string]any{"volume": map[string]any{"uuid": u.volUUID, "name": u.volName}}}
}

func igroupJSON(g *mIgroup, svm string) map[string]any {
	var ins []any
	for _, i := range g.initiators {
		ins = append(ins, map[string]any{"name": i})
	}
	return map[string]any{"uuid": g.uuid, "name": g.name, "protocol": g.protocol, "os_type": g.osType,
		"svm": map[string]any{"name": svm}, "initiators": ins}
}

func subsystemJSON(s *mSubsystem, svm string) map[string]any {
	var hs []any
	for _, h := range s.hosts {
		hs = append(hs, map[string]any{"nqn": h})
	}
	return map[string]any{"uuid": s.uuid, "name": s.name, "target_nqn": s.nqn, "os_type": s.osType,
		"svm": map[string]any{"name": svm}, "hosts": hs}
}

func (m *ontapModel) lunMapJSON(x mLunMap) map[string]any {
	rec := map[string]any{"logical_unit_number": x.number, "svm": map[string]any{"name": m.svm},
		"igroup": map[string]any{"uuid": x.igroup}, "lun": map[string]any{"uuid": x.lun}}
	if g := m.igroup(x.igroup); g != nil {
		rec["igroup"].(map[string]any)["name"] = g.name
	}
	for _, u := range m.luns {
		if u.uuid == x.lun {
			rec["lun"].(map[string]any)["name"] = u.name
		}
	}
	return rec
}

func (m *ontapModel) subMapJSON(x mSubMap) map[string]any {
	rec := map[string]any{"nsid": fmt.Sprintf("%08xh", x.nsid), "svm": map[string]any{"name": m.svm},
		"subsystem": map[string]any{"uuid": x.sub}, "namespace": map[string]any{"uuid": x.ns}}
	for _, u := range m.spaces {
		if u.uuid == x.ns {
			rec["namespace"].(map[string]any)["name"] = u.name
		}
	}
	return rec
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// list serves a collection with ONTAP's query filters, fields and paging.
func (m *ontapModel) list(records func() []map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { m.serveList(w, r, records()) }
}

var controlParams = map[string]bool{"fields": true, "max_records": true, "start.index": true, "forever": true,
	"return_records": true, "return_timeout": true, "order_by": true}

func (m *ontapModel) serveList(w http.ResponseWriter, r *http.Request, all []map[string]any) {
	q := r.URL.Query()
	var recs []map[string]any
	for _, rec := range all {
		keep := true
		for k, v := range q {
			if !controlParams[k] && !matches(rec, strings.Split(k, "."), v[0]) {
				keep = false
			}
		}
		if keep {
			recs = append(recs, rec)
		}
	}
	start := 0
	if v := q.Get("start.index"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, 400, "262179", "invalid start", "start.index")
			return
		}
		start = n
	}
	size := len(recs)
	if v := q.Get("max_records"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeErr(w, 400, "262179", "max_records must be a positive integer", "max_records")
			return
		}
		size = n
	}
	end := min(start+size, len(recs))
	if start > len(recs) {
		start = len(recs)
	}
	out := map[string]any{"num_records": end - start}
	page := make([]any, 0, end-start)
	for _, rec := range recs[start:end] {
		page = append(page, project(rec, q.Get("fields")))
	}
	out["records"] = page
	links := map[string]any{"self": map[string]any{"href": r.URL.RequestURI()}}
	if end < len(recs) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("start.index", strconv.Itoa(end))
		href := r.URL.Path + "?" + nq.Encode()
		if m.foreignNext {
			href = "https://attacker.example" + href
		}
		links["next"] = map[string]any{"href": href}
	}
	if m.foreverPages {
		m.seq++
		out["records"] = page[:min(1, len(page))]
		links["next"] = map[string]any{"href": r.URL.Path + "?forever=" + strconv.Itoa(m.seq)}
	}
	if m.padPages > 0 {
		out["padding"] = strings.Repeat("x", m.padPages)
	}
	out["_links"] = links
	writeJSON(w, 200, out)
}

func matches(rec map[string]any, path []string, want string) bool {
	v, ok := rec[path[0]]
	if !ok {
		return false
	}
	if len(path) > 1 {
		if sub, ok := v.(map[string]any); ok {
			return matches(sub, path[1:], want)
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if sub, ok := e.(map[string]any); ok && matches(sub, path[1:], want) {
					return true
				}
			}
		}
		return false
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if fmt.Sprint(e) == want {
				return true
			}
		}
		return false
	default:
		return fmt.Sprint(x) == want
	}
}

// project keeps the requested fields (dotted paths) plus uuid and name, as
// ONTAP does for ?fields=.
func project(rec map[string]any, fields string) map[string]any {
	if fields == "" || fields == "*" {
		return rec
	}
	out := map[string]any{}
	for _, k := range []string{"uuid", "name"} {
		if v, ok := rec[k]; ok {
			out[k] = v
		}
	}
	for _, f := range strings.Split(fields, ",") {
		copyPath(rec, out, strings.Split(f, "."))
	}
	return out
}

func copyPath(src, dst map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return
	}
	d, _ := dst[path[0]].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[path[0]] = d
	}
	copyPath(sub, d, path[1:])
}

// Observations for assertions (taken under the lock).

func (m *ontapModel) count(f func(m *ontapModel) int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return f(m)
}

func (m *ontapModel) set(f func(m *ontapModel)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *ontapModel) requestsMatching(prefix string) int {
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
