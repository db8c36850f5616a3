package pure

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

type ref struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type volumeRecord struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Provisioned int64  `json:"provisioned"`
	Destroyed   bool   `json:"destroyed"`
}

type hostRecord struct {
	Name            string   `json:"name"`
	IQNs            []string `json:"iqns"`
	NQNs            []string `json:"nqns"`
	ConnectionCount int      `json:"connection_count"`
}

func (h hostRecord) initiators() []string { return append(slices.Clone(h.IQNs), h.NQNs...) }

type connectionRecord struct {
	Host      ref  `json:"host"`
	HostGroup ref  `json:"host_group"`
	Volume    ref  `json:"volume"`
	LUN       *int `json:"lun"`
}

type portRecord struct {
	Name     string `json:"name"`
	IQN      string `json:"iqn"`
	NQN      string `json:"nqn"`
	Portal   string `json:"portal"`
	Failover string `json:"failover"`
}

type snapshotRecord struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Source    ref    `json:"source"`
	Destroyed bool   `json:"destroyed"`
}

// byName is a FlashArray filter matching one object by name. Names are
// validated first, so they cannot close the quotes.
func byName(name string) url.Values { return url.Values{"filter": {"name='" + name + "'"}} }

func (c *Client) checkVolume(op string, vol storage.Volume) error {
	if !volumeNameRE().MatchString(vol.Name) {
		return c.invalid(op, "volume name %q is not a FlashArray volume name: take it from Volumes", vol.Name)
	}
	return nil
}

func (c *Client) checkHost(op string, name string) error {
	if !hostNameRE().MatchString(name) {
		return c.invalid(op, "host name %q: use letters, digits and '-', starting with a letter or digit, at most 63", name)
	}
	return nil
}

// opVolumes lists every volume that is not destroyed, all pages, sorted by name.
// SizeBytes is the provisioned size.
func (c *Client) opVolumes(ctx context.Context) ([]storage.Volume, error) {
	q := url.Values{"destroyed": {"false"}}
	recs, err := listAll[volumeRecord](ctx, c, "list volumes", "/volumes", q)
	if err != nil {
		return nil, err
	}
	vols := make([]storage.Volume, 0, len(recs))
	for _, r := range recs {
		if !r.Destroyed {
			vols = append(vols, storage.Volume{ID: r.ID, Name: r.Name, SizeBytes: r.Provisioned})
		}
	}
	vols = c.red.SafeVolumes(ctx, c.log, vols)
	slices.SortFunc(vols, func(a, b storage.Volume) int { return strings.Compare(a.Name, b.Name) })
	return vols, nil
}

func (c *Client) findHost(ctx context.Context, op, name string) (hostRecord, bool, error) {
	recs, err := listAll[hostRecord](ctx, c, op, "/hosts", byName(name))
	if err != nil {
		return hostRecord{}, false, err
	}
	i := slices.IndexFunc(recs, func(h hostRecord) bool { return h.Name == name })
	if i < 0 {
		return hostRecord{}, false, nil
	}
	return recs[i], true, nil
}

func hasInitiator(h hostRecord, initiator string) bool {
	return slices.ContainsFunc(h.initiators(), func(s string) bool { return strings.EqualFold(s, initiator) })
}

// toHost reports the host as the array holds it; initiators are cleaned, so
// a forged one can be shown, and DeleteHost (which compares them with what
// the array holds then) refuses rather than deletes.
func (c *Client) toHost(h hostRecord, created bool) storage.Host {
	return storage.Host{ID: h.Name, Name: h.Name, Initiators: c.red.CleanAll(h.initiators()), Created: created}
}

