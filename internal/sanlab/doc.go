// Package sanlab is a local SAN-boot lab: it boots a rendered iPXE script in
// qemu from a real iSCSI target and reports what happened. It backs the e2e
// test tier, which proves that the scripts sanboot.RenderIPXE writes (the same
// bytes `plan` writes) really boot, and that misconfigurations fail fast and
// visibly.
//
// # What a lab is
//
// New creates a private network namespace that holds only a loopback
// interface and starts a tgtd of its own in it, listening on 127.0.0.1:3260.
// AddTarget writes a sparse 16 MiB marker disk (a boot sector assembled in
// Go, see BootSector, and a per-test token in the last sector), creates a
// target with one LUN backed by it, and binds a name ACL of the given
// initiator IQNs only. No address ACL is ever bound: tgt ORs the two, and
// every slirp connection arrives from 127.0.0.1. Optional one-way CHAP is
// created over tgtd's management socket so the secret never appears in argv.
//
// Boot runs qemu (TCG) in the namespace with ipxe.lkrn as the kernel and the
// script as its initrd. slirp maps 10.0.2.2 to the namespace's loopback, so the
// guest reaches tgtd and nothing else. The boot sector reads the disk's last
// sector through iPXE's INT 13h, prints the token to COM1 and exits qemu
// through isa-debug-exit (status 33). A script that gives up exits iPXE and,
// with -no-reboot -boot reboot-timeout=0, ends qemu with status 0; SeaBIOS's
// sercon copies iPXE's screen to the serial log, where Result finds iPXE's
// error code. Every boot has a hard deadline after which qemu is SIGKILLed
// (Result.TimedOut), and at most one VM per CPU runs at a time
// (SANLAB_MAX_BOOTS overrides).
//
// Close kills the lab's tgtd by PID, deletes its namespace and removes its
// control-port socket files. Names are unique per process and lab
// (sanlab-<pid>-<n>), the tgtd control port is never 0 (the system default),
// and leftovers of a crashed run are handled: namespaces of dead PIDs are
// swept, stale socket files are reclaimed, and a control port whose lock a
// live process holds is skipped, never touched.
//
// # Gate and prerequisites
//
// The tests and benchmarks carry the build tag sanboot_e2e and run only with
// SANBOOT_E2E=1 (`make e2e`, and so `make test`). With the switch on, a missing
// prerequisite fails the test rather than skipping it. Prerequisites: root
// (network namespaces, /var/run/tgtd), iproute2 (ip), tgt (tgtd, tgtadm),
// qemu-system-x86 and a recent ipxe.lkrn. scripts/setup.sh installs them and
// unpacks Debian trixie's iPXE into .cache/ipxe; bookworm's 2019 build rejects
// `dhcp --timeout`, which the Outposts LNI path renders. SANLAB_IPXE points
// the tests at another ipxe.lkrn.
//
//	make e2e
//	SANBOOT_E2E=1 go test -count=1 -tags sanboot_e2e -timeout 15m ./internal/sanlab/...
//	SANBOOT_E2E=1 go test -tags sanboot_e2e -run '^$' -bench . -benchtime 5x ./internal/sanlab/
//
// The harness itself has no build tag and uses only the standard library, so
// `go vet ./...` checks it; its pure parts have ordinary unit tests.
//
// # What the lab proves beyond one LUN and one path
//
// The boot sector dumps every iBFT it finds in base memory before it reads the
// disk (ParseIBFTs), so a case can check what the booted OS is told about its
// SAN paths, and IBFTLength, the model of the table iPXE builds, is pinned to
// real tables: under BIOS iPXE has 768 bytes for it (BIOSIBFTMax), and a
// larger table fails the boot with ipxe.org/34852006. AddPortal adds listening
// ports, AddLUN decoy LUNs (a mis-encoded LUN field reaches them), and
// TargetSpec.Image lets two targets of different IQNs export one volume.
//
// UEFI boots (BootSpec.UEFI) run OVMF with iPXE's EFI build; the script is
// autoexec.ipxe on a local EFI system partition, and the LUN holds a GRUB EFI
// image at the --filename path (WriteEFIDisk, efi.go). UEFI firmware cannot end
// qemu when a boot fails, so UEFI failure cases stop on the script's failure
// line (BootSpec.StopOn). Extra prerequisites: Debian's ovmf,
// grub-efi-amd64-bin and mtools (NeedUEFI).
//
// # Limits
//
// tgt keeps LUN 0 for its controller and cannot back it with a disk, so the
// LUN 0 case boots through ServeLUNMap, a proxy in the namespace that presents
// tgt's LUN 1 as LUN 0 by rewriting the LUN field of SCSI PDUs: it proves the
// script and iPXE side of LUN 0, not an array's. iSCSI only:
// this kernel has no NVMe-oF target and there is no userspace one in Debian.
// Upstream iPXE lacks aws_get_boot_creds_from_secret, so the CHAP cases swap
// that one rendered line for inline credentials.
package sanlab
