package main

// The masked password prompt on a real pseudo-terminal (real: /dev/ptmx, the
// kernel's terminal modes; no fakes).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

// openPTY returns the master and the slave side of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		if testenv.Required() {
			t.Fatalf("no pseudo-terminals here, and make test requires every tool: %v", err)
		}
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	require.Zero(t, e)
	var n uint32
	_, _, e = syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	require.Zero(t, e)
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

func echoOn(t *testing.T, f *os.File) bool {
	var tio syscall.Termios
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio)))
	require.Zero(t, e)
	return tio.Lflag&syscall.ECHO != 0
}

func TestPromptSecretOnATerminal(t *testing.T) {
	master, slave := openPTY(t)
	require.True(t, isTerminal(slave))
	require.True(t, echoOn(t, slave))
	var label bytes.Buffer
	go func() { _, _ = master.Write([]byte("pa55-typed\n")) }()
	v, err := promptSecret(context.Background(), "Array password for oha", slave, &label)
	require.NoError(t, err)
	assert.Equal(t, "pa55-typed", v)
	assert.Contains(t, label.String(), "Array password for oha: ")
	assert.True(t, echoOn(t, slave), "echo is back on after the prompt")
}

func TestPromptSecretStopsAtOnceOnInterrupt(t *testing.T) {
	// Nothing is typed; cancelling (the first Ctrl-C) must end the prompt and
	// give the terminal its echo back. The channel wait is a hang guard.
	_, slave := openPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	label := &firstWrite{seen: make(chan struct{})}
	go func() {
		_, err := promptSecret(ctx, "Array password for oha", slave, label)
		done <- err
	}()
	select { // the label is written just before the read starts
	case <-label.seen:
	case err := <-done:
		t.Fatalf("prompt ended early: %v", err)
	}
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, echoOn(t, slave), "echo restored after an interrupted prompt")
}

func TestArrayCheckPromptOnATerminalNeverPrintsThePassword(t *testing.T) {
	// Real ONTAP client against a closed loopback port (login refused), with
	// the password typed on a real pseudo-terminal.
	master, slave := openPTY(t)
	_, port, _ := strings.Cut(closedLoopback(t), ":")
	answers := ontapAnswers(t, "https://localhost:"+port, "prompt: true")
	mapDial(t, map[string]string{"10.20.30.11:3260": acceptAndClose(t), "10.20.30.12:3260": acceptAndClose(t)})
	go func() { _, _ = master.Write([]byte("pa55-typed-secret\n")) }()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"array", "check", answers}, slave, &out, &errb)
	code := exitCode(err, &errb)
	assert.Equal(t, exitError, code, errb.String())
	assert.Contains(t, errb.String(), "Array password for oha-svc: ")
	assert.Regexp(t, `(?m)^FAIL login +refused: `, out.String())
	assert.NotContains(t, out.String()+errb.String(), "pa55-typed-secret")
}

// firstWrite signals the first write to it.
type firstWrite struct {
	seen chan struct{}
	once sync.Once
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.once.Do(func() { close(f.seen) })
	return len(p), nil
}
