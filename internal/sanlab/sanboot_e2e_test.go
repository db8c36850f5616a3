//go:build sanboot_e2e

// End-to-end SAN boot tier. Real parts only, no fakes: the iPXE script is
// rendered by sanboot.RenderIPXE (the code `plan` uses), booted by a recent
// ipxe.lkrn in qemu (TCG), and served by a real tgtd that admits only the
// workload's generated initiator IQN, in a private network namespace per case.
// Run with `make e2e`; see the package doc for the gate and prerequisites.

package sanlab_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// frozenDeadline bounds the frozen-target case, which only a deadline can end.
const frozenDeadline = 20 * time.Second

// caseDeadline bounds one whole case: lab set-up, boot (with its own deadline)
// and teardown.
const caseDeadline = 3 * time.Minute

func newLab(ctx context.Context, tb testing.TB, ipxe string) *sanlab.Lab {
	tb.Helper()
	lab, err := sanlab.New(ctx, sanlab.Config{Dir: tb.TempDir(), IPXE: ipxe})
	require.NoError(tb, err)
	tb.Cleanup(func() {
		ns := lab.Namespace()
		assert.NoError(tb, lab.Close())
		_, err := os.Stat(filepath.Join("/var/run/netns", ns))
		assert.True(tb, os.IsNotExist(err), "namespace %s left behind", ns)
	})
	return lab
}

// workloadIQN is a generated initiator identity, as setup creates one.
func workloadIQN(tb testing.TB) string {
	tb.Helper()
	iqn, err := sanboot.InitiatorIQN("", "sanlab", uuid.New())
	require.NoError(tb, err)
	return iqn
}

func targetIQN(lab *sanlab.Lab) string { return "iqn.2026-11.test.outposts-ha:" + lab.Namespace() }

var (
	targetPortal = sanboot.Portal{Addr: netip.MustParseAddr(sanlab.GuestHost), Port: sanlab.TargetPort}
	// deadPortal is a port nothing listens on: slirp answers with a reset.
	deadPortal = sanboot.Portal{Addr: netip.MustParseAddr(sanlab.GuestHost), Port: 3261}
	// outpostsNICs models an Outposts server instance: net0 is the VPC interface,
	// which cannot reach the SAN (restricted slirp), net1 the LNI, which can.
	outpostsNICs  = []sanlab.NIC{{Restrict: true}, {}}
	testSecretARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:sanlab/chap-AbCdEf"
)

const chapLinePrefix = "aws_get_boot_creds_from_secret "

// inlineCHAP swaps the rendered Secrets Manager line for inline credentials.
// Why the test differs from production: upstream iPXE has no
// aws_get_boot_creds_from_secret (only the AWS Outposts iPXE build does), and
// qemu has no Secrets Manager to ask. Production keeps the Secrets Manager
// path so the secret never sits in user data; here the script is a file in
// the test's temp folder and the secret a random, per-test value. Only that one
// line changes, so everything else booted is exactly what RenderIPXE produced.
func inlineCHAP(tb testing.TB, script []byte, user, secret string) []byte {
	tb.Helper()
	lines := strings.Split(string(script), "\n")
	found := -1
	for i, l := range lines {
		if strings.HasPrefix(l, chapLinePrefix) {
			require.Equal(tb, -1, found, "the script fetches CHAP credentials more than once:\n%s", script)
			found = i
		}
	}
	require.NotEqual(tb, -1, found, "rendered script has no %q line:\n%s", chapLinePrefix, script)
	require.Equal(tb, chapLinePrefix+testSecretARN+" || goto failed", lines[found])
	lines[found] = "set username " + user + "\nset password " + secret
	return []byte(strings.Join(lines, "\n"))
}

type outcome int

const (
	boots outcome = iota
	failsWithIPXEError
	hangsUntilDeadline
)

