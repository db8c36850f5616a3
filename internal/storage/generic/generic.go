// Package generic is the array client for any iSCSI or NVMe/TCP target that
// outposts-ha cannot manage: it has no management API at all. The operator
// configures the array by hand (an ACL that admits the workload's initiator,
// the volume presented at a LUN or namespace ID) and gives the tool the
// target name, its portals and that LUN. This client validates what the
// operator typed and hands it to the wizard through the same storage.Array
// interface as the managed vendors, so every flow (setup, drill, failback,
// cleanup) runs unchanged.
//
// It never pretends to have done something on the array:
//   - EnsureHost records the initiator and changes nothing; Instructions says
//     exactly what the operator must allow on the array.
//   - Map returns the operator's LUN; asking for another one is an error.
//   - Snapshot, Unmap, DeleteHost and DeleteVolume return storage.KindUnsupported
//     with the manual step in the message. Returning nil would let cleanup
//     report an ACL as removed while it still admits the initiator; the wizard
//     checks errors.Is(err, storage.ErrUnsupported) and shows the step instead.
//
// Probe checks that each portal accepts TCP connections, as a report.
package generic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/lazyre"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const vendor = "generic"

// DefaultProbeTimeout bounds each portal check when Probe gets no timeout.
const DefaultProbeTimeout = 3 * time.Second

// MaxConcurrentProbes bounds how many portal checks Probe runs at once.
const MaxConcurrentProbes = 8

// Config is what the operator typed about the array.
type Config struct {
	// Target is the target IQN (iSCSI) or subsystem NQN (NVMe/TCP), its
	// protocol, and its portals. A portal port of 0 means the protocol's
	// default (3260 for iSCSI, 4420 for NVMe/TCP).
	Target storage.Target
	// LUN is the LUN (iSCSI, 0-4095) or namespace ID (NVMe, 1-4095) at which
	// the operator presented the volume to the initiator.
	LUN int
	// Initiator is the IQN or host NQN the operator allowed on the array.
	// Optional: when set, EnsureHost refuses any other identity.
	Initiator string
}

// Client is the generic array. It is safe for concurrent use.
type Client struct {
	target    storage.Target
	lun       int
	initiator string

	mu   sync.Mutex
	host *storage.Host // set by EnsureHost
}

var _ storage.Array = (*Client)(nil)

