package sanboot

import (
	"errors"
	"fmt"
)

// The iSCSI Boot Firmware Table (iBFT) is how iPXE tells the booted OS which
// SAN paths it booted through. Its BIOS build copies the table into a fixed
// 768-byte area (XBFTAB_SIZE in src/arch/x86/interface/pcbios/int13.c); a
// larger table fails the boot before the OS starts, with "Could not describe
// SAN devices: No space left on device" (ipxe.org/34852006). The EFI build
// installs the table through the firmware's ACPI protocol, without that room.
// internal/sanlab proves both: IBFTLength matches the tables iPXE built, a
// 768-byte table boots under BIOS and a 769-byte one does not, and four paths
// boot under UEFI.
const (
	// BIOSIBFTMax is the room iPXE's BIOS build has for the iBFT.
	BIOSIBFTMax = 768
	// MaxUEFIBootPaths is the most boot paths proved to boot under UEFI.
	MaxUEFIBootPaths = 4
	// IBFTHostnameReserve is the room kept for a host name DHCP may hand out
	// (option 12), which iPXE copies into the iBFT: a 63-byte label and its
	// NUL. Only the non-Outposts path (no LNI, plain dhcp) needs it: the LNI
	// script clears the DHCP host name, and a static LNI gets none.
	IBFTHostnameReserve = 64
	// IBFTCHAPUserReserve and IBFTCHAPSecretReserve are the room kept per path
	// for the CHAP user and secret, which the plan cannot see (they are in
	// Secrets Manager): a user of up to 24 bytes and a secret of up to 16 (the
	// iSCSI CHAP secrets Windows takes are 12-16 bytes), each with its NUL.
	// Longer ones can overflow a BIOS boot's iBFT; the boot then fails fast
	// with ipxe.org/34852006 and the script's failure line.
	IBFTCHAPUserReserve   = 25
	IBFTCHAPSecretReserve = 17
)

// IBFTLength is the length of the iBFT iPXE (ibft_install in
// src/drivers/block/ibft.c) builds for one initiator and one target name per
// path, plus extra bytes of strings (host name, CHAP): a 48-byte header, a
// control structure with room for at least two NIC/target pairs, an initiator
// structure, one NIC and one target structure per pair (each 16-byte
// aligned), then every string with its NUL.
func IBFTLength(initiator string, targets []string, extra int) int {
	pairs := max(2, len(targets))
	align := func(n int) int { return (n + 15) &^ 15 }
	n := align(48+10+4*pairs) + align(74) + pairs*align(102) + pairs*align(54)
	n += len(initiator) + 1 + extra
	for _, t := range targets {
		n += len(t) + 1
	}
	return n
}

// bootTargets is the target name of every boot path.
func (c IPXE) bootTargets() []string {
	out := make([]string, len(c.Portals))
	for i, p := range c.Portals {
		out[i] = c.TargetIQN
		if p.Target != "" {
			out[i] = p.Target
		}
	}
	return out
}

// ibftBudget is the iBFT length the boot may need under BIOS, with room for a
// DHCP host name and the CHAP strings the plan cannot see.
func (c IPXE) ibftBudget(targets []string) int {
	extra := 0
	if c.LNI == nil {
		extra += IBFTHostnameReserve
	}
	if c.CHAPSecretARN != "" {
		extra += len(targets) * (IBFTCHAPUserReserve + IBFTCHAPSecretReserve)
	}
	return IBFTLength(c.InitiatorIQN, targets, extra)
}

// BootPathsError is why a boot cannot use all the portals given.
type BootPathsError struct {
	Paths  int  // boot portals given
	Fit    int  // how many of them a boot can describe (0: not even one)
	UEFI   bool // the boot declared UEFI (Filename set)
	Need   int  // BIOS: bytes the iBFT may need for all the paths
	Detail string
}

func (e *BootPathsError) Error() string {
	if e.UEFI {
		return fmt.Sprintf("%s: a UEFI SAN boot is proved with at most %d paths; list at most %d boot portals and let the guest add the others (Linux dm-multipath, Windows MPIO)", plural(e.Paths, "boot portal", "boot portals"), MaxUEFIBootPaths, MaxUEFIBootPaths)
	}
	msg := fmt.Sprintf("%s: a BIOS SAN boot hands the OS its paths in an iBFT of at most %d bytes, and these need up to %d (%s)", plural(e.Paths, "boot portal", "boot portals"), BIOSIBFTMax, e.Need, e.Detail)
	if e.Fit == 0 {
		return msg + "; shorten the initiator IQN authority (identity.iqn_authority) or the target name, or boot UEFI (set boot.uefi_filename)"
	}
	return msg + fmt.Sprintf("; list at most %s and let the guest add the others (Linux dm-multipath, Windows MPIO), or boot UEFI (set boot.uefi_filename)", plural(e.Fit, "boot portal", "boot portals"))
}

// CheckBootPaths refuses boot layouts iPXE cannot hand to the booted OS: under
// UEFI (Filename set) more than MaxUEFIBootPaths paths; under BIOS an iBFT that
// may outgrow BIOSIBFTMax once a DHCP host name and the CHAP strings are in.
func (c IPXE) CheckBootPaths() error {
	targets := c.bootTargets()
	if c.Filename != "" {
		if len(targets) > MaxUEFIBootPaths {
			return &BootPathsError{Paths: len(targets), Fit: MaxUEFIBootPaths, UEFI: true}
		}
		return nil
	}
	need := c.ibftBudget(targets)
	if need <= BIOSIBFTMax {
		return nil
	}
	fit := 0
	for fit < len(targets) && c.ibftBudget(targets[:fit+1]) <= BIOSIBFTMax {
		fit++
	}
	names := 0
	for _, t := range targets {
		names += len(t) + 1
	}
	detail := fmt.Sprintf("%s, initiator name %d bytes, target names %d bytes", plural(len(targets), "path", "paths"), len(c.InitiatorIQN)+1, names)
	if c.LNI == nil {
		detail += fmt.Sprintf(", %d kept for a DHCP host name", IBFTHostnameReserve)
	}
	if c.CHAPSecretARN != "" {
		detail += fmt.Sprintf(", %d per path kept for the CHAP user and secret", IBFTCHAPUserReserve+IBFTCHAPSecretReserve)
	}
	return &BootPathsError{Paths: len(targets), Fit: fit, Need: need, Detail: detail}
}

// TrimBootPaths keeps the boot portals a boot can hand to the OS, in order,
// and returns the ones it drops. It is for portals an array reported (setup
// reads every iSCSI port): the boot uses the first that fit, and the guest
// can add the others (Linux dm-multipath, Windows MPIO). Portals an operator
// typed are refused instead (CheckBootPaths), so nothing they wrote is
// silently left out. When not even one path fits, c is returned as it is and
// CheckBootPaths says why.
func (c IPXE) TrimBootPaths() (IPXE, []Portal) {
	var e *BootPathsError
	if err := c.CheckBootPaths(); !errors.As(err, &e) || e.Fit == 0 {
		return c, nil
	}
	dropped := append([]Portal(nil), c.Portals[e.Fit:]...)
	c.Portals = append([]Portal(nil), c.Portals[:e.Fit]...)
	return c, dropped
}
