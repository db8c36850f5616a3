// Fuzz targets for every validator and renderer of the package. Each target
// feeds arbitrary strings into the input fields and asserts either a
// validation error or an output whose structure is unchanged: for the guest
// scripts, the output must equal a baseline rendered from sentinel values with
// each quoted sentinel replaced by the quoted fuzzed value (so a value can only
// ever appear as one whole quoted word, in the slots a valid value takes).
// Seeds run in every `go test`; scripts/fuzz.sh runs them with -fuzz.
package sanboot

import (
	"bytes"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var (
	iqnChars  = regexp.MustCompile(`^[a-z0-9.:-]+$`)
	nqnChars  = regexp.MustCompile(`^[a-z0-9.:_-]+$`)
	safeChars = regexp.MustCompile(`^[A-Za-z0-9/_+=.@:\\-]+$`) // no space, quote, $, ;, |, &, newline
	nameChars = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

func FuzzValidateIQN(f *testing.F) {
	for _, s := range []string{fxInitiator, fxDataIQN, "eui.02004567a425678d", "naa.52004567ba64678d", "iqn.2024-13.x", "iqn.2024-01.a-.b", "IQN.2024-01.a", "iqn.2024-01.a\n", ""} {
		f.Add(s)
	}
	f.Add("iqn.2024-00.com.example")
	f.Add("iqn.2024-1.com.example")
	f.Add("iqn.2024-01.Com.example")
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateIQN(s); err != nil {
			return
		}
		// Accepted: it must be what the grammar allows, nothing else.
		if len(s) > MaxNameLen || !iqnChars.MatchString(s) || s != strings.ToLower(s) {
			t.Fatalf("accepted %q", s)
		}
		if strings.HasPrefix(s, "iqn.") && !validDate(s[4:]) {
			t.Fatalf("accepted %q with a bad year-month", s)
		}
	})
}

