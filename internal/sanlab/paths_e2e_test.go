//go:build sanboot_e2e

// How many SAN paths a BIOS boot can hand the booted OS. Real parts only
// (qemu TCG + ipxe.lkrn + tgtd in a private namespace, no fakes).
//
// iPXE describes every path it opened in one iBFT. Its BIOS build copies that
// table into a fixed 768-byte area (XBFTAB_SIZE, int13.c); a larger table
// fails the boot with "Could not describe SAN devices: No space left on
// device" (ipxe.org/34852006) before the boot sector runs. The table grows
// with the number of paths (NIC and target structures) and with every string
// it carries: the initiator IQN, each path's target IQN, the DHCP host name and
// each path's CHAP user and secret. These cases pin sanlab.IBFTLength, the
// model the planner's check uses, to the length of the table iPXE really built,
// and find where the boot stops.

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

// noSpace is iPXE's error when the iBFT does not fit (ENOSPC from
// int13_install, reported by san_describe).
const noSpace = "34852006"

// pathPorts are the lab's portals for the multipath cases; 3261 stays dead.
var pathPorts = []int{sanlab.TargetPort, 3271, 3272, 3273}

const deadPort = 3261

type pathCase struct {
	name      string
	ports     []int  // one URI per port, in order
	iqnLen    int    // target IQN length; 0 = the lab's default name
	hostname  string // DHCP option 12
	chap      bool
	wantBoots bool
}

func TestPathCount(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	t.Cleanup(cancel)
	lab := newLab(ctx, t, ipxe)
	for _, p := range pathPorts[1:] {
		require.NoError(t, lab.AddPortal(ctx, p))
	}
	initiator := workloadIQN(t)

	cases := []pathCase{
		{name: "1 portal", ports: pathPorts[:1], wantBoots: true},
		{name: "2 portals", ports: pathPorts[:2], wantBoots: true},
		{name: "2 portals first dead", ports: []int{deadPort, pathPorts[1]}, wantBoots: true},
		{name: "2 portals with CHAP", ports: pathPorts[:2], chap: true, wantBoots: true},
		{name: "3 portals", ports: pathPorts[:3], wantBoots: false},
		{name: "3 portals first dead", ports: []int{deadPort, pathPorts[1], pathPorts[2]}, wantBoots: false},
		{name: "4 portals", ports: pathPorts[:4], wantBoots: false},
	}
	// The string budget at its edge, with one path: a table of exactly 768
	// bytes boots, one byte more does not, and a DHCP host name counts.
	edge := 768 - sanlab.IBFTLength(initiator, "", []string{""}, "", "")
	cases = append(cases,
		pathCase{name: "1 portal, table of 768 bytes", ports: pathPorts[:1], iqnLen: edge, wantBoots: true},
		pathCase{name: "1 portal, table of 769 bytes", ports: pathPorts[:1], iqnLen: edge + 1, wantBoots: false},
		pathCase{name: "1 portal, 767 bytes plus a DHCP host name", ports: pathPorts[:1], iqnLen: edge - 1, hostname: "h", wantBoots: false},
	)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iqn := fmt.Sprintf("%s-%d", targetIQN(lab), i)
			if tc.iqnLen > 0 {
				require.Greater(t, tc.iqnLen, len(iqn)+1)
				require.LessOrEqual(t, tc.iqnLen, 223)
				iqn += "-" + strings.Repeat("x", tc.iqnLen-len(iqn)-1)
			}
			spec := sanlab.TargetSpec{IQN: iqn, LUN: 1, Initiators: []string{initiator}}
			if tc.chap {
				spec.CHAP = &sanlab.CHAP{User: "sanlab-" + sanlab.NewToken(), Secret: sanlab.NewToken() + "abcd"}
			}
			target, err := lab.AddTarget(ctx, spec)
			require.NoError(t, err)
			var uris []string
			var names []string
			for _, p := range tc.ports {
				uris = append(uris, rawURI(p, "1", iqn))
				names = append(names, iqn)
			}
			script := rawScript(initiator, uris...)
			user, secret := "", ""
			if tc.chap {
				user, secret = spec.CHAP.User, spec.CHAP.Secret
				script = []byte(strings.Replace(string(script), "dhcp ||", "set username "+user+"\nset password "+secret+"\ndhcp ||", 1))
			}
			want := sanlab.IBFTLength(initiator, tc.hostname, names, user, secret)
			require.Equal(t, tc.wantBoots, want <= sanlab.BIOSIBFTMax, "the model must predict the case (length %d)", want)

			r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token, NICs: []sanlab.NIC{{Hostname: tc.hostname}}})
			require.NoError(t, err, "console:\n%s", r.Tail(20))
			t.Logf("%d paths, model length %d: %v %s", len(tc.ports), want, r, r.IPXEErrorLine)
			if !tc.wantBoots {
				require.False(t, r.Passed)
				require.False(t, r.TimedOut, "must fail fast; console:\n%s", r.Tail(20))
				assert.Equal(t, noSpace, r.IPXEError, "console:\n%s", r.Tail(20))
				assert.Contains(t, r.IPXEErrorLine, "Could not describe SAN devices")
				assert.NotEmpty(t, r.Line(sanlabFailureMarker))
				return
			}
			require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(20))
			tables := sanlab.ParseIBFTs(r.Serial)
			require.Len(t, tables, 1, "console:\n%s", r.Tail(20))
			assert.Equal(t, want, tables[0].Length, "model vs the table iPXE built")
			require.Len(t, tables[0].Targets, len(tc.ports), "every path is described, a dead one too")
			for i, tg := range tables[0].Targets {
				assert.Equal(t, uint16(tc.ports[i]), tg.Port)
				assert.Equal(t, iqn, tg.Name)
			}
		})
	}
}

const sanlabFailureMarker = "OUTPOSTS-HA-SANBOOT-FAILED"
