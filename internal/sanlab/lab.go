package sanlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Guest-side view of the target: slirp maps its host address to the loopback
// of the namespace qemu runs in, where tgtd listens.
const (
	// GuestHost is the address a guest on a default slirp network uses to reach
	// the namespace's loopback, and therefore tgtd.
	GuestHost = "10.0.2.2"
	// TargetPort is the iSCSI port tgtd listens on inside the namespace.
	TargetPort = 3260
)

// Config configures a Lab.
type Config struct {
	// Dir is the lab's work folder (disk images, scripts, serial logs, the
	// tgtd log). It must exist; tests pass t.TempDir().
	Dir string
	// IPXE is the path of ipxe.lkrn. Boot needs it unless it boots a local disk.
	IPXE string
	// QEMU is the qemu binary; empty means qemu-system-x86_64 from PATH.
	QEMU string
	// IPXEEFI is iPXE's EFI build (ipxe.efi); UEFI boots need it.
	IPXEEFI string
	// OVMF is the UEFI firmware image for UEFI boots; empty means DefaultOVMF.
	OVMF string
}

// Lab is one private network namespace, holding only a loopback interface,
// with its own tgtd listening on 127.0.0.1:3260 inside it. Everything a Lab
// starts is tracked by PID and removed by Close.
type Lab struct {
	cfg  Config
	ns   string
	ctl  int
	tgtd *exec.Cmd
	done chan struct{} // closed when tgtd has exited and been reaped

	mu      sync.Mutex
	nextTID int
	stopped bool
	boots   sync.WaitGroup
	closed  sync.Once
	nBoot   atomic.Int64
}

var (
	labCounter atomic.Int64
	sweepOnce  sync.Once
	nsNameRE   = regexp.MustCompile(`^sanlab-([0-9]+)-([0-9]+)$`)
	// liveNamespaces holds the namespaces of this process's open labs, which
	// the sweep must never take for leftovers of an earlier process.
	liveNamespaces sync.Map
)

const (
	setupTimeout = 10 * time.Second // any one ip/tgtadm command
	readyTimeout = 5 * time.Second  // tgtd start to management socket answering
	pollEvery    = 50 * time.Millisecond
	maxCtlTries  = 16
	maxNSTries   = 8
)

// New creates the namespace and starts tgtd in it. The namespace is named
// sanlab-<pid>-<n> and the tgtd control port is chosen so that leftovers of a
// crashed earlier run (a stale namespace, stale socket files, even a tgtd that
// still runs) never collide with this lab: stale namespaces of dead PIDs are
// swept once per process, stale socket files are removed before use, and a
// control port whose lock is held by a live process is skipped.
func New(ctx context.Context, cfg Config) (*Lab, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("lab config: Dir is empty: give a work folder")
	}
	if strings.Contains(cfg.Dir, ",") {
		return nil, fmt.Errorf("lab config: Dir %q has a comma, which tgtadm and qemu parameters cannot carry", cfg.Dir)
	}
	if cfg.QEMU == "" {
		cfg.QEMU = "qemu-system-x86_64"
	}
	if cfg.OVMF == "" {
		cfg.OVMF = DefaultOVMF
	}
	sweepOnce.Do(func() { sweepStaleNamespaces(ctx) })

	l := &Lab{cfg: cfg, nextTID: 1}
	var n int64
	for try := 0; ; try++ {
		n = labCounter.Add(1)
		name := fmt.Sprintf("sanlab-%d-%d", os.Getpid(), n)
		out, err := run(ctx, "ip", "netns", "add", name)
		if err == nil {
			l.ns = name
			liveNamespaces.Store(name, true)
			break
		}
		if try+1 >= maxNSTries || !strings.Contains(out, "exists") {
			return nil, fmt.Errorf("create network namespace %s: %w: %s", name, err, out)
		}
	}
	if out, err := run(ctx, "ip", "-n", l.ns, "link", "set", "lo", "up"); err != nil {
		return nil, errors.Join(fmt.Errorf("bring up loopback in %s: %w: %s", l.ns, err, out), l.Close())
	}
	if err := l.startTarget(ctx, n); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

// Namespace is the name of the lab's network namespace.
func (l *Lab) Namespace() string { return l.ns }

// ControlPort is tgtd's management port (tgtadm -C); never 0, so a system tgtd
// is never touched.
func (l *Lab) ControlPort() int { return l.ctl }

// TargetPID is the PID of the lab's tgtd.
func (l *Lab) TargetPID() int { return l.tgtd.Process.Pid }

// TargetLog returns what tgtd has written to stdout and stderr so far.
func (l *Lab) TargetLog() string {
	b, _ := os.ReadFile(filepath.Join(l.cfg.Dir, "tgtd.log"))
	return string(b)
}

// ctlFor spreads control ports over 1000-31999 by PID, lab number and attempt.
// tgtadm accepts 0-32767; 0 is the system default and is never used. It is a
// variable so a test can force collisions with leftovers.
var ctlFor = func(pid int, n int64, try int) int {
	h := uint32(pid)*2654435761 ^ uint32(n)*40503 ^ uint32(try)*7919
	return 1000 + int(h%31000)
}

