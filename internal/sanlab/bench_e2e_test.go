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
	"path/filepath"
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

// BenchmarkBootLUN16383AltPort: the largest LUN any supported vendor assigns
// (HPE), flat-space encoded ("7fff"), on a non-default port.
func BenchmarkBootLUN16383AltPort(b *testing.B) {
	ipxe := sanlab.NeedLab(b)
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Minute)
	defer cancel()
	lab := newLab(ctx, b, ipxe)
	require.NoError(b, lab.AddPortal(ctx, altPort))
	initiator := workloadIQN(b)
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 16383, Initiators: []string{initiator}})
	require.NoError(b, err)
	loopBoots(ctx, b, lab, sanlab.BootSpec{Script: rawScript(initiator, rawURI(altPort, "7fff", target.IQN)), Token: target.Token})
}

// BenchmarkBootTwoTargetNamesFirstDead: two targets of different IQNs on one
// volume, the first path dead.
func BenchmarkBootTwoTargetNamesFirstDead(b *testing.B) {
	ipxe := sanlab.NeedLab(b)
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Minute)
	defer cancel()
	lab := newLab(ctx, b, ipxe)
	initiator := workloadIQN(b)
	a, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-a", LUN: 1, Initiators: []string{initiator}})
	require.NoError(b, err)
	bb, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab) + "-node-b", LUN: 1, Initiators: []string{initiator}, Image: a.Image, Token: a.Token})
	require.NoError(b, err)
	script := rawScript(initiator, rawURI(deadPort, "1", a.IQN), rawURI(sanlab.TargetPort, "1", bb.IQN))
	loopBoots(ctx, b, lab, sanlab.BootSpec{Script: script, Token: a.Token})
}

// BenchmarkBootUEFI: OVMF + iPXE's EFI build, the rendered script with
// --filename loading a GRUB EFI image from the LUN. Most of it is OVMF's own
// start under TCG.
func BenchmarkBootUEFI(b *testing.B) {
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Minute)
	defer cancel()
	lab := newUEFILab(ctx, b)
	initiator := workloadIQN(b)
	token := sanlab.NewToken()
	img := filepath.Join(b.TempDir(), "efi.img")
	require.NoError(b, sanlab.WriteEFIDisk(ctx, img, efiLoader, token))
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: targetIQN(lab), LUN: 1, Initiators: []string{initiator}, Image: img, Token: token})
	require.NoError(b, err)
	script, err := sanboot.RenderIPXE(sanboot.IPXE{InitiatorIQN: initiator, TargetIQN: target.IQN, LUN: 1,
		Portals: []sanboot.Portal{targetPortal}, Filename: efiLoader})
	require.NoError(b, err)
	loopBoots(ctx, b, lab, sanlab.BootSpec{Script: script, Token: token, UEFI: true, StopOn: sanboot.FailureMarker})
}

// loopBoots boots spec once per iteration and reports the median boot time.
func loopBoots(ctx context.Context, b *testing.B, lab *sanlab.Lab, spec sanlab.BootSpec) {
	var took []time.Duration
	for b.Loop() {
		r, err := lab.Boot(ctx, spec)
		require.NoError(b, err)
		require.True(b, r.Passed, "%v; console:\n%s", r, r.Tail(20))
		took = append(took, r.Duration)
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "s/boot")
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
