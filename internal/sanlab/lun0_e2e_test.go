//go:build sanboot_e2e

// LUN 0, the ONTAP example's boot LUN. tgt keeps LUN 0 for its controller, so
// the lab serves the disk at tgt LUN 1 and a LUN-mapping proxy in the
// namespace presents it at LUN 0 (sanlab.ServeLUNMap). Real qemu, iPXE and
// tgtd; the proxy is the one simulated piece, and it only rewrites the LUN
// field of SCSI PDUs. The control boots the same script straight against tgt.

package sanlab_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const lunMapPort = 3280

func TestLUN0(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	defer cancel()
	lab := newLab(ctx, t, ipxe)
	initiator := workloadIQN(t)
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 1, Initiators: []string{initiator}})
	require.NoError(t, err)
	m, err := lab.ServeLUNMap(lunMapPort, 0, target.LUN)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, m.Close()) })

	render := func(port int) []byte {
		script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiator, TargetIQN: target.IQN, LUN: 0,
			Portals: []sanboot.Portal{{Addr: netip.MustParseAddr(sanlab.GuestHost), Port: uint16(port)}}})
		require.NoError(t, err)
		return script
	}
	script := render(lunMapPort)
	assert.Contains(t, string(script), "::3280:0:"+target.IQN, "LUN 0 is written as 0")

	r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token})
	require.NoError(t, err)
	t.Logf("LUN 0 through the map: %v", r)
	require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
	assert.Positive(t, m.Connections(), "the boot went through the proxy")
	tables := sanlab.ParseIBFTs(r.Serial)
	require.Len(t, tables, 1, "console:\n%s", r.Serial)
	require.Len(t, tables[0].Targets, 1)
	assert.Equal(t, [8]byte{}, tables[0].Targets[0].LUN, "the OS is told LUN 0")

	// Control: the same script straight at tgt reaches its controller LUN,
	// which has no disk; the boot fails fast and visibly.
	r, err = lab.Boot(ctx, sanlab.BootSpec{Script: render(sanlab.TargetPort), Token: target.Token})
	require.NoError(t, err)
	t.Logf("LUN 0 straight at tgt: %v %s", r, r.IPXEErrorLine)
	require.False(t, r.Passed)
	require.False(t, r.TimedOut, "console:\n%s", r.Tail(20))
	assert.NotEmpty(t, r.Line(sanboot.FailureMarker), "console:\n%s", r.Tail(20))
}
