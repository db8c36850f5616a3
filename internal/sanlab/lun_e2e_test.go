//go:build sanboot_e2e

// What a SAN URI's LUN field means, proved against a real target. Real parts
// only (qemu TCG + ipxe.lkrn + tgtd in a private namespace, no fakes).
//
// iPXE's scsi_parse_lun (src/drivers/block/scsi.c) reads the field as up to
// four '-'-separated groups of hex digits, each stored big-endian in one
// 16-bit level of the 8-byte SCSI LUN. The first level's top two bits are the
// SAM address method: 00 peripheral (bus in the low 6 bits of byte 0, LUN
// 0-255 in byte 1), 01 flat space (LUN 0-16383 in the low 14 bits). tgt reads
// the first level exactly so (usr/scsi.c __scsi_get_devid): peripheral takes
// byte 1 and ignores the bus, flat takes the 14 bits. So LUN 0-255 is written
// as plain hex ("1a"), and LUN 256-16383 must be written as 0x4000|LUN
// ("4101" for 257): plain hex "101" is peripheral bus 1 LUN 1, which tgt
// serves as LUN 1, a different disk.

package sanlab_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
)

// rawScript is the shape RenderIPXE writes (dhcp, one sanboot with every URI,
// one failure label), with the URIs given verbatim so a test can try LUN
// fields the renderer would never write.
func rawScript(initiator string, uris ...string) []byte {
	return []byte(fmt.Sprintf(`#!ipxe
set initiator-iqn %s
dhcp || goto failed
sanboot %s || goto failed
goto failed
:failed
echo OUTPOSTS-HA-SANBOOT-FAILED error ${errno:hexraw} target raw
exit 1
`, initiator, strings.Join(uris, " ")))
}

func rawURI(port int, lunField, iqn string) string {
	return fmt.Sprintf("iscsi:%s::%d:%s:%s", sanlab.GuestHost, port, lunField, iqn)
}

// altPort is the non-default iSCSI port the LUN cases use.
const altPort = 3270

func TestLUNEncoding(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	t.Cleanup(cancel) // after the parallel subtests, not when this function returns
	lab := newLab(ctx, t, ipxe)
	require.NoError(t, lab.AddPortal(ctx, altPort))
	initiator := workloadIQN(t)

	// LUN 1 is the decoy a wrong encoding of 257 reaches.
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 1, Initiators: []string{initiator}})
	require.NoError(t, err)
	tokens := map[int]string{1: target.Token}
	for _, lun := range []int{255, 257, 4095, 16383} {
		tok, err := lab.AddLUN(ctx, target, lun, 0)
		require.NoError(t, err)
		tokens[lun] = tok
	}

	for _, tc := range []struct {
		field   string
		wantLUN int // the disk that must boot
		lunByte [2]byte
	}{
		{field: "ff", wantLUN: 255, lunByte: [2]byte{0x00, 0xff}},
		{field: "4101", wantLUN: 257, lunByte: [2]byte{0x41, 0x01}},   // flat space: the right encoding
		{field: "101", wantLUN: 1, lunByte: [2]byte{0x01, 0x01}},      // plain hex: peripheral bus 1 LUN 1, the decoy
		{field: "4fff", wantLUN: 4095, lunByte: [2]byte{0x4f, 0xff}},  // ONTAP's and Pure's largest
		{field: "7fff", wantLUN: 16383, lunByte: [2]byte{0x7f, 0xff}}, // HPE's largest, the end of flat space
	} {
		t.Run(tc.field, func(t *testing.T) {
			t.Parallel()
			r, err := lab.Boot(ctx, sanlab.BootSpec{Script: rawScript(initiator, rawURI(altPort, tc.field, target.IQN)), Token: tokens[tc.wantLUN]})
			require.NoError(t, err, "console:\n%s", r.Tail(20))
			t.Logf("field %s: %v", tc.field, r)
			require.True(t, r.Passed, "field %s must boot LUN %d; %v; console:\n%s", tc.field, tc.wantLUN, r, r.Tail(20))
			for lun, tok := range tokens {
				if lun != tc.wantLUN {
					assert.NotContains(t, r.Serial, sanlab.MarkerLine(tok), "field %s reached LUN %d too", tc.field, lun)
				}
			}
			tables := sanlab.ParseIBFTs(r.Serial)
			require.Len(t, tables, 1, "one iBFT; console:\n%s", r.Tail(20))
			require.Len(t, tables[0].Targets, 1)
			tg := tables[0].Targets[0]
			assert.Equal(t, tc.lunByte[:], tg.LUN[:2], "the iBFT hands the OS the LUN as sent")
			assert.Equal(t, uint16(altPort), tg.Port)
			assert.Equal(t, target.IQN, tg.Name)
			assert.Equal(t, initiator, tables[0].Initiator)
		})
	}
}
