//go:build sanboot_e2e

// Real parts, no fakes: leftovers of a crashed run (a namespace whose name this
// run wants, stale tgtd socket files, a tgtd that still runs and holds a
// control port) must not break a new lab, and the new lab must not touch
// what it did not create. Internal test: it steers the name and port choice.
// Not parallel, so nothing else creates labs while the counters are steered.

package sanlab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/sanboot"
)

func TestLeftoversOfACrashedRun(t *testing.T) {
	ipxe := NeedLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	// A tgtd this lab did not start, still holding its control port, as the
	// tgtd of a crashed run would.
	other, err := New(ctx, Config{Dir: t.TempDir(), IPXE: ipxe})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, other.Close()) })

	// Stale socket files of a SIGKILLed tgtd: present, but nobody holds the lock.
	stale := 0
	for c := 32000; c < 32767 && stale == 0; c++ {
		if _, err := os.Stat(lockPath(c)); os.IsNotExist(err) {
			stale = c
		}
	}
	require.NotZero(t, stale)
	require.NoError(t, os.WriteFile(socketPath(stale), nil, 0o600))
	require.NoError(t, os.WriteFile(lockPath(stale), nil, 0o600))
	t.Cleanup(func() { removeSocketFiles(stale) })

	// A namespace with the very name this run picks next: the PID was reused.
	taken := fmt.Sprintf("sanlab-%d-%d", os.Getpid(), labCounter.Load()+1)
	out, err := exec.CommandContext(ctx, "ip", "netns", "add", taken).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", taken).Run() })

	// The first control port tried is the live one, the second the stale one.
	orig := ctlFor
	ctlFor = func(pid int, n int64, try int) int {
		switch try {
		case 0:
			return other.ControlPort()
		case 1:
			return stale
		}
		return orig(pid, n, try)
	}
	defer func() { ctlFor = orig }()

	lab, err := New(ctx, Config{Dir: t.TempDir(), IPXE: ipxe})
	require.NoError(t, err)
	ns := lab.Namespace()
	assert.NotEqual(t, taken, ns, "must not reuse a namespace it did not create")
	assert.Equal(t, stale, lab.ControlPort(), "must skip the live port and reclaim the stale one")
	holder, err := lockHolder(lab.ControlPort())
	require.NoError(t, err)
	assert.Equal(t, lab.TargetPID(), holder)

	// The other tgtd was not touched: same PID, still answering.
	holder, err = lockHolder(other.ControlPort())
	require.NoError(t, err)
	assert.Equal(t, other.TargetPID(), holder)
	_, err = other.tgtadm(ctx, "--mode", "system", "--op", "show")
	assert.NoError(t, err)

	// The new lab works end to end.
	ini, err := sanboot.InitiatorIQN("", "sanlab", uuid.New())
	require.NoError(t, err)
	tgt, err := lab.AddTarget(ctx, TargetSpec{IQN: "iqn.2026-11.test.outposts-ha:" + ns, LUN: 1, Initiators: []string{ini}})
	require.NoError(t, err)
	script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: ini, TargetIQN: tgt.IQN, LUN: tgt.LUN,
		Portals: []sanboot.Portal{{Addr: netip.MustParseAddr(GuestHost), Port: TargetPort}}})
	require.NoError(t, err)
	r, err := lab.Boot(ctx, BootSpec{Script: script, Token: tgt.Token})
	require.NoError(t, err)
	assert.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))

	// Teardown removes what the lab made and nothing else.
	require.NoError(t, lab.Close())
	assert.NoFileExists(t, filepath.Join("/var/run/netns", ns))
	assert.NoFileExists(t, socketPath(stale))
	assert.NoFileExists(t, lockPath(stale))
	assert.FileExists(t, filepath.Join("/var/run/netns", taken), "a namespace this lab did not create")
	assert.FileExists(t, socketPath(other.ControlPort()))
}

func TestSweepRemovesOnlyDeadRunsNamespaces(t *testing.T) {
	NeedLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	// A PID that has exited: the namespace of a crashed run.
	p := exec.Command("true")
	require.NoError(t, p.Run())
	dead := fmt.Sprintf("sanlab-%d-1", p.Process.Pid)
	// PID 1 always runs: a namespace of a run that is still going.
	alive := fmt.Sprintf("sanlab-1-%d", os.Getpid())
	// This process's open lab.
	lab, err := New(ctx, Config{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, lab.Close()) })

	for _, ns := range []string{dead, alive} {
		out, err := exec.CommandContext(ctx, "ip", "netns", "add", ns).CombinedOutput()
		require.NoError(t, err, "%s", out)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	sweepStaleNamespaces(ctx)
	assert.NoFileExists(t, filepath.Join("/var/run/netns", dead))
	assert.FileExists(t, filepath.Join("/var/run/netns", alive))
	assert.FileExists(t, filepath.Join("/var/run/netns", lab.Namespace()))
}
