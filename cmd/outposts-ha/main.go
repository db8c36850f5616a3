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

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/x/term"

	"github.com/outposts-ha/outposts-ha/wizard"
	"github.com/outposts-ha/outposts-ha/wizard/tui"
)

// version is set by the Makefile's ldflags (-X main.version=...).
var version = ""

// Exit codes. exitCodeTable is printed in --help; keep the two in step.
const (
	exitOK      = 0
	exitError   = 1
	exitInvalid = 2 // bad usage or bad input: nothing was changed
	exitAborted = 130
)

const exitCodeTable = `Exit codes:
  0    ok
  1    error (for array check: a check failed)
  2    bad usage or bad input, nothing changed: unknown flag or command, extra
       argument, missing or unreadable answers file, invalid answers, non-empty
       --out, existing --save-answers path
  130  interrupted (Ctrl-C)`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		// The first Ctrl-C cancels ctx; every wait in the tool honours it. Give
		// the signal back to the default handler so a second Ctrl-C kills.
		<-ctx.Done()
		stop()
	}()
	// An interrupt may end a prompt while its reader still holds the
	// terminal with echo off: give the terminal back as it was.
	restore := func() {}
	if fd := os.Stdin.Fd(); term.IsTerminal(fd) {
		if st, err := term.GetState(fd); err == nil {
			restore = func() { _ = term.Restore(fd, st) }
		}
	}
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	code := exitCode(err, os.Stderr)
	if code == exitAborted {
		restore()
	}
	os.Exit(code)
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

// reportedError carries an exit code for a failure the command already
// reported in full (array check's verdict line); exitCode prints nothing more.
type reportedError struct {
	code int
	msg  string
}

func (r reportedError) Error() string { return r.msg }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, huh.ErrUserAborted) {
		fmt.Fprintln(stderr, "outposts-ha: interrupted")
		return exitAborted
	}
	var rep reportedError
	if errors.As(err, &rep) {
		return rep.code
	}
	fmt.Fprintln(stderr, "outposts-ha:", err)
	if isInvalidInput(err) {
		return exitInvalid
	}
	return exitError
}

// isInvalidInput reports whether err means "bad usage or bad input, nothing
// changed": a usage error of the CLI, a validation problem of the answers file
// (spec.Problems), or an input problem the plan found only while rendering
// (wizard.InputError).
func isInvalidInput(err error) bool {
	var u usageError
	var ended *tui.InputEndedError
	var badLine *tui.BadLineError
	var savePath *tui.SavePathError
	return errors.As(err, &u) || wizard.IsInputError(err) || errors.As(err, &ended) ||
		errors.As(err, &badLine) || errors.As(err, &savePath)
}
