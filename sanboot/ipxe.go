package sanboot

import (
	"bytes"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"
)

// MaxSANLUN is the largest LUN this tool renders and accepts: the end of SAM
// flat-space addressing, the most one level of a SCSI LUN carries, and the
// largest LUN HPE Alletra/Primera/3PAR assigns. ONTAP (0-4095) and Pure
// (1-4095) assign less; the answers-file checks narrow the range per vendor.
const MaxSANLUN = 16383

// MaxLUN is the largest LUN ONTAP and Pure assign (0-4095, 1-4095); their
// storage clients check requested LUNs against it. Use MaxSANLUN for what a
// SAN URI carries.
const MaxLUN = 4095

// LUNField renders a LUN as the LUN field of an iPXE SAN URI. iPXE
// (scsi_parse_lun) reads the field as up to four '-'-separated 16-bit hex
// groups, each stored big-endian as one level of the 8-byte SCSI LUN. The
// first level's top two bits are the SAM address method: 00 is peripheral
// addressing (LUN 0-255 in the second byte), 01 flat space (LUN 0-16383 in the
// low 14 bits). So LUN 0-255 is plain hex ("1a" for 26), and LUN 256-16383 is
// 0x4000|LUN ("4101" for 257): plain hex "101" would be peripheral bus 1 LUN
// 1, which a standards-following target (tgt in internal/sanlab) serves as
// LUN 1, another disk. lun must be in 0-MaxSANLUN.
func LUNField(lun int) string {
	if lun < 256 {
		return fmt.Sprintf("%x", lun)
	}
	return fmt.Sprintf("%x", 0x4000|lun)
}

// LinuxLUN is the number Linux gives a LUN the array reports with these
// encodings (scsilun_to_int: the first level's two bytes as one number), as in
// /sys/class/scsi_device/H:C:T:L: the LUN itself up to 255, 0x4000|LUN above.
func LinuxLUN(lun int) int {
	if lun < 256 {
		return lun
	}
	return 0x4000 | lun
}

// IPXE describes one iSCSI SAN boot.
type IPXE struct {
	InitiatorIQN string
	TargetIQN    string
	// Portals lists every portal of the target; more than one gives iPXE multipath
	// (the first that answers wins; the others are retried if it fails).
	Portals []Portal
	// LUN is the LUN the array reported after mapping, never an assumed 0.
	LUN int
	// CHAPSecretARN, when set, makes the AWS iPXE build fetch the CHAP credentials
	// from Secrets Manager with aws_get_boot_creds_from_secret. The line runs
	// before the LNI takes over, while the VPC interface can still reach the API.
	CHAPSecretARN string
	// LNI is the Outposts server local network interface. Nil renders a plain
	// DHCP on the first interface (not an Outposts server path).
	LNI *LNI
	// Filename is the UEFI loader sanboot hands control to, for example
	// \EFI\redhat\shimx64.efi. Empty means the firmware default. Setting it
	// declares a UEFI boot, which lifts the BIOS iBFT budget (see CheckBootPaths).
	Filename string
}

// LNI is how the script brings up the local network interface.
type LNI struct {
	// Index is the device index of the LNI (1 on Outposts servers).
	Index int
	// DHCPTimeout bounds the DHCP wait on the LNI; zero means 5s.
	DHCPTimeout time.Duration
	// Static addresses the LNI without DHCP, for SAN VLANs that have no DHCP server.
	Static *StaticAddress
}

// StaticAddress is a fixed IPv4 address for the LNI.
type StaticAddress struct {
	Address netip.Prefix // 192.168.50.20/24
	Gateway netip.Addr   // optional
}

// FailureMarker starts the line the script prints when it gives up, so that
// console scrapers and tests can find it.
const FailureMarker = "OUTPOSTS-HA-SANBOOT-FAILED"

var (
	// secretARNRE is `...:secret:[A-Za-z0-9/_+=.@-]{1,512}$` with `+` for the
	// count and the name captured: matchSecretARN bounds the name's length, so
	// the pattern compiles to a few KB, not the 350 KB of the counted form.
	secretARNRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):[0-9]{12}:secret:([A-Za-z0-9/_+=.@-]+)$`)
	})
	// efiPathRE allows a backslash-separated path of plain file-name characters.
	efiPathRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\\[A-Za-z0-9_.-]+(\\[A-Za-z0-9_.-]+)*$`) })
)