func FuzzValidateNQN(f *testing.F) {
	for _, s := range []string{fxHostNQN, fxSubNQN, fxBootNQN, "nqn.2014-08.org.nvmexpress:uuid:7F1C9A52-3c1e-4d38-9f55-0d2c1b7a9e10", "nqn.2014-08.org.nvmexpress.discovery", "nqn.x", ""} {
		f.Add(s)
	}
	f.Add("nqn.2024-13.com.example:x")
	f.Add("nqn.2024-01.COM.example:x")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateNQN(s) != nil {
			return
		}
		if len(s) > MaxNameLen || !nqnChars.MatchString(s) || s != strings.ToLower(s) || !validDate(strings.TrimPrefix(s, "nqn.")) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzValidateIQNAuthority(f *testing.F) {
	for _, s := range []string{DefaultIQNAuthority, "iqn.2024-01.com.example", "iqn.2024-01.com.example:x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateIQNAuthority(s) != nil {
			return
		}
		if strings.Contains(s, ":") || !iqnChars.MatchString(s) || !strings.HasPrefix(s, "iqn.") || !validDate(s[4:]) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzValidateWorkloadName(f *testing.F) {
	for _, s := range []string{"web01", "a", "web-", "Web01", strings.Repeat("a", 33), "db;reboot"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateWorkloadName(s) != nil {
			return
		}
		if len(s) > 32 || !nameChars.MatchString(s) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzValidateSecretARN(f *testing.F) {
	for _, s := range []string{fxCHAPARN, fxDHCHAPARN, "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x", fxCHAPARN + "'", fxCHAPARN + " x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateSecretARN(s) != nil {
			return
		}
		if !safeChars.MatchString(s) || strings.Count(s, ":") < 6 {
			t.Fatalf("accepted %q", s)
		}
		f := strings.SplitN(s, ":", 7)
		if rp, ok := RegionPartition(f[3]); !ok || rp != f[1] || f[2] != "secretsmanager" || f[5] != "secret" {
			t.Fatalf("accepted %q: partition %q, Region %q", s, f[1], f[3])
		}
	})
}

func FuzzValidateEFIPath(f *testing.F) {
	for _, s := range []string{`\EFI\redhat\shimx64.efi`, `\EFI\BOOT\BOOTX64.EFI`, `EFI\x`, `\EFI\a b`, `\EFI\${x}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateEFIPath(s) != nil {
			return
		}
		if !safeChars.MatchString(s) || !strings.HasPrefix(s, `\`) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func FuzzParsePortal(f *testing.F) {
	for _, s := range []string{"192.168.50.10", "192.168.50.10:3261", "[fd00::1]", "[fd00::1]:4420", "fd00::1", "fe80::1%eth0", "1.2.3.4:0", "1.2.3.4 5", "host:3260", "[::ffff:192.0.2.1]:3260"} {
		f.Add(s)
	}
	f.Add("255.255.255.255")
	f.Add("127.0.0.1:3260")
	f.Add("[::ffff:10.0.0.1]")
	f.Add("10.20.30.300")
	f.Add("10.0.0.1:65536")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePortal(s, ISCSIPort)
		// Inputs that must be refused, decided without the parser: an IPv4-mapped
		// IPv6 address, and every address no initiator can log in to.
		if a, aerr := netip.ParseAddr(strings.Trim(s, "[]")); aerr == nil && err == nil {
			if a.Is4In6() || a.IsMulticast() || a.IsUnspecified() || a.IsLoopback() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
				t.Fatalf("accepted %q", s)
			}
		}
		if err != nil {
			return
		}
		if !p.Addr.IsValid() || p.Port == 0 || p.Addr.Zone() != "" {
			t.Fatalf("%q parsed to incomplete portal %v", s, p)
		}
		if p.Addr.Is4In6() || p.Addr.IsMulticast() || p.Addr.IsUnspecified() || p.Addr.IsLoopback() || p.Addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			t.Fatalf("%q accepted as non-unicast %v", s, p)
		}
		// The port in the input, when there is one, is the parsed port, in plain decimal.
		if i := strings.LastIndex(s, ":"); i >= 0 && (p.Addr.Is4() || strings.Contains(s, "]:")) {
			if s[i+1:] != strconv.Itoa(int(p.Port)) {
				t.Fatalf("%q parsed to port %d", s, p.Port)
			}
		}
		back, err := ParsePortal(p.String(), 1)
		if err != nil || back != p {
			t.Fatalf("%q: %v does not round-trip (%v, %v)", s, p, back, err)
		}
		if strings.ContainsAny(p.String(), " \t\r\n'\"$;") {
			t.Fatalf("%q renders as %q", s, p.String())
		}
	})
}

func FuzzInitiatorIQN(f *testing.F) {
	f.Add("", "web01", []byte("7f1c9a523c1e4d389f550d2c1b7a9e10"))
	f.Add("iqn.2024-01.com.example", "db-1", make([]byte, 16))
	f.Fuzz(func(t *testing.T, authority, workload string, raw []byte) {
		id, err := uuid.FromBytes(padTo16(raw))
		if err != nil {
			t.Fatal(err)
		}
		iqn, err := InitiatorIQN(authority, workload, id)
		if err != nil {
			return
		}
		if ValidateIQN(iqn) != nil || !strings.Contains(iqn, ":outposts-ha."+workload+".") {
			t.Fatalf("InitiatorIQN(%q, %q) = %q", authority, workload, iqn)
		}
	})
}

func FuzzHostNQN(f *testing.F) {
	f.Add([]byte("7f1c9a523c1e4d38"))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, err := uuid.FromBytes(padTo16(raw))
		if err != nil {
			t.Fatal(err)
		}
		nqn, err := HostNQN(id)
		if err != nil {
			return
		}
		if err := ValidateNQN(nqn); err != nil {
			t.Fatalf("HostNQN(%v) = %q is not a valid NQN: %v", id, nqn, err)
		}
		if hostID(nqn) != id.String() {
			t.Fatalf("host ID of %q is %q", nqn, hostID(nqn))
		}
	})
}

func padTo16(b []byte) []byte {
	out := make([]byte, 16)
	copy(out, b)
	return out
}

// ipxeShape is what must not change when only values change: the line count
// and the command word of every line.
func ipxeShape(script []byte) []string {
	var shape []string
	for _, l := range strings.Split(string(script), "\n") {
		w, _, _ := strings.Cut(l, " ")
		shape = append(shape, w)
	}
	return shape
}

func FuzzRenderIPXE(f *testing.F) {
	f.Add(fxInitiator, fxBootIQN, fxCHAPARN, `\EFI\redhat\shimx64.efi`, "192.168.50.10:3260", 26, uint8(2), false)
	f.Add(fxInitiator, fxBootIQN, "", "", "[fd00::1]:3261", 0, uint8(1), false)
	f.Add(fxInitiator+"\nshell", fxBootIQN, "", "", "192.168.50.10", 1, uint8(1), false)
	f.Add(fxInitiator, fxBootIQN, fxCHAPARN+" || shell", "", "192.168.50.10", 1, uint8(1), false)
	f.Add(fxInitiator, fxBootIQN, "", `\EFI\x || shell`, "192.168.50.10", 1, uint8(1), false)
	f.Add(fxInitiator, fxBootIQN, "", "", "192.168.50.10", 10, uint8(2), true)
	f.Add(fxInitiator, fxBootIQN, fxCHAPARN, "", "192.168.50.10", 255, uint8(2), true)
	f.Add(fxInitiator, fxBootIQN, "", "", "192.168.50.10", 256, uint8(3), false)
	f.Add(fxInitiator, fxBootIQN, "", `\EFI\x`, "192.168.50.10", 4095, uint8(4), false)
	f.Add(fxInitiator, fxBootIQN, "", `\EFI\x`, "192.168.50.10", 16383, uint8(5), false)
	f.Add(fxInitiator, fxBootIQN, "", "", "192.168.50.10", 16384, uint8(1), false)
	f.Add(fxInitiator, fxBootIQN, "", "", "192.168.50.10", -1, uint8(1), false)
	f.Fuzz(func(t *testing.T, initiator, target, arn, filename, portal string, lun int, paths uint8, static bool) {
		p, err := ParsePortal(portal, ISCSIPort)
		if err != nil {
			return
		}
		n := 1 + int(paths%8)
		ps := make([]Portal, n)
		for i := range ps {
			ps[i] = p
			ps[i].Port = p.Port + uint16(i)
		}
		lni := &LNI{Index: 1}
		if static {
			lni.Static = &StaticAddress{Address: netip.MustParsePrefix("192.168.50.20/24")}
		}
		c := IPXE{InitiatorIQN: initiator, TargetIQN: target, Portals: ps, LUN: lun, CHAPSecretARN: arn, LNI: lni, Filename: filename}
		out, err := RenderIPXE(c)
		if err != nil {
			return
		}
		// Every accepted boot layout is one iPXE can hand to the OS: under
		// UEFI (a filename) at most the proved path count, under BIOS an iBFT
		// that fits the 768 bytes with room for a DHCP host name and the CHAP
		// strings (the e2e tier pins IBFTLength to real tables).
		if filename != "" {
			if n > MaxUEFIBootPaths {
				t.Fatalf("%d UEFI boot paths accepted", n)
			}
		} else {
			extra := 0 // the LNI script clears the DHCP host name
			if arn != "" {
				extra += n * (IBFTCHAPUserReserve + IBFTCHAPSecretReserve)
			}
			names := make([]string, n)
			for i := range names {
				names[i] = target
			}
			if l := IBFTLength(initiator, names, extra); l > BIOSIBFTMax {
				t.Fatalf("BIOS boot with an iBFT of up to %d bytes accepted", l)
			}
		}
		base := IPXE{InitiatorIQN: fxInitiator, TargetIQN: fxBootIQN, Portals: []Portal{pt("192.0.2.1", 3260)}, LNI: &LNI{Index: 1}}
		if static {
			base.LNI = lni
		}
		if arn != "" {
			base.CHAPSecretARN = fxCHAPARN
		}
		if filename != "" {
			base.Filename = `\EFI\x`
		}
		want, err := RenderIPXE(base)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := ipxeShape(out), ipxeShape(want); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Fatalf("structure changed:\n%s", out)
		}
		// The sanboot line holds exactly one URI per portal, in order, and each
		// URI names its portal.
		for _, l := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(l, "sanboot ") {
				continue
			}
			uris := strings.Fields(l)[1:]
			// sanboot [--filename F] URI... || goto failed
			if len(uris) != n+3+2*boolInt(filename != "") {
				t.Fatalf("sanboot line %q", l)
			}
			uris = uris[len(uris)-n-3 : len(uris)-3]
			for i, uri := range uris {
				prefix := "iscsi:" + hostForURI(p.Addr) + "::"
				if !strings.HasPrefix(uri, prefix) {
					t.Fatalf("URI %q does not start with the portal %v", uri, p)
				}
				fields := strings.SplitN(strings.TrimPrefix(uri, prefix), ":", 3)
				if len(fields) != 3 || fields[0] != strconv.Itoa(int(ps[i].Port)) || fields[2] != target {
					t.Fatalf("URI %q: port or target field wrong", uri)
				}
				// The LUN field is lowercase hex without leading zeros: LUN 0-255
				// as is (peripheral addressing, LUN 10 is "a", never "10"),
				// 256-16383 with the flat-space method bits (LUN 257 is "4101";
				// "101" would reach LUN 1 on a standards-following target).
				v, err := strconv.ParseUint(fields[1], 16, 16)
				if err != nil || fields[1] != strings.ToLower(fields[1]) || (len(fields[1]) > 1 && fields[1][0] == '0') {
					t.Fatalf("URI %q: LUN field %q is not one 16-bit hex level", uri, fields[1])
				}
				switch {
				case v < 0x100 && int(v) == lun:
				case v&0xc000 == 0x4000 && int(v&0x3fff) == lun && lun >= 256:
				default:
					t.Fatalf("URI %q: LUN field %q does not encode LUN %d", uri, fields[1], lun)
				}
			}
		}
	})
}

// validDate reports whether s starts with YYYY-MM. and a month 01-12.
func validDate(s string) bool {
	if len(s) < 8 || s[4] != '-' || s[7] != '.' {
		return false
	}
	if _, err := strconv.Atoi(s[:4]); err != nil {
		return false
	}
	m, err := strconv.Atoi(s[5:7])
	return err == nil && m >= 1 && m <= 12 && s[5] >= '0' && s[5] <= '1'
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func hostForURI(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

// substituted renders base with sentinels, then replaces each quoted sentinel
// with the quoted fuzzed value, all in one pass.
func substituted(base []byte, quote func(string) string, pairs ...string) string {
	var r []string
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i] != pairs[i+1] {
			r = append(r, quote(pairs[i]), quote(pairs[i+1]))
		}
	}
	if len(r) == 0 {
		return string(base)
	}
	return strings.NewReplacer(r...).Replace(string(base))
}

const (
	snInitiator = "iqn.2000-01.sentinel.init:a"
	snTarget    = "iqn.2000-01.sentinel.target:b"
	snARN       = "arn:aws:secretsmanager:us-west-2:123456789012:secret:sentinel-chap"
	snHostNQN   = "nqn.2000-01.sentinel.host:h"
	snSubNQN    = "nqn.2000-01.sentinel.sub:s"
)

func FuzzRenderLinuxISCSI(f *testing.F) {
	f.Add(fxInitiator, fxDataIQN, fxCHAPARN, "192.168.50.10:3260", 1)
	f.Add(fxInitiator, fxDataIQN, "", "[fd00::1]:3261", 4095)
	f.Add(fxInitiator+"'; reboot; '", fxDataIQN, "", "192.168.50.10", 1)
	f.Add(fxInitiator, fxDataIQN, fxCHAPARN+"'$(reboot)'", "192.168.50.10", 1)
	f.Fuzz(func(t *testing.T, initiator, target, arn, portal string, lun int) {
		p, err := ParsePortal(portal, ISCSIPort)
		if err != nil {
			return
		}
		v := ISCSIVolumes{InitiatorIQN: initiator, Targets: []ISCSITarget{{IQN: target, Portals: []Portal{p}, LUNs: []int{lun}, CHAPSecretARN: arn}}}
		linux, err := RenderLinuxISCSI(v)
		if err != nil {
			if _, werr := RenderWindowsISCSI(v); werr == nil {
				t.Fatalf("Windows accepted what Linux refused: %v", err)
			}
			return
		}
		sp := Portal{Addr: netip.MustParseAddr("192.0.2.1"), Port: p.Port}
		if p.Addr.Is6() {
			sp.Addr = netip.MustParseAddr("2001:db8::1")
		}
		base := ISCSIVolumes{InitiatorIQN: snInitiator, Targets: []ISCSITarget{{IQN: snTarget, Portals: []Portal{sp}, LUNs: []int{4000}}}}
		if arn != "" {
			base.Targets[0].CHAPSecretARN = snARN
		}
		want, err := RenderLinuxISCSI(base)
		if err != nil {
			t.Fatal(err)
		}
		exp := substituted(want, shQuote, snInitiator, initiator, snTarget, target, snARN, arn, sp.String(), p.String(), "4000", itoa(lun))
		if string(linux) != exp {
			t.Fatalf("value escaped its quoted slot:\n%s", linux)
		}
		win, err := RenderWindowsISCSI(v)
		if err != nil {
			t.Fatalf("Linux accepted what Windows refused: %v", err)
		}
		wantWin, err := RenderWindowsISCSI(base)
		if err != nil {
			t.Fatal(err)
		}
		expWin := substituted(wantWin, psQuote, snInitiator, initiator, snTarget, target, snARN, arn, sp.Addr.String(), p.Addr.String())
		expWin = strings.Replace(expWin, "Luns = @(4000)", "Luns = @("+itoa(lun)+")", 1)
		if string(win) != expWin {
			t.Fatalf("value escaped its quoted slot:\n%s", win)
		}
	})
}

func FuzzRenderLinuxNVMe(f *testing.F) {
	f.Add(fxHostNQN, fxSubNQN, fxDHCHAPARN, "192.168.60.10:4420", 1)
	f.Add("nqn.2024-01.com.example:host", fxSubNQN, "", "[fd00::1]", 7)
	f.Add(fxHostNQN+"\nreboot", fxSubNQN, "", "192.168.60.10", 1)
	f.Fuzz(func(t *testing.T, host, sub, arn, portal string, nsid int) {
		p, err := ParsePortal(portal, NVMeTCPPort)
		if err != nil {
			return
		}
		v := NVMeVolumes{HostNQN: host, Subsystems: []NVMeSubsystem{{NQN: sub, Portals: []Portal{p}, Namespaces: []int{nsid}, DHCHAPSecretARN: arn}}}
		out, err := RenderLinuxNVMe(v)
		if err != nil {
			return
		}
		sp := Portal{Addr: netip.MustParseAddr("192.0.2.1"), Port: p.Port}
		if p.Addr.Is6() {
			sp.Addr = netip.MustParseAddr("2001:db8::1")
		}
		base := NVMeVolumes{HostNQN: snHostNQN, Subsystems: []NVMeSubsystem{{NQN: snSubNQN, Portals: []Portal{sp}, Namespaces: []int{4000}}}}
		if arn != "" {
			base.Subsystems[0].DHCHAPSecretARN = snARN
		}
		want, err := RenderLinuxNVMe(base)
		if err != nil {
			t.Fatal(err)
		}
		exp := substituted(want, shQuote, snHostNQN, host, hostID(snHostNQN), hostID(host), snSubNQN, sub, snARN, arn, sp.String(), p.String(), "4000", itoa(nsid))
		if string(out) != exp {
			t.Fatalf("value escaped its quoted slot:\n%s", out)
		}
	})
}

func FuzzRenderLocalBoot(f *testing.F) {
	f.Add(false, fxInitiator, fxBootIQN, fxCHAPARN, "192.168.50.10:3260", 0)
	f.Add(true, fxHostNQN, fxBootNQN, "", "192.168.60.10:4420", 1)
	f.Add(false, fxInitiator, fxBootIQN+"' --lun 9 '", "", "192.168.50.10", 0)
	f.Fuzz(func(t *testing.T, nvme bool, initiator, target, arn, portal string, lun int) {
		l := LocalBoot{Protocol: ProtocolISCSI, Initiator: initiator, Target: target, LUN: lun, SecretARN: arn}
		base := LocalBoot{Protocol: ProtocolISCSI, Initiator: snInitiator, Target: snTarget, LUN: 4000}
		if nvme {
			l.Protocol, base.Protocol, base.Initiator, base.Target = ProtocolNVMeTCP, ProtocolNVMeTCP, snHostNQN, snSubNQN
		}
		p, err := ParsePortal(portal, ISCSIPort)
		if err != nil {
			return
		}
		l.Portals = []Portal{p}
		out, err := RenderLocalBoot(l)
		if err != nil {
			return
		}
		sp := Portal{Addr: netip.MustParseAddr("192.0.2.1"), Port: p.Port}
		if p.Addr.Is6() {
			sp.Addr = netip.MustParseAddr("2001:db8::1")
		}
		base.Portals = []Portal{sp}
		if arn != "" {
			base.SecretARN = snARN
		}
		want, err := RenderLocalBoot(base)
		if err != nil {
			t.Fatal(err)
		}
		pairs := []string{base.Initiator, initiator, base.Target, target, snARN, arn, sp.String(), p.String(), "4000", itoa(lun)}
		if nvme {
			pairs = append(pairs, hostID(base.Initiator), hostID(initiator))
		}
		exp := substituted(want, shQuote, pairs...)
		if !nvme {
			exp = strings.Replace(exp, "--lun 4000\n", "--lun "+itoa(lun)+"\n", 1)
		}
		if string(out) != exp {
			t.Fatalf("value escaped its quoted slot:\n%s", out)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func FuzzMultipart(f *testing.F) {
	f.Add("text/x-shellscript", "a.sh", []byte("#!/bin/sh\necho hi\n"))
	f.Add("text/plain", "b", []byte("--==outposts-ha-\n--\n"))
	f.Add("text/plain\nX: y", "b", []byte("x"))
	f.Fuzz(func(t *testing.T, ctype, name string, content []byte) {
		parts := []Part{{ContentType: ctype, Filename: name, Content: content}, {ContentType: "text/plain", Filename: "fixed.txt", Content: []byte("fixed\n")}}
		doc, err := Multipart(parts)
		if err != nil {
			return
		}
		got, err := ParseMultipart(doc)
		if err != nil {
			t.Fatalf("cannot read back: %v\n%s", err, doc)
		}
		if len(got) != 2 || got[0].ContentType != ctype || got[0].Filename != name || !bytes.Equal(got[0].Content, content) || !bytes.Equal(got[1].Content, parts[1].Content) {
			t.Fatalf("round trip changed the parts: %+v", got)
		}
	})
}

func FuzzParseMultipart(f *testing.F) {
	doc, _ := Multipart([]Part{{ContentType: "text/plain", Filename: "a", Content: []byte("x\n")}})
	f.Add(doc)
	f.Add([]byte("Content-Type: multipart/mixed\n\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, _ = ParseMultipart(doc) // must not panic or hang
	})
}

func FuzzUserData(f *testing.F) {
	f.Add("site.sh", "#!/bin/sh\necho ok\n", true)
	f.Add("site.yaml", "#cloud-config\nruncmd: [ls]\n", false)
	f.Fuzz(func(t *testing.T, name, content string, shell bool) {
		ctype := TypeCloudConfig
		if shell {
			ctype = TypeShellScript
		}
		spec := UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: ctype, Filename: name, Content: []byte(content)}}}
		res, err := UserData(spec)
		if err != nil {
			return
		}
		got, err := ParseMultipart(res.UserData)
		if err != nil || len(got) != 3 {
			t.Fatalf("cannot read back (%v): %d parts", err, len(got))
		}
		body, err := UnpackPart(got[2])
		if err != nil || string(body) != content || got[2].Filename != name {
			t.Fatalf("operator part changed: %q (%v)", body, err)
		}
		if len(res.UserData) > MaxUserDataBytes {
			t.Fatalf("%d bytes passed the limit", len(res.UserData))
		}
	})
}
