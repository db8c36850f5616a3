package alletra

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/outposts-ha/outposts-ha/internal/storage"
)

// WSAPI enumerations used here.
const (
	protocolISCSI   = 2 // ports[].protocol
	protocolNVMe    = 6
	linkStateReady  = 4 // ports[].linkState
	copyTypeVirtual = 3 // volumes[].copyType: 1 base, 2 physical copy, 3 virtual copy (snapshot)
	transportTCP    = 2 // hosts transportType for NVMe/TCP
	pathAdd         = 1 // hosts pathOperation: add

	// Host personas (HPE 3PAR/Primera persona ids, as in HPE's hpe3par_sdk).
	personaGenericALUA   = 2
	personaWindowsServer = 11

	maxLUN    = 16383
	iscsiPort = 3260
	nvmePort  = 4420
)

type volume struct {
	ID               int    `json:"id"`
	Name             string `json:"name"`
	SizeMiB          int64  `json:"sizeMiB"`
	ProvisioningType int    `json:"provisioningType"`
	CopyType         int    `json:"copyType"`
	CopyOf           string `json:"copyOf"`
}

type members[T any] struct {
	Total   int `json:"total"`
	Members []T `json:"members"`
}

type host struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Persona     int    `json:"persona"`
	Descriptors *struct {
		OS string `json:"os"`
	} `json:"descriptors"`
	ISCSIPaths []struct {
		Name string `json:"name"`
	} `json:"iSCSIPaths"`
	NVMETCPPaths []struct {
		NQN string `json:"NQN"` // encoding/json also matches "nqn"
	} `json:"NVMETCPPaths"`
	FCPaths []struct {
		WWN string `json:"wwn"`
	} `json:"FCPaths"`
}

type descriptors struct {
	OS      string `json:"os"`
	Comment string `json:"comment,omitempty"`
}

type hostCreate struct {
	Name          string      `json:"name"`
	ISCSINames    []string    `json:"iSCSINames,omitempty"`
	NQN           string      `json:"NQN,omitempty"`
	TransportType int         `json:"transportType,omitempty"`
	Persona       int         `json:"persona,omitempty"`
	Descriptors   descriptors `json:"descriptors"`
}

type hostModify struct {
	PathOperation int      `json:"pathOperation"`
	ISCSINames    []string `json:"iSCSINames"`
}

type vlun struct {
	VolumeName   string `json:"volumeName"`
	Hostname     string `json:"hostname"`
	LUN          int    `json:"lun"`
	Active       bool   `json:"active"`
	Type         int    `json:"type"`
	SubsystemNQN string `json:"Subsystem_NQN"`
}

type vlunCreate struct {
	VolumeName string `json:"volumeName"`
	Hostname   string `json:"hostname"`
	LUN        int    `json:"lun"`
	AutoLun    bool   `json:"autoLun,omitempty"`
	MaxAutoLun *int   `json:"maxAutoLun,omitempty"`
}

type port struct {
	PortPos struct {
		Node     int `json:"node"`
		Slot     int `json:"slot"`
		CardPort int `json:"cardPort"`
	} `json:"portPos"`
	Protocol  int    `json:"protocol"`
	LinkState int    `json:"linkState"`
	IPAddr    string `json:"IPAddr"`
	ISCSIName string `json:"iSCSIName"`
	// nodeWWN is deliberately not read: it is a WWN, never an address.
}

func (p port) pos() string {
	return fmt.Sprintf("%d:%d:%d", p.PortPos.Node, p.PortPos.Slot, p.PortPos.CardPort)
}

// objectName checks a WSAPI object name that goes into a URL path.
func objectName(op, what, s string) error {
	if s == "" || len(s) > 63 || strings.ContainsAny(s, "/,\\?#%") ||
		strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return invalid(op, "%s %q is not a valid array object name", what, s)
	}
	return nil
}

func (c *Client) remember(hostName string) {
	c.mu.Lock()
	c.lastHost = hostName
	c.mu.Unlock()
}

