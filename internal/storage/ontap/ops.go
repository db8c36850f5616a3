package ontap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// named is ONTAP's {name, uuid} object reference.
type named struct {
	Name string `json:"name,omitempty"`
	UUID string `json:"uuid,omitempty"`
}

// unitRecord is a LUN or an NVMe namespace: both carry a path name, a size and
// the volume that holds them.
type unitRecord struct {
	UUID  string `json:"uuid"`
	Name  string `json:"name"`
	Space struct {
		Size int64 `json:"size"`
	} `json:"space"`
	Location struct {
		Volume named `json:"volume"`
	} `json:"location"`
}

// initiator reads both shapes ONTAP has used for igroup initiators: a plain
// string and {"name": ...}. It always writes the object form.
type initiator struct {
	Name string `json:"name"`
}

func (i *initiator) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		i.Name = s
		return nil
	}
	var o struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	i.Name = o.Name
	return nil
}

type igroupRecord struct {
	UUID       string      `json:"uuid"`
	Name       string      `json:"name"`
	Protocol   string      `json:"protocol"`
	OSType     string      `json:"os_type"`
	Initiators []initiator `json:"initiators"`
}

type subsystemRecord struct {
	UUID      string             `json:"uuid"`
	Name      string             `json:"name"`
	TargetNQN string             `json:"target_nqn"`
	OSType    string             `json:"os_type"`
	Hosts     []subsystemHostRef `json:"hosts"`
}

type subsystemHostRef struct {
	NQN string `json:"nqn"`
}

// flexInt reads a number that ONTAP documents as an integer but some examples
// show as a string ("1").
type flexInt struct {
	N   int
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "null" || s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("number %s: %w", b, err)
	}
	f.N, f.Set = n, true
	return nil
}

type lunMapRecord struct {
	LUN               named   `json:"lun"`
	Igroup            named   `json:"igroup"`
	LogicalUnitNumber flexInt `json:"logical_unit_number"`
}

type subsystemMapRecord struct {
	Namespace named  `json:"namespace"`
	Subsystem named  `json:"subsystem"`
	NSID      string `json:"nsid"`
}

// parseNSID reads ONTAP's namespace ID form: 8 hex digits and a trailing "h".
func parseNSID(s string) (int, error) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "h")
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("array reported namespace ID %q, not 8 hex digits and 'h'", s)
	}
	return int(n), nil
}

func (c *Client) nvme() bool { return c.proto == storage.NVMeTCP }

func (c *Client) unitPath() string {
	if c.nvme() {
		return "/api/storage/namespaces"
	}
	return "/api/storage/luns"
}

func (c *Client) invalid(op string, format string, a ...any) error {
	return c.fail(op, storage.KindInvalid, 0, "", fmt.Errorf(format, a...))
}

// opLogin proves the credentials and that the SVM exists, with one GET.
func (c *Client) opLogin(ctx context.Context) error {
	const op = "login"
	recs, err := listAll[named](ctx, c, op, "/api/svm/svms", url.Values{"name": {c.svm}, "fields": {"uuid,name"}})
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Name == c.svm {
			c.log.DebugContext(ctx, "credentials accepted", "svm_uuid", r.UUID)
			return nil
		}
	}
	return c.fail(op, storage.KindNotFound, 0, "", fmt.Errorf("SVM %q is not on this cluster or not visible to this user", c.svm))
}

// opLogout does nothing: ONTAP REST has no session to close.
func (c *Client) opLogout(context.Context) error { return nil }

// opVolumes lists every LUN (iSCSI) or namespace (NVMe/TCP) of the SVM, all pages,
// sorted by path.
func (c *Client) opVolumes(ctx context.Context) ([]storage.Volume, error) {
	recs, err := listAll[unitRecord](ctx, c, "list volumes", c.unitPath(),
		url.Values{"svm.name": {c.svm}, "fields": {"uuid,name,space.size"}})
	if err != nil {
		return nil, err
	}
	vols := make([]storage.Volume, 0, len(recs))
	for _, r := range recs {
		vols = append(vols, storage.Volume{ID: r.UUID, Name: r.Name, SizeBytes: r.Space.Size})
	}
	vols = c.red.SafeVolumes(ctx, c.log, vols)
	slices.SortFunc(vols, func(a, b storage.Volume) int { return strings.Compare(a.Name, b.Name) })
	return vols, nil
}

func osType(o storage.OSType) (string, error) {
	switch o {
	case "", storage.Linux:
		return "linux", nil
	case storage.Windows:
		return "windows", nil
	}
	return "", fmt.Errorf("OS %q: use linux or windows", o)
}