// matchSecretARN returns what
// ^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$
// would: nil, or the match with the partition and the Region. No ':' can occur
// inside a group, so the name is what follows ":secret:" and its class is ASCII.
func matchSecretARN(s string) []string {
	m := secretARNRE().FindStringSubmatch(s)
	if m == nil || len(m[3]) > 512 {
		return nil
	}
	return m[:3]
}

// ValidateSecretARN checks a Secrets Manager secret ARN.
func ValidateSecretARN(s string) error {
	m := matchSecretARN(s)
	if m == nil {
		return fmt.Errorf("%s is not a Secrets Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)", QuoteShort(s))
	}
	partition, region := m[1], m[2]
	if !IsPartition(partition) {
		return fmt.Errorf("ARN partition %s is not an AWS partition (aws, aws-cn, aws-us-gov, ...)", QuoteShort(partition))
	}
	rp, ok := RegionPartition(region)
	if !ok {
		return fmt.Errorf("ARN Region %s is not an AWS Region", QuoteShort(region))
	}
	if rp != partition {
		return fmt.Errorf("ARN Region %s is in partition %s, not %s", region, rp, partition)
	}
	return nil
}

// ValidateEFIPath checks a UEFI loader path such as \EFI\redhat\shimx64.efi.
func ValidateEFIPath(s string) error {
	if len(s) > 255 || !efiPathRE().MatchString(s) {
		return fmt.Errorf("%s is not a UEFI path like \\EFI\\redhat\\shimx64.efi (backslashes, letters, digits, '_', '.', '-')", QuoteShort(s))
	}
	return nil
}

// Validate reports the first problem with the boot description.
func (c IPXE) Validate() error {
	if err := ValidateIQN(c.InitiatorIQN); err != nil {
		return fmt.Errorf("initiator IQN %w", err)
	}
	if err := ValidateIQN(c.TargetIQN); err != nil {
		return fmt.Errorf("target IQN %w", err)
	}
	if err := validatePortals(c.Portals, "target"); err != nil {
		return err
	}
	for _, p := range c.Portals {
		if p.Target == "" {
			continue
		}
		if err := ValidateIQN(p.Target); err != nil {
			return fmt.Errorf("target IQN of portal %s %w", p, err)
		}
	}
	if c.LUN < 0 || c.LUN > MaxSANLUN {
		return fmt.Errorf("LUN %d is out of range 0-%d", c.LUN, MaxSANLUN)
	}
	if c.CHAPSecretARN != "" {
		if err := ValidateSecretARN(c.CHAPSecretARN); err != nil {
			return fmt.Errorf("CHAP secret %w", err)
		}
	}
	if c.Filename != "" {
		if err := ValidateEFIPath(c.Filename); err != nil {
			return fmt.Errorf("UEFI filename %w", err)
		}
	}
	if err := c.CheckBootPaths(); err != nil {
		return err
	}
	if l := c.LNI; l != nil {
		if l.Index < 1 || l.Index > 7 {
			return fmt.Errorf("LNI device index %d: Outposts servers put the LNI at index 1", l.Index)
		}
		if l.DHCPTimeout < 0 || l.DHCPTimeout > 10*time.Minute {
			return fmt.Errorf("LNI DHCP timeout %v is out of range 0-10m", l.DHCPTimeout)
		}
		if s := l.Static; s != nil {
			if !s.Address.IsValid() || !s.Address.Addr().Is4() {
				return fmt.Errorf("static LNI address %v: give an IPv4 address with prefix, like 192.168.50.20/24", s.Address)
			}
			if s.Address.Bits() < 8 || s.Address.Bits() > 30 {
				return fmt.Errorf("static LNI prefix /%d: use /8 to /30", s.Address.Bits())
			}
			if err := CheckStaticAddress(s.Address, s.Gateway); err != nil {
				return fmt.Errorf("static LNI %w", err)
			}
		}
	}
	return nil
}

