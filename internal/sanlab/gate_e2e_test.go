//go:build sanboot_e2e

package sanlab

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

// NeedLab is the tier's gate, shared by the internal and external test files
// (a test-only export). Without SANBOOT_E2E=1 the test skips; with it, every
// missing prerequisite fails the test, so CI can never go green by skipping.
// It returns the ipxe.lkrn to boot: $SANLAB_IPXE, or the recent build that
// scripts/setup.sh unpacks into .cache/ipxe.
func NeedLab(tb testing.TB) string {
	tb.Helper()
	if os.Getenv("SANBOOT_E2E") != "1" {
		tb.Skip("SAN boot e2e tier is off: run `make e2e` (SANBOOT_E2E=1; root, tgt, qemu, a recent iPXE)")
	}
	ipxe := os.Getenv("SANLAB_IPXE")
	if ipxe == "" {
		ipxe = filepath.Join(testenv.RepoRoot(), ".cache", "ipxe", "usr", "lib", "ipxe", "ipxe.lkrn")
	}
	if err := Preflight(ipxe); err != nil {
		tb.Fatalf("SANBOOT_E2E=1 but the lab cannot run:\n%v", err)
	}
	return ipxe
}

// NeedUEFI is the gate of the UEFI cases: NeedLab's prerequisites plus OVMF,
// iPXE's EFI build, GRUB's EFI modules and mtools. Missing pieces fail the
// test under SANBOOT_E2E=1, naming the Debian package. It returns ipxe.lkrn
// and ipxe.efi.
func NeedUEFI(tb testing.TB) (ipxe, ipxeEFI string) {
	tb.Helper()
	ipxe = NeedLab(tb)
	ipxeEFI = filepath.Join(filepath.Dir(ipxe), "ipxe.efi")
	if err := EFIPrerequisites(DefaultOVMF, ipxeEFI); err != nil {
		tb.Fatalf("SANBOOT_E2E=1 but the UEFI cases cannot run: %v", err)
	}
	return ipxe, ipxeEFI
}