// opEnsureHost finds or creates the igroup (iSCSI) or subsystem (NVMe/TCP) named
// h.Name holding h.Initiator. An existing object that already holds the
// initiator is reused; an empty one gets it added; one that holds other
// initiators is refused, because adding ours would give this workload access to
// another host's LUNs.
func (c *Client) opEnsureHost(ctx context.Context, h storage.HostSpec) (storage.Host, error) {
	const op = "ensure host"
	if !objectNameRE().MatchString(h.Name) {
		return storage.Host{}, c.invalid(op, "host name %q: use letters, digits, '_', '.', '-' (at most 96)", h.Name)
	}
	if h.Protocol != c.proto {
		return storage.Host{}, c.invalid(op, "host %s asks for %s but this client manages %s", h.Name, h.Protocol, c.proto)
	}
	osName, err := osType(h.OS)
	if err != nil {
		return storage.Host{}, c.invalid(op, "host %s: %v", h.Name, err)
	}
	if c.nvme() {
		if err := sanboot.ValidateNQN(h.Initiator); err != nil {
			return storage.Host{}, c.invalid(op, "host NQN %v", err)
		}
		return c.ensureSubsystem(ctx, h, osName)
	}
	if err := sanboot.ValidateIQN(h.Initiator); err != nil {
		return storage.Host{}, c.invalid(op, "initiator IQN %v", err)
	}
	return c.ensureIgroup(ctx, h, osName)
}

func (c *Client) findIgroup(ctx context.Context, op, name string) (igroupRecord, bool, error) {
	recs, err := listAll[igroupRecord](ctx, c, op, "/api/protocols/san/igroups", url.Values{
		"svm.name": {c.svm}, "name": {name}, "fields": {"uuid,name,protocol,os_type,initiators"},
	})
	if err != nil {
		return igroupRecord{}, false, err
	}
	for _, r := range recs {
		if r.Name == name {
			return r, true, nil
		}
	}
	return igroupRecord{}, false, nil
}

func igroupHas(ig igroupRecord, iqn string) bool {
	return slices.ContainsFunc(ig.Initiators, func(i initiator) bool { return strings.EqualFold(i.Name, iqn) })
}

func igroupHost(ig igroupRecord, created bool) storage.Host {
	h := storage.Host{ID: ig.UUID, Name: ig.Name, Created: created}
	for _, i := range ig.Initiators {
		h.Initiators = append(h.Initiators, i.Name)
	}
	return h
}

// shown is a Host read from the array as the caller gets it: initiators
// cleaned (a forged one can be shown, and DeleteHost, which compares them
// with what the array holds then, refuses rather than deletes).
func (c *Client) shown(h storage.Host) storage.Host {
	h.Initiators = c.red.CleanAll(h.Initiators)
	h.Name = c.red.Clean(h.Name)
	return h
}

func (c *Client) ensureIgroup(ctx context.Context, h storage.HostSpec, osName string) (storage.Host, error) {
	const op = "ensure igroup"
	ig, found, err := c.findIgroup(ctx, op, h.Name)
	if err != nil {
		return storage.Host{}, err
	}
	created := false
	if !found {
		body := map[string]any{
			"svm": named{Name: c.svm}, "name": h.Name, "os_type": osName, "protocol": "iscsi",
			"initiators": []initiator{{Name: h.Initiator}},
		}
		cerr := c.mutate(ctx, "create igroup", http.MethodPost, "/api/protocols/san/igroups", nil, body)
		if ig, found, err = c.findIgroup(ctx, op, h.Name); err != nil {
			return storage.Host{}, err
		}
		switch {
		case cerr == nil && found:
			created = true
			c.log.InfoContext(ctx, "created igroup", "igroup", h.Name, "initiator", h.Initiator)
		case cerr == nil:
			return storage.Host{}, c.fail(op, storage.KindNotFound, 0, "", fmt.Errorf("igroup %s is missing right after it was created", h.Name))
		case !found:
			return storage.Host{}, cerr
		default:
			// Another writer created it (409 or a duplicate code): the re-read
			// found it, and the checks below decide whether it is ours.
			c.log.InfoContext(ctx, "igroup appeared while creating it; re-read it", "igroup", h.Name, "kind", storage.KindOf(cerr))
		}
	}
	if ig.Protocol != "" && ig.Protocol != "iscsi" && ig.Protocol != "mixed" {
		return storage.Host{}, c.invalid(op, "igroup %s exists with protocol %s; iSCSI needs iscsi or mixed: choose another host name", h.Name, ig.Protocol)
	}
	switch {
	case igroupHas(ig, h.Initiator):
	case len(ig.Initiators) == 0:
		aerr := c.mutate(ctx, "add initiator", http.MethodPost,
			"/api/protocols/san/igroups/"+url.PathEscape(ig.UUID)+"/initiators", nil, initiator{Name: h.Initiator})
		if ig, found, err = c.findIgroup(ctx, op, h.Name); err != nil {
			return storage.Host{}, err
		}
		if !found || !igroupHas(ig, h.Initiator) {
			if aerr != nil {
				return storage.Host{}, aerr
			}
			return storage.Host{}, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("igroup %s does not list %s after adding it", h.Name, h.Initiator))
		}
		c.log.InfoContext(ctx, "added initiator to existing empty igroup", "igroup", h.Name, "initiator", h.Initiator)
	default:
		return storage.Host{}, c.fail(op, storage.KindAlreadyExists, 0, "",
			fmt.Errorf("igroup %s already exists with other initiators; refusing to add %s to it (that would share its LUNs): choose another host name or clean it up", h.Name, h.Initiator))
	}
	return c.shown(igroupHost(ig, created)), nil
}