var hostNameRE = lazyre.NewBounded(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`, 64)

func validateName(p storage.Protocol, s string) error {
	if p == storage.NVMeTCP {
		return sanboot.ValidateNQN(s)
	}
	return sanboot.ValidateIQN(s)
}

// New validates the operator's answers. It does no I/O.
func New(c Config) (*Client, error) {
	t := c.Target
	var defPort int
	switch t.Protocol {
	case storage.ISCSI:
		defPort = sanboot.ISCSIPort
	case storage.NVMeTCP:
		defPort = sanboot.NVMeTCPPort
	default:
		return nil, fmt.Errorf("generic: target protocol %q: use %q or %q", t.Protocol, storage.ISCSI, storage.NVMeTCP)
	}
	if err := validateName(t.Protocol, t.Name); err != nil {
		return nil, fmt.Errorf("generic: target name %w", err)
	}
	if len(t.Endpoints) == 0 {
		return nil, fmt.Errorf("generic: no portals: give at least one IP[:port] of the target")
	}
	eps := make([]storage.Endpoint, 0, len(t.Endpoints))
	for _, e := range t.Endpoints {
		a, err := netip.ParseAddr(e.Address)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("generic: portal address %q: give an IP address (no host name, no IPv6 zone)", e.Address)
		}
		port := e.Port
		if port == 0 {
			port = defPort
		}
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("generic: portal %s port %d: use 1-65535 (iSCSI 3260, NVMe/TCP 4420)", e.Address, e.Port)
		}
		ne := storage.Endpoint{Address: a.Unmap().String(), Port: port}
		if slices.Contains(eps, ne) {
			return nil, fmt.Errorf("generic: portal %s is listed twice", net.JoinHostPort(ne.Address, strconv.Itoa(port)))
		}
		eps = append(eps, ne)
	}
	minLUN := 0
	if t.Protocol == storage.NVMeTCP {
		minLUN = 1 // namespace ID 0 does not exist
	}
	if c.LUN < minLUN || c.LUN > sanboot.MaxLUN {
		return nil, fmt.Errorf("generic: LUN %d is out of range %d-%d: give the LUN (or NVMe namespace ID) the array presents", c.LUN, minLUN, sanboot.MaxLUN)
	}
	if c.Initiator != "" {
		if err := validateName(t.Protocol, c.Initiator); err != nil {
			return nil, fmt.Errorf("generic: initiator %w", err)
		}
	}
	t.Endpoints = eps
	return &Client{target: t, lun: c.LUN, initiator: c.Initiator}, nil
}

func (c *Client) fail(op string, kind storage.Kind, err error) error {
	return &storage.Error{Vendor: vendor, Op: op, Kind: kind, Err: err}
}

// Login does nothing: there is no management API.
func (c *Client) Login(context.Context) error { return nil }

// Logout does nothing: there is no management API.
func (c *Client) Logout(context.Context) error { return nil }

func (c *Client) volume() storage.Volume {
	return storage.Volume{ID: "lun-" + strconv.Itoa(c.lun), Name: fmt.Sprintf("%s %d of %s", c.unitWord(), c.lun, c.target.Name)}
}

func (c *Client) unitWord() string {
	if c.target.Protocol == storage.NVMeTCP {
		return "namespace"
	}
	return "LUN"
}

// Volumes returns the one volume the operator described. Its size is unknown
// (0).
func (c *Client) Volumes(context.Context) ([]storage.Volume, error) {
	return []storage.Volume{c.volume()}, nil
}

// EnsureHost records the workload's initiator. It changes nothing on the array
// (Created is false); Instructions tells the operator what to allow.
func (c *Client) EnsureHost(_ context.Context, h storage.HostSpec) (storage.Host, error) {
	const op = "ensure host"
	if h.Protocol != c.target.Protocol {
		return storage.Host{}, c.fail(op, storage.KindUnsupported, fmt.Errorf("the target serves %s, not %s", c.target.Protocol, h.Protocol))
	}
	if !hostNameRE().MatchString(h.Name) {
		return storage.Host{}, c.fail(op, storage.KindInvalid, fmt.Errorf("host name %q: use letters, digits, '_', '.', '-'", h.Name))
	}
	if err := validateName(h.Protocol, h.Initiator); err != nil {
		return storage.Host{}, c.fail(op, storage.KindInvalid, fmt.Errorf("initiator %w", err))
	}
	if c.initiator != "" && !strings.EqualFold(c.initiator, h.Initiator) {
		return storage.Host{}, c.fail(op, storage.KindInvalid,
			fmt.Errorf("the array was set up for initiator %s, not %s: allow %s on the array and give it as the initiator", c.initiator, h.Initiator, h.Initiator))
	}
	host := storage.Host{ID: h.Name, Name: h.Name, Initiators: []string{h.Initiator}}
	c.mu.Lock()
	c.host = &host
	c.mu.Unlock()
	return host, nil
}

// Instructions is what the operator must configure on the array, by hand,
// before the instance boots.
func (c *Client) Instructions() string {
	c.mu.Lock()
	initiator := c.initiator
	if c.host != nil {
		initiator = c.host.Initiators[0]
	}
	c.mu.Unlock()
	if initiator == "" {
		initiator = "<the workload's initiator, shown after setup generates it>"
	}
	var portals []string
	for _, e := range c.target.Endpoints {
		portals = append(portals, net.JoinHostPort(e.Address, strconv.Itoa(e.Port)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "outposts-ha cannot manage this array and changed nothing on it. On the array, before the instance boots:\n")
	if c.target.Protocol == storage.NVMeTCP {
		fmt.Fprintf(&b, "  1. allow host NQN %s on subsystem %s\n", initiator, c.target.Name)
		fmt.Fprintf(&b, "  2. attach the boot volume to that subsystem as namespace ID %d, visible to that host only\n", c.lun)
		fmt.Fprintf(&b, "  3. serve the subsystem over NVMe/TCP on %s\n", strings.Join(portals, ", "))
	} else {
		fmt.Fprintf(&b, "  1. allow initiator %s to log in to target %s (ACL / initiator group)\n", initiator, c.target.Name)
		fmt.Fprintf(&b, "  2. present the boot volume to that initiator only, as LUN %d\n", c.lun)
		fmt.Fprintf(&b, "  3. serve the target on %s\n", strings.Join(portals, ", "))
		fmt.Fprintf(&b, "  4. if the target requires CHAP, use the credentials stored in the Secrets Manager secret\n")
	}
	fmt.Fprintf(&b, "Allow no other initiator on that volume: two writers on one LUN corrupt it.")
	return b.String()
}

// Map returns the LUN the operator presented. lun < 0 accepts it; any other
// requested number is KindInvalid, because this tool cannot change the array.
func (c *Client) Map(_ context.Context, host storage.Host, vol storage.Volume, lun int) (storage.Mapping, error) {
	const op = "map volume"
	if lun >= 0 && lun != c.lun {
		return storage.Mapping{}, c.fail(op, storage.KindInvalid,
			fmt.Errorf("the array presents the volume as %s %d, not %d; change it on the array and in the answers, or let it stand", c.unitWord(), c.lun, lun))
	}
	own := c.volume()
	if vol.ID != "" && vol.ID != own.ID {
		return storage.Mapping{}, c.fail(op, storage.KindNotFound, fmt.Errorf("volume %q is not the one the operator described (%s)", vol.ID, own.Name))
	}
	if vol.ID == "" {
		vol = own
	}
	return storage.Mapping{Volume: vol, HostID: host.ID, LUN: c.lun}, nil
}

// Target returns the operator's target. Another protocol is KindUnsupported.
func (c *Client) Target(_ context.Context, p storage.Protocol) (storage.Target, error) {
	if p != c.target.Protocol {
		return storage.Target{}, c.fail("discover target", storage.KindUnsupported, fmt.Errorf("the target serves %s, not %s", c.target.Protocol, p))
	}
	t := c.target
	t.Endpoints = slices.Clone(c.target.Endpoints)
	return t, nil
}

func (c *Client) manual(op, step string) error {
	return c.fail(op, storage.KindUnsupported, fmt.Errorf("this array has no management API: %s on the array by hand", step))
}

// Snapshot is the operator's job on a generic array: KindUnsupported.
func (c *Client) Snapshot(_ context.Context, vol storage.Volume, name string) (storage.Snapshot, error) {
	return storage.Snapshot{}, c.manual("snapshot", fmt.Sprintf("take snapshot %q of %s", name, c.volume().Name))
}

// Unmap is the operator's job on a generic array: KindUnsupported.
func (c *Client) Unmap(_ context.Context, host storage.Host, _ storage.Volume) error {
	return c.manual("unmap volume", fmt.Sprintf("remove %s %d from %s", c.unitWord(), c.lun, describe(host)))
}

// DeleteHost is the operator's job on a generic array: KindUnsupported.
func (c *Client) DeleteHost(_ context.Context, host storage.Host) error {
	return c.manual("delete host", fmt.Sprintf("remove %s from the access list of %s", describe(host), c.target.Name))
}

// DeleteVolume is the operator's job on a generic array: KindUnsupported.
func (c *Client) DeleteVolume(_ context.Context, _ storage.Volume) error {
	return c.manual("delete volume", fmt.Sprintf("delete %s if you no longer need its data", c.volume().Name))
}

func describe(h storage.Host) string {
	if len(h.Initiators) > 0 {
		return "initiator " + strings.Join(h.Initiators, ", ")
	}
	return "host " + h.Name
}

// PortalStatus is the result of probing one portal.
type PortalStatus struct {
	Endpoint  storage.Endpoint
	Reachable bool
	Err       error // why it is not reachable; nil when Reachable
}

// Probe opens (and at once closes) a TCP connection to every portal, in
// parallel but at most MaxConcurrentProbes at once, each bounded by timeout
// (DefaultProbeTimeout when <= 0) and ctx; a portal not yet started when ctx
// ends reports ctx's error without a dial.
// It is a report for the operator: an unreachable portal is not an error
// here, since the machine running the wizard often has no route to the SAN
// VLAN that the instance's LNI reaches. Results are in portal order.
func (c *Client) Probe(ctx context.Context, timeout time.Duration) []PortalStatus {
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	out := make([]PortalStatus, len(c.target.Endpoints))
	slots := make(chan struct{}, MaxConcurrentProbes)
	var wg sync.WaitGroup
	for i, e := range c.target.Endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				out[i] = probe(ctx, e, timeout)
			case <-ctx.Done():
				out[i] = PortalStatus{Endpoint: e, Err: ctx.Err()}
			}
		}()
	}
	wg.Wait()
	return out
}

func probe(ctx context.Context, e storage.Endpoint, timeout time.Duration) PortalStatus {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(e.Address, strconv.Itoa(e.Port)))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v: %w", timeout, err)
		}
		return PortalStatus{Endpoint: e, Err: err}
	}
	defer conn.Close() // the portal answered; closing our side cannot change that
	return PortalStatus{Endpoint: e, Reachable: true}
}