type bootCase struct {
	name      string
	targetLUN int                                 // LUN the array maps; default 1
	scriptLUN int                                 // LUN given to the renderer; default targetLUN
	portals   []sanboot.Portal                    // default: the target portal
	lni       *sanboot.LNI                        // nil: plain DHCP on net0
	nics      []sanlab.NIC                        // default: one normal NIC
	chap      bool                                // target requires CHAP
	badSecret bool                                // the script sends a wrong CHAP secret
	intruder  bool                                // render with an IQN that is not in the ACL
	wrongIQN  bool                                // render with a target IQN that does not exist
	after     func(*sanlab.Lab) error             // runs after the target is set up
	checkText func(t *testing.T, script []byte)   // extra checks on the rendered script
	checkRun  func(t *testing.T, r sanlab.Result) // extra checks on the boot
	want      outcome
	wantError string // iPXE error code, ipxe.org/<code>
}

func TestSANBoot(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	cases := []bootCase{
		{
			// First, so its deadline overlaps the other boots.
			name:  "frozen target",
			after: (*sanlab.Lab).FreezeTarget,
			want:  hangsUntilDeadline,
		},
		{
			name: "single portal LUN 1",
			want: boots,
		},
		{
			name:      "LUN 26 is rendered in hex",
			targetLUN: 26,
			checkText: func(t *testing.T, script []byte) {
				assert.Contains(t, string(script), "::3260:1a:", "LUN 26 must be written as 1a")
				assert.NotContains(t, string(script), "::3260:26:")
			},
			want: boots,
		},
		{
			name:    "two portals with the first dead",
			portals: []sanboot.Portal{deadPortal, targetPortal},
			checkText: func(t *testing.T, script []byte) {
				line := scriptLine(t, script, "sanboot ")
				dead, live := strings.Index(line, ":3261:"), strings.Index(line, ":3260:")
				assert.True(t, dead > 0 && live > dead, "want the dead portal first: %s", line)
			},
			want: boots,
		},
		{
			name: "CHAP",
			chap: true,
			want: boots,
		},
		{
			name: "Outposts server LNI at index 1 with DHCP",
			lni:  &sanboot.LNI{Index: 1},
			nics: outpostsNICs,
			checkText: func(t *testing.T, script []byte) {
				assert.Contains(t, string(script), "\nifclose\nifopen net1 || goto failed\ndhcp --timeout 5000 net1 || goto failed\n")
			},
			checkRun: func(t *testing.T, r sanlab.Result) {
				assert.Contains(t, r.Serial, "net1", "iPXE must configure net1")
			},
			want: boots,
		},
		{
			name: "Outposts server LNI at index 1 with static addressing",
			lni: &sanboot.LNI{Index: 1, Static: &sanboot.StaticAddress{
				Address: netip.MustParsePrefix("10.0.2.15/24"),
				Gateway: netip.MustParseAddr(sanlab.GuestHost),
			}},
			nics: outpostsNICs,
			checkText: func(t *testing.T, script []byte) {
				assert.Contains(t, string(script), "set net1/ip 10.0.2.15\n")
				assert.NotContains(t, string(script), "dhcp")
			},
			want: boots,
		},
		{
			name:    "Outposts server static LNI with the first portal dead",
			portals: []sanboot.Portal{deadPortal, targetPortal},
			lni: &sanboot.LNI{Index: 1, Static: &sanboot.StaticAddress{
				Address: netip.MustParsePrefix("10.0.2.15/24"),
				Gateway: netip.MustParseAddr(sanlab.GuestHost),
			}},
			nics: outpostsNICs,
			checkText: func(t *testing.T, script []byte) {
				assert.Contains(t, string(script), "set net1/ip 10.0.2.15\n")
				line := scriptLine(t, script, "sanboot ")
				dead, live := strings.Index(line, ":3261:"), strings.Index(line, ":3260:")
				assert.True(t, dead > 0 && live > dead, "want the dead portal first: %s", line)
			},
			checkRun: func(t *testing.T, r sanlab.Result) {
				tables := sanlab.ParseIBFTs(r.Serial)
				require.Len(t, tables, 1)
				require.Len(t, tables[0].Targets, 2, "both paths are handed to the OS")
				assert.Equal(t, uint16(3261), tables[0].Targets[0].Port)
				assert.Equal(t, uint16(sanlab.TargetPort), tables[0].Targets[1].Port)
			},
			want: boots,
		},
		{
			// Negative control for the two Outposts cases: with the cards
			// swapped, net1 is the restricted one, so the LNI path must fail.
			// Without this, a harness whose restriction did nothing would let
			// a script that ignores the LNI index pass.
			name:      "LNI on a card that cannot reach the SAN",
			lni:       &sanboot.LNI{Index: 1},
			nics:      []sanlab.NIC{{}, {Restrict: true}},
			want:      failsWithIPXEError,
			wantError: "0f0a6039", // connection reset
		},
		{
			name:      "wrong LUN",
			scriptLUN: 7,
			want:      failsWithIPXEError,
			wantError: "1d704039",
		},
		{
			name:      "wrong target IQN",
			wrongIQN:  true,
			want:      failsWithIPXEError,
			wantError: "2c0d603b",
		},
		{
			name:      "initiator not in the ACL",
			intruder:  true,
			want:      failsWithIPXEError,
			wantError: "2c0d603b", // tgt answers "target not found" to initiators outside the ACL
		},
		{
			name:      "bad CHAP password",
			chap:      true,
			badSecret: true,
			want:      failsWithIPXEError,
			wantError: "410d613c",
		},
		{
			name:      "target down",
			after:     (*sanlab.Lab).StopTarget,
			want:      failsWithIPXEError,
			wantError: "0f0a6039",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runBootCase(t, ipxe, tc)
		})
	}
}

