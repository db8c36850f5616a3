package powerstore

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

	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/storage"
)

const (
	iscsiPort = 3260
	nvmePort  = 4420

	purposeISCSI = "Storage_Iscsi_Target"
	purposeNVMe  = "Storage_NVMe_TCP_Port"

	// maxIPPorts bounds the ip_port lookups of one iSCSI discovery (one GET
	// each): a cluster has a few ports per node, a hostile array could list
	// a distinct port for every one of thousands of addresses.
	maxIPPorts = 256
)

type volume struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type"`
	// ProtectionData is read only for snapshots, to find their source.
	ProtectionData *struct {
		SourceID string `json:"source_id"`
	} `json:"protection_data,omitempty"`
}

type initiator struct {
	PortName string `json:"port_name"`
	PortType string `json:"port_type"`
}

type host struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	OSType     string      `json:"os_type"`
	Initiators []initiator `json:"host_initiators"`
}

type hostCreate struct {
	Name       string      `json:"name"`
	OSType     string      `json:"os_type"`
	Initiators []initiator `json:"initiators"`
}

type hostModify struct {
	AddInitiators []initiator `json:"add_initiators"`
}

type mapping struct {
	ID       string `json:"id"`
	HostID   string `json:"host_id"`
	VolumeID string `json:"volume_id"`
	LUN      int    `json:"logical_unit_number"`
}

type attach struct {
	HostID string `json:"host_id"`
	LUN    *int   `json:"logical_unit_number,omitempty"`
}

type detach struct {
	HostID string `json:"host_id"`
}

type poolAddress struct {
	ID          string   `json:"id"`
	Address     string   `json:"address"`
	IPPortID    string   `json:"ip_port_id"`
	ApplianceID string   `json:"appliance_id"`
	Purposes    []string `json:"purposes"`
}

type ipPort struct {
	ID        string `json:"id"`
	TargetIQN string `json:"target_iqn"`
}

type cluster struct {
	ID              string `json:"id"`
	NVMSubsystemNQN string `json:"nvm_subsystem_nqn"`
}

type created struct {
	ID string `json:"id"`
}

