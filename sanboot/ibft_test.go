package sanboot

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 11: the LUN field of the SAN URI. internal/sanlab proves against tgt
// that "4101" boots LUN 257 and that "101" boots LUN 1 instead.
func TestLUNField(t *testing.T) {
	for lun, want := range map[int]string{0: "0", 1: "1", 10: "a", 26: "1a", 255: "ff", 256: "4100", 257: "4101", 4095: "4fff", 16383: "7fff"} {
		assert.Equal(t, want, LUNField(lun), "LUN %d", lun)
	}
	assert.Equal(t, 255, LinuxLUN(255))
	assert.Equal(t, 16641, LinuxLUN(257))
	assert.Equal(t, "iscsi:192.168.50.10::3260:4101:iqn.2026-11.test:b", SANURI(Portal{Addr: pt("192.168.50.10", 3260).Addr, Port: 3260, Target: "iqn.2026-11.test:b"}, 257, "iqn.2026-11.test:a"),
		"a portal's own target name wins")
}

// Issue 11: boot layouts iPXE cannot hand to the OS are refused; the model's
// byte counts are pinned to real tables in internal/sanlab (TestPathCount).
func TestCheckBootPaths(t *testing.T) {
	bios := func(n int, chap bool, lni *LNI) IPXE {
		c := *fxIPXE()
		c.Filename = ""
		c.LNI = lni
		if !chap {
			c.CHAPSecretARN = ""
		}
		c.Portals = nil
		for i := range n {
			c.Portals = append(c.Portals, pt("192.168.50.10", uint16(3260+i)))
		}
		return c
	}
	dhcp := &LNI{Index: 1}
	// fxInitiator is 81 bytes and fxBootIQN 35: 512 + 82 + 2*36 = 666 without CHAP.
	assert.Equal(t, 666, IBFTLength(fxInitiator, []string{fxBootIQN, fxBootIQN}, 0))
	require.NoError(t, bios(2, false, dhcp).CheckBootPaths())
	require.NoError(t, bios(2, true, dhcp).CheckBootPaths(), "666 + 2*42 = 750")
	err := bios(3, false, dhcp).CheckBootPaths()
	var e *BootPathsError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 2, e.Fit)
	assert.Contains(t, err.Error(), "3 boot portals: a BIOS SAN boot hands the OS its paths in an iBFT of at most 768 bytes")
	assert.Contains(t, err.Error(), "list at most 2 boot portals")
	require.NoError(t, bios(2, false, nil).CheckBootPaths(), "666 + 64 = 730")
	require.ErrorContains(t, bios(2, true, nil).CheckBootPaths(), "64 kept for a DHCP host name", "plain dhcp (no LNI) keeps room for a host name: 730 + 84")

	long := bios(1, false, dhcp)
	edge := BIOSIBFTMax - IBFTLength(fxInitiator, []string{""}, 0)
	long.TargetIQN = "iqn.2026-11.test:" + strings.Repeat("x", edge-len("iqn.2026-11.test:"))
	require.NoError(t, long.CheckBootPaths(), "768 bytes: the edge the lab boots")
	long.TargetIQN += "x"
	require.ErrorContains(t, long.CheckBootPaths(), "shorten the initiator IQN authority", "769 bytes: not even one path fits")

	uefi := bios(MaxUEFIBootPaths, true, dhcp)
	uefi.Filename = `\EFI\x`
	require.NoError(t, uefi.CheckBootPaths())
	uefi.Portals = append(uefi.Portals, pt("192.168.50.11", 3260))
	require.ErrorContains(t, uefi.CheckBootPaths(), "5 boot portals: a UEFI SAN boot is proved with at most 4 paths")
}

func TestTrimBootPaths(t *testing.T) {
	c := *fxIPXE()
	c.Filename = ""
	c.Portals = nil
	for i := range 4 {
		c.Portals = append(c.Portals, pt("192.168.50.10", uint16(3260+i)))
	}
	trimmed, dropped := c.TrimBootPaths()
	require.NoError(t, trimmed.CheckBootPaths())
	assert.Equal(t, c.Portals[:2], trimmed.Portals, "the first two BIOS paths fit")
	assert.Equal(t, c.Portals[2:], dropped)
	assert.Len(t, c.Portals, 4, "the input is not changed")

	long := c
	long.TargetIQN = "iqn.2026-11.test:" + strings.Repeat("t", 103) // 120 bytes
	trimmed, dropped = long.TrimBootPaths()
	require.NoError(t, trimmed.CheckBootPaths())
	assert.Len(t, trimmed.Portals, 1, "long names with CHAP fit one BIOS path")
	assert.Len(t, dropped, 3)

	fits := c
	fits.Portals = c.Portals[:2]
	trimmed, dropped = fits.TrimBootPaths()
	assert.Equal(t, fits, trimmed)
	assert.Empty(t, dropped)
}
