// Unit tests of the harness's pure parts (boot sector, disk image, console
// parsing, tgtd protocol encoding, tgtadm output parsing). No tools, no
// network, no fakes: they run in the ordinary `go test ./...` tier. The
// behaviour against real qemu and tgtd is in the sanboot_e2e files.

package sanlab

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBootSector(t *testing.T) {
	const lba = DefaultDiskSize/SectorSize - 1
	mbr, err := BootSector(lba)
	require.NoError(t, err)
	require.Len(t, mbr, SectorSize)
	assert.Equal(t, []byte{0x55, 0xaa}, mbr[510:])
	assert.Equal(t, make([]byte, 64), mbr[446:510], "no partition table")
	assert.Equal(t, []byte{0xfa, 0xfc}, mbr[:2], "starts with cli; cld")

	// The disk address packet: 16 bytes, 1 sector, to 0000:8000, the last LBA.
	dap := bytes.Index(mbr, []byte{0x10, 0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00})
	require.Positive(t, dap)
	assert.Equal(t, uint64(lba), binary.LittleEndian.Uint64(mbr[dap+8:]))
	assert.Contains(t, string(mbr), BootSectorBanner+"\r\n\x00")
	assert.Contains(t, string(mbr), ReadFailedBanner+"\r\n\x00")

	// Only the LBA depends on the disk size.
	other, err := BootSector(lba ^ 1)
	require.NoError(t, err)
	var diff []int
	for i := range mbr {
		if mbr[i] != other[i] {
			diff = append(diff, i)
		}
	}
	assert.Equal(t, []int{dap + 8}, diff)
}

func TestAsmLink(t *testing.T) {
	var a asm
	a.label("top")
	a.emit(0x90)
	a.rel8("top", 0xeb)
	a.rel16("end", 0xe8)
	a.abs16("end", 0xbe)
	a.label("end")
	code, err := a.link(0x7c00)
	require.NoError(t, err)
	// nop; jmp top (-3); call end (+3); mov si,0x7c09
	assert.Equal(t, []byte{0x90, 0xeb, 0xfd, 0xe8, 0x03, 0x00, 0xbe, 0x09, 0x7c}, code)

	var far asm
	far.rel8("x", 0xeb)
	far.emit(make([]byte, 200)...)
	far.label("x")
	_, err = far.link(0)
	assert.ErrorContains(t, err, "too far")

	var undef asm
	undef.rel8("nowhere", 0xeb)
	_, err = undef.link(0)
	assert.ErrorContains(t, err, "undefined label")
}

func TestWriteDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "disk.img")
	require.NoError(t, WriteDisk(path, 0, "abc123"))

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, int64(DefaultDiskSize), st.Size())
	assert.Less(t, st.Sys().(*syscall.Stat_t).Blocks*512, int64(1<<20), "the image is sparse")

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	mbr, err := BootSector(DefaultDiskSize/SectorSize - 1)
	require.NoError(t, err)
	assert.Equal(t, mbr, b[:SectorSize])
	last := b[len(b)-SectorSize:]
	assert.True(t, bytes.HasPrefix(last, []byte(MarkerLine("abc123")+"\r\n\x00")), "%q", last[:40])

	assert.Error(t, WriteDisk(path, 0, "abc123"), "never overwrites")
	for name, tc := range map[string]struct {
		size  int64
		token string
	}{
		"below one cylinder": {size: MinDiskSize - SectorSize, token: "t"},
		"not sectors":        {size: DefaultDiskSize + 1, token: "t"},
		"empty token":        {token: ""},
		"token with space":   {token: "a b"},
		"token too long":     {token: strings.Repeat("x", SectorSize)},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, WriteDisk(filepath.Join(dir, name), tc.size, tc.token))
		})
	}
	require.NoError(t, WriteDisk(filepath.Join(dir, "min.img"), MinDiskSize, "t"))
}

func TestCleanConsole(t *testing.T) {
	long := "OUTPOSTS-HA-SANBOOT-FAILED error 0x1d704039 target iqn.2026-11.test.outposts-ha:sanlab-16448-1"
	full := strings.Repeat("0123456789", 8)
	raw := "\x1bc\x1b[2J\x1b[1;1HSeaBIOS\r\n" +
		"Configuring (net0 52:54:00:12:34:56)...... ok\r\n" +
		long[:80] + "\r\n" + long[80:] + "\r\n" +
		full + "\r\n\n" +
		"\x1b[0;37mcoloured\x1b[0m   \r\n\r\n" +
		"last\x00\x00"
	got := CleanConsole([]byte(raw))
	want := strings.Join([]string{
		"SeaBIOS",
		"Configuring (net0 52:54:00:12:34:56)...... ok",
		long,
		full,
		"coloured",
		"last",
	}, "\n")
	assert.Equal(t, want, got)
}