func sel(fields string, kv ...string) url.Values {
	q := url.Values{"select": {fields}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

func idPath(kind, id string, action ...string) string {
	p := "/" + kind + "/" + url.PathEscape(id)
	for _, a := range action {
		p += "/" + a
	}
	return p
}

// opVolumes lists the volumes an operator can pick (primary volumes and clones;
// snapshots cannot be attached and are left out), sorted by name.
func (c *Client) opVolumes(ctx context.Context) ([]storage.Volume, error) {
	vols, err := listAll[volume](ctx, c, "list volumes", "/volume",
		sel("id,name,size,type", "type", "neq.Snapshot"))
	if err != nil {
		return nil, err
	}
	out := make([]storage.Volume, 0, len(vols))
	for _, v := range vols {
		if v.Type == "Snapshot" {
			continue
		}
		out = append(out, storage.Volume{ID: v.ID, Name: v.Name, SizeBytes: v.Size})
	}
	out = c.red.SafeVolumes(ctx, c.log, out)
	slices.SortFunc(out, func(a, b storage.Volume) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// opEnsureHost finds the host by name or creates it with the one initiator. An
// existing host missing the initiator gets it added; an existing host holding
// any other initiator is refused (KindInvalid), because that initiator would
// see this workload's volumes.
func (c *Client) opEnsureHost(ctx context.Context, h storage.HostSpec) (storage.Host, error) {
	const op = "ensure host"
	portType, osType, err := checkSpec(op, h)
	if err != nil {
		return storage.Host{}, err
	}
	found, err := c.findHost(ctx, h.Name)
	if err != nil {
		return storage.Host{}, err
	}
	if found == nil {
		body := hostCreate{Name: h.Name, OSType: osType, Initiators: []initiator{{PortName: h.Initiator, PortType: portType}}}
		var id created
		_, cerr := c.do(ctx, call{op: "create host", method: http.MethodPost, path: "/host", body: body}, &id)
		if cerr == nil && id.ID != "" {
			c.log.Info("created host", "host", h.Name, "id", id.ID, "port_type", portType, "os_type", osType)
			return storage.Host{ID: id.ID, Name: h.Name, Initiators: []string{h.Initiator}, Created: true}, nil
		}
		// A concurrent run, or an earlier attempt whose reply was lost, may have
		// created it: the array's state decides, not the error code.
		found, err = c.findHost(ctx, h.Name)
		if err != nil {
			return storage.Host{}, err
		}
		if found == nil {
			if cerr == nil {
				cerr = &storage.Error{Vendor: Vendor, Op: "create host", Kind: storage.KindUnknown,
					Err: errors.New("the array returned no host id and no host with that name exists")}
			}
			return storage.Host{}, cerr
		}
		c.log.Info("host already existed; using it", "host", h.Name, "id", found.ID)
	}
	return c.adoptHost(ctx, found, h, portType, osType)
}

func (c *Client) adoptHost(ctx context.Context, found *host, h storage.HostSpec, portType, osType string) (storage.Host, error) {
	have := false
	var foreign []string
	for _, in := range found.Initiators {
		if strings.EqualFold(in.PortName, h.Initiator) {
			have = true
			continue
		}
		foreign = append(foreign, in.PortName)
	}
	if len(foreign) > 0 {
		return storage.Host{}, invalid("ensure host",
			"host %q (id %s) already holds other initiators %s: they would see this workload's volumes; "+
				"remove them on the array or choose another host name", found.Name, found.ID, strings.Join(foreign, ", "))
	}
	if found.OSType != "" && !strings.EqualFold(found.OSType, osType) {
		c.log.Warn("existing host has a different OS type; leaving it", "host", found.Name, "os_type", found.OSType, "wanted", osType)
	}
	if !have {
		body := hostModify{AddInitiators: []initiator{{PortName: h.Initiator, PortType: portType}}}
		if _, err := c.do(ctx, call{op: "add initiator to host", method: http.MethodPatch, path: idPath("host", found.ID), body: body}, nil); err != nil {
			again, rerr := c.findHost(ctx, h.Name)
			if rerr != nil || again == nil || !holds(again, h.Initiator) {
				return storage.Host{}, err
			}
		}
		c.log.Info("added initiator to host", "host", found.Name, "id", found.ID, "port_type", portType)
	}
	return storage.Host{ID: found.ID, Name: found.Name, Initiators: []string{h.Initiator}, Created: false}, nil
}

func holds(h *host, init string) bool {
	return slices.ContainsFunc(h.Initiators, func(in initiator) bool { return strings.EqualFold(in.PortName, init) })
}

func (c *Client) findHost(ctx context.Context, name string) (*host, error) {
	var hosts []host
	_, err := c.do(ctx, call{op: "find host", method: http.MethodGet, path: "/host",
		query: sel("id,name,os_type,host_initiators", "name", "eq."+name)}, &hosts)
	if err != nil {
		return nil, err
	}
	for i := range hosts {
		if hosts[i].Name == name {
			return &hosts[i], nil
		}
	}
	return nil, nil
}

func checkSpec(op string, h storage.HostSpec) (portType, osType string, err error) {
	if h.Name == "" || len(h.Name) > 128 || strings.ContainsFunc(h.Name, unicode.IsControl) {
		return "", "", invalid(op, "host name %q must be 1-128 printable characters", h.Name)
	}
	if h.Initiator == "" || len(h.Initiator) > 223 || strings.ContainsFunc(h.Initiator, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", "", invalid(op, "initiator %q must be 1-223 characters with no spaces", h.Initiator)
	}
	lower := strings.ToLower(h.Initiator)
	switch h.Protocol {
	case storage.ISCSI:
		if !strings.HasPrefix(lower, "iqn.") && !strings.HasPrefix(lower, "eui.") && !strings.HasPrefix(lower, "naa.") {
			return "", "", invalid(op, "initiator %q is not an iSCSI name (iqn., eui. or naa.)", h.Initiator)
		}
		portType = "iSCSI"
	case storage.NVMeTCP:
		if !strings.HasPrefix(lower, "nqn.") {
			return "", "", invalid(op, "initiator %q is not an NVMe host NQN (nqn.)", h.Initiator)
		}
		portType = "NVMe"
	default:
		return "", "", invalid(op, "protocol %q is not iscsi or nvme-tcp", h.Protocol)
	}
	switch h.OS {
	case "", storage.Linux:
		osType = "Linux"
	case storage.Windows:
		osType = "Windows"
	default:
		return "", "", invalid(op, "OS type %q is not linux or windows", h.OS)
	}
	return portType, osType, nil
}

// checkHostID refuses anything but a PowerStore host id. Passing a host name
// where an id belongs is a known bug of the reference tool.
func checkHostID(op string, h storage.Host) error {
	if err := uuid.Validate(h.ID); err != nil {
		return invalid(op, "host id %q is not a PowerStore host id (a UUID): pass the Host that EnsureHost returned, not a name", h.ID)
	}
	return nil
}

func (c *Client) mapping(ctx context.Context, op, hostID, volID string) (mapping, bool, error) {
	var ms []mapping
	_, err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/host_volume_mapping",
		query: sel("id,host_id,volume_id,logical_unit_number", "host_id", "eq."+hostID, "volume_id", "eq."+volID)}, &ms)
	if err != nil {
		return mapping{}, false, err
	}
	for _, m := range ms {
		if m.HostID == hostID && m.VolumeID == volID {
			return m, true, nil
		}
	}
	return mapping{}, false, nil
}

// lunUser returns the volume id that uses lun on the host, or "".
func (c *Client) lunUser(ctx context.Context, hostID string, lun int) (string, error) {
	var ms []mapping
	_, err := c.do(ctx, call{op: "read LUN use", method: http.MethodGet, path: "/host_volume_mapping",
		query: sel("id,host_id,volume_id,logical_unit_number", "host_id", "eq."+hostID, "logical_unit_number", "eq."+strconv.Itoa(lun))}, &ms)
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.HostID == hostID && m.LUN == lun {
			return m.VolumeID, nil
		}
	}
	return "", nil
}

// opMap attaches the volume to the host (by host id, never by name) and returns
// the LUN the array reports in host_volume_mapping. An existing attachment is
// returned as it is. A requested LUN that another volume uses on this host is
// KindLUNConflict; lun < 0 lets the array choose.
func (c *Client) opMap(ctx context.Context, h storage.Host, vol storage.Volume, lun int) (storage.Mapping, error) {
	const op = "map volume"
	if err := checkHostID(op, h); err != nil {
		return storage.Mapping{}, err
	}
	if vol.ID == "" {
		return storage.Mapping{}, invalid(op, "volume %q has no id", vol.Name)
	}
	result := func(m mapping) storage.Mapping {
		if lun >= 0 && m.LUN != lun {
			c.log.Warn("volume is mapped at a different LUN than requested; using the array's", "volume", vol.Name, "host", h.Name, "lun", m.LUN, "requested", lun)
		}
		return storage.Mapping{Volume: vol, HostID: h.ID, LUN: m.LUN}
	}
	if m, ok, err := c.mapping(ctx, "read mapping", h.ID, vol.ID); err != nil {
		return storage.Mapping{}, err
	} else if ok {
		c.log.Info("volume already mapped", "volume", vol.Name, "host", h.Name, "lun", m.LUN)
		return result(m), nil
	}
	conflict := func(user string, cause error) error {
		return &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindLUNConflict,
			Err: errors.Join(fmt.Errorf("LUN %d on host %s is already used by volume %s", lun, h.Name, user), cause)}
	}
	if lun >= 0 {
		user, err := c.lunUser(ctx, h.ID, lun)
		if err != nil {
			return storage.Mapping{}, err
		}
		if user != "" {
			return storage.Mapping{}, conflict(user, nil)
		}
	}
	body := attach{HostID: h.ID}
	if lun >= 0 {
		body.LUN = &lun
	}
	_, aerr := c.do(ctx, call{op: op, method: http.MethodPost, path: idPath("volume", vol.ID, "attach"), body: body}, nil)
	m, ok, err := c.mapping(ctx, "read mapping", h.ID, vol.ID)
	if err != nil {
		return storage.Mapping{}, err
	}
	if ok {
		if aerr != nil {
			c.log.Info("attach reported an error but the volume is mapped; using the mapping", "volume", vol.Name, "host", h.Name)
		}
		c.log.Info("mapped volume", "volume", vol.Name, "host", h.Name, "lun", m.LUN)
		return result(m), nil
	}
	if aerr != nil {
		if lun >= 0 {
			if user, uerr := c.lunUser(ctx, h.ID, lun); uerr == nil && user != "" {
				return storage.Mapping{}, conflict(user, aerr)
			}
		}
		return storage.Mapping{}, aerr
	}
	return storage.Mapping{}, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown,
		Err: errors.New("attach succeeded but the array reports no host_volume_mapping for it")}
}