func (c *Client) findSubsystem(ctx context.Context, op, name string) (subsystemRecord, bool, error) {
	recs, err := listAll[subsystemRecord](ctx, c, op, "/api/protocols/nvme/subsystems", url.Values{
		"svm.name": {c.svm}, "name": {name}, "fields": {"uuid,name,target_nqn,os_type,hosts"},
	})
	if err != nil {
		return subsystemRecord{}, false, err
	}
	for _, r := range recs {
		if r.Name == name {
			return r, true, nil
		}
	}
	return subsystemRecord{}, false, nil
}

func subsystemHas(s subsystemRecord, nqn string) bool {
	return slices.ContainsFunc(s.Hosts, func(h subsystemHostRef) bool { return h.NQN == nqn })
}

func subsystemHost(s subsystemRecord, created bool) storage.Host {
	h := storage.Host{ID: s.UUID, Name: s.Name, Created: created}
	for _, x := range s.Hosts {
		h.Initiators = append(h.Initiators, x.NQN)
	}
	return h
}

func (c *Client) ensureSubsystem(ctx context.Context, h storage.HostSpec, osName string) (storage.Host, error) {
	const op = "ensure subsystem"
	sub, found, err := c.findSubsystem(ctx, op, h.Name)
	if err != nil {
		return storage.Host{}, err
	}
	created := false
	if !found {
		body := map[string]any{
			"svm": named{Name: c.svm}, "name": h.Name, "os_type": osName,
			"hosts": []map[string]string{{"nqn": h.Initiator}},
		}
		cerr := c.mutate(ctx, "create subsystem", http.MethodPost, "/api/protocols/nvme/subsystems", nil, body)
		if sub, found, err = c.findSubsystem(ctx, op, h.Name); err != nil {
			return storage.Host{}, err
		}
		switch {
		case cerr == nil && found:
			created = true
			c.log.InfoContext(ctx, "created NVMe subsystem", "subsystem", h.Name, "host_nqn", h.Initiator)
		case cerr == nil:
			return storage.Host{}, c.fail(op, storage.KindNotFound, 0, "", fmt.Errorf("subsystem %s is missing right after it was created", h.Name))
		case !found:
			return storage.Host{}, cerr
		default:
			c.log.InfoContext(ctx, "subsystem appeared while creating it; re-read it", "subsystem", h.Name, "kind", storage.KindOf(cerr))
		}
	}
	switch {
	case subsystemHas(sub, h.Initiator):
	case len(sub.Hosts) == 0:
		aerr := c.mutate(ctx, "add subsystem host", http.MethodPost,
			"/api/protocols/nvme/subsystems/"+url.PathEscape(sub.UUID)+"/hosts", nil, map[string]string{"nqn": h.Initiator})
		if sub, found, err = c.findSubsystem(ctx, op, h.Name); err != nil {
			return storage.Host{}, err
		}
		if !found || !subsystemHas(sub, h.Initiator) {
			if aerr != nil {
				return storage.Host{}, aerr
			}
			return storage.Host{}, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("subsystem %s does not list %s after adding it", h.Name, h.Initiator))
		}
	default:
		return storage.Host{}, c.fail(op, storage.KindAlreadyExists, 0, "",
			fmt.Errorf("subsystem %s already exists with other hosts; refusing to add %s to it: choose another host name or clean it up", h.Name, h.Initiator))
	}
	c.mu.Lock()
	c.subsystem = sub.Name
	c.mu.Unlock()
	return c.shown(subsystemHost(sub, created)), nil
}