func (l *Lab) startTarget(ctx context.Context, n int64) error {
	if err := os.MkdirAll(tgtSocketDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", tgtSocketDir, err)
	}
	logPath := filepath.Join(l.cfg.Dir, "tgtd.log")
	var lastErr error
	for try := range maxCtlTries {
		ctl := ctlFor(os.Getpid(), n, try)
		holder, err := lockHolder(ctl)
		if err != nil {
			return err
		}
		if holder != 0 {
			lastErr = fmt.Errorf("control port %d is held by pid %d", ctl, holder)
			continue // a live tgtd (maybe left by a crashed run) owns it: not ours to touch
		}
		removeSocketFiles(ctl) // stale files from a killed tgtd
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("open tgtd log: %w", err)
		}
		cmd := exec.Command("ip", "netns", "exec", l.ns, "tgtd", "-f", "-C", strconv.Itoa(ctl),
			"--iscsi", fmt.Sprintf("portal=127.0.0.1:%d", TargetPort))
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err = cmd.Start()
		logf.Close()
		if err != nil {
			return fmt.Errorf("start tgtd: %w", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		l.tgtd, l.done, l.ctl = cmd, done, ctl

		ready, err := l.waitReady(ctx)
		if ready {
			return nil
		}
		l.killTarget()
		if err != nil {
			return err
		}
		lastErr = fmt.Errorf("control port %d was taken while tgtd started", ctl)
		l.tgtd, l.done, l.ctl = nil, nil, 0
	}
	return fmt.Errorf("start tgtd: no free control port after %d tries: %w", maxCtlTries, lastErr)
}

// waitReady polls until this lab's tgtd holds its control-port lock and answers
// on its management socket. It reports (false, nil) when another process owns
// the port, so the caller tries the next one.
func (l *Lab) waitReady(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	pid := l.tgtd.Process.Pid
	for {
		select {
		case <-l.done:
			if strings.Contains(l.TargetLog(), "another tgtd is using") {
				return false, nil
			}
			return false, fmt.Errorf("tgtd exited while starting (exit %d): %s", l.tgtd.ProcessState.ExitCode(), tail(l.TargetLog(), 10))
		case <-ctx.Done():
			return false, fmt.Errorf("tgtd on control port %d not ready after %v: %w: %s", l.ctl, readyTimeout, ctx.Err(), tail(l.TargetLog(), 10))
		case <-tick.C:
		}
		holder, err := lockHolder(l.ctl)
		if err != nil {
			return false, err
		}
		switch {
		case holder == 0:
			continue // not locked yet
		case holder != pid:
			return false, nil
		}
		if _, err := l.tgtadm(ctx, "--mode", "system", "--op", "show"); err == nil {
			return true, nil
		}
	}
}

// tgtadm runs tgtadm against this lab's tgtd. Arguments must hold no secret.
func (l *Lab) tgtadm(ctx context.Context, args ...string) (string, error) {
	out, err := run(ctx, "tgtadm", append([]string{"-C", strconv.Itoa(l.ctl)}, args...)...)
	if err != nil {
		return out, fmt.Errorf("tgtadm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out))
	}
	return out, nil
}

// StopTarget kills tgtd (SIGKILL: tgtd ignores SIGTERM), so the portal refuses
// connections: the "target is down" case.
func (l *Lab) StopTarget() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return nil
	}
	l.stopped = true
	return l.killTarget()
}

// FreezeTarget stops tgtd with SIGSTOP. The kernel still accepts TCP
// connections on the portal, but nothing ever answers a login: the "frozen
// array" case that only a deadline catches. Close still kills it.
func (l *Lab) FreezeTarget() error {
	if err := l.tgtd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("freeze tgtd (pid %d): %w", l.tgtd.Process.Pid, err)
	}
	return nil
}

func (l *Lab) killTarget() error {
	if l.tgtd == nil {
		return nil
	}
	select {
	case <-l.done:
		return nil
	default:
	}
	if err := l.tgtd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill tgtd (pid %d): %w", l.tgtd.Process.Pid, err)
	}
	select {
	case <-l.done:
		return nil
	case <-time.After(setupTimeout):
		return fmt.Errorf("tgtd (pid %d) did not exit %v after SIGKILL", l.tgtd.Process.Pid, setupTimeout)
	}
}

// Close kills the lab's tgtd by PID, deletes the namespace and removes the
// control-port socket files. It waits for running boots to end (each has its
// own deadline) and is safe to call more than once.
func (l *Lab) Close() error {
	var errs []error
	l.closed.Do(func() {
		l.boots.Wait()
		if err := l.killTarget(); err != nil {
			errs = append(errs, err)
		}
		if l.ctl != 0 {
			if holder, err := lockHolder(l.ctl); err == nil && holder == 0 {
				removeSocketFiles(l.ctl)
			}
		}
		if l.ns != "" {
			ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
			defer cancel()
			if out, err := run(ctx, "ip", "netns", "del", l.ns); err != nil {
				errs = append(errs, fmt.Errorf("delete network namespace %s: %w: %s", l.ns, err, out))
			} else {
				liveNamespaces.Delete(l.ns)
			}
		}
	})
	return errors.Join(errs...)
}

func removeSocketFiles(ctl int) {
	_ = os.Remove(socketPath(ctl))
	_ = os.Remove(lockPath(ctl))
}

// sweepStaleNamespaces deletes namespaces named by an earlier sanlab process
// that no longer runs, or that had this process's PID before it was reused
// (a name with this PID that no open lab owns). Deleting a namespace only
// removes its name; it kills nothing.
func sweepStaleNamespaces(ctx context.Context) {
	entries, err := os.ReadDir("/var/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := nsNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		if _, live := liveNamespaces.Load(e.Name()); live {
			continue
		}
		if pid != os.Getpid() && processAlive(pid) {
			continue
		}
		_, _ = run(ctx, "ip", "netns", "del", e.Name())
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// run runs a short command with a deadline and returns its combined output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	return out.String(), err
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