func runBootCase(t *testing.T, ipxe string, tc bootCase) {
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	defer cancel()
	lab := newLab(ctx, t, ipxe)

	initiator := workloadIQN(t)
	spec := sanlab.TargetSpec{IQN: targetIQN(lab), LUN: tc.targetLUN, Initiators: []string{initiator}}
	if spec.LUN == 0 {
		spec.LUN = 1
	}
	if tc.chap {
		spec.CHAP = &sanlab.CHAP{User: "sanlab-" + sanlab.NewToken(), Secret: sanlab.NewToken() + sanlab.NewToken()}
	}
	target, err := lab.AddTarget(ctx, spec)
	require.NoError(t, err)

	cfg := sanboot.IPXE{
		InitiatorIQN: initiator,
		TargetIQN:    target.IQN,
		Portals:      tc.portals,
		LUN:          target.LUN,
		LNI:          tc.lni,
	}
	if cfg.Portals == nil {
		cfg.Portals = []sanboot.Portal{targetPortal}
	}
	if tc.scriptLUN != 0 {
		cfg.LUN = tc.scriptLUN
	}
	if tc.intruder {
		cfg.InitiatorIQN = workloadIQN(t)
		require.NotEqual(t, initiator, cfg.InitiatorIQN)
	}
	if tc.wrongIQN {
		cfg.TargetIQN = target.IQN + "-gone"
	}
	if tc.chap {
		cfg.CHAPSecretARN = testSecretARN
	}
	script, err := sanboot.RenderIPXE(cfg)
	require.NoError(t, err)
	assert.Equal(t, 1, bytes.Count(script, []byte("\nset initiator-iqn "+cfg.InitiatorIQN+"\n")))
	assert.Contains(t, string(script), sanboot.SANURI(cfg.Portals[len(cfg.Portals)-1], cfg.LUN, cfg.TargetIQN))
	if tc.chap {
		secret := spec.CHAP.Secret
		if tc.badSecret {
			secret = sanlab.NewToken() + sanlab.NewToken()
		}
		script = inlineCHAP(t, script, spec.CHAP.User, secret)
	}
	if tc.checkText != nil {
		tc.checkText(t, script)
	}
	if tc.after != nil {
		require.NoError(t, tc.after(lab))
	}

	boot := sanlab.BootSpec{Script: script, Token: target.Token, NICs: tc.nics}
	if tc.want == hangsUntilDeadline {
		boot.Timeout = frozenDeadline
	}
	r, err := lab.Boot(ctx, boot)
	require.NoError(t, err, "console:\n%s", r.Tail(20))
	t.Logf("%v", r)
	if r.IPXEErrorLine != "" {
		t.Logf("iPXE:   %s", r.IPXEErrorLine)
	}
	if l := r.Line(sanboot.FailureMarker); l != "" {
		t.Logf("script: %s", l)
	}

	switch tc.want {
	case boots:
		require.True(t, r.Passed, "%v; console:\n%s\ntgtd:\n%s", r, r.Tail(20), lab.TargetLog())
		assert.Equal(t, sanlab.ExitMarker, r.ExitCode)
		assert.Contains(t, r.Serial, sanlab.BootSectorBanner)
		assert.Contains(t, r.Serial, sanlab.MarkerLine(target.Token))
		assert.Empty(t, r.Line(sanboot.FailureMarker))
	case failsWithIPXEError:
		require.False(t, r.Passed)
		require.False(t, r.TimedOut, "console:\n%s", r.Tail(20))
		assert.Equal(t, 0, r.ExitCode, "the script's exit must end qemu (-no-reboot)")
		assert.Equal(t, tc.wantError, r.IPXEError, "console:\n%s", r.Tail(20))
		failed := r.Line(sanboot.FailureMarker)
		require.NotEmpty(t, failed, "no %s line; console:\n%s", sanboot.FailureMarker, r.Tail(20))
		m := failureLineRE.FindStringSubmatch(failed)
		require.NotNil(t, m, "failure line %q is not %q", failed, failureLineRE)
		assert.Equal(t, cfg.TargetIQN, m[2], "the failure line names the target")
		assert.Equal(t, hexValue(t, tc.wantError), hexValue(t, m[1]), "the failure line carries iPXE's error")
		assert.NotContains(t, r.Serial, sanlab.MarkerPrefix)
	case hangsUntilDeadline:
		assert.True(t, r.TimedOut, "%v; console:\n%s", r, r.Tail(20))
		assert.False(t, r.Passed)
		assert.Equal(t, -1, r.ExitCode, "qemu must have been killed")
		assert.NotContains(t, r.Serial, sanlab.MarkerPrefix)
	}
	if tc.checkRun != nil {
		tc.checkRun(t, r)
	}
}