// hostID returns the igroup or subsystem UUID of host, looking it up by name
// when the caller only has the name. found is false when it does not exist.
func (c *Client) hostID(ctx context.Context, op string, host storage.Host) (id string, found bool, err error) {
	if host.ID != "" {
		if !idRE().MatchString(host.ID) {
			return "", false, c.invalid(op, "host ID %q is not an ONTAP UUID", host.ID)
		}
		return host.ID, true, nil
	}
	if !objectNameRE().MatchString(host.Name) {
		return "", false, c.invalid(op, "host has neither an ID nor a valid name (%q)", host.Name)
	}
	if c.nvme() {
		s, ok, err := c.findSubsystem(ctx, op, host.Name)
		return s.UUID, ok, err
	}
	ig, ok, err := c.findIgroup(ctx, op, host.Name)
	return ig.UUID, ok, err
}

func (c *Client) volumeID(op string, vol storage.Volume) (string, error) {
	if !idRE().MatchString(vol.ID) {
		return "", c.invalid(op, "volume %q has no ONTAP UUID (ID %q): take it from Volumes", vol.Name, vol.ID)
	}
	return vol.ID, nil
}

// opMap maps vol to host and returns the LUN ID (iSCSI) or namespace ID (NVMe)
// that ONTAP reports afterwards. lun < 0 lets ONTAP choose (the lowest free
// number). A map that already exists is returned as it is; if the caller asked
// for a different number, or the number is used by another LUN of the same
// igroup, the result is KindLUNConflict and nothing is changed.
func (c *Client) opMap(ctx context.Context, host storage.Host, vol storage.Volume, lun int) (storage.Mapping, error) {
	const op = "map volume"
	if lun > sanboot.MaxLUN || (c.nvme() && lun == 0) {
		return storage.Mapping{}, c.invalid(op, "LUN %d is out of range (iSCSI 0-%d, NVMe namespace ID 1-%d, or -1 to let the array choose)", lun, sanboot.MaxLUN, sanboot.MaxLUN)
	}
	volID, err := c.volumeID(op, vol)
	if err != nil {
		return storage.Mapping{}, err
	}
	hostID, found, err := c.hostID(ctx, op, host)
	if err != nil {
		return storage.Mapping{}, err
	}
	if !found {
		return storage.Mapping{}, c.fail(op, storage.KindNotFound, 0, "", fmt.Errorf("host %s does not exist: run EnsureHost first", host.Name))
	}
	var n int
	if c.nvme() {
		n, err = c.mapNamespace(ctx, hostID, volID, vol.Name, lun)
	} else {
		n, err = c.mapLUN(ctx, hostID, volID, vol.Name, lun)
	}
	if err != nil {
		return storage.Mapping{}, err
	}
	return storage.Mapping{Volume: vol, HostID: hostID, LUN: n}, nil
}

func (c *Client) lunConflict(format string, a ...any) error {
	return c.fail("map volume", storage.KindLUNConflict, 0, "", fmt.Errorf(format, a...))
}

func (c *Client) igroupMaps(ctx context.Context, igroup string) ([]lunMapRecord, error) {
	return listAll[lunMapRecord](ctx, c, "list LUN maps", "/api/protocols/san/lun-maps", url.Values{
		"igroup.uuid": {igroup}, "fields": {"logical_unit_number,lun.uuid,lun.name,igroup.uuid"},
	})
}

// checkLUN looks at the igroup's maps: it returns the number vol is already
// mapped at (or -1), or a conflict when lun is taken by another LUN.
func (c *Client) checkLUN(maps []lunMapRecord, volID, volName string, lun int) (int, error) {
	for _, m := range maps {
		if m.LUN.UUID == volID && m.LogicalUnitNumber.Set {
			if lun >= 0 && m.LogicalUnitNumber.N != lun {
				return -1, c.lunConflict("%s is already mapped to this host as LUN %d, not the requested %d: unmap it first or use %d",
					volName, m.LogicalUnitNumber.N, lun, m.LogicalUnitNumber.N)
			}
			return m.LogicalUnitNumber.N, nil
		}
	}
	if lun >= 0 {
		for _, m := range maps {
			if m.LogicalUnitNumber.Set && m.LogicalUnitNumber.N == lun {
				return -1, c.lunConflict("LUN %d is already used by %s on this host: choose another LUN or let the array choose", lun, m.LUN.Name)
			}
		}
	}
	return -1, nil
}

