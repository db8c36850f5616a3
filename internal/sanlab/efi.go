package sanlab

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// UEFI boots run OVMF (Debian's ovmf package) with iPXE's EFI build. OVMF has
// no -kernel/-initrd path for an EFI application that takes a script, so the
// harness writes a small local EFI system partition holding ipxe.efi as the
// removable-media loader (\EFI\BOOT\BOOTX64.EFI) and the script under test as
// \autoexec.ipxe, which iPXE's EFI build runs from the volume it was loaded
// from. The SAN disk for UEFI (WriteEFIDisk) is an MBR disk with one FAT
// partition that holds a GRUB EFI image (grub-mkstandalone, Debian's
// grub-efi-amd64-bin) at the path the script's --filename names. GRUB finds
// the per-test token file on that same SAN disk through the firmware's block
// I/O (which is iPXE's SAN device), prints it, prints the ACPI tables (to see
// the iBFT) and exits qemu through isa-debug-exit like the BIOS boot sector.

// DefaultOVMF is where Debian's ovmf package puts a firmware image usable with -bios.
const DefaultOVMF = "/usr/share/ovmf/OVMF.fd"

// efiTokenFile is where WriteEFIDisk stores the token on the SAN disk.
const efiTokenFile = "/sanlab/token"

// efiDiskSize is the size of UEFI disks: a FAT16 partition needs some room,
// and the GRUB image is about 3.3 MiB.
const efiDiskSize = 32 << 20

// efiPartStart is the first sector of the FAT partition (1 MiB).
const efiPartStart = 2048

// grubConfig is the configuration embedded in the GRUB image. `search` and
// `cat` read the SAN disk through UEFI block I/O, so the token is read over
// iSCSI after the loader itself was.
const grubConfig = `if search --no-floppy --file ` + efiTokenFile + ` --set=r; then
  lsacpi
  cat ($r)` + efiTokenFile + `
  outb 0xf4 0x10
fi
echo ` + ReadFailedBanner + `
outb 0xf4 0x11
`

// EFIPrerequisites reports what a UEFI boot or UEFI disk needs and is missing.
func EFIPrerequisites(ovmf, ipxeEFI string) error {
	var missing []string
	for _, tool := range []string{"grub-mkstandalone", "mformat", "mmd", "mcopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s not installed (Debian packages grub-efi-amd64-bin, grub-common and mtools)", strings.Join(missing, ", "))
	}
	if _, err := os.Stat(filepath.Join("/usr/lib/grub/x86_64-efi", "lsacpi.mod")); err != nil {
		return fmt.Errorf("GRUB's x86_64-efi modules are missing (Debian package grub-efi-amd64-bin)")
	}
	if st, err := os.Stat(ovmf); err != nil || st.Size() == 0 {
		return fmt.Errorf("OVMF firmware not found at %q (Debian package ovmf)", ovmf)
	}
	if st, err := os.Stat(ipxeEFI); err != nil || st.Size() == 0 {
		return fmt.Errorf("ipxe.efi not found at %q (scripts/setup.sh unpacks trixie's ipxe into .cache/ipxe)", ipxeEFI)
	}
	return nil
}

// WriteEFIDisk writes a UEFI SAN disk to path: an MBR with one FAT partition
// holding a GRUB EFI image at loader (a UEFI path such as
// \EFI\outposts\boot.efi) and the marker line for token in /sanlab/token.
func WriteEFIDisk(ctx context.Context, path, loader, token string) error {
	if !strings.HasPrefix(loader, `\`) || strings.ContainsAny(loader, "/ ,:") {
		return fmt.Errorf("loader %q: give a UEFI path like \\EFI\\outposts\\boot.efi", loader)
	}
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return fmt.Errorf("token %q: give a token without spaces", token)
	}
	dir, err := os.MkdirTemp(filepath.Dir(path), "efidisk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "grub.cfg")
	if err := os.WriteFile(cfg, []byte(grubConfig), 0o600); err != nil {
		return err
	}
	grub := filepath.Join(dir, "boot.efi")
	if out, err := run(ctx, "grub-mkstandalone", "-O", "x86_64-efi",
		"--modules=normal iorw echo search search_fs_file cat lsacpi part_msdos fat test",
		"--locales=", "--themes=", "--fonts=", "-o", grub, "boot/grub/grub.cfg="+cfg); err != nil {
		return fmt.Errorf("build GRUB EFI image: %w: %s", err, out)
	}
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte(MarkerLine(token)+"\n"), 0o600); err != nil {
		return err
	}
	parts := strings.Split(strings.TrimPrefix(loader, `\`), `\`)
	files := map[string]string{"/" + strings.Join(parts, "/"): grub, efiTokenFile: tok}
	return writeFATDisk(ctx, path, files)
}

// writeESP writes the local EFI system partition a UEFI boot starts from:
// ipxe.efi as \EFI\BOOT\BOOTX64.EFI and the script as \autoexec.ipxe.
func writeESP(ctx context.Context, path, ipxeEFI string, script []byte) error {
	s := path + ".autoexec.ipxe"
	if err := os.WriteFile(s, script, 0o600); err != nil {
		return err
	}
	defer os.Remove(s)
	return writeFATDisk(ctx, path, map[string]string{"/EFI/BOOT/BOOTX64.EFI": ipxeEFI, "/autoexec.ipxe": s})
}

// writeFATDisk writes a sparse MBR disk of efiDiskSize with one FAT16
// partition (type 0x0e, bootable) from efiPartStart, holding files (disk path
// -> host path). mtools writes the file system, so nothing is mounted.
func writeFATDisk(ctx context.Context, path string, files map[string]string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create disk image: %w", err)
	}
	mbr := make([]byte, SectorSize)
	e := mbr[446:]
	e[0], e[4] = 0x80, 0x0e
	binary.LittleEndian.PutUint32(e[8:], efiPartStart)
	binary.LittleEndian.PutUint32(e[12:], efiDiskSize/SectorSize-efiPartStart)
	mbr[510], mbr[511] = 0x55, 0xaa
	err = f.Truncate(efiDiskSize)
	if err == nil {
		_, err = f.WriteAt(mbr, 0)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write disk image %s: %w", path, err)
	}
	img := fmt.Sprintf("%s@@%d", path, efiPartStart*SectorSize)
	if out, err := run(ctx, "mformat", "-i", img, "-v", "SANLAB", "::"); err != nil {
		return fmt.Errorf("format FAT partition: %w: %s", err, out)
	}
	made := map[string]bool{}
	for dst, src := range files {
		dirs := strings.Split(strings.Trim(dst, "/"), "/")
		for i := 1; i < len(dirs); i++ {
			d := "::/" + strings.Join(dirs[:i], "/")
			if made[d] {
				continue
			}
			if out, err := run(ctx, "mmd", "-i", img, d); err != nil {
				return fmt.Errorf("make %s: %w: %s", d, err, out)
			}
			made[d] = true
		}
		if out, err := run(ctx, "mcopy", "-i", img, src, "::"+dst); err != nil {
			return fmt.Errorf("copy %s: %w: %s", dst, err, out)
		}
	}
	return nil
}