// opTargets lists what initiators log in to for the protocol, best first: for
// iSCSI one Target per target IQN (PowerStore has one per node) with the
// portals serving it; for NVMe/TCP the cluster's subsystem NQN with the NVMe/TCP
// portals of every appliance. A protocol the array does not serve is
// KindUnsupported.
func (c *Client) opTargets(ctx context.Context, p storage.Protocol) ([]storage.Target, error) {
	switch p {
	case storage.ISCSI:
		return c.iscsiTargets(ctx)
	case storage.NVMeTCP:
		return c.nvmeTargets(ctx)
	default:
		return nil, &storage.Error{Vendor: Vendor, Op: "discover targets", Kind: storage.KindUnsupported,
			Err: fmt.Errorf("protocol %q is not iscsi or nvme-tcp", p)}
	}
}

// opTarget returns the first of Targets: the target with the most portals.
func (c *Client) opTarget(ctx context.Context, p storage.Protocol) (storage.Target, error) {
	ts, err := c.opTargets(ctx, p)
	if err != nil {
		return storage.Target{}, err
	}
	return ts[0], nil
}

func (c *Client) poolAddresses(ctx context.Context, op, purpose string) ([]poolAddress, error) {
	all, err := listAll[poolAddress](ctx, c, op, "/ip_pool_address", sel("id,address,ip_port_id,appliance_id,purposes"))
	if err != nil {
		return nil, err
	}
	var out []poolAddress
	for _, a := range all {
		if !slices.Contains(a.Purposes, purpose) {
			continue
		}
		addr, err := storage.PortalAddr(a.Address)
		if err != nil {
			c.log.Warn("skipping pool address that is not a usable portal", "id", a.ID, "error", err.Error())
			continue
		}
		a.Address = addr
		out = append(out, a)
	}
	return out, nil
}