func (c *Client) mapLUN(ctx context.Context, igroup, volID, volName string, lun int) (int, error) {
	maps, err := c.igroupMaps(ctx, igroup)
	if err != nil {
		return 0, err
	}
	existing, err := c.checkLUN(maps, volID, volName, lun)
	if err != nil {
		return 0, err
	}
	if existing < 0 {
		body := map[string]any{"svm": named{Name: c.svm}, "igroup": named{UUID: igroup}, "lun": named{UUID: volID}}
		if lun >= 0 {
			body["logical_unit_number"] = lun
		}
		if err := c.mutate(ctx, "map volume", http.MethodPost, "/api/protocols/san/lun-maps", nil, body); err != nil {
			// Whatever the failure (duplicate map 1254207, a number taken
			// meanwhile, a lost answer), the array's state decides: re-read.
			maps, rerr := c.igroupMaps(ctx, igroup)
			if rerr != nil {
				return 0, err
			}
			got, cerr := c.checkLUN(maps, volID, volName, lun)
			if cerr != nil {
				return 0, cerr
			}
			if got < 0 {
				return 0, err
			}
			c.log.InfoContext(ctx, "LUN map appeared while creating it; using it", "lun_path", volName, "kind", storage.KindOf(err))
		} else {
			c.log.InfoContext(ctx, "mapped LUN", "lun_path", volName, "igroup_uuid", igroup)
		}
	}
	// Read the map back: the number the array holds is the only one that counts.
	var m lunMapRecord
	if _, err := c.send(ctx, "read LUN map", http.MethodGet,
		"/api/protocols/san/lun-maps/"+url.PathEscape(volID)+"/"+url.PathEscape(igroup),
		url.Values{"fields": {"logical_unit_number"}}, nil, &m); err != nil {
		return 0, err
	}
	if !m.LogicalUnitNumber.Set {
		return 0, c.fail("read LUN map", storage.KindUnknown, 0, "", fmt.Errorf("array did not report the LUN ID of %s", volName))
	}
	if lun >= 0 && m.LogicalUnitNumber.N != lun {
		return 0, c.lunConflict("%s is mapped as LUN %d, not the requested %d", volName, m.LogicalUnitNumber.N, lun)
	}
	return m.LogicalUnitNumber.N, nil
}

func (c *Client) mapNamespace(ctx context.Context, subsystem, nsID, nsName string, nsid int) (int, error) {
	read := func() ([]subsystemMapRecord, error) {
		return listAll[subsystemMapRecord](ctx, c, "list subsystem maps", "/api/protocols/nvme/subsystem-maps", url.Values{
			"subsystem.uuid": {subsystem}, "fields": {"nsid,namespace.uuid,namespace.name,subsystem.uuid"},
		})
	}
	check := func(maps []subsystemMapRecord) (int, error) {
		for _, m := range maps {
			if m.Namespace.UUID == nsID {
				n, err := parseNSID(m.NSID)
				if err != nil {
					return -1, c.fail("map volume", storage.KindUnknown, 0, "", err)
				}
				if nsid > 0 && n != nsid {
					return -1, c.lunConflict("%s is already mapped as namespace ID %d, not the requested %d", nsName, n, nsid)
				}
				return n, nil
			}
		}
		if nsid > 0 {
			for _, m := range maps {
				if n, err := parseNSID(m.NSID); err == nil && n == nsid {
					return -1, c.lunConflict("namespace ID %d is already used by %s in this subsystem", nsid, m.Namespace.Name)
				}
			}
		}
		return -1, nil
	}
	maps, err := read()
	if err != nil {
		return 0, err
	}
	n, err := check(maps)
	if err != nil || n > 0 {
		return n, err
	}
	body := map[string]any{"svm": named{Name: c.svm}, "subsystem": named{UUID: subsystem}, "namespace": named{UUID: nsID}}
	if nsid > 0 {
		body["nsid"] = fmt.Sprintf("%08xh", nsid)
	}
	if err := c.mutate(ctx, "map namespace", http.MethodPost, "/api/protocols/nvme/subsystem-maps", nil, body); err != nil {
		maps, rerr := read()
		if rerr != nil {
			return 0, err
		}
		got, cerr := check(maps)
		if cerr != nil {
			return 0, cerr
		}
		if got < 0 {
			return 0, err
		}
	}
	var m subsystemMapRecord
	if _, err := c.send(ctx, "read subsystem map", http.MethodGet,
		"/api/protocols/nvme/subsystem-maps/"+url.PathEscape(nsID)+"/"+url.PathEscape(subsystem),
		url.Values{"fields": {"nsid"}}, nil, &m); err != nil {
		return 0, err
	}
	got, err := parseNSID(m.NSID)
	if err != nil {
		return 0, c.fail("read subsystem map", storage.KindUnknown, 0, "", err)
	}
	if nsid > 0 && got != nsid {
		return 0, c.lunConflict("%s is mapped as namespace ID %d, not the requested %d", nsName, got, nsid)
	}
	c.log.InfoContext(ctx, "mapped namespace", "namespace", nsName, "nsid", got)
	return got, nil
}

