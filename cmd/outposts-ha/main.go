// Command outposts-ha gives a stateful EC2 instance on AWS Outposts servers N+1
// high availability with its volumes on a SAN array. This file is the only
// place that exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/charmbracelet/huh"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// version is set by the Makefile's ldflags.
var version = ""

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1
	exitInvalid = 2 // bad flags or answers: nothing was changed
	exitAborted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// usageError marks errors caused by the operator's input, before any change.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, huh.ErrUserAborted) {
		fmt.Fprintln(stderr, "outposts-ha: interrupted")
		return exitAborted
	}
	fmt.Fprintln(stderr, "outposts-ha:", err)
	var probs spec.Problems
	var u usageError
	if errors.As(err, &probs) || errors.As(err, &u) {
		return exitInvalid
	}
	return exitError
}

func versionString() string {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return v
}