// opEnsureHost finds or creates the host named h.Name holding h.Initiator (an
// IQN for iSCSI, an NQN for NVMe/TCP). A host that already holds it is reused;
// an empty host gets it added; a host that holds other initiators is refused,
// because adding ours would give this workload that host's volumes.
func (c *Client) opEnsureHost(ctx context.Context, h storage.HostSpec) (storage.Host, error) {
	const op = "ensure host"
	if err := c.checkHost(op, h.Name); err != nil {
		return storage.Host{}, err
	}
	var field string
	switch h.Protocol {
	case storage.ISCSI:
		if err := sanboot.ValidateIQN(h.Initiator); err != nil {
			return storage.Host{}, c.invalid(op, "initiator IQN %v", err)
		}
		field = "iqns"
	case storage.NVMeTCP:
		if err := sanboot.ValidateNQN(h.Initiator); err != nil {
			return storage.Host{}, c.invalid(op, "host NQN %v", err)
		}
		field = "nqns"
	default:
		return storage.Host{}, c.fail(op, storage.KindUnsupported, 0, fmt.Errorf("protocol %q", h.Protocol))
	}
	switch h.OS {
	case "", storage.Linux, storage.Windows: // FlashArray needs no personality for either
	default:
		return storage.Host{}, c.invalid(op, "OS %q: use linux or windows", h.OS)
	}

	rec, found, err := c.findHost(ctx, op, h.Name)
	if err != nil {
		return storage.Host{}, err
	}
	created := false
	if !found {
		cerr := c.call(ctx, "create host", http.MethodPost, "/hosts", url.Values{"names": {h.Name}},
			map[string][]string{field: {h.Initiator}}, nil)
		if rec, found, err = c.findHost(ctx, op, h.Name); err != nil {
			return storage.Host{}, err
		}
		switch {
		case cerr == nil && found:
			created = true
			c.log.InfoContext(ctx, "created host", "host", h.Name, "initiator", h.Initiator)
		case cerr == nil:
			return storage.Host{}, c.fail(op, storage.KindNotFound, 0, fmt.Errorf("host %s is missing right after it was created", h.Name))
		case !found:
			return storage.Host{}, cerr // for example: the initiator already belongs to another host
		default:
			// "Already exists" has no code on FlashArray: the re-read found it,
			// and the checks below decide whether it is ours.
			c.log.InfoContext(ctx, "host appeared while creating it; re-read it", "host", h.Name, "kind", storage.KindOf(cerr))
		}
	}
	switch {
	case hasInitiator(rec, h.Initiator):
	case len(rec.initiators()) == 0:
		perr := c.call(ctx, "add initiator", http.MethodPatch, "/hosts", url.Values{"names": {h.Name}},
			map[string][]string{"add_" + field: {h.Initiator}}, nil)
		if rec, found, err = c.findHost(ctx, op, h.Name); err != nil {
			return storage.Host{}, err
		}
		if !found || !hasInitiator(rec, h.Initiator) {
			if perr != nil {
				return storage.Host{}, perr
			}
			return storage.Host{}, c.fail(op, storage.KindUnknown, 0, fmt.Errorf("host %s does not list %s after adding it", h.Name, h.Initiator))
		}
		c.log.InfoContext(ctx, "added initiator to existing empty host", "host", h.Name, "initiator", h.Initiator)
	default:
		return storage.Host{}, c.fail(op, storage.KindAlreadyExists, 0,
			fmt.Errorf("host %s already exists with other initiators; refusing to add %s to it (that would share its volumes): choose another host name or clean it up", h.Name, h.Initiator))
	}
	return c.toHost(rec, created), nil
}

func (c *Client) hostConnections(ctx context.Context, host, volume string) ([]connectionRecord, error) {
	q := url.Values{"host_names": {host}}
	if volume != "" {
		q.Set("volume_names", volume)
	}
	return listAll[connectionRecord](ctx, c, "list connections", "/connections", q)
}

func (c *Client) lunConflict(format string, a ...any) error {
	return c.fail("map volume", storage.KindLUNConflict, 0, fmt.Errorf(format, a...))
}

// checkLUN returns the LUN vol is already connected at (or -1), or a conflict
// when the requested lun is used by another volume of the host.
func (c *Client) checkLUN(conns []connectionRecord, vol string, lun int) (int, error) {
	for _, x := range conns {
		if x.Volume.Name == vol && x.LUN != nil {
			if lun > 0 && *x.LUN != lun {
				return -1, c.lunConflict("%s is already connected to this host as LUN %d, not the requested %d: disconnect it first or use %d", vol, *x.LUN, lun, *x.LUN)
			}
			return *x.LUN, nil
		}
	}
	if lun > 0 {
		for _, x := range conns {
			if x.LUN != nil && *x.LUN == lun {
				return -1, c.lunConflict("LUN %d is already used by %s on this host: choose another LUN or let the array choose", lun, x.Volume.Name)
			}
		}
	}
	return -1, nil
}

