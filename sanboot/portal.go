package sanboot

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Default ports.
const (
	ISCSIPort   = 3260
	NVMeTCPPort = 4420
)

// Portal is one target portal: an IP literal and a TCP port. Host names are
// refused on purpose: the LNI has no DNS guarantee, and iPXE resolves names
// through whatever DHCP handed out.
type Portal struct {
	Addr netip.Addr
	Port uint16
	// Target, when set, is the target name this portal serves: arrays such as
	// PowerStore and HPE give each node or port its own target IQN (or NQN),
	// so one volume is reached as several targets. Empty means the volume's
	// one target name.
	Target string
}

// PortalError is why a portal was refused. Reason names no subject, so that a
// caller which already names the field (storage.boot.portals[0]) can print it
// alone; Error() prefixes the portal and a short prefix of its value.
type PortalError struct {
	Value  string
	Reason string
}

func (e *PortalError) Error() string { return "portal " + QuoteShort(e.Value) + " " + e.Reason }

// QuoteShortLen is how much of a bad value a message echoes.
const QuoteShortLen = 40

// QuoteShort quotes at most the first QuoteShortLen bytes of s (cut on a rune
// boundary) with Go escapes, marking a cut with "...". Messages echo bad
// values this way so that a pasted secret or a huge value is never printed whole.
func QuoteShort(s string) string {
	if len(s) <= QuoteShortLen {
		return strconv.Quote(s)
	}
	cut := QuoteShortLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

var (
	dottedRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+(\.[0-9]*)*$`) })
	hostishRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]*[A-Za-z_-][A-Za-z0-9._-]*$`) })
)

func portalErr(s, reason string) error { return &PortalError{Value: s, Reason: reason} }

// ParsePortal accepts "ip", "ip:port", "[v6]" and "[v6]:port". A bare IPv6
// address with no brackets is accepted when it has no port.
func ParsePortal(s string, defaultPort uint16) (Portal, error) {
	if s == "" {
		return Portal{}, portalErr(s, "is empty: give an IP address, optionally with :port")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return Portal{}, portalErr(s, "contains white space: give one IP[:port] per entry")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return Portal{}, portalErr(s, "has an IPv6 zone: zones are not usable from iPXE")
		}
		if r := addrProblem(a); r != "" {
			return Portal{}, portalErr(s, r)
		}
		return Portal{Addr: a, Port: defaultPort}, nil
	}
	host, port, hasPort := s, "", false
	switch {
	case strings.HasPrefix(s, "["):
		h, rest, closed := strings.Cut(s[1:], "]")
		if !closed {
			return Portal{}, portalErr(s, "has no closing ']': write IPv6 as [fd00::1] or [fd00::1]:3260")
		}
		host = h
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return Portal{}, portalErr(s, "has text after ']': write [IPv6]:port")
			}
			port, hasPort = rest[1:], true
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return Portal{}, portalErr(s, "is not a valid bracketed IPv6 address: only IPv6 goes in brackets")
		}
		if a.Zone() != "" {
			return Portal{}, portalErr(s, "has an IPv6 zone: zones are not usable from iPXE")
		}
	case strings.Count(s, ":") == 1:
		host, port, hasPort = s[:strings.Index(s, ":")], s[strings.Index(s, ":")+1:], true
	case strings.Count(s, ":") > 1:
		return Portal{}, portalErr(s, "is not a valid IPv6 address (an IPv6 portal with a port goes in brackets: [fd00::1]:3260)")
	}
	if hasPort {
		n, err := strconv.Atoi(port)
		switch {
		case port == "" || strings.TrimLeft(port, "0123456789") != "":
			return Portal{}, portalErr(s, "has a port that is not a number: write IP:port, e.g. 192.168.50.10:3260")
		case err != nil || n < 1 || n > 65535:
			return Portal{}, portalErr(s, "has port "+QuoteShort(port)+" out of range: use 1-65535 (iSCSI 3260, NVMe/TCP 4420)")
		case len(port) > 1 && port[0] == '0':
			return Portal{}, portalErr(s, "has a port with a leading zero: write it in plain decimal")
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		switch {
		case dottedRE().MatchString(host):
			return Portal{}, portalErr(s, "is not a valid IPv4 address: write IP[:port] with four numbers 0-255 separated by dots, without leading zeros, e.g. 192.168.50.10:3260")
		case hostishRE().MatchString(host):
			return Portal{}, portalErr(s, "is a host name, and only IP literals work at boot (iPXE on the SAN interface has no DNS server it can count on): write the portal's address as IP[:port]")
		}
		return Portal{}, portalErr(s, "is not IP[:port] (IPv6 with a port goes in brackets: [fd00::1]:3260)")
	}
	if r := addrProblem(a); r != "" {
		return Portal{}, portalErr(s, r)
	}
	p := Portal{Addr: a, Port: defaultPort}
	if hasPort {
		n, _ := strconv.Atoi(port)
		p.Port = uint16(n)
	}
	return p, nil
}

// addrProblem says why no initiator can log in to a, or "".
func addrProblem(a netip.Addr) string {
	switch {
	case a.Is4In6():
		return "is an IPv4-mapped IPv6 address: write it as " + a.Unmap().String()
	case a.IsUnspecified():
		return "is not a unicast address (it is the unspecified address): give the array's portal IP"
	case a.IsMulticast():
		return "is not a unicast address (it is multicast): give the array's portal IP"
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "is not a unicast address (it is the broadcast address): give the array's portal IP"
	case a.IsLoopback():
		return "is not a unicast address the instance can reach (it is loopback): give the array's portal IP"
	case a.Is4() && a.As4()[0] == 0:
		return "is not a unicast address (0.0.0.0/8 means this network): give the array's portal IP"
	case a.Is4() && a.As4()[0] >= 240:
		return "is not a unicast address (240.0.0.0/4 is reserved): give the array's portal IP"
	}
	return ""
}

// CheckPortalInSubnet refuses a portal that is the network or broadcast address
// of a known IPv4 subnet (for example the static LNI's): neither is a host.
func CheckPortalInSubnet(p Portal, subnet netip.Prefix) error {
	if !p.Addr.Is4() || !subnet.Addr().Is4() || subnet.Bits() > 30 || !subnet.Masked().Contains(p.Addr) {
		return nil
	}
	switch p.Addr {
	case subnet.Masked().Addr():
		return &PortalError{Value: p.String(), Reason: "is the network address of " + subnet.Masked().String() + ", not a host"}
	case broadcast(subnet):
		return &PortalError{Value: p.String(), Reason: "is the broadcast address of " + subnet.Masked().String() + ", not a host"}
	}
	return nil
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= ^(^uint32(0) << (32 - p.Bits()))
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// String renders ip:port, with brackets for IPv6.
func (p Portal) String() string {
	return netip.AddrPortFrom(p.Addr, p.Port).String()
}

// host renders the address the way URIs and command lines want it.
func (p Portal) host() string {
	if p.Addr.Is6() {
		return "[" + p.Addr.String() + "]"
	}
	return p.Addr.String()
}
