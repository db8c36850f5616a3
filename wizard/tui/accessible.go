package tui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// lineSource reads the input one line at a time, in a goroutine, so a prompt
// can stop at once when the context ends (Ctrl-C), even while the read blocks.
// One source serves every prompt, so no prompt reads ahead into the next one's
// answer.
type lineSource struct {
	r       *bufio.Reader
	results chan lineResult
	waiting bool // a read is in flight
	eof     bool
}

type lineResult struct {
	line string
	err  error
}

func newLineSource(r io.Reader) *lineSource {
	return &lineSource{r: bufio.NewReader(r), results: make(chan lineResult, 1)}
}

// next returns the next line without its line ending, io.EOF at the end of
// the input, or the context's error.
func (l *lineSource) next(ctx context.Context) (string, error) {
	if l.eof {
		return "", io.EOF
	}
	if !l.waiting {
		l.waiting = true
		go func() {
			s, err := l.r.ReadString('\n')
			l.results <- lineResult{s, err}
		}()
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-l.results:
		l.waiting = false
		if res.err != nil {
			l.eof = true
			if res.line == "" {
				if errors.Is(res.err, io.EOF) {
					return "", io.EOF
				}
				return "", res.err
			}
		}
		return strings.TrimRight(res.line, "\r\n"), nil
	}
}

// prompter asks fields as plain lines: title, description, choices, prompt.
// Every line answers exactly one prompt: a bad line is reported and the
// question is asked again, so it costs only itself.
type prompter struct {
	ctx context.Context
	in  *lineSource
	out io.Writer
	// terminal: a person answers, so a refused answer is asked again. Piped
	// input stops at the first refused line instead (BadLineError): asking
	// again would take the next line, meant for the next question, as the
	// retry, and every line after it would land in the wrong field.
	terminal bool
	line     int // lines read so far
}

// BadLineError is a piped answer that was refused. Nothing after that line
// was read. The command maps it to exit code 2.
type BadLineError struct {
	Line  int    // 1-based line number of the input
	Field string // the answers-file key being asked
	Err   error
}

func (e *BadLineError) Error() string {
	return fmt.Sprintf("input line %d, answering %s: %v (no line after it was read)", e.Line, e.Field, e.Err)
}

func (e *BadLineError) Unwrap() error { return e.Err }

// refuse reports a refused answer: asked again at a terminal, an error otherwise.
func (p *prompter) refuse(key string, err error) error {
	p.printf("  ! %s\n", err)
	if p.terminal {
		return nil
	}
	return &BadLineError{Line: p.line, Field: key, Err: err}
}

func (p *prompter) printf(format string, args ...any) { fmt.Fprintf(p.out, format, args...) }

func (p *prompter) read(key string) (string, error) {
	line, err := p.in.next(p.ctx)
	switch {
	case errors.Is(err, io.EOF):
		p.printf("\n")
		return "", &InputEndedError{Field: key}
	case p.ctx.Err() != nil:
		p.printf("\n")
		return "", ErrAborted
	case err != nil:
		return "", fmt.Errorf("read answer to %s: %w", key, err)
	}
	p.line++
	if !p.terminal {
		p.printf("%s\n", line) // echo piped answers so the transcript reads well
	}
	return strings.TrimSpace(line), nil
}

func (p *prompter) ask(f field) error {
	p.printf("\n%s (%s)\n", f.title, f.key)
	if f.desc != "" {
		for _, l := range wrapWords(f.desc, 76) {
			p.printf("  %s\n", l)
		}
	}
	switch f.kind {
	case kindSelect:
		return p.askSelect(f)
	case kindConfirm:
		return p.askConfirm(f)
	}
	return p.askInput(f)
}

func (p *prompter) askInput(f field) error {
	orig := *f.str
	for {
		if *f.str != "" {
			p.printf("[%s] > ", *f.str)
		} else {
			p.printf("> ")
		}
		v, err := p.read(f.key)
		if err != nil {
			return err
		}
		if v == "" {
			v = *f.str // Enter keeps the value shown
		}
		if f.check != nil {
			if err := f.check(v); err != nil {
				*f.str = orig // a refused value is not offered as the default
				if err := p.refuse(f.key, err); err != nil {
					return err
				}
				continue
			}
		}
		*f.str = v
		return nil
	}
}

func (p *prompter) askSelect(f field) error {
	cur := 0
	for i, o := range f.opts {
		p.printf("  %d. %s\n", i+1, o.Key)
		if o.Value == *f.str {
			cur = i
		}
	}
	for {
		p.printf("Enter a number between 1 and %d [%d]: ", len(f.opts), cur+1)
		v, err := p.read(f.key)
		if err != nil {
			return err
		}
		if v == "" {
			*f.str = f.opts[cur].Value
			return nil
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(f.opts) {
			*f.str = f.opts[n-1].Value
			return nil
		}
		found := false
		for _, o := range f.opts { // the choice's name works too: scripts read better
			if strings.EqualFold(v, o.Value) || strings.EqualFold(v, o.Key) {
				*f.str, found = o.Value, true
			}
		}
		if found {
			return nil
		}
		if err := p.refuse(f.key, fmt.Errorf("%q is not one of the choices: enter a number between 1 and %d", v, len(f.opts))); err != nil {
			return err
		}
	}
}

func (p *prompter) askConfirm(f field) error {
	hint := "[y/N]"
	if *f.b {
		hint = "[Y/n]"
	}
	for {
		p.printf("%s ", hint)
		v, err := p.read(f.key)
		if err != nil {
			return err
		}
		switch strings.ToLower(v) {
		case "":
			return nil
		case "y", "yes":
			*f.b = true
			return nil
		case "n", "no":
			*f.b = false
			return nil
		}
		if err := p.refuse(f.key, fmt.Errorf("%q is not an answer: type y or n", v)); err != nil {
			return err
		}
	}
}

// runAccessible walks every step that applies, printing the review before the
// final question.
// terminal says whether a person answers at a terminal (see prompter).
func runAccessible(ctx context.Context, a *answers, in io.Reader, out io.Writer, terminal bool) error {
	p := &prompter{ctx: ctx, in: newLineSource(in), out: out, terminal: terminal}
	name := a.steps()[0].name
	for name != "" {
		if ctx.Err() != nil {
			return ErrAborted
		}
		switch name {
		case "review":
			p.printf("\nReview\n%s\n", review(a, 80))
		case "cancelled":
			p.printf("\ncancelled\n")
		}
		for _, f := range a.stepFields(name) {
			if err := p.ask(f); err != nil {
				return err
			}
		}
		name = a.stepAfter(name)
	}
	return nil
}