func (c *Client) iscsiTargets(ctx context.Context) ([]storage.Target, error) {
	const op = "discover iSCSI targets"
	addrs, err := c.poolAddresses(ctx, op, purposeISCSI)
	if err != nil {
		return nil, err
	}
	iqnOf := map[string]string{}
	byIQN := map[string][]storage.Endpoint{}
	for _, a := range addrs {
		if a.IPPortID == "" {
			continue
		}
		iqn, seen := iqnOf[a.IPPortID]
		if !seen && len(iqnOf) == maxIPPorts {
			return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown,
				Err: fmt.Errorf("the array lists iSCSI addresses on more than %d ports: refusing to look up more", maxIPPorts)}
		}
		if !seen {
			var p ipPort
			if _, err := c.do(ctx, call{op: op, method: http.MethodGet, path: idPath("ip_port", a.IPPortID),
				query: sel("id,target_iqn")}, &p); err != nil {
				return nil, err
			}
			iqn = p.TargetIQN
			if err := storage.TargetName(storage.ISCSI, iqn); iqn != "" && err != nil {
				c.log.Warn("iSCSI port reports an unusable target IQN; skipping its portals", "ip_port_id", a.IPPortID, "error", err.Error())
				iqn = ""
			}
			iqnOf[a.IPPortID] = iqn
		}
		if iqn == "" {
			c.log.Warn("iSCSI port has no target IQN; skipping its portal", "ip_port_id", a.IPPortID, "address", a.Address)
			continue
		}
		byIQN[iqn] = addEndpoint(byIQN[iqn], storage.Endpoint{Address: a.Address, Port: iscsiPort})
	}
	if len(byIQN) == 0 {
		return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnsupported,
			Err: errors.New("the array has no usable IP address with the Storage_Iscsi_Target purpose and a valid target IQN")}
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

