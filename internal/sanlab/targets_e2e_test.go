//go:build sanboot_e2e

// Per-portal target names: arrays such as PowerStore and HPE give each node
// or port its own target IQN, so one boot LUN is reached as several targets.
// Real parts only (qemu TCG + ipxe.lkrn + tgtd in a private namespace, no
// fakes): two tgt targets with different IQNs export the same backing image,
// and the first path is dead.

package sanlab_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
)

func TestTwoTargetNames(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	t.Cleanup(cancel)
	lab := newLab(ctx, t, ipxe)
	require.NoError(t, lab.AddPortal(ctx, altPort))
	initiator := workloadIQN(t)

	nodeA, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-a", LUN: 3, Initiators: []string{initiator}})
	require.NoError(t, err)
	// Node B exports the very same volume (image and token) under its own name.
	nodeB, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-b", LUN: 3, Initiators: []string{initiator},
		Image: nodeA.Image, Token: nodeA.Token})
	require.NoError(t, err)
	require.NotEqual(t, nodeA.IQN, nodeB.IQN)

	t.Run("node A's portal dead", func(t *testing.T) {
		t.Parallel()
		script := rawScript(initiator, rawURI(deadPort, "3", nodeA.IQN), rawURI(altPort, "3", nodeB.IQN))
		r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: nodeA.Token})
		require.NoError(t, err)
		t.Logf("%v", r)
		require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
		tables := sanlab.ParseIBFTs(r.Serial)
		require.Len(t, tables, 1)
		require.Len(t, tables[0].Targets, 2)
		assert.Equal(t, nodeA.IQN, tables[0].Targets[0].Name, "each path keeps its own target name")
		assert.Equal(t, uint16(deadPort), tables[0].Targets[0].Port)
		assert.Equal(t, nodeB.IQN, tables[0].Targets[1].Name)
		assert.Equal(t, uint16(altPort), tables[0].Targets[1].Port)
	})
	t.Run("control: node B's name on node A's path does not boot alone", func(t *testing.T) {
		t.Parallel()
		// One URI naming a target that does not exist fails: so the boot above
		// really went through node B under node B's name.
		r, err := lab.Boot(ctx, sanlab.BootSpec{Script: rawScript(initiator, rawURI(altPort, "3", nodeB.IQN+"-gone")), Token: nodeA.Token})
		require.NoError(t, err)
		require.False(t, r.Passed)
		require.False(t, r.TimedOut)
		assert.Equal(t, "2c0d603b", r.IPXEError, "console:\n%s", r.Tail(20))
	})
}

// TestTargetOffline: node A answers on the network but refuses logins (tgt
// target state offline); the boot must go on through node B.
func TestTargetOffline(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	defer cancel()
	lab := newLab(ctx, t, ipxe)
	initiator := workloadIQN(t)
	nodeA, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-a", LUN: 1, Initiators: []string{initiator}})
	require.NoError(t, err)
	nodeB, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-b", LUN: 1, Initiators: []string{initiator},
		Image: nodeA.Image, Token: nodeA.Token})
	require.NoError(t, err)
	require.NoError(t, lab.SetTargetOffline(ctx, nodeA, true))

	alone, err := lab.Boot(ctx, sanlab.BootSpec{Script: rawScript(initiator, rawURI(sanlab.TargetPort, "1", nodeA.IQN)), Token: nodeA.Token})
	require.NoError(t, err)
	t.Logf("node A alone: %v %s", alone, alone.IPXEErrorLine)
	require.False(t, alone.Passed, "an offline target must not boot")
	require.False(t, alone.TimedOut, "console:\n%s", alone.Tail(20))

	r, err := lab.Boot(ctx, sanlab.BootSpec{Script: rawScript(initiator, rawURI(sanlab.TargetPort, "1", nodeA.IQN), rawURI(sanlab.TargetPort, "1", nodeB.IQN)), Token: nodeA.Token})
	require.NoError(t, err)
	t.Logf("A offline, then B: %v", r)
	require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
}
