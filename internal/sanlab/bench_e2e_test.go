//go:build sanboot_e2e

// Benchmarks of real SAN boots (qemu TCG + ipxe.lkrn + tgtd; no fakes). Each
// iteration is one boot of about 2-5 s, so run a fixed count:
//
//	SANBOOT_E2E=1 go test -tags sanboot_e2e -run '^$' -bench . -benchtime 5x ./internal/sanlab/
//
// s/boot is the median of qemu start to qemu exit, and qemu exits the moment
// the boot sector has printed the token, so it is boot-to-token time.

package sanlab_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// BenchmarkBootSinglePortal: plain DHCP on net0, one portal, LUN 1.
func BenchmarkBootSinglePortal(b *testing.B) { benchBoot(b, nil, nil) }

// BenchmarkBootDHCP: the Outposts path, LNI at index 1 configured by DHCP.
func BenchmarkBootDHCP(b *testing.B) { benchBoot(b, &sanboot.LNI{Index: 1}, outpostsNICs) }

// BenchmarkBootStaticLNI: the Outposts path, LNI at index 1 with a static
// address. The difference to BenchmarkBootDHCP is what iPXE's DHCP costs.
func BenchmarkBootStaticLNI(b *testing.B) {
	benchBoot(b, &sanboot.LNI{Index: 1, Static: &sanboot.StaticAddress{
		Address: netip.MustParsePrefix("10.0.2.15/24"),
		Gateway: netip.MustParseAddr(sanlab.GuestHost),
	}}, outpostsNICs)
}

func benchBoot(b *testing.B, lni *sanboot.LNI, nics []sanlab.NIC) {
	ipxe := sanlab.NeedLab(b)
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Minute)
	defer cancel()
	lab := newLab(ctx, b, ipxe)
	initiator := workloadIQN(b)
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 1, Initiators: []string{initiator}})
	require.NoError(b, err)
	script, err := sanboot.RenderIPXE(sanboot.IPXE{
		InitiatorIQN: initiator,
		TargetIQN:    target.IQN,
		Portals:      []sanboot.Portal{targetPortal},
		LUN:          target.LUN,
		LNI:          lni,
	})
	require.NoError(b, err)

	var took []time.Duration
	for b.Loop() {
		r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token, NICs: nics})
		require.NoError(b, err)
		require.True(b, r.Passed, "%v; console:\n%s", r, r.Tail(20))
		took = append(took, r.Duration)
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "s/boot")
}