func TestResultParsing(t *testing.T) {
	console := CleanConsole([]byte("Configuring (net1 52:54:00:12:34:57)...... ok\r\n" +
		"http://x... Network unreachable (https://ipxe.org/280a6011)\r\n" +
		"Could not open SAN device: No such device (https://ipxe.org/2c0d603b)\r\n" +
		"OUTPOSTS-HA-SANBOOT-FAILED error 0x2c0d603b target iqn.2026-11.test:x\r\n" +
		"See https://ipxe.org/0x2c0d603b and check the LUN map\r\n"))
	line, code := lastIPXEError(console)
	assert.Equal(t, "2c0d603b", code, "the last iPXE error, not the script's own URL")
	assert.Equal(t, "Could not open SAN device: No such device (https://ipxe.org/2c0d603b)", line)

	r := Result{Serial: console, ExitCode: 0, IPXEError: code}
	assert.Equal(t, "OUTPOSTS-HA-SANBOOT-FAILED error 0x2c0d603b target iqn.2026-11.test:x", r.Line("OUTPOSTS-HA-SANBOOT-FAILED"))
	assert.Empty(t, r.Line("SANBOOT-OK"))
	assert.Equal(t, 1, r.Count("Configuring"))
	assert.Equal(t, "See https://ipxe.org/0x2c0d603b and check the LUN map", r.Tail(1))
	assert.Equal(t, "FAIL exit=0 in 0.00s ipxe.org/2c0d603b", r.String())
	assert.Equal(t, "TIMEOUT exit=-1 in 0.00s", Result{TimedOut: true, ExitCode: -1}.String())

	_, code = lastIPXEError("no errors here")
	assert.Empty(t, code)
}

func TestEncodeMgmtRequest(t *testing.T) {
	params := "user=u1,password=not-a-real-secret"
	b := encodeMgmtRequest(mgmtModeAccount, mgmtOpNew, params)
	// Layout captured from tgtadm 1.0.85: mode, op, lld[64], len, tid, sid,
	// lun, cid, host_no, device_type, ac_dir, pack, force, then the parameters.
	require.Len(t, b, mgmtHeaderLen+len(params)+1)
	ne := binary.NativeEndian
	assert.Equal(t, uint32(7), ne.Uint32(b[0:]))
	assert.Equal(t, uint32(0), ne.Uint32(b[4:]))
	assert.Equal(t, "iscsi", string(bytes.TrimRight(b[8:72], "\x00")))
	assert.Equal(t, uint32(len(b)), ne.Uint32(b[72:]))
	assert.Equal(t, uint32(0xffffffff), ne.Uint32(b[76:]), "no target")
	assert.Equal(t, uint64(0), ne.Uint64(b[80:]))
	assert.Equal(t, ^uint64(0), ne.Uint64(b[88:]), "no LUN")
	assert.Equal(t, make([]byte, 24), b[96:120])
	assert.Equal(t, params+"\x00", string(b[120:]))
}

func TestParseShow(t *testing.T) {
	show := `Target 1: iqn.2026-11.test:one
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
    Account information:
    ACL information:
        iqn.2026-11.test:other
Target 2: iqn.2026-11.test:two
    System information:
        Driver: iscsi
    LUN information:
        LUN: 26
            Type: disk
            Backing store path: /tmp/x.img
    Account information:
        chapuser
    ACL information:
        iqn.2006-03.com.amazon.aws:outposts-ha.web01.1
        iqn.2006-03.com.amazon.aws:outposts-ha.web01.2
`
	acl, accounts := parseShow(show, 2)
	assert.Equal(t, []string{"iqn.2006-03.com.amazon.aws:outposts-ha.web01.1", "iqn.2006-03.com.amazon.aws:outposts-ha.web01.2"}, acl)
	assert.Equal(t, []string{"chapuser"}, accounts)
	acl, accounts = parseShow(show, 1)
	assert.Equal(t, []string{"iqn.2026-11.test:other"}, acl)
	assert.Empty(t, accounts)
	acl, _ = parseShow(show, 3)
	assert.Empty(t, acl)
}

func TestCtlForNeverZero(t *testing.T) {
	seen := map[int]bool{}
	for pid := 1; pid < 5000; pid += 7 {
		for n := int64(1); n < 20; n++ {
			for try := range maxCtlTries {
				c := ctlFor(pid, n, try)
				require.True(t, c >= 1000 && c < 32000, "ctl %d", c)
				seen[c] = true
			}
		}
	}
	assert.Greater(t, len(seen), 20000, "ports spread over the range")
}