// opTarget returns the SVM's iSCSI target IQN and its data_iscsi interfaces, or
// the NVMe subsystem's target NQN and its nvme_tcp interfaces. A protocol the
// SVM does not serve is KindUnsupported.
func (c *Client) opTarget(ctx context.Context, p storage.Protocol) (storage.Target, error) {
	switch p {
	case storage.ISCSI:
		return c.iscsiTarget(ctx)
	case storage.NVMeTCP:
		return c.nvmeTarget(ctx)
	}
	return storage.Target{}, c.fail("discover target", storage.KindUnsupported, 0, "", fmt.Errorf("protocol %q", p))
}

func enabled(b *bool) bool { return b == nil || *b }

// endpoint checks an interface address by the same rules as a portal in the
// answers file (storage.PortalAddr).
func (c *Client) endpoint(ctx context.Context, lif, addr string, port int) (storage.Endpoint, bool) {
	a, err := storage.PortalAddr(addr)
	if err != nil {
		c.log.WarnContext(ctx, "skipping interface with an unusable address", "lif", lif, "error", err.Error())
		return storage.Endpoint{}, false
	}
	return storage.Endpoint{Address: a, Port: port}, true
}

func (c *Client) iscsiTarget(ctx context.Context) (storage.Target, error) {
	const op = "discover iSCSI target"
	type service struct {
		Enabled *bool `json:"enabled"`
		Target  struct {
			Name string `json:"name"`
		} `json:"target"`
		SVM named `json:"svm"`
	}
	svcs, err := listAll[service](ctx, c, op, "/api/protocols/san/iscsi/services",
		url.Values{"svm.name": {c.svm}, "fields": {"target.name,enabled,svm.name"}})
	if err != nil {
		return storage.Target{}, err
	}
	var iqn string
	for _, s := range svcs {
		if (s.SVM.Name == "" || s.SVM.Name == c.svm) && enabled(s.Enabled) {
			iqn = s.Target.Name
		}
	}
	if iqn == "" {
		return storage.Target{}, c.fail(op, storage.KindUnsupported, 0, "", fmt.Errorf("SVM %s has no enabled iSCSI service", c.svm))
	}
	if err := storage.TargetName(storage.ISCSI, iqn); err != nil {
		return storage.Target{}, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("array's target IQN %w", err))
	}
	type lif struct {
		Name string `json:"name"`
		IP   struct {
			Address string `json:"address"`
		} `json:"ip"`
		Services []string `json:"services"`
		State    string   `json:"state"`
		Enabled  *bool    `json:"enabled"`
	}
	lifs, err := listAll[lif](ctx, c, op, "/api/network/ip/interfaces", url.Values{
		"svm.name": {c.svm}, "services": {"data_iscsi"}, "fields": {"name,ip.address,services,state,enabled"},
	})
	if err != nil {
		return storage.Target{}, err
	}
	t := storage.Target{Name: iqn, Protocol: storage.ISCSI}
	for _, l := range lifs {
		if !slices.Contains(l.Services, "data_iscsi") || l.State == "down" || !enabled(l.Enabled) {
			c.log.DebugContext(ctx, "skipping interface", "lif", l.Name, "state", l.State)
			continue
		}
		if e, ok := c.endpoint(ctx, l.Name, l.IP.Address, sanboot.ISCSIPort); ok && !slices.Contains(t.Endpoints, e) {
			t.Endpoints = append(t.Endpoints, e)
		}
	}
	if len(t.Endpoints) == 0 {
		return storage.Target{}, c.fail(op, storage.KindUnsupported, 0, "", fmt.Errorf("SVM %s has no up interface with the data_iscsi service", c.svm))
	}
	return t, nil
}

