package sanlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultBootTimeout is the hard deadline of one boot when BootSpec.Timeout
// is zero. A boot takes about 4 s under TCG; the margin covers a loaded machine.
const DefaultBootTimeout = 90 * time.Second

// NIC is one qemu network card on its own slirp (user-mode) network. The zero
// value is a normal slirp network: 10.0.2.0/24, DHCP, host alias 10.0.2.2.
type NIC struct {
	// Restrict isolates the guest: slirp answers connections to its host alias
	// (and everything else) with a reset, so this card cannot reach the target.
	Restrict bool
	// Net and Host renumber the slirp network (for scripts that name another
	// server address); both or neither.
	Net  netip.Prefix
	Host netip.Addr
	// Hostname is what slirp's DHCP hands out as option 12; iPXE copies it
	// into the iBFT, where it takes room.
	Hostname string
}

// BootSpec describes one boot.
type BootSpec struct {
	// Script is the iPXE script, fed to ipxe.lkrn as its initrd. It must start
	// with #!ipxe.
	Script []byte
	// Disk, instead of Script, boots this raw image from a local IDE disk with
	// no iPXE and no network: it checks the marker disk on its own.
	Disk string
	// Token is the marker the boot must print to pass.
	Token string
	// NICs are the guest's network cards, net0 first; nil means one default NIC.
	NICs []NIC
	// Timeout is the hard deadline of the boot (qemu is SIGKILLed when it
	// passes); zero means DefaultBootTimeout. Time spent waiting for a boot
	// slot does not count.
	Timeout time.Duration
	// UEFI boots OVMF and iPXE's EFI build instead of SeaBIOS and ipxe.lkrn:
	// the script runs as autoexec.ipxe from a local EFI system partition (see
	// efi.go), and the SAN disk must be one WriteEFIDisk wrote.
	UEFI bool
	// StopOn ends the boot when a console line starts with it (qemu is killed
	// StopGrace later, and Result.Stopped is set). UEFI firmware has no
	// equivalent of -no-reboot -boot reboot-timeout=0: when the script gives
	// up, OVMF moves on to its next boot option and then waits in its menu, so
	// a UEFI failure case stops on the script's failure line instead.
	StopOn string
}

// StopGrace is how long a boot runs on after the StopOn line appeared, so the
// lines printed right after it (iPXE's own error) reach the log too.
const StopGrace = time.Second

// Result is what one boot did.
type Result struct {
	// Passed: qemu exited through isa-debug-exit after the boot sector printed
	// this boot's token, which proves the disk was read over iSCSI past sector 0.
	Passed bool
	// ExitCode is qemu's exit status: 33 marker printed, 35 disk read failed,
	// 0 the script gave up (iPXE exit/reboot with -no-reboot), -1 killed.
	ExitCode int
	// Serial is the console (COM1, where SeaBIOS copies iPXE's screen text),
	// with escape sequences and carriage returns removed.
	Serial string
	// IPXEError is the code of the last iPXE error message on the console,
	// for example "2c0d603b" from "(https://ipxe.org/2c0d603b)"; empty if none.
	IPXEError string
	// IPXEErrorLine is the console line that carried IPXEError.
	IPXEErrorLine string
	// TimedOut: the boot deadline passed and qemu was killed.
	TimedOut bool
	// Stopped: the BootSpec.StopOn line appeared and qemu was killed.
	Stopped bool
	// Duration is qemu start to exit.
	Duration time.Duration
	// Stderr is what qemu wrote to stderr.
	Stderr string
}