// SANURI renders one iSCSI SAN URI (RFC 4173 as iPXE reads it):
// iscsi:<server>::<port>:<lun>:<target>, the LUN field as LUNField writes it
// (hex, so LUN 10 is "a"; and flat-space above 255, so LUN 257 is "4101").
// A portal with its own Target is rendered with that name.
func SANURI(p Portal, lun int, target string) string {
	if p.Target != "" {
		target = p.Target
	}
	return fmt.Sprintf("iscsi:%s::%d:%s:%s", p.host(), p.Port, LUNField(lun), target)
}

// RenderIPXE renders the iPXE script. Every command that can fail jumps to one
// failure label that prints FailureMarker with iPXE's error and exits, so a bad
// boot is visible on the serial console and never waits forever.
func RenderIPXE(c IPXE) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("#!ipxe")
	w("# outposts-ha SAN boot. Generated: edit the answers file and re-run plan instead.")
	w("set initiator-iqn %s", c.InitiatorIQN)
	if c.CHAPSecretARN != "" {
		w("# CHAP credentials come from Secrets Manager over the VPC interface, before the LNI takes over.")
		w("aws_get_boot_creds_from_secret %s || goto failed", c.CHAPSecretARN)
	}
	if l := c.LNI; l != nil {
		nic := fmt.Sprintf("net%d", l.Index)
		w("ifclose")
		if s := l.Static; s != nil {
			w("set %s/ip %s", nic, s.Address.Addr())
			w("set %s/netmask %s", nic, netmask(s.Address.Bits()))
			if s.Gateway.IsValid() {
				w("set %s/gateway %s", nic, s.Gateway)
			}
			w("ifopen %s || goto failed", nic)
		} else {
			timeout := l.DHCPTimeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			w("ifopen %s || goto failed", nic)
			w("dhcp --timeout %d %s || goto failed", timeout.Milliseconds(), nic)
			w("# Keep DHCP's host name out of the iBFT: under BIOS its room is 768 bytes.")
			w("clear %s.dhcp/hostname || goto failed", nic)
		}
		w("route ||")
	} else {
		w("dhcp || goto failed")
	}
	uris := make([]string, 0, len(c.Portals))
	for _, p := range c.Portals {
		uris = append(uris, SANURI(p, c.LUN, c.TargetIQN))
	}
	args := ""
	if c.Filename != "" {
		args = "--filename " + c.Filename + " "
	}
	w("sanboot %s%s || goto failed", args, strings.Join(uris, " "))
	w("goto failed")
	w(":failed")
	w("echo %s error ${errno:hexraw} target %s", FailureMarker, c.TargetIQN)
	w("echo See https://ipxe.org/${errno:hexraw} and check the LUN map, initiator ACL and portals.")
	w("exit 1")
	return b.Bytes(), nil
}

// CheckStaticAddress refuses a static IPv4 address that is its subnet's network
// or broadcast address, and a gateway (optional: the zero Addr) that is outside
// the subnet, is the address itself, or is the network or broadcast address.
// The prefix must already be IPv4 with /8 to /30.
func CheckStaticAddress(addr netip.Prefix, gw netip.Addr) error {
	net := addr.Masked()
	switch addr.Addr() {
	case net.Addr():
		return fmt.Errorf("address %v is the network address of %v: give the host's own address", addr, net)
	case broadcast(addr):
		return fmt.Errorf("address %v is the broadcast address of %v: give the host's own address", addr, net)
	}
	if !gw.IsValid() {
		return nil
	}
	switch {
	case !gw.Is4() || !net.Contains(gw):
		return fmt.Errorf("gateway %v is not an IPv4 address inside %v", gw, net)
	case gw == addr.Addr():
		return fmt.Errorf("gateway %v is the LNI's own address: give the SAN VLAN's router, or leave the gateway out", gw)
	case gw == net.Addr():
		return fmt.Errorf("gateway %v is the network address of %v, not a router", gw, net)
	case gw == broadcast(addr):
		return fmt.Errorf("gateway %v is the broadcast address of %v, not a router", gw, net)
	}
	return nil
}

func netmask(bits int) netip.Addr {
	m := ^uint32(0) << (32 - bits)
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}
