package sanlab

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// IBFT is what a booted OS learns about its SAN paths from the iSCSI Boot
// Firmware Table that iPXE installs before it hands over to the boot sector.
// The boot sector dumps every table it finds; ParseIBFTs decodes them.
type IBFT struct {
	// Initiator is the initiator name the table carries.
	Initiator string
	// Targets lists the target structures, in control-block order.
	Targets []IBFTTarget
	// Length is the table's length in bytes.
	Length int
}

// IBFTTarget is one target structure of an iBFT.
type IBFTTarget struct {
	Addr netip.Addr
	Port uint16
	// LUN is the 8-byte SCSI LUN structure, as sent on the wire.
	LUN  [8]byte
	Name string
	// NIC is the index of the NIC structure the target is reached through.
	NIC int
}

// Layout of the iBFT (IBM iSCSI Boot Firmware Table v1.03; the structures
// Linux's drivers/firmware/iscsi_ibft.c reads): a 48-byte table header, then
// the control structure, whose offsets point at the initiator, NIC and target
// structures. Every structure starts with {id u8, version u8, length u16,
// index u8, flags u8}; strings are {length u16, offset u16} pairs.
const (
	ibftHeaderLen    = 48
	ibftIDControl    = 1
	ibftIDInitiator  = 2
	ibftIDTarget     = 4
	ibftControlFixed = 10 // header (6), extensions, initiator offset
	ibftTargetLen    = 54
)

