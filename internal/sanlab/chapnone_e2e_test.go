//go:build sanboot_e2e

// Real parts, no fakes (qemu TCG + ipxe.lkrn + tgtd in a private namespace):
// an array that requires CHAP and a script that sends none must fail fast and
// visibly, never hang and never boot. This happens when the CHAP secret ARN is
// left out of the answers while the array side has CHAP on.

package sanlab_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// chapRequiredNoneSent is iPXE's error when the target asks for CHAP and the
// initiator has no credentials (sanboot-lab.md §5).
const chapRequiredNoneSent = "430d6601"

func TestSANBootCHAPNone(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	defer cancel()
	lab := newLab(ctx, t, ipxe)

	initiator := workloadIQN(t)
	account := &sanlab.CHAP{User: "sanlab-" + sanlab.NewToken(), Secret: sanlab.NewToken() + sanlab.NewToken()}
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 1, Initiators: []string{initiator}, CHAP: account})
	require.NoError(t, err)

	cfg := sanboot.IPXE{InitiatorIQN: initiator, TargetIQN: target.IQN, Portals: []sanboot.Portal{targetPortal}, LUN: target.LUN}
	script, err := sanboot.RenderIPXE(cfg)
	require.NoError(t, err)
	require.NotContains(t, string(script), chapLinePrefix)
	require.NotContains(t, string(script), "set username")

	r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token})
	require.NoError(t, err, "console:\n%s", r.Tail(20))
	t.Logf("%v", r)
	t.Logf("iPXE:   %s", r.IPXEErrorLine)
	require.False(t, r.Passed)
	require.False(t, r.TimedOut, "console:\n%s", r.Tail(20))
	assert.Equal(t, 0, r.ExitCode, "the script's exit must end qemu (-no-reboot)")
	assert.Equal(t, chapRequiredNoneSent, r.IPXEError, "console:\n%s", r.Tail(20))
	failed := r.Line(sanboot.FailureMarker)
	require.NotEmpty(t, failed, "no %s line; console:\n%s", sanboot.FailureMarker, r.Tail(20))
	m := failureLineRE.FindStringSubmatch(failed)
	require.NotNil(t, m, "failure line %q is not %q", failed, failureLineRE)
	assert.Equal(t, target.IQN, m[2], "the failure line names the target")
	assert.Equal(t, hexValue(t, chapRequiredNoneSent), hexValue(t, m[1]), "the failure line carries iPXE's error")
	assert.NotContains(t, r.Serial, sanlab.MarkerPrefix)

	// Control, same lab, same target: the same rendered script with the
	// account's credentials boots. So the failure above is the missing CHAP,
	// not the target, the ACL or the script.
	cfg.CHAPSecretARN = testSecretARN
	withCHAP, err := sanboot.RenderIPXE(cfg)
	require.NoError(t, err)
	r, err = lab.Boot(ctx, sanlab.BootSpec{Script: inlineCHAP(t, withCHAP, account.User, account.Secret), Token: target.Token})
	require.NoError(t, err, "console:\n%s", r.Tail(20))
	t.Logf("control with CHAP: %v", r)
	require.True(t, r.Passed, "%v; console:\n%s\ntgtd:\n%s", r, r.Tail(20), lab.TargetLog())
	assert.Contains(t, r.Serial, sanlab.MarkerLine(target.Token))
}