// Line returns the first console line that starts with prefix, or "".
func (r Result) Line(prefix string) string {
	for _, l := range strings.Split(r.Serial, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// Count returns how many console lines start with prefix.
func (r Result) Count(prefix string) int {
	n := 0
	for _, l := range strings.Split(r.Serial, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// Tail returns the last n console lines.
func (r Result) Tail(n int) string { return tail(r.Serial, n) }

// String summarises the result for test logs.
func (r Result) String() string {
	verdict := "FAIL"
	switch {
	case r.Passed:
		verdict = "PASS"
	case r.TimedOut:
		verdict = "TIMEOUT"
	case r.Stopped:
		verdict = "STOPPED"
	}
	s := fmt.Sprintf("%s exit=%d in %.2fs", verdict, r.ExitCode, r.Duration.Seconds())
	if r.IPXEError != "" {
		s += " ipxe.org/" + r.IPXEError
	}
	return s
}

// slots caps the number of VMs running at once: each TCG guest with iPXE
// busy-polling keeps one core busy. SANLAB_MAX_BOOTS overrides the default of
// one per CPU.
var slots = make(chan struct{}, maxBoots())

func maxBoots() int {
	if n, err := strconv.Atoi(os.Getenv("SANLAB_MAX_BOOTS")); err == nil && n > 0 {
		return n
	}
	return max(1, runtime.NumCPU())
}

// Boot runs qemu in the lab's namespace: ipxe.lkrn with the script as its
// initrd (or a local disk), serial console to a file, isa-debug-exit for the
// verdict, -no-reboot -boot reboot-timeout=0 so every failure path ends qemu.
// A missed deadline is a result (TimedOut), not an error; errors are for the
// harness itself: bad input, qemu that cannot start, a cancelled ctx.
func (l *Lab) Boot(ctx context.Context, s BootSpec) (Result, error) {
	if s.Token == "" {
		return Result{}, fmt.Errorf("boot spec: Token is empty: give the token of the disk to boot")
	}
	if (s.Disk == "") == (len(s.Script) == 0) {
		return Result{}, fmt.Errorf("boot spec: give exactly one of Script and Disk")
	}
	if len(s.Script) > 0 && !bytes.HasPrefix(s.Script, []byte("#!ipxe")) {
		return Result{}, fmt.Errorf("boot spec: script does not start with #!ipxe")
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultBootTimeout
	}
	if len(s.NICs) == 0 && s.Disk == "" {
		s.NICs = []NIC{{}}
	}
	l.boots.Add(1)
	defer l.boots.Done()

	n := l.nBoot.Add(1)
	serial := filepath.Join(l.cfg.Dir, fmt.Sprintf("boot%d-serial.log", n))
	args := []string{"-accel", "tcg", "-nodefaults",
		"-display", "none", "-monitor", "none",
		"-serial", "file:" + serial,
		"-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"}
	switch {
	case s.Disk != "":
		if err := qemuPathOK(s.Disk); err != nil {
			return Result{}, err
		}
		args = append(args, "-m", "128", "-machine", "graphics=off", "-boot", "reboot-timeout=0",
			"-drive", "file="+s.Disk+",format=raw,if=ide,snapshot=on", "-net", "none")
	case s.UEFI:
		if l.cfg.IPXEEFI == "" {
			return Result{}, fmt.Errorf("boot: the lab has no ipxe.efi (Config.IPXEEFI)")
		}
		esp := filepath.Join(l.cfg.Dir, fmt.Sprintf("boot%d-esp.img", n))
		if err := writeESP(ctx, esp, l.cfg.IPXEEFI, s.Script); err != nil {
			return Result{}, fmt.Errorf("write the local EFI system partition: %w", err)
		}
		for _, p := range []string{esp, l.cfg.OVMF} {
			if err := qemuPathOK(p); err != nil {
				return Result{}, err
			}
		}
		// OVMF's console goes to the serial port on its own; the ESP is the
		// only disk, so its removable-media loader (iPXE) is the first boot
		// option. romfile= leaves the cards without option ROMs: iPXE drives
		// them itself and OVMF offers no network boot to fall back to.
		args = append(args, "-m", "256", "-bios", l.cfg.OVMF,
			"-drive", "file="+esp+",format=raw,if=virtio,snapshot=on")
	default:
		if l.cfg.IPXE == "" {
			return Result{}, fmt.Errorf("boot: the lab has no ipxe.lkrn (Config.IPXE)")
		}
		script := filepath.Join(l.cfg.Dir, fmt.Sprintf("boot%d.ipxe", n))
		if err := os.WriteFile(script, s.Script, 0o600); err != nil {
			return Result{}, fmt.Errorf("write boot script: %w", err)
		}
		for _, p := range []string{script, l.cfg.IPXE} {
			if err := qemuPathOK(p); err != nil {
				return Result{}, err
			}
		}
		args = append(args, "-m", "128", "-machine", "graphics=off", "-boot", "reboot-timeout=0",
			"-kernel", l.cfg.IPXE, "-initrd", script)
	}
	if s.Disk == "" {
		for i, nic := range s.NICs {
			netdev, err := nic.netdev(i)
			if err != nil {
				return Result{}, err
			}
			// romfile= skips the card's own iPXE ROM: iPXE has its drivers.
			args = append(args, "-netdev", netdev, "-device", fmt.Sprintf("e1000,netdev=n%d,romfile=", i))
		}
	}

	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("wait for a boot slot: %w", ctx.Err())
	}
	defer func() { <-slots }()

	bctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	cmd := exec.CommandContext(bctx, "ip", append([]string{"netns", "exec", l.ns, l.cfg.QEMU}, args...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Kill() } // SIGKILL, by PID
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	var stopped atomic.Bool
	runErr := cmd.Start()
	if runErr == nil {
		if s.StopOn != "" {
			watchDone := make(chan struct{})
			defer close(watchDone)
			go watchConsole(serial, s.StopOn, watchDone, func() {
				stopped.Store(true)
				_ = cmd.Process.Kill()
			})
		}
		runErr = cmd.Wait()
	}
	r := Result{Duration: time.Since(start), Stderr: stderr.String(), ExitCode: -1}
	if cmd.ProcessState != nil {
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	raw, err := os.ReadFile(serial)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("read serial log: %w", err)
	}
	r.Serial = CleanConsole(raw)
	r.IPXEErrorLine, r.IPXEError = lastIPXEError(r.Serial)

	if ctx.Err() != nil {
		return r, fmt.Errorf("boot cancelled: %w", ctx.Err())
	}
	if stopped.Load() {
		r.Stopped = true
		return r, nil
	}
	if errors.Is(bctx.Err(), context.DeadlineExceeded) {
		r.TimedOut = true
		return r, nil
	}
	switch r.ExitCode {
	case ExitMarker:
		r.Passed = strings.Contains(r.Serial, MarkerLine(s.Token))
	case 0, ExitReadFailed:
	default:
		return r, fmt.Errorf("qemu failed (exit %d, %v): %s", r.ExitCode, runErr, tail(r.Stderr, 10))
	}
	return r, nil
}

// watchConsole polls the serial log until a line starts with prefix, then
// calls stop StopGrace later. It gives up when done is closed.
func watchConsole(serial, prefix string, done <-chan struct{}, stop func()) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		raw, err := os.ReadFile(serial)
		if err != nil {
			continue
		}
		if (Result{Serial: CleanConsole(raw)}).Line(prefix) == "" {
			continue
		}
		select {
		case <-done:
		case <-time.After(StopGrace):
			stop()
		}
		return
	}
}

func (n NIC) netdev(i int) (string, error) {
	d := fmt.Sprintf("user,id=n%d", i)
	if n.Restrict {
		d += ",restrict=on"
	}
	if n.Net.IsValid() != n.Host.IsValid() {
		return "", fmt.Errorf("nic %d: give both Net and Host, or neither", i)
	}
	if n.Net.IsValid() {
		if !n.Net.Addr().Is4() || !n.Net.Masked().Contains(n.Host) {
			return "", fmt.Errorf("nic %d: host %v is not an IPv4 address inside %v", i, n.Host, n.Net)
		}
		d += fmt.Sprintf(",net=%s,host=%s", n.Net.Masked(), n.Host)
	}
	if n.Hostname != "" {
		if err := validName("hostname", n.Hostname); err != nil {
			return "", fmt.Errorf("nic %d: %w", i, err)
		}
		d += ",hostname=" + n.Hostname
	}
	return d, nil
}

// qemuPathOK refuses paths qemu's option parser would split (commas).
func qemuPathOK(p string) error {
	if strings.Contains(p, ",") {
		return fmt.Errorf("path %q has a comma, which qemu's option syntax cannot take", p)
	}
	return nil
}

var (
	escapeRE    = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[c78]`)
	ipxeErrorRE = regexp.MustCompile(`\(https?://ipxe\.org/([0-9a-f]{8})\)`)
)

// consoleWidth is the VGA text width. SeaBIOS's sercon copies the screen to
// COM1 and breaks a line that reaches the last column with CR LF, so a long
// iPXE line arrives in 80-column pieces.
const consoleWidth = 80

// CleanConsole turns the raw serial log into plain lines: no ANSI escapes, no
// carriage returns, no blank lines, no trailing spaces, and lines that sercon
// wrapped at 80 columns joined again.
func CleanConsole(raw []byte) string {
	s := escapeRE.ReplaceAllString(string(raw), "")
	s = strings.ReplaceAll(s, "\r", "")
	in := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(in); i++ {
		l := strings.TrimRight(in[i], "\x00")
		for len(l) > 0 && len(l)%consoleWidth == 0 && i+1 < len(in) {
			i++
			next := strings.TrimRight(in[i], "\x00")
			if next == "" {
				break // the line was exactly full width; its own newline follows the wrap
			}
			l += next
		}
		if l = strings.TrimRight(l, " \t"); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// lastIPXEError finds iPXE's own last error message, the one that ends with
// "(https://ipxe.org/<8 hex digits>)".
func lastIPXEError(console string) (line, code string) {
	lines := strings.Split(console, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if m := ipxeErrorRE.FindStringSubmatch(lines[i]); m != nil {
			return lines[i], m[1]
		}
	}
	return "", ""
}

// Preflight reports every missing prerequisite of a lab: root (network
// namespaces, /var/run/tgtd), the ip, tgtd, tgtadm and qemu binaries, and
// ipxe.lkrn (a recent one: Debian bookworm's 2019 build rejects dhcp --timeout).
func Preflight(ipxe string) error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, fmt.Errorf("not root: network namespaces and tgtd's socket folder need root"))
	}
	for _, tool := range []string{"ip", "tgtd", "tgtadm", "qemu-system-x86_64"} {
		if _, err := exec.LookPath(tool); err != nil {
			errs = append(errs, fmt.Errorf("%s is not installed (scripts/setup.sh installs iproute2, tgt, qemu-system-x86)", tool))
		}
	}
	if st, err := os.Stat(ipxe); err != nil || st.Size() == 0 {
		errs = append(errs, fmt.Errorf("ipxe.lkrn not found at %q (scripts/setup.sh unpacks a recent one into .cache/ipxe)", ipxe))
	}
	return errors.Join(errs...)
}