func (c *Client) nvmeTarget(ctx context.Context) (storage.Target, error) {
	const op = "discover NVMe target"
	type service struct {
		Enabled *bool `json:"enabled"`
		SVM     named `json:"svm"`
	}
	svcs, err := listAll[service](ctx, c, op, "/api/protocols/nvme/services",
		url.Values{"svm.name": {c.svm}, "fields": {"enabled,svm.name"}})
	if err != nil {
		return storage.Target{}, err
	}
	if !slices.ContainsFunc(svcs, func(s service) bool { return (s.SVM.Name == "" || s.SVM.Name == c.svm) && enabled(s.Enabled) }) {
		return storage.Target{}, c.fail(op, storage.KindUnsupported, 0, "", fmt.Errorf("SVM %s has no enabled NVMe service", c.svm))
	}
	c.mu.Lock()
	name := c.subsystem
	c.mu.Unlock()
	if name == "" {
		return storage.Target{}, c.invalid(op, "no NVMe subsystem known: call EnsureHost first or set Config.Subsystem")
	}
	sub, found, err := c.findSubsystem(ctx, op, name)
	if err != nil {
		return storage.Target{}, err
	}
	if !found {
		return storage.Target{}, c.fail(op, storage.KindNotFound, 0, "", fmt.Errorf("NVMe subsystem %s does not exist", name))
	}
	if err := storage.TargetName(storage.NVMeTCP, sub.TargetNQN); err != nil {
		return storage.Target{}, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("array's subsystem NQN %w", err))
	}
	type nvmeLIF struct {
		Name               string   `json:"name"`
		TransportAddress   string   `json:"transport_address"`
		TransportProtocols []string `json:"transport_protocols"`
		Enabled            *bool    `json:"enabled"`
	}
	lifs, err := listAll[nvmeLIF](ctx, c, op, "/api/protocols/nvme/interfaces", url.Values{
		"svm.name": {c.svm}, "fields": {"name,transport_address,transport_protocols,enabled"},
	})
	if err != nil {
		return storage.Target{}, err
	}
	t := storage.Target{Name: sub.TargetNQN, Protocol: storage.NVMeTCP}
	for _, l := range lifs {
		if !slices.Contains(l.TransportProtocols, "nvme_tcp") || !enabled(l.Enabled) {
			continue
		}
		if e, ok := c.endpoint(ctx, l.Name, l.TransportAddress, sanboot.NVMeTCPPort); ok && !slices.Contains(t.Endpoints, e) {
			t.Endpoints = append(t.Endpoints, e)
		}
	}
	if len(t.Endpoints) == 0 {
		return storage.Target{}, c.fail(op, storage.KindUnsupported, 0, "", fmt.Errorf("SVM %s has no NVMe interface with nvme_tcp", c.svm))
	}
	return t, nil
}

type snapshotRecord struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// opSnapshot makes (or, on a re-run, finds) a snapshot named name of the ONTAP
// volume that holds vol. ONTAP snapshots are per volume, so the copy covers
// every LUN in that volume; Snapshot.Volume names the ONTAP volume.
func (c *Client) opSnapshot(ctx context.Context, vol storage.Volume, name string) (storage.Snapshot, error) {
	const op = "snapshot"
	if !snapshotNameRE().MatchString(name) {
		return storage.Snapshot{}, c.invalid(op, "snapshot name %q: use letters, digits, '_', '.', '-'", name)
	}
	volID, err := c.volumeID(op, vol)
	if err != nil {
		return storage.Snapshot{}, err
	}
	var unit unitRecord
	if _, err := c.send(ctx, op, http.MethodGet, c.unitPath()+"/"+url.PathEscape(volID),
		url.Values{"fields": {"name,location.volume.uuid,location.volume.name"}}, nil, &unit); err != nil {
		return storage.Snapshot{}, err
	}
	fv := unit.Location.Volume
	if !idRE().MatchString(fv.UUID) {
		return storage.Snapshot{}, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("array did not report the volume that holds %s", vol.Name))
	}
	path := "/api/storage/volumes/" + url.PathEscape(fv.UUID) + "/snapshots"
	find := func() (snapshotRecord, bool, error) {
		recs, err := listAll[snapshotRecord](ctx, c, op, path, url.Values{"name": {name}, "fields": {"uuid,name"}})
		if err != nil {
			return snapshotRecord{}, false, err
		}
		i := slices.IndexFunc(recs, func(r snapshotRecord) bool { return r.Name == name })
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
		err := c.mutate(ctx, op, http.MethodPost, path, nil, map[string]string{"name": name})
		if err != nil && storage.KindOf(err) != storage.KindAlreadyExists {
			return storage.Snapshot{}, err
		}
		if s, found, err = find(); err != nil {
			return storage.Snapshot{}, err
		}
		if !found {
			return storage.Snapshot{}, c.fail(op, storage.KindUnknown, 0, "", fmt.Errorf("snapshot %s of %s is missing after it was created", name, fv.Name))
		}
		c.log.InfoContext(ctx, "created snapshot", "volume", fv.Name, "snapshot", name)
	}
	return storage.Snapshot{ID: c.red.Clean(s.UUID), Name: s.Name, Volume: c.red.Clean(fv.Name)}, nil
}

// absent reports whether err says the object is already gone.
func absent(err error) bool { return errors.Is(err, storage.ErrNotFound) }