// ParseIBFTs decodes the iBFT dumps the boot sector printed on the console
// (lines starting with IBFTPrefix). Candidates whose signature, length or
// checksum do not hold are skipped: the boot sector's scan can hit the four
// letters by chance.
func ParseIBFTs(console string) []IBFT {
	var out []IBFT
	seen := map[string]bool{}
	for _, l := range strings.Split(console, "\n") {
		if !strings.HasPrefix(l, IBFTPrefix) {
			continue
		}
		h := strings.TrimSpace(strings.TrimPrefix(l, IBFTPrefix))
		if seen[h] {
			continue
		}
		if t, ok := parseDump(h); ok {
			seen[h] = true
			if len(out) == 0 || !sameIBFT(out[len(out)-1], t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// sameIBFT reports whether two decoded tables say the same (the boot sector
// dumps every table twice, so that one clean copy survives the console).
func sameIBFT(a, b IBFT) bool {
	return a.Initiator == b.Initiator && a.Length == b.Length && slices.Equal(a.Targets, b.Targets)
}

// parseDump decodes one hex dump. SeaBIOS's serial console holds back the last
// character iPXE printed and may emit it later, into the middle of the dump
// the boot sector writes straight to the UART; so when the dump does not
// decode to a valid table as it is, every one-character deletion is tried (the
// checksum decides).
func parseDump(h string) (IBFT, bool) {
	try := func(s string) (IBFT, bool) {
		raw, err := hex.DecodeString(s)
		if err != nil {
			return IBFT{}, false
		}
		t, err := ParseIBFT(raw)
		return t, err == nil
	}
	if t, ok := try(h); ok {
		return t, true
	}
	if len(h)%2 == 0 || len(h) > 2*8192 {
		return IBFT{}, false
	}
	for i := range len(h) {
		if t, ok := try(h[:i] + h[i+1:]); ok {
			return t, true
		}
	}
	// Or a character was lost: the console's own writes can race the boot
	// sector's for the UART's one-byte transmit register.
	for i := range len(h) + 1 {
		for _, d := range "0123456789abcdef" {
			if t, ok := try(h[:i] + string(d) + h[i:]); ok {
				return t, true
			}
		}
	}
	return IBFT{}, false
}

// ParseIBFT decodes one table.
func ParseIBFT(b []byte) (IBFT, error) {
	le := binary.LittleEndian
	if len(b) < ibftHeaderLen+ibftControlFixed || string(b[:4]) != "iBFT" {
		return IBFT{}, fmt.Errorf("ibft: no table signature")
	}
	n := int(le.Uint32(b[4:]))
	if n > len(b) || n < ibftHeaderLen+ibftControlFixed {
		return IBFT{}, fmt.Errorf("ibft: length %d does not fit the %d bytes dumped", n, len(b))
	}
	b = b[:n]
	var sum byte
	for _, c := range b {
		sum += c
	}
	if sum != 0 {
		return IBFT{}, fmt.Errorf("ibft: checksum does not hold")
	}
	ctl := b[ibftHeaderLen:]
	if ctl[0] != ibftIDControl {
		return IBFT{}, fmt.Errorf("ibft: no control structure at %d", ibftHeaderLen)
	}
	ctlLen := int(le.Uint16(ctl[2:]))
	if ctlLen < ibftControlFixed || ibftHeaderLen+ctlLen > n {
		return IBFT{}, fmt.Errorf("ibft: control length %d", ctlLen)
	}
	str := func(at int) string {
		if at+4 > len(b) {
			return ""
		}
		l, off := int(le.Uint16(b[at:])), int(le.Uint16(b[at+2:]))
		if off == 0 || off+l > len(b) {
			return ""
		}
		return string(b[off : off+l])
	}
	t := IBFT{Length: n}
	if off := int(le.Uint16(ctl[8:])); off != 0 && off+6 <= n && b[off] == ibftIDInitiator {
		t.Initiator = str(off + ibftInitiatorNameAt)
	}
	// After the initiator offset come (nic, target) offset pairs.
	for at := ibftControlFixed + 2; at+2 <= ctlLen; at += 4 {
		off := int(le.Uint16(ctl[at:]))
		if off == 0 {
			continue
		}
		if off+ibftTargetLen > n || b[off] != ibftIDTarget {
			return IBFT{}, fmt.Errorf("ibft: target offset %d does not point at a target", off)
		}
		s := b[off:]
		var tg IBFTTarget
		ip := netip.AddrFrom16([16]byte(s[6:22]))
		tg.Addr = ip.Unmap()
		tg.Port = le.Uint16(s[22:])
		copy(tg.LUN[:], s[24:32])
		tg.NIC = int(s[33])
		tg.Name = str(off + 34)
		t.Targets = append(t.Targets, tg)
	}
	return t, nil
}

// ibftInitiatorNameAt is the offset of the initiator name string inside the
// initiator structure: header (6), iSNS (16), SLP (16), primary and secondary
// radius (2x16), then the name.
const ibftInitiatorNameAt = 6 + 16 + 16 + 16 + 16

// LUNField renders an 8-byte SCSI LUN the way iPXE's SAN URI writes it: up
// to four '-'-separated 16-bit big-endian groups in hex, trailing zero groups
// left out (scsi_parse_lun reads exactly this).
func LUNField(lun [8]byte) string {
	groups := make([]string, 0, 4)
	last := 0
	for i := range 4 {
		v := binary.BigEndian.Uint16(lun[2*i:])
		groups = append(groups, fmt.Sprintf("%x", v))
		if v != 0 {
			last = i
		}
	}
	return strings.Join(groups[:last+1], "-")
}

// BIOSIBFTMax is the room iPXE's BIOS build has for boot firmware tables:
// XBFTAB_SIZE in src/arch/x86/interface/pcbios/int13.c. A larger iBFT makes
// sanboot fail before the boot with "Could not describe SAN devices: No space
// left on device" (ipxe.org/34852006). The EFI build installs the table
// through the firmware's ACPI protocol and has no such fixed room.
const BIOSIBFTMax = 768

// IBFTLength is the length of the iBFT that iPXE (ibft_install in
// src/drivers/block/ibft.c, 2020 and later) builds for one initiator, the
// given targets (one per SAN path iPXE opened) and, when CHAP is used, the
// same CHAP user and secret on every target. hostname is what DHCP handed out
// (option 12), or "". The control block always has room for at least two
// NIC/target pairs; every structure is 16-byte aligned; the strings follow,
// each with its NUL.
func IBFTLength(initiator, hostname string, targets []string, chapUser, chapSecret string) int {
	pairs := max(2, len(targets))
	align := func(n int) int { return (n + 15) &^ 15 }
	n := align(ibftHeaderLen+ibftControlFixed+4*pairs) + align(ibftInitiatorLen) +
		pairs*align(ibftNICLen) + pairs*align(ibftTargetLen)
	n += len(initiator) + 1
	if hostname != "" {
		n += len(hostname) + 1
	}
	for _, t := range targets {
		n += len(t) + 1
		if chapUser != "" {
			n += len(chapUser) + 1 + len(chapSecret) + 1
		}
	}
	return n
}

// Structure lengths of the iBFT v1.03 layout (Linux iscsi_ibft.c).
const (
	ibftInitiatorLen = ibftInitiatorNameAt + 4 // 74
	ibftNICLen       = 102
)

var lsacpiIBFTRE = regexp.MustCompile(`^iBFT\s+([0-9]+)B\s.*\(valid\)`)

// UEFIIBFTLength reads the length of the iBFT from the ACPI table list GRUB's
// lsacpi printed in a UEFI boot (see efi.go), or 0 when there is none.
func UEFIIBFTLength(console string) int {
	for _, l := range strings.Split(console, "\n") {
		if m := lsacpiIBFTRE.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}
