package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// AskAnswers walks the operator through every answer, checking each field
// where it is asked with the answers-file rules, and returns the validated
// spec, with identity.uuid pinned.
//
// With Options.SavePath it also saves the answers (see Options.SavePath) and
// prints "Saved the answers to PATH" to Out; the caller then renders the plan
// from that file. Errors: ErrAborted (Ctrl-C), ErrCancelled (the operator
// answered No), *InputEndedError (accessible input ended), *BadLineError
// (a refused piped answer), *SavePathError
// (unusable save path, found before the first question), *SavedError (a
// check failed at the end; it wraps spec.Problems and the answers were saved).
func AskAnswers(ctx context.Context, o Options) (*spec.Spec, error) {
	return askAnswers(ctx, o, IsTerminal)
}

// askAnswers is AskAnswers with the terminal test injected (tests stand in
// for a person at a terminal with a string reader).
func askAnswers(ctx context.Context, o Options, isTerminal func(any) bool) (*spec.Spec, error) {
	if o.SavePath != "" {
		if err := CheckSavePath(o.SavePath); err != nil {
			return nil, err
		}
	}
	gen := o.NewUUID
	if gen == nil {
		gen = uuid.New
	}
	a := newAnswers(gen(), o.SavePath)
	in, out := o.In, o.Out
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stderr
	}
	// The full-screen wizard needs a terminal on both sides; anything else
	// (a pipe, a file, `< /dev/null`) gets the plain prompts, which stop at
	// the end of the input instead of waiting for keys that never come.
	if o.Accessible || !isTerminal(in) || !isTerminal(out) {
		if err := runAccessible(ctx, a, in, out, isTerminal(in)); err != nil {
			return nil, err
		}
	} else {
		m := newModel(a)
		final, err := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)).Run()
		if fm, ok := final.(*model); ok && fm.aborted {
			return nil, ErrAborted
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, tea.ErrInterrupted) {
				return nil, ErrAborted
			}
			return nil, fmt.Errorf("run the wizard: %w", err)
		}
		if fm, ok := final.(*model); !ok || !fm.done {
			return nil, ErrAborted
		}
	}
	return finish(a, out)
}

// finish acts on the last answers: save and return the spec, or report the
// cancel, saving first whenever the operator would otherwise lose answers.
func finish(a *answers, out io.Writer) (*spec.Spec, error) {
	ps := a.problems() // also applies the text answers to the spec
	if !a.confirm {
		fmt.Fprintln(out, "cancelled")
		if a.savePath != "" && a.keep {
			if err := saveAnswers(a.savePath, &a.s); err != nil {
				return nil, fmt.Errorf("%w; and the answers could not be saved: %w", ErrCancelled, err)
			}
			fmt.Fprintf(out, "Saved the answers to %s; run `outposts-ha plan %s` when they are ready\n", a.savePath, a.savePath)
		}
		return nil, ErrCancelled
	}
	if len(ps) > 0 {
		if a.savePath == "" {
			return nil, ps
		}
		if err := saveAnswers(a.savePath, &a.s); err != nil {
			return nil, fmt.Errorf("%w\nand the answers could not be saved: %w", ps, err)
		}
		return nil, &SavedError{Path: a.savePath, Err: ps}
	}
	if a.savePath != "" {
		if err := saveAnswers(a.savePath, &a.s); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "Saved the answers to %s\n", a.savePath)
	}
	s := a.s
	s.Normalize()
	return &s, nil
}
