//go:build sanboot_e2e

// UEFI SAN boot. Real parts only, no fakes: OVMF (Debian's ovmf), iPXE's EFI
// build from the same trixie .deb as ipxe.lkrn, tgtd, and a GRUB EFI image
// (grub-mkstandalone from Debian's grub-efi-amd64-bin) on the LUN at the path
// the rendered script's --filename names. The script is the one
// sanboot.RenderIPXE writes.

package sanlab_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/sanlab"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// efiLoader is the --filename of the UEFI cases (a path like the ONTAP
// example's boot.uefi_filename, not the firmware default).
const efiLoader = `\EFI\outposts\boot.efi`

// newUEFILab is a lab whose boots can also run UEFI (NeedUEFI's gate).
func newUEFILab(ctx context.Context, tb testing.TB) *sanlab.Lab {
	tb.Helper()
	ipxe, ipxeEFI := sanlab.NeedUEFI(tb)
	lab, err := sanlab.New(ctx, sanlab.Config{Dir: tb.TempDir(), IPXE: ipxe, IPXEEFI: ipxeEFI})
	require.NoError(tb, err)
	tb.Cleanup(func() {
		ns := lab.Namespace()
		assert.NoError(tb, lab.Close())
		_, err := os.Stat(filepath.Join("/var/run/netns", ns))
		assert.True(tb, os.IsNotExist(err), "namespace %s left behind", ns)
	})
	return lab
}

// uefiTarget writes a UEFI SAN disk and exports it.
func uefiTarget(ctx context.Context, t *testing.T, lab *sanlab.Lab, dir, iqn string, lun int, initiator string) *sanlab.Target {
	t.Helper()
	token := sanlab.NewToken()
	img := filepath.Join(dir, "efi-"+token+".img")
	require.NoError(t, sanlab.WriteEFIDisk(ctx, img, efiLoader, token))
	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: iqn, LUN: lun, Initiators: []string{initiator}, Image: img, Token: token})
	require.NoError(t, err)
	return target
}

func TestUEFISANBoot(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	t.Cleanup(cancel)
	lab := newUEFILab(ctx, t)
	for _, p := range pathPorts[1:] {
		require.NoError(t, lab.AddPortal(ctx, p))
	}
	dir := t.TempDir()
	initiator := workloadIQN(t)
	target := uefiTarget(ctx, t, lab, dir, targetIQN(lab), 1, initiator)

	cfg := sanboot.IPXE{InitiatorIQN: initiator, TargetIQN: target.IQN, LUN: target.LUN,
		Portals: []sanboot.Portal{targetPortal}, Filename: efiLoader}

	t.Run("boots the --filename loader", func(t *testing.T) {
		t.Parallel()
		script, err := sanboot.RenderIPXE(cfg)
		require.NoError(t, err)
		require.Contains(t, string(script), `sanboot --filename `+efiLoader+` iscsi:`)
		r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token, UEFI: true, StopOn: sanboot.FailureMarker})
		require.NoError(t, err)
		t.Logf("%v", r)
		require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(30))
		assert.Contains(t, r.Serial, "Booting "+efiLoader+" from SAN device")
		assert.Equal(t, sanlab.IBFTLength(initiator, "", []string{target.IQN}, "", ""), sanlab.UEFIIBFTLength(r.Serial),
			"the OS gets an iBFT under UEFI too, laid out as under BIOS")
	})
	t.Run("four portals, the first dead", func(t *testing.T) {
		// Under UEFI iPXE installs the iBFT through the firmware's ACPI
		// protocol, without the BIOS build's 768-byte room.
		t.Parallel()
		four := cfg
		four.Portals = []sanboot.Portal{deadPortal}
		names := []string{target.IQN}
		for _, p := range pathPorts[1:] {
			four.Portals = append(four.Portals, sanboot.Portal{Addr: targetPortal.Addr, Port: uint16(p)})
			names = append(names, target.IQN)
		}
		script, err := sanboot.RenderIPXE(four)
		require.NoError(t, err)
		r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token, UEFI: true, StopOn: sanboot.FailureMarker})
		require.NoError(t, err)
		t.Logf("%v", r)
		require.True(t, r.Passed, "%v; console:\n%s", r, r.Tail(30))
		want := sanlab.IBFTLength(initiator, "", names, "", "")
		assert.Greater(t, want, sanlab.BIOSIBFTMax)
		assert.Equal(t, want, sanlab.UEFIIBFTLength(r.Serial), "all four paths are described")
	})
	t.Run("a missing loader fails visibly", func(t *testing.T) {
		t.Parallel()
		bad := cfg
		bad.Filename = `\EFI\outposts\missing.efi`
		script, err := sanboot.RenderIPXE(bad)
		require.NoError(t, err)
		r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token, UEFI: true, StopOn: sanboot.FailureMarker})
		require.NoError(t, err)
		t.Logf("%v %s", r, r.IPXEErrorLine)
		require.False(t, r.Passed)
		require.True(t, r.Stopped, "the script's failure line must end the boot; console:\n%s", r.Tail(20))
		assert.NotEmpty(t, r.Line(sanboot.FailureMarker))
		assert.NotContains(t, r.Serial, sanlab.MarkerPrefix)
	})
}