// opVolumes lists every volume whatever its provisioning type (full, thin,
// dedup, compressed, ...), leaving out only virtual copies (snapshots), sorted
// by name. SizeBytes is sizeMiB × 1 MiB. On this array ID and Name are both the
// volume name, which is what WSAPI addresses volumes by.
func (c *Client) opVolumes(ctx context.Context) ([]storage.Volume, error) {
	var vs members[volume]
	if _, err := c.do(ctx, call{op: "list volumes", method: http.MethodGet, path: "/volumes"}, &vs); err != nil {
		return nil, err
	}
	out := make([]storage.Volume, 0, len(vs.Members))
	for _, v := range vs.Members {
		if v.CopyType == copyTypeVirtual {
			continue
		}
		out = append(out, storage.Volume{ID: v.Name, Name: v.Name, SizeBytes: v.SizeMiB << 20})
	}
	out = c.red.SafeVolumes(ctx, c.log, out)
	slices.SortFunc(out, func(a, b storage.Volume) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func volName(op string, v storage.Volume) (string, error) {
	n := cmp.Or(v.Name, v.ID)
	return n, objectName(op, "volume", n)
}

func hostName(op string, h storage.Host) (string, error) {
	n := cmp.Or(h.ID, h.Name)
	return n, objectName(op, "host", n)
}

// opEnsureHost finds the host by name or creates it with the one initiator, the
// persona for its OS (iSCSI) and descriptors.os. An existing iSCSI host missing
// the IQN gets it added; an existing host holding any other initiator is
// refused (KindInvalid), because that initiator would see this workload's
// volumes. HPE hosts hold one NVMe NQN, set at creation.
func (c *Client) opEnsureHost(ctx context.Context, h storage.HostSpec) (storage.Host, error) {
	const op = "ensure host"
	body, err := hostBody(op, h)
	if err != nil {
		return storage.Host{}, err
	}
	found, err := c.getHost(ctx, h.Name)
	if err != nil {
		return storage.Host{}, err
	}
	if found == nil {
		_, cerr := c.do(ctx, call{op: "create host", method: http.MethodPost, path: "/hosts", body: body}, nil)
		if cerr == nil {
			c.log.Info("created host", "host", h.Name, "protocol", string(h.Protocol), "persona", body.Persona, "os", body.Descriptors.OS)
			c.remember(h.Name)
			return storage.Host{ID: h.Name, Name: h.Name, Initiators: []string{h.Initiator}, Created: true}, nil
		}
		// EXISTENT_HOST, a concurrent run or a lost reply: the array's state decides.
		found, err = c.getHost(ctx, h.Name)
		if err != nil {
			return storage.Host{}, err
		}
		if found == nil {
			return storage.Host{}, cerr
		}
		c.log.Info("host already existed; using it", "host", h.Name)
	}
	if err := c.adoptHost(ctx, found, h, body); err != nil {
		return storage.Host{}, err
	}
	c.remember(h.Name)
	return storage.Host{ID: h.Name, Name: h.Name, Initiators: []string{h.Initiator}, Created: false}, nil
}

func hostBody(op string, h storage.HostSpec) (hostCreate, error) {
	// WSAPI host names are at most 31 characters.
	if len(h.Name) > 31 {
		return hostCreate{}, invalid(op, "host name %q is longer than 31 characters", h.Name)
	}
	if err := objectName(op, "host", h.Name); err != nil {
		return hostCreate{}, err
	}
	if h.Initiator == "" || len(h.Initiator) > 223 || strings.ContainsFunc(h.Initiator, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return hostCreate{}, invalid(op, "initiator %q must be 1-223 characters with no spaces", h.Initiator)
	}
	b := hostCreate{Name: h.Name, Descriptors: descriptors{Comment: "outposts-ha"}}
	switch h.OS {
	case "", storage.Linux:
		b.Descriptors.OS, b.Persona = "Linux", personaGenericALUA
	case storage.Windows:
		b.Descriptors.OS, b.Persona = "Windows", personaWindowsServer
	default:
		return hostCreate{}, invalid(op, "OS type %q is not linux or windows", h.OS)
	}
	lower := strings.ToLower(h.Initiator)
	switch h.Protocol {
	case storage.ISCSI:
		if !strings.HasPrefix(lower, "iqn.") && !strings.HasPrefix(lower, "eui.") && !strings.HasPrefix(lower, "naa.") {
			return hostCreate{}, invalid(op, "initiator %q is not an iSCSI name (iqn., eui. or naa.)", h.Initiator)
		}
		b.ISCSINames = []string{h.Initiator}
	case storage.NVMeTCP:
		if !strings.HasPrefix(lower, "nqn.") {
			return hostCreate{}, invalid(op, "initiator %q is not an NVMe host NQN (nqn.)", h.Initiator)
		}
		// Persona is set for iSCSI hosts only: whether WSAPI accepts or needs it
		// on an NVMe host is not established.
		b.NQN, b.TransportType, b.Persona = h.Initiator, transportTCP, 0
	default:
		return hostCreate{}, invalid(op, "protocol %q is not iscsi or nvme-tcp", h.Protocol)
	}
	return b, nil
}

func (c *Client) getHost(ctx context.Context, name string) (*host, error) {
	var h host
	_, err := c.do(ctx, call{op: "find host", method: http.MethodGet, path: "/hosts/" + url.PathEscape(name)}, &h)
	if storage.KindOf(err) == storage.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

func (h *host) paths() []string {
	var out []string
	for _, p := range h.ISCSIPaths {
		out = append(out, p.Name)
	}
	for _, p := range h.NVMETCPPaths {
		out = append(out, p.NQN)
	}
	for _, p := range h.FCPaths {
		out = append(out, p.WWN)
	}
	return out
}

func (c *Client) adoptHost(ctx context.Context, found *host, h storage.HostSpec, want hostCreate) error {
	const op = "ensure host"
	have := false
	var foreign []string
	for _, p := range found.paths() {
		if strings.EqualFold(p, h.Initiator) {
			have = true
			continue
		}
		foreign = append(foreign, p)
	}
	if len(foreign) > 0 {
		return invalid(op, "host %q already holds other initiators %s: they would see this workload's volumes; "+
			"remove them on the array or choose another host name", found.Name, strings.Join(foreign, ", "))
	}
	if want.Persona != 0 && found.Persona != want.Persona {
		c.log.Warn("existing host has a different persona; leaving it", "host", found.Name, "persona", found.Persona, "wanted", want.Persona)
	}
	if have {
		return nil
	}
	if h.Protocol == storage.NVMeTCP {
		return invalid(op, "host %q exists without NQN %s and an HPE host's NVMe NQN is set only at creation: delete the host or choose another name", found.Name, h.Initiator)
	}
	body := hostModify{PathOperation: pathAdd, ISCSINames: []string{h.Initiator}}
	if _, err := c.do(ctx, call{op: "add initiator to host", method: http.MethodPut, path: "/hosts/" + url.PathEscape(found.Name), body: body}, nil); err != nil {
		again, rerr := c.getHost(ctx, found.Name)
		if rerr != nil || again == nil || !slices.ContainsFunc(again.paths(), func(p string) bool { return strings.EqualFold(p, h.Initiator) }) {
			return err
		}
	}
	c.log.Info("added initiator to host", "host", found.Name)
	return nil
}

func vlunQuery(field, value string) url.Values {
	return url.Values{"query": {`"` + field + " EQ " + value + `"`}}
}

// exportLUNs returns the distinct LUNs the volume is exported at to the host.
// GET /vluns lists templates and active paths, so one export can appear more than once.
func (c *Client) exportLUNs(ctx context.Context, vol, hostName string) ([]int, error) {
	var vs members[vlun]
	if _, err := c.do(ctx, call{op: "read exports", method: http.MethodGet, path: "/vluns", query: vlunQuery("volumeName", vol)}, &vs); err != nil {
		return nil, err
	}
	var luns []int
	for _, v := range vs.Members {
		if v.VolumeName == vol && v.Hostname == hostName && !slices.Contains(luns, v.LUN) {
			luns = append(luns, v.LUN)
		}
	}
	slices.Sort(luns)
	return luns, nil
}

func (c *Client) hostVLUNs(ctx context.Context, hostName string) ([]vlun, error) {
	var vs members[vlun]
	if _, err := c.do(ctx, call{op: "read host exports", method: http.MethodGet, path: "/vluns", query: vlunQuery("hostname", hostName)}, &vs); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(vs.Members, func(v vlun) bool { return v.Hostname != hostName }), nil
}

// lunUser returns the volume exported at lun to the host, other than vol, or "".
func (c *Client) lunUser(ctx context.Context, hostName string, lun int, vol string) (string, error) {
	vs, err := c.hostVLUNs(ctx, hostName)
	if err != nil {
		return "", err
	}
	for _, v := range vs {
		if v.LUN == lun && v.VolumeName != vol {
			return v.VolumeName, nil
		}
	}
	return "", nil
}

// opMap exports the volume to the host (never to a host set) and returns the LUN
// the array reports in GET /vluns. An existing export is returned as it is. A
// requested LUN another volume uses on this host is KindLUNConflict; lun < 0
// lets the array choose (autoLun).
func (c *Client) opMap(ctx context.Context, h storage.Host, vol storage.Volume, lun int) (storage.Mapping, error) {
	const op = "map volume"
	hn, err := hostName(op, h)
	if err != nil {
		return storage.Mapping{}, err
	}
	vn, err := volName(op, vol)
	if err != nil {
		return storage.Mapping{}, err
	}
	if lun > maxLUN {
		return storage.Mapping{}, invalid(op, "LUN %d is above %d", lun, maxLUN)
	}
	c.remember(hn)
	result := func(luns []int) (storage.Mapping, error) {
		if len(luns) > 1 {
			return storage.Mapping{}, invalid(op, "volume %s is exported to host %s at several LUNs %v: remove the extra exports", vn, hn, luns)
		}
		if lun >= 0 && luns[0] != lun {
			c.log.Warn("volume is exported at a different LUN than requested; using the array's", "volume", vn, "host", hn, "lun", luns[0], "requested", lun)
		}
		return storage.Mapping{Volume: vol, HostID: hn, LUN: luns[0]}, nil
	}
	luns, err := c.exportLUNs(ctx, vn, hn)
	if err != nil {
		return storage.Mapping{}, err
	}
	if len(luns) > 0 {
		c.log.Info("volume already exported", "volume", vn, "host", hn, "lun", luns[0])
		return result(luns)
	}
	conflict := func(user string, cause error) error {
		return &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindLUNConflict,
			Err: errors.Join(fmt.Errorf("LUN %d on host %s is already used by volume %s", lun, hn, user), cause)}
	}
	body := vlunCreate{VolumeName: vn, Hostname: hn, LUN: lun}
	if lun >= 0 {
		user, err := c.lunUser(ctx, hn, lun, vn)
		if err != nil {
			return storage.Mapping{}, err
		}
		if user != "" {
			return storage.Mapping{}, conflict(user, nil)
		}
	} else {
		zero := 0
		body.LUN, body.AutoLun, body.MaxAutoLun = 0, true, &zero
	}
	// A failure here (codeAlreadyExported, a LUN clash, a lost reply) is judged
	// by re-reading the exports, not by its code.
	_, perr := c.do(ctx, call{op: op, method: http.MethodPost, path: "/vluns", body: body}, nil)
	luns, err = c.exportLUNs(ctx, vn, hn)
	if err != nil {
		return storage.Mapping{}, err
	}
	if len(luns) > 0 {
		if perr != nil {
			c.log.Info("export reported an error but the volume is exported; using the export", "volume", vn, "host", hn)
		}
		c.log.Info("exported volume", "volume", vn, "host", hn, "lun", luns[0])
		return result(luns)
	}
	if perr != nil {
		if lun >= 0 {
			if user, uerr := c.lunUser(ctx, hn, lun, vn); uerr == nil && user != "" {
				return storage.Mapping{}, conflict(user, perr)
			}
		}
		return storage.Mapping{}, perr
	}
	return storage.Mapping{}, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown,
		Err: errors.New("the export succeeded but GET /vluns does not list it")}
}

// opTarget returns the first of Targets.
func (c *Client) opTarget(ctx context.Context, p storage.Protocol) (storage.Target, error) {
	ts, err := c.opTargets(ctx, p)
	if err != nil {
		return storage.Target{}, err
	}
	return ts[0], nil
}

// opTargets lists targets best first. iSCSI: one Target per port IQN (each HPE
// iSCSI port has its own) from READY ports with protocol 2. NVMe/TCP: the
// subsystem NQN(s) from the exports of the host last passed to EnsureHost or
// Map, with the IPAddr of every READY protocol-6 port. See TargetsForHost.
func (c *Client) opTargets(ctx context.Context, p storage.Protocol) ([]storage.Target, error) {
	c.mu.Lock()
	hn := c.lastHost
	c.mu.Unlock()
	return c.opTargetsForHost(ctx, p, storage.Host{ID: hn, Name: hn})
}

// opTargetsForHost is Targets with the host named explicitly; the host matters
// for NVMe/TCP only, because WSAPI reports the subsystem NQN on the host's VLUNs.
func (c *Client) opTargetsForHost(ctx context.Context, p storage.Protocol, h storage.Host) ([]storage.Target, error) {
	switch p {
	case storage.ISCSI, storage.NVMeTCP:
	default:
		return nil, &storage.Error{Vendor: Vendor, Op: "discover targets", Kind: storage.KindUnsupported,
			Err: fmt.Errorf("protocol %q is not iscsi or nvme-tcp", p)}
	}
	var ps members[port]
	if _, err := c.do(ctx, call{op: "list ports", method: http.MethodGet, path: "/ports"}, &ps); err != nil {
		return nil, err
	}
	if p == storage.ISCSI {
		return c.iscsiTargets(ps.Members)
	}
	return c.nvmeTargets(ctx, ps.Members, h)
}

// portAddr checks a port's IPAddr by the same rules as a portal in the
// answers file (storage.PortalAddr). An unconfigured port reports 0.0.0.0.
func (c *Client) portAddr(p port) (string, bool) {
	a, err := storage.PortalAddr(p.IPAddr)
	if err != nil {
		c.log.Warn("skipping a ready port without a usable IPAddr", "port", p.pos(), "protocol", p.Protocol, "error", err.Error())
		return "", false
	}
	return a, true
}

func (c *Client) iscsiTargets(ports []port) ([]storage.Target, error) {
	byIQN := map[string][]storage.Endpoint{}
	for _, p := range ports {
		if p.Protocol != protocolISCSI || p.LinkState != linkStateReady {
			continue
		}
		addr, ok := c.portAddr(p)
		if !ok {
			continue
		}
		if p.ISCSIName == "" {
			c.log.Warn("skipping an iSCSI port without iSCSIName", "port", p.pos())
			continue
		}
		if err := storage.TargetName(storage.ISCSI, p.ISCSIName); err != nil {
			c.log.Warn("skipping an iSCSI port with an unusable iSCSIName", "port", p.pos(), "error", err.Error())
			continue
		}
		byIQN[p.ISCSIName] = addEndpoint(byIQN[p.ISCSIName], storage.Endpoint{Address: addr, Port: iscsiPort})
	}
	if len(byIQN) == 0 {
		return nil, &storage.Error{Vendor: Vendor, Op: "discover iSCSI targets", Kind: storage.KindUnsupported,
			Err: errors.New("the array has no READY iSCSI port with an IP address")}
	}
	out := make([]storage.Target, 0, len(byIQN))
	for iqn, eps := range byIQN {
		out = append(out, storage.Target{Name: iqn, Protocol: storage.ISCSI, Endpoints: eps})
	}
	slices.SortFunc(out, func(a, b storage.Target) int {
		return cmp.Or(cmp.Compare(len(b.Endpoints), len(a.Endpoints)), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func (c *Client) nvmeTargets(ctx context.Context, ports []port, h storage.Host) ([]storage.Target, error) {
	const op = "discover NVMe/TCP targets"
	var eps []storage.Endpoint
	ready := 0
	for _, p := range ports {
		if p.Protocol != protocolNVMe || p.LinkState != linkStateReady {
			continue
		}
		ready++
		if addr, ok := c.portAddr(p); ok {
			eps = addEndpoint(eps, storage.Endpoint{Address: addr, Port: nvmePort})
		}
	}
	if len(eps) == 0 {
		return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnsupported,
			Err: fmt.Errorf("the array has no READY NVMe port with an IP address (%d ready NVMe ports without one)", ready)}
	}
	hn := cmp.Or(h.ID, h.Name)
	if hn == "" {
		return nil, invalid(op, "the NVMe subsystem NQN is reported on a host's exports: call EnsureHost and Map first")
	}
	if err := objectName(op, "host", hn); err != nil {
		return nil, err
	}
	vs, err := c.hostVLUNs(ctx, hn)
	if err != nil {
		return nil, err
	}
	var nqns []string
	for _, v := range vs {
		if v.SubsystemNQN == "" || slices.Contains(nqns, v.SubsystemNQN) {
			continue
		}
		if err := storage.TargetName(storage.NVMeTCP, v.SubsystemNQN); err != nil {
			c.log.Warn("skipping an export with an unusable subsystem NQN", "volume", v.VolumeName, "error", err.Error())
			continue
		}
		nqns = append(nqns, v.SubsystemNQN)
	}
	if len(nqns) == 0 {
		return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindNotFound,
			Err: fmt.Errorf("host %s has no export that reports an NVMe subsystem NQN: map a volume to it first", hn)}
	}
	slices.Sort(nqns)
	out := make([]storage.Target, 0, len(nqns))
	for _, n := range nqns {
		out = append(out, storage.Target{Name: n, Protocol: storage.NVMeTCP, Endpoints: slices.Clone(eps)})
	}
	return out, nil
}

func addEndpoint(eps []storage.Endpoint, e storage.Endpoint) []storage.Endpoint {
	if slices.Contains(eps, e) {
		return eps
	}
	eps = append(eps, e)
	slices.SortFunc(eps, func(a, b storage.Endpoint) int {
		return cmp.Or(netip.MustParseAddr(a.Address).Compare(netip.MustParseAddr(b.Address)), cmp.Compare(a.Port, b.Port))
	})
	return eps
}

// opSnapshot creates a read-only virtual copy of the volume. Re-running with the
// same name returns the copy an earlier run made of the same volume.
func (c *Client) opSnapshot(ctx context.Context, vol storage.Volume, name string) (storage.Snapshot, error) {
	const op = "create snapshot"
	vn, err := volName(op, vol)
	if err != nil {
		return storage.Snapshot{}, err
	}
	if len(name) > 31 {
		return storage.Snapshot{}, invalid(op, "snapshot name %q is longer than 31 characters", name)
	}
	if err := objectName(op, "snapshot", name); err != nil {
		return storage.Snapshot{}, err
	}
	body := map[string]any{"action": "createSnapshot", "parameters": map[string]any{"name": name, "readOnly": true, "comment": "outposts-ha"}}
	_, serr := c.do(ctx, call{op: op, method: http.MethodPost, path: "/volumes/" + url.PathEscape(vn), body: body}, nil)
	if serr == nil {
		c.log.Info("created snapshot", "volume", vn, "snapshot", name)
		return storage.Snapshot{ID: name, Name: name, Volume: vn}, nil
	}
	var existing volume
	if _, err := c.do(ctx, call{op: "find snapshot", method: http.MethodGet, path: "/volumes/" + url.PathEscape(name)}, &existing); err == nil &&
		existing.Name == name && existing.CopyOf == vn {
		c.log.Info("snapshot already existed; using it", "volume", vn, "snapshot", name)
		return storage.Snapshot{ID: name, Name: name, Volume: vn}, nil
	}
	return storage.Snapshot{}, serr
}

// opUnmap removes every export of the volume to the host. No export (or an
// absent host or volume) is success.
func (c *Client) opUnmap(ctx context.Context, h storage.Host, vol storage.Volume) error {
	const op = "unmap volume"
	hn, err := hostName(op, h)
	if err != nil {
		return err
	}
	vn, err := volName(op, vol)
	if err != nil {
		return err
	}
	luns, err := c.exportLUNs(ctx, vn, hn)
	if err != nil {
		return err
	}
	if len(luns) == 0 {
		c.log.Info("volume already unexported", "volume", vn, "host", hn)
		return nil
	}
	for _, l := range luns {
		p := "/vluns/" + url.PathEscape(vn) + "," + strconv.Itoa(l) + "," + url.PathEscape(hn)
		if _, err := c.do(ctx, call{op: op, method: http.MethodDelete, path: p}, nil); err != nil {
			// Refused, whatever the code says (NON_EXISTENT_VLUN included):
			// only an export that is gone on a re-read is success.
			left, rerr := c.exportLUNs(ctx, vn, hn)
			if rerr != nil || slices.Contains(left, l) {
				return storage.NotGone(err, rerr, "export")
			}
		}
	}
	c.log.Info("unexported volume", "volume", vn, "host", hn)
	return nil
}

// opDeleteHost deletes the host. An absent host is success; a host that still
// has exports or sits in a host set is refused by the array (KindInvalid).
func (c *Client) opDeleteHost(ctx context.Context, h storage.Host) error {
	const op = "delete host"
	hn, err := hostName(op, h)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, call{op: op, method: http.MethodDelete, path: "/hosts/" + url.PathEscape(hn)}, nil)
	if err == nil {
		c.log.Info("deleted host", "host", hn)
		return nil
	}
	found, rerr := c.getHost(ctx, hn)
	if rerr == nil && found == nil {
		c.log.Info("host already gone", "host", hn)
		return nil
	}
	return storage.NotGone(err, rerr, "host")
}

// opDeleteVolume destroys the volume and its data. An absent volume is success.
func (c *Client) opDeleteVolume(ctx context.Context, vol storage.Volume) error {
	const op = "delete volume"
	vn, err := volName(op, vol)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, call{op: op, method: http.MethodDelete, path: "/volumes/" + url.PathEscape(vn)}, nil)
	if err == nil {
		c.log.Info("deleted volume", "volume", vn)
		return nil
	}
	_, rerr := c.do(ctx, call{op: "find volume", method: http.MethodGet, path: "/volumes/" + url.PathEscape(vn)}, nil)
	if storage.KindOf(rerr) == storage.KindNotFound {
		c.log.Info("volume already gone", "volume", vn)
		return nil
	}
	return storage.NotGone(err, rerr, "volume")
}