// opMap connects vol to host and returns the LUN the array reports for the
// connection afterwards. lun < 0 lets the array choose; FlashArray LUNs are
// 1-4095 (0 is refused). An existing connection is returned as it is; a
// different requested LUN, or one another volume of the host uses, is
// KindLUNConflict and nothing changes.
func (c *Client) opMap(ctx context.Context, host storage.Host, vol storage.Volume, lun int) (storage.Mapping, error) {
	const op = "map volume"
	if lun == 0 || lun > sanboot.MaxLUN {
		return storage.Mapping{}, c.invalid(op, "LUN %d is out of range: FlashArray uses 1-%d, or -1 to let the array choose", lun, sanboot.MaxLUN)
	}
	if err := c.checkHost(op, host.Name); err != nil {
		return storage.Mapping{}, err
	}
	if err := c.checkVolume(op, vol); err != nil {
		return storage.Mapping{}, err
	}
	conns, err := c.hostConnections(ctx, host.Name, "")
	if err != nil {
		if _, found, ferr := c.findHost(ctx, op, host.Name); ferr == nil && !found {
			return storage.Mapping{}, c.fail(op, storage.KindNotFound, 0, fmt.Errorf("host %s does not exist: run EnsureHost first", host.Name))
		}
		return storage.Mapping{}, err
	}
	existing, err := c.checkLUN(conns, vol.Name, lun)
	if err != nil {
		return storage.Mapping{}, err
	}
	if existing < 0 {
		var body any
		if lun > 0 {
			body = map[string]int{"lun": lun}
		}
		q := url.Values{"host_names": {host.Name}, "volume_names": {vol.Name}}
		if err := c.call(ctx, op, http.MethodPost, "/connections", q, body, nil); err != nil {
			// No codes on FlashArray: the array's state decides.
			conns, rerr := c.hostConnections(ctx, host.Name, "")
			if rerr != nil {
				return storage.Mapping{}, err
			}
			got, cerr := c.checkLUN(conns, vol.Name, lun)
			if cerr != nil {
				return storage.Mapping{}, cerr
			}
			if got < 0 {
				return storage.Mapping{}, err
			}
			c.log.InfoContext(ctx, "connection appeared while creating it; using it", "volume", vol.Name, "host", host.Name)
		} else {
			c.log.InfoContext(ctx, "connected volume", "volume", vol.Name, "host", host.Name)
		}
	}
	// Read the connection back: the LUN the array holds is the only one that counts.
	conns, err = c.hostConnections(ctx, host.Name, vol.Name)
	if err != nil {
		return storage.Mapping{}, err
	}
	got := -1
	for _, x := range conns {
		if x.Volume.Name == vol.Name && x.LUN != nil {
			got = *x.LUN
		}
	}
	switch {
	case got < 0:
		return storage.Mapping{}, c.fail(op, storage.KindUnknown, 0, fmt.Errorf("array reports no LUN for %s on %s", vol.Name, host.Name))
	case lun > 0 && got != lun:
		return storage.Mapping{}, c.lunConflict("%s is connected as LUN %d, not the requested %d", vol.Name, got, lun)
	}
	return storage.Mapping{Volume: vol, HostID: host.Name, LUN: got}, nil
}

