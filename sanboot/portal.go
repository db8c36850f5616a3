package sanboot

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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
}

// ParsePortal accepts "ip", "ip:port", "[v6]" and "[v6]:port". A bare IPv6
// address with no brackets is accepted when it has no port.
func ParsePortal(s string, defaultPort uint16) (Portal, error) {
	if s == "" {
		return Portal{}, fmt.Errorf("portal is empty: give an IP address, optionally with :port")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return Portal{}, fmt.Errorf("portal %q contains white space: give one IP[:port] per entry", s)
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return Portal{}, fmt.Errorf("portal %q has an IPv6 zone: zones are not usable from iPXE", s)
		}
		if err := checkUnicast(s, a); err != nil {
			return Portal{}, err
		}
		return Portal{Addr: a, Port: defaultPort}, nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return Portal{}, fmt.Errorf("portal %q is not a valid bracketed IPv6 address", s)
		}
		if err := checkUnicast(s, a); err != nil {
			return Portal{}, err
		}
		return Portal{Addr: a, Port: defaultPort}, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return Portal{}, fmt.Errorf("portal %q is not IP[:port] (IPv6 with a port goes in brackets: [fd00::1]:3260)", s)
	}
	if ap.Port() == 0 {
		return Portal{}, fmt.Errorf("portal %q has port 0: use 1-65535 (iSCSI 3260, NVMe/TCP 4420)", s)
	}
	if ap.Addr().Zone() != "" {
		return Portal{}, fmt.Errorf("portal %q has an IPv6 zone: zones are not usable from iPXE", s)
	}
	if err := checkUnicast(s, ap.Addr()); err != nil {
		return Portal{}, err
	}
	return Portal{Addr: ap.Addr(), Port: ap.Port()}, nil
}

// checkUnicast refuses addresses no initiator can log in to.
func checkUnicast(s string, a netip.Addr) error {
	switch {
	case a.Is4In6():
		return fmt.Errorf("portal %q is an IPv4-mapped IPv6 address: write it as %s", s, a.Unmap())
	case a.IsUnspecified() || a.IsMulticast():
		return fmt.Errorf("portal %q is not a unicast address: give the array's portal IP", s)
	}
	return nil
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

func (p Portal) portString() string { return strconv.Itoa(int(p.Port)) }