// failureLineRE reads the renderer's failure line. ${errno} prints as 0x-prefixed
// hex without leading zeros (0xf0a6039), so the code is compared as a number.
var failureLineRE = regexp.MustCompile(`^` + regexp.QuoteMeta(sanboot.FailureMarker) + ` error ((?:0x)?[0-9a-f]+) target (\S+)$`)

func hexValue(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
	require.NoError(t, err, "error code %q", s)
	return v
}

// scriptLine returns the one script line that starts with prefix.
func scriptLine(t *testing.T, script []byte, prefix string) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(string(script), "\n") {
		if strings.HasPrefix(l, prefix) {
			found = append(found, l)
		}
	}
	require.Len(t, found, 1, "lines starting with %q", prefix)
	return found[0]
}

// TestBootSectorLocal boots the marker disk straight from a local IDE disk:
// no iPXE, no network. It separates a broken boot sector from a broken SAN path.
func TestBootSectorLocal(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	defer cancel()
	lab := newLab(ctx, t, ipxe)
	token := sanlab.NewToken()
	disk := filepath.Join(t.TempDir(), "local.img")
	require.NoError(t, sanlab.WriteDisk(disk, 0, token))

	r, err := lab.Boot(ctx, sanlab.BootSpec{Disk: disk, Token: token})
	require.NoError(t, err)
	require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
	assert.Equal(t, sanlab.ExitMarker, r.ExitCode)

	// The same image must not pass for another token.
	r, err = lab.Boot(ctx, sanlab.BootSpec{Disk: disk, Token: sanlab.NewToken()})
	require.NoError(t, err)
	assert.False(t, r.Passed, fmt.Sprint(r))
}
