//go:build sanboot_e2e

// Issue 11 through the renderer: the scripts sanboot.RenderIPXE writes for
// LUNs above 255, per-portal target names and the boot path limits boot as
// the lab proved the raw fields do. Real parts only (qemu TCG + ipxe.lkrn +
// tgtd in a private namespace, no fakes).

package sanlab_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

func portalAt(port int) sanboot.Portal {
	return sanboot.Portal{Addr: netip.MustParseAddr(sanlab.GuestHost), Port: uint16(port)}
}

// TestRenderedLUNs: every vendor's largest LUN and the first flat-space one,
// rendered, on a non-default port, with LUN 1 as the decoy a plain-hex field
// would reach.
func TestRenderedLUNs(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	t.Cleanup(cancel)
	lab := newLab(ctx, t, ipxe)
	require.NoError(t, lab.AddPortal(ctx, altPort))
	initiator := workloadIQN(t)
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 1, Initiators: []string{initiator}})
	require.NoError(t, err)
	for _, lun := range []int{256, 4095, sanboot.MaxSANLUN} {
		token, err := lab.AddLUN(ctx, target, lun, 0)
		require.NoError(t, err)
		t.Run(fmt.Sprint(lun), func(t *testing.T) {
			t.Parallel()
			script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiator, TargetIQN: target.IQN, LUN: lun,
				Portals: []sanboot.Portal{portalAt(altPort)}, LNI: &sanboot.LNI{Index: 1}})
			require.NoError(t, err)
			assert.Contains(t, string(script), fmt.Sprintf("::%d:%s:", altPort, sanboot.LUNField(lun)))
			r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: token, NICs: outpostsNICs})
			require.NoError(t, err)
			t.Logf("LUN %d (%s): %v", lun, sanboot.LUNField(lun), r)
			require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
			assert.NotContains(t, r.Serial, sanlab.MarkerLine(target.Token), "the decoy LUN 1 was not read")
		})
	}
}

// TestRenderedPerPortalTargets: two tgt targets of different IQNs on one
// volume, rendered from per-portal target names, the first path dead.
func TestRenderedPerPortalTargets(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	defer cancel()
	lab := newLab(ctx, t, ipxe)
	initiator := workloadIQN(t)
	a, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-a", LUN: 2, Initiators: []string{initiator}})
	require.NoError(t, err)
	b, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-b", LUN: 2, Initiators: []string{initiator}, Image: a.Image, Token: a.Token})
	require.NoError(t, err)
	dead, live := portalAt(deadPort), portalAt(sanlab.TargetPort)
	dead.Target, live.Target = a.IQN, b.IQN
	script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiator, TargetIQN: a.IQN, LUN: 2,
		Portals: []sanboot.Portal{dead, live}, LNI: &sanboot.LNI{Index: 1}})
	require.NoError(t, err)
	line := scriptLine(t, script, "sanboot ")
	assert.Contains(t, line, fmt.Sprintf(":%d:2:%s ", deadPort, a.IQN))
	assert.Contains(t, line, fmt.Sprintf(":%d:2:%s ", sanlab.TargetPort, b.IQN))
	r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: a.Token, NICs: outpostsNICs})
	require.NoError(t, err)
	t.Logf("%v", r)
	require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
	tables := sanlab.ParseIBFTs(r.Serial)
	require.Len(t, tables, 1)
	require.Len(t, tables[0].Targets, 2)
	assert.Equal(t, a.IQN, tables[0].Targets[0].Name)
	assert.Equal(t, b.IQN, tables[0].Targets[1].Name)
}

// TestRenderedBootPaths: what the planner accepts boots under BIOS, with the
// iBFT length its model predicts; what it refuses, iPXE could not have
// described. The DHCP host name the lab hands out is kept out by the script.
func TestRenderedBootPaths(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	t.Cleanup(cancel)
	lab := newLab(ctx, t, ipxe)
	for _, p := range pathPorts[1:] {
		require.NoError(t, lab.AddPortal(ctx, p))
	}
	initiator := workloadIQN(t)
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 1, Initiators: []string{initiator}})
	require.NoError(t, err)
	nics := []sanlab.NIC{{Restrict: true}, {Hostname: "a-dhcp-host-name-the-script-drops"}}
	for n := 1; n <= len(pathPorts); n++ {
		cfg := sanboot.IPXE{InitiatorIQN: initiator, TargetIQN: target.IQN, LUN: 1, LNI: &sanboot.LNI{Index: 1}}
		var names []string
		for _, p := range pathPorts[:n] {
			cfg.Portals = append(cfg.Portals, portalAt(p))
			names = append(names, target.IQN)
		}
		script, err := sanboot.RenderIPXE(cfg)
		if n > 2 {
			var e *sanboot.BootPathsError
			require.ErrorAs(t, err, &e, "%d BIOS boot portals must be refused", n)
			assert.Equal(t, 2, e.Fit)
			continue
		}
		require.NoError(t, err)
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token, NICs: nics})
			require.NoError(t, err)
			t.Logf("%d paths: %v", n, r)
			require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
			tables := sanlab.ParseIBFTs(r.Serial)
			require.Len(t, tables, 1)
			assert.Equal(t, sanboot.IBFTLength(initiator, names, 0), tables[0].Length, "the planner's model is the table iPXE built")
		})
	}
}