// opTarget returns the array's iSCSI target IQN (or NVMe subsystem NQN) and the
// portals of the ports that carry it, from GET /ports. A protocol no port
// serves is KindUnsupported.
func (c *Client) opTarget(ctx context.Context, p storage.Protocol) (storage.Target, error) {
	const op = "discover target"
	var name func(portRecord) string
	var validate func(string) error
	var defPort uint16
	switch p {
	case storage.ISCSI:
		name, validate, defPort = func(r portRecord) string { return r.IQN }, sanboot.ValidateIQN, sanboot.ISCSIPort
	case storage.NVMeTCP:
		name, validate, defPort = func(r portRecord) string { return r.NQN }, sanboot.ValidateNQN, sanboot.NVMeTCPPort
	default:
		return storage.Target{}, c.fail(op, storage.KindUnsupported, 0, fmt.Errorf("protocol %q", p))
	}
	ports, err := listAll[portRecord](ctx, c, op, "/ports", nil)
	if err != nil {
		return storage.Target{}, err
	}
	t := storage.Target{Protocol: p}
	for _, r := range ports {
		n := name(r)
		if n == "" || r.Portal == "" {
			continue
		}
		if t.Name == "" {
			if err := validate(n); err != nil {
				c.log.WarnContext(ctx, "skipping port with an unusable target name", "port", r.Name, "error", err)
				continue
			}
			t.Name = n
		}
		if n != t.Name {
			c.log.WarnContext(ctx, "port serves a different target name; not used", "port", r.Name, "target", n)
			continue
		}
		portal, err := sanboot.ParsePortal(r.Portal, defPort)
		if err != nil {
			c.log.WarnContext(ctx, "skipping port with an unusable portal", "port", r.Name, "error", err)
			continue
		}
		e := storage.Endpoint{Address: portal.Addr.String(), Port: int(portal.Port)}
		if !slices.Contains(t.Endpoints, e) {
			t.Endpoints = append(t.Endpoints, e)
		}
	}
	if t.Name == "" || len(t.Endpoints) == 0 {
		return storage.Target{}, c.fail(op, storage.KindUnsupported, 0, fmt.Errorf("no array port serves %s", p))
	}
	return t, nil
}

// opSnapshot makes (or, on a re-run, finds) the volume snapshot
// "<volume>.<name>" with POST /volume-snapshots?source_names=<volume>.
func (c *Client) opSnapshot(ctx context.Context, vol storage.Volume, name string) (storage.Snapshot, error) {
	const op = "snapshot"
	if err := c.checkVolume(op, vol); err != nil {
		return storage.Snapshot{}, err
	}
	if !suffixRE().MatchString(name) {
		return storage.Snapshot{}, c.invalid(op, "snapshot name %q: use letters, digits and '-', at most 64", name)
	}
	full := vol.Name + "." + name
	find := func() (snapshotRecord, bool, error) {
		recs, err := listAll[snapshotRecord](ctx, c, op, "/volume-snapshots", byName(full))
		if err != nil {
			return snapshotRecord{}, false, err
		}
		i := slices.IndexFunc(recs, func(r snapshotRecord) bool { return r.Name == full })
		if i < 0 {
			return snapshotRecord{}, false, nil
		}
		return recs[i], true, nil
	}
	s, found, err := find()
	if err != nil {
		return storage.Snapshot{}, err
	}
	if !found {
		cerr := c.call(ctx, op, http.MethodPost, "/volume-snapshots", url.Values{"source_names": {vol.Name}},
			map[string]string{"suffix": name}, nil)
		if s, found, err = find(); err != nil {
			return storage.Snapshot{}, err
		}
		if !found {
			if cerr != nil {
				return storage.Snapshot{}, cerr
			}
			return storage.Snapshot{}, c.fail(op, storage.KindUnknown, 0, fmt.Errorf("snapshot %s is missing after it was created", full))
		}
		c.log.InfoContext(ctx, "created snapshot", "snapshot", full)
	}
	if s.Destroyed {
		return storage.Snapshot{}, c.fail(op, storage.KindAlreadyExists, 0,
			fmt.Errorf("snapshot %s exists but is destroyed (pending eradication): recover it on the array or choose another name", full))
	}
	return storage.Snapshot{ID: c.red.Clean(s.ID), Name: s.Name, Volume: vol.Name}, nil
}