func (c *Client) nvmeTargets(ctx context.Context) ([]storage.Target, error) {
	const op = "discover NVMe/TCP targets"
	addrs, err := c.poolAddresses(ctx, op, purposeNVMe)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnsupported,
			Err: errors.New("the array has no IP address with the Storage_NVMe_TCP_Port purpose")}
	}
	var clusters []cluster
	if _, err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/cluster", query: sel("id,nvm_subsystem_nqn")}, &clusters); err != nil {
		return nil, err
	}
	nqn := ""
	for _, cl := range clusters {
		if cl.NVMSubsystemNQN == "" {
			continue
		}
		if err := storage.TargetName(storage.NVMeTCP, cl.NVMSubsystemNQN); err != nil {
			c.log.Warn("cluster reports an unusable NVMe subsystem NQN; skipping it", "cluster", cl.ID, "error", err.Error())
			continue
		}
		nqn = cl.NVMSubsystemNQN
		break
	}
	if nqn == "" {
		return nil, &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnsupported,
			Err: errors.New("the cluster reports no usable NVMe subsystem NQN")}
	}
	var eps []storage.Endpoint
	for _, a := range addrs {
		eps = addEndpoint(eps, storage.Endpoint{Address: a.Address, Port: nvmePort})
	}
	return []storage.Target{{Name: nqn, Protocol: storage.NVMeTCP, Endpoints: eps}}, nil
}

// addEndpoint keeps endpoints unique and sorted by address.
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

// opSnapshot takes a snapshot of the volume. Re-running with the same name
// returns the snapshot an earlier run made of the same volume.
func (c *Client) opSnapshot(ctx context.Context, vol storage.Volume, name string) (storage.Snapshot, error) {
	const op = "create snapshot"
	if vol.ID == "" {
		return storage.Snapshot{}, invalid(op, "volume %q has no id", vol.Name)
	}
	if name == "" || len(name) > 128 || strings.ContainsFunc(name, unicode.IsControl) {
		return storage.Snapshot{}, invalid(op, "snapshot name %q must be 1-128 printable characters", name)
	}
	src := cmp.Or(vol.Name, vol.ID)
	var id created
	_, err := c.do(ctx, call{op: op, method: http.MethodPost, path: idPath("volume", vol.ID, "snapshot"),
		body: map[string]string{"name": name, "description": "outposts-ha"}}, &id)
	if err == nil && id.ID != "" {
		c.log.Info("created snapshot", "volume", src, "snapshot", name, "id", id.ID)
		return storage.Snapshot{ID: id.ID, Name: name, Volume: src}, nil
	}
	var snaps []volume
	if _, rerr := c.do(ctx, call{op: "find snapshot", method: http.MethodGet, path: "/volume",
		query: sel("id,name,type,protection_data", "name", "eq."+name, "type", "eq.Snapshot")}, &snaps); rerr != nil {
		return storage.Snapshot{}, cmp.Or(err, rerr)
	}
	for _, s := range snaps {
		if s.Name == name && s.ProtectionData != nil && s.ProtectionData.SourceID == vol.ID {
			c.log.Info("snapshot already existed; using it", "volume", src, "snapshot", name, "id", s.ID)
			return storage.Snapshot{ID: s.ID, Name: name, Volume: src}, nil
		}
	}
	if err == nil {
		err = &storage.Error{Vendor: Vendor, Op: op, Kind: storage.KindUnknown, Err: errors.New("the array returned no snapshot id")}
	}
	return storage.Snapshot{}, err
}