func TestTargetSpecValidate(t *testing.T) {
	ok := TargetSpec{IQN: "iqn.2026-11.test:t", LUN: 1, Initiators: []string{"iqn.2026-11.test:i"}}
	require.NoError(t, ok.validate())
	for name, mutate := range map[string]func(*TargetSpec){
		"no initiators":     func(s *TargetSpec) { s.Initiators = nil },
		"ALL":               func(s *TargetSpec) { s.Initiators = []string{"ALL"} },
		"comma in IQN":      func(s *TargetSpec) { s.IQN = "iqn.2026-11.test:a,b" },
		"LUN 0":             func(s *TargetSpec) { s.LUN = 0 },
		"short CHAP secret": func(s *TargetSpec) { s.CHAP = &CHAP{User: "u", Secret: "short"} },
		"comma in secret":   func(s *TargetSpec) { s.CHAP = &CHAP{User: "u", Secret: "0123456789,abc"} },
	} {
		t.Run(name, func(t *testing.T) {
			s := ok
			mutate(&s)
			assert.Error(t, s.validate())
		})
	}
}

func TestNICNetdev(t *testing.T) {
	for _, tc := range []struct {
		nic  NIC
		want string
	}{
		{NIC{}, "user,id=n0"},
		{NIC{Restrict: true}, "user,id=n0,restrict=on"},
		{NIC{Net: netip.MustParsePrefix("192.168.50.7/24"), Host: netip.MustParseAddr("192.168.50.10")}, "user,id=n0,net=192.168.50.0/24,host=192.168.50.10"},
	} {
		got, err := tc.nic.netdev(0)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	_, err := NIC{Net: netip.MustParsePrefix("192.168.50.0/24")}.netdev(1)
	assert.Error(t, err, "Net without Host")
	_, err = NIC{Net: netip.MustParsePrefix("192.168.50.0/24"), Host: netip.MustParseAddr("10.0.2.2")}.netdev(1)
	assert.Error(t, err, "Host outside Net")
}

func TestLUNField(t *testing.T) {
	for _, tc := range []struct {
		lun  [8]byte
		want string
	}{
		{[8]byte{0, 1}, "1"},
		{[8]byte{0, 0x1a}, "1a"},
		{[8]byte{0x41, 0x01}, "4101"},
		{[8]byte{0x7f, 0xff}, "7fff"},
		{[8]byte{}, "0"},
		{[8]byte{0, 1, 0, 2}, "1-2"},
	} {
		assert.Equal(t, tc.want, LUNField(tc.lun))
	}
}

// TestIBFT builds a table the way iPXE lays it out and reads it back; the
// e2e tier (TestPathCount) pins IBFTLength to tables iPXE really built.
func TestIBFT(t *testing.T) {
	const ini, tgt = "iqn.2026-11.test:i", "iqn.2026-11.test:t"
	n := IBFTLength(ini, "", []string{tgt}, "", "")
	assert.Equal(t, 512+len(ini)+1+len(tgt)+1, n, "two pairs of room even for one path")
	assert.Equal(t, n+len(tgt)+1, IBFTLength(ini, "", []string{tgt, tgt}, "", ""))
	assert.Equal(t, n+2+3, IBFTLength(ini, "", []string{tgt}, "u", "pw"), "CHAP strings per target")
	assert.Equal(t, n+2, IBFTLength(ini, "h", []string{tgt}, "", ""))
	assert.LessOrEqual(t, IBFTLength(ini, "", []string{tgt, tgt, tgt}, "", ""), BIOSIBFTMax, "three paths with very short names fit")
	assert.Equal(t, 688+1, IBFTLength("", "", []string{"", "", ""}, "", "")-3, "three pairs take 688 bytes before any string")

	le := binary.LittleEndian
	b := make([]byte, n)
	copy(b, "iBFT")
	le.PutUint32(b[4:], uint32(n))
	ctl := b[48:]
	ctl[0] = 1
	le.PutUint16(ctl[2:], 18)
	le.PutUint16(ctl[8:], 80)     // initiator
	le.PutUint16(ctl[12:], 0x100) // target 0 (nic 0 left out)
	b[80] = 2
	str := 512
	le.PutUint16(b[80+ibftInitiatorNameAt:], uint16(len(ini)))
	le.PutUint16(b[80+ibftInitiatorNameAt+2:], uint16(str))
	copy(b[str:], ini)
	str += len(ini) + 1
	tg := b[0x100:]
	tg[0] = 4
	copy(tg[6:], []byte{10: 0xff, 11: 0xff, 12: 10, 13: 0, 14: 2, 15: 2})
	le.PutUint16(tg[22:], 3270)
	tg[24], tg[25] = 0x41, 0x01
	le.PutUint16(tg[34:], uint16(len(tgt)))
	le.PutUint16(tg[36:], uint16(str))
	copy(b[str:], tgt)
	var sum byte
	for _, c := range b {
		sum += c
	}
	b[9] = -sum

	dump := hex.EncodeToString(b)
	got := ParseIBFTs("noise\n" + IBFTPrefix + dump + "\n" + IBFTPrefix + "6942465400\n")
	require.Len(t, got, 1, "the short false hit is skipped")
	for _, stray := range []string{"0", "x", "\x1b"} {
		at := len(dump) / 3
		got := ParseIBFTs(IBFTPrefix + dump[:at] + stray + dump[at:] + "\n")
		require.Len(t, got, 1, "a stray %q from the serial console is tolerated", stray)
		assert.Equal(t, n, got[0].Length)
	}
	lost := dump[:101] + dump[102:]
	got = ParseIBFTs(IBFTPrefix + lost + "\n")
	require.Len(t, got, 1, "a lost character is tolerated")
	got = ParseIBFTs(IBFTPrefix + dump + "\n" + IBFTPrefix + lost + "\n" + IBFTPrefix + dump + "\n")
	assert.Len(t, got, 1, "the boot sector's two copies are one table")
	assert.Equal(t, ini, got[0].Initiator)
	require.Len(t, got[0].Targets, 1)
	assert.Equal(t, netip.MustParseAddr("10.0.2.2"), got[0].Targets[0].Addr)
	assert.Equal(t, uint16(3270), got[0].Targets[0].Port)
	assert.Equal(t, "4101", LUNField(got[0].Targets[0].LUN))
	assert.Equal(t, tgt, got[0].Targets[0].Name)

	b[9]++
	_, err := ParseIBFT(b)
	assert.ErrorContains(t, err, "checksum")
}

func TestUEFIIBFTLength(t *testing.T) {
	console := "FACP  116B rev=1 chksum=0xab (valid) OEM=BOCHS  BXPC     OEMrev=00000001 BXPC\n" +
		"iBFT  639B rev=1 chksum=0xd6 (valid) OEM=FENSYS iPXE     OEMrev=00000000\n"
	assert.Equal(t, 639, UEFIIBFTLength(console))
	assert.Equal(t, 0, UEFIIBFTLength("iBFT  639B rev=1 chksum=0xd6 (invalid)"))
}

// TestLUNMapRelay: the LUN-0 proxy's PDU handling, on bytes (no network): the
// LUN field of the listed opcodes is mapped, everything else passes as is, and
// a PDU's AHS and padded data segment travel whole.
func TestLUNMapRelay(t *testing.T) {
	assert.Equal(t, [8]byte{0, 1}, lunStruct(1))
	assert.Equal(t, [8]byte{0x41, 0x01}, lunStruct(257))
	pdu := func(op byte, lun [8]byte, ahsWords int, data string) []byte {
		b := make([]byte, bhsLen+ahsWords*4+(len(data)+3)&^3)
		b[0] = op
		b[4] = byte(ahsWords)
		b[5], b[6], b[7] = 0, byte(len(data)>>8), byte(len(data))
		copy(b[8:16], lun[:])
		copy(b[bhsLen+ahsWords*4:], data)
		return b
	}
	from, to := lunStruct(0), lunStruct(1)
	in := append(append(append([]byte(nil),
		pdu(0x40|opSCSICommand, from, 1, "cdb-extra")...), // immediate bit set: still a SCSI command
		pdu(0x04, from, 0, "TargetName=x")...), // text request: untouched
		pdu(opSCSIDataOut, lunStruct(5), 0, "abc")...) // another LUN: untouched
	var out bytes.Buffer
	err := relay(&out, bytes.NewReader(in), from, to, opSCSICommand, opTaskMgmt, opSCSIDataOut)
	require.ErrorIs(t, err, io.EOF)
	got := out.Bytes()
	require.Len(t, got, len(in), "every byte relayed")
	first := len(pdu(0, from, 1, "cdb-extra"))
	assert.Equal(t, to[:], got[8:16], "SCSI command mapped 0 -> 1")
	assert.Equal(t, in[16:first], got[16:first], "rest of the PDU unchanged")
	second := first + len(pdu(0, from, 0, "TargetName=x"))
	assert.Equal(t, in[first:second], got[first:second], "text request unchanged")
	assert.Equal(t, in[second:], got[second:], "data for another LUN unchanged")

	huge := pdu(opSCSICommand, from, 0, "")
	huge[5] = 0xff
	_, err = readPDU(bytes.NewReader(huge))
	assert.ErrorContains(t, err, "data segment")
}