// opUnmap disconnects vol from host. A connection, host or volume that is
// already gone is success.
func (c *Client) opUnmap(ctx context.Context, host storage.Host, vol storage.Volume) error {
	const op = "unmap volume"
	if err := c.checkHost(op, host.Name); err != nil {
		return err
	}
	if err := c.checkVolume(op, vol); err != nil {
		return err
	}
	q := url.Values{"host_names": {host.Name}, "volume_names": {vol.Name}}
	derr := c.call(ctx, op, http.MethodDelete, "/connections", q, nil, nil)
	if derr == nil {
		c.log.InfoContext(ctx, "disconnected volume", "volume", vol.Name, "host", host.Name)
		return nil
	}
	// No codes: find out whether the connection is gone after all.
	if _, found, err := c.findHost(ctx, op, host.Name); err != nil || !found {
		if err != nil {
			return storage.NotGone(derr, err, "connection")
		}
		c.log.InfoContext(ctx, "host already gone; nothing to disconnect", "host", host.Name)
		return nil
	}
	conns, err := c.hostConnections(ctx, host.Name, "")
	if err != nil {
		return storage.NotGone(derr, err, "connection")
	}
	if !slices.ContainsFunc(conns, func(x connectionRecord) bool { return x.Volume.Name == vol.Name }) {
		c.log.InfoContext(ctx, "connection already gone", "volume", vol.Name, "host", host.Name)
		return nil
	}
	return storage.NotGone(derr, nil, "connection")
}

// opDeleteHost deletes the host. One that is already gone is success. One that
// now holds initiators the Host does not list is refused: it is no longer
// (only) this workload's. FlashArray refuses to delete a host that still has
// connections; disconnect first.
func (c *Client) opDeleteHost(ctx context.Context, host storage.Host) error {
	const op = "delete host"
	if err := c.checkHost(op, host.Name); err != nil {
		return err
	}
	rec, found, err := c.findHost(ctx, op, host.Name)
	if err != nil {
		return err
	}
	if !found {
		c.log.InfoContext(ctx, "host already gone", "host", host.Name)
		return nil
	}
	if len(host.Initiators) > 0 {
		for _, i := range rec.initiators() {
			if !slices.ContainsFunc(host.Initiators, func(h string) bool { return strings.EqualFold(h, i) }) {
				return c.invalid(op, "host %s now also holds %s, which this workload does not own; refusing to delete it", host.Name, i)
			}
		}
	}
	derr := c.call(ctx, op, http.MethodDelete, "/hosts", url.Values{"names": {host.Name}}, nil, nil)
	if derr == nil {
		c.log.InfoContext(ctx, "deleted host", "host", host.Name)
		return nil
	}
	_, found, err = c.findHost(ctx, op, host.Name)
	if err == nil && !found {
		return nil
	}
	return storage.NotGone(derr, err, "host")
}

// opDeleteVolume destroys the volume (PATCH destroyed=true). It is not
// eradicated: the array keeps it recoverable until its eradication delay
// passes. The wizard calls it only when the operator asked by flag and typed
// the workload name. A volume already destroyed or gone is success.
func (c *Client) opDeleteVolume(ctx context.Context, vol storage.Volume) error {
	const op = "delete volume"
	if err := c.checkVolume(op, vol); err != nil {
		return err
	}
	find := func() (volumeRecord, bool, error) {
		recs, err := listAll[volumeRecord](ctx, c, op, "/volumes", byName(vol.Name))
		if err != nil {
			return volumeRecord{}, false, err
		}
		i := slices.IndexFunc(recs, func(r volumeRecord) bool { return r.Name == vol.Name })
		if i < 0 {
			return volumeRecord{}, false, nil
		}
		return recs[i], true, nil
	}
	rec, found, err := find()
	if err != nil {
		return err
	}
	if !found || rec.Destroyed {
		c.log.InfoContext(ctx, "volume already destroyed or gone", "volume", vol.Name)
		return nil
	}
	if vol.ID != "" && rec.ID != "" && vol.ID != rec.ID {
		return c.invalid(op, "volume %s now has id %s, not %s: it was replaced; refusing to destroy it", vol.Name, rec.ID, vol.ID)
	}
	perr := c.call(ctx, op, http.MethodPatch, "/volumes", url.Values{"names": {vol.Name}}, map[string]bool{"destroyed": true}, nil)
	if perr == nil {
		c.log.InfoContext(ctx, "destroyed volume (recoverable until eradicated)", "volume", vol.Name)
		return nil
	}
	rec, found, err = find()
	if err == nil && (!found || rec.Destroyed) {
		return nil
	}
	return storage.NotGone(perr, err, "volume")
}