// opUnmap detaches the volume from the host. A mapping that is already absent
// (or a host or volume that no longer exists) is success.
func (c *Client) opUnmap(ctx context.Context, h storage.Host, vol storage.Volume) error {
	const op = "unmap volume"
	if err := checkHostID(op, h); err != nil {
		return err
	}
	if vol.ID == "" {
		return invalid(op, "volume %q has no id", vol.Name)
	}
	if _, ok, err := c.mapping(ctx, "read mapping", h.ID, vol.ID); err != nil {
		return err
	} else if !ok {
		c.log.Info("volume already unmapped", "volume", vol.Name, "host", h.Name)
		return nil
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodPost, path: idPath("volume", vol.ID, "detach"), body: detach{HostID: h.ID}}, nil)
	if err == nil {
		c.log.Info("unmapped volume", "volume", vol.Name, "host", h.Name)
		return nil
	}
	// Refused, whatever the code says (a "not attached" code included): only
	// a mapping that is gone on a re-read is success.
	return c.goneAfter(ctx, err, "mapping", func() (bool, error) {
		_, ok, rerr := c.mapping(ctx, "read mapping", h.ID, vol.ID)
		return ok, rerr
	})
}

// goneAfter decides a refused delete: success only when the re-read shows the
// object gone. Otherwise the refusal stands; a "not found" refusal is no
// longer NotFound (which callers absorb as "already gone"): only the re-read
// may say that.
func (c *Client) goneAfter(ctx context.Context, derr error, what string, present func() (bool, error)) error {
	there, rerr := present()
	if rerr == nil && !there {
		c.log.InfoContext(ctx, what+" already gone")
		return nil
	}
	return storage.NotGone(derr, rerr, what)
}

// exists reports whether GET /<kind>?id=eq.<id> lists the object.
func (c *Client) exists(ctx context.Context, kind, id string) (bool, error) {
	var docs []struct {
		ID string `json:"id"`
	}
	if _, err := c.do(ctx, call{op: "read " + kind, method: http.MethodGet, path: "/" + kind, query: sel("id", "id", "eq."+id)}, &docs); err != nil {
		return false, err
	}
	return slices.ContainsFunc(docs, func(d struct {
		ID string `json:"id"`
	}) bool {
		return d.ID == id
	}), nil
}

// opDeleteHost deletes the host. With no id it looks the host up by name. An
// absent host is success; a host that still has mappings is refused by the array.
func (c *Client) opDeleteHost(ctx context.Context, h storage.Host) error {
	const op = "delete host"
	id := h.ID
	if id == "" {
		found, err := c.findHost(ctx, h.Name)
		if err != nil {
			return err
		}
		if found == nil {
			return nil
		}
		id = found.ID
	} else if err := checkHostID(op, h); err != nil {
		return err
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodDelete, path: idPath("host", id)}, nil)
	if err == nil {
		c.log.Info("deleted host", "host", h.Name, "id", id)
		return nil
	}
	return c.goneAfter(ctx, err, "host", func() (bool, error) { return c.exists(ctx, "host", id) })
}

// opDeleteVolume destroys the volume and its data. An absent volume is success.
func (c *Client) opDeleteVolume(ctx context.Context, vol storage.Volume) error {
	const op = "delete volume"
	if vol.ID == "" {
		return invalid(op, "volume %q has no id", vol.Name)
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodDelete, path: idPath("volume", vol.ID)}, nil)
	if err == nil {
		c.log.Info("deleted volume", "volume", vol.Name, "id", vol.ID)
		return nil
	}
	return c.goneAfter(ctx, err, "volume", func() (bool, error) { return c.exists(ctx, "volume", vol.ID) })
}