// opUnmap removes the map of vol from host. A map, host or volume that is
// already gone is success.
func (c *Client) opUnmap(ctx context.Context, host storage.Host, vol storage.Volume) error {
	const op = "unmap volume"
	volID, err := c.volumeID(op, vol)
	if err != nil {
		return err
	}
	hostID, found, err := c.hostID(ctx, op, host)
	if err != nil {
		return err
	}
	if !found {
		c.log.InfoContext(ctx, "host already gone; nothing to unmap", "host", host.Name)
		return nil
	}
	path := "/api/protocols/san/lun-maps/" + url.PathEscape(volID) + "/" + url.PathEscape(hostID)
	if c.nvme() {
		path = "/api/protocols/nvme/subsystem-maps/" + url.PathEscape(volID) + "/" + url.PathEscape(hostID)
	}
	if err := c.mutate(ctx, op, http.MethodDelete, path, nil, nil); err != nil {
		return c.goneAfter(ctx, op, err, path, "map")
	}
	c.log.InfoContext(ctx, "unmapped", "volume", vol.Name, "host", host.Name)
	return nil
}

// goneAfter decides a delete the array refused (whatever the code, "not
// found" included): success only when a GET of path says the object is not
// there. Otherwise the refusal stands; a "not found" refusal is no longer
// NotFound (which callers absorb as "already gone"): only the GET may say that.
func (c *Client) goneAfter(ctx context.Context, op string, derr error, path, what string) error {
	_, rerr := c.send(ctx, op, http.MethodGet, path, nil, nil, nil)
	if absent(rerr) {
		c.log.InfoContext(ctx, what+" already gone")
		return nil
	}
	return storage.NotGone(derr, rerr, what)
}

// opDeleteHost deletes the igroup or subsystem. One that is already gone is
// success. One that now holds initiators the Host does not list is refused:
// it is no longer (only) this workload's.
func (c *Client) opDeleteHost(ctx context.Context, host storage.Host) error {
	const op = "delete host"
	id, found, err := c.hostID(ctx, op, host)
	if err != nil {
		return err
	}
	if !found {
		c.log.InfoContext(ctx, "host already gone", "host", host.Name)
		return nil
	}
	var current []string
	path := "/api/protocols/san/igroups/" + url.PathEscape(id)
	q := url.Values(nil)
	if c.nvme() {
		path = "/api/protocols/nvme/subsystems/" + url.PathEscape(id)
		var s subsystemRecord
		if _, err := c.send(ctx, op, http.MethodGet, path, url.Values{"fields": {"name,hosts"}}, nil, &s); err != nil {
			if absent(err) {
				return nil
			}
			return err
		}
		current = subsystemHost(s, false).Initiators
		// Our hosts go with the subsystem; maps must be gone first (ONTAP refuses otherwise).
		q = url.Values{"allow_delete_with_hosts": {"true"}}
	} else {
		var ig igroupRecord
		if _, err := c.send(ctx, op, http.MethodGet, path, url.Values{"fields": {"name,initiators"}}, nil, &ig); err != nil {
			if absent(err) {
				return nil
			}
			return err
		}
		current = igroupHost(ig, false).Initiators
	}
	if len(host.Initiators) > 0 {
		for _, i := range current {
			if !slices.ContainsFunc(host.Initiators, func(h string) bool { return strings.EqualFold(h, i) }) {
				return c.fail(op, storage.KindInvalid, 0, "", fmt.Errorf("host %s now also holds %s, which this workload does not own; refusing to delete it", host.Name, i))
			}
		}
	}
	if err := c.mutate(ctx, op, http.MethodDelete, path, q, nil); err != nil {
		return c.goneAfter(ctx, op, err, path, "host")
	}
	c.log.InfoContext(ctx, "deleted host", "host", host.Name)
	return nil
}

// opDeleteVolume deletes the LUN or namespace (not the ONTAP volume around it).
// It destroys data: the wizard calls it only when the operator asked by flag
// and typed the workload name. One that is already gone is success.
func (c *Client) opDeleteVolume(ctx context.Context, vol storage.Volume) error {
	const op = "delete volume"
	volID, err := c.volumeID(op, vol)
	if err != nil {
		return err
	}
	if err := c.mutate(ctx, op, http.MethodDelete, c.unitPath()+"/"+url.PathEscape(volID), nil, nil); err != nil {
		return c.goneAfter(ctx, op, err, c.unitPath()+"/"+url.PathEscape(volID), "volume")
	}
	c.log.InfoContext(ctx, "deleted volume", "volume", vol.Name)
	return nil
}
