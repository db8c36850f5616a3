// Package tui is the terminal UI: huh forms that build an answers file, one
// form per step. It is the only package that imports charm libraries. Every
// question it asks has a key in the answers file, so anything done here can be
// done unattended with `plan ANSWERS.yaml`.
package tui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// Options configure the forms.
type Options struct {
	// Accessible runs plain prompts, for screen readers and non-TTY terminals.
	Accessible bool
	In         io.Reader
	Out        io.Writer
}

// ErrAborted is returned when the operator leaves the wizard; nothing was written.
var ErrAborted = huh.ErrUserAborted

// step is one form: a title, the fields, and the spec keys it fills.
type step struct {
	name string
	form func(a *answers) *huh.Form
}

// answers is the spec plus the text forms of values that are not strings in it.
type answers struct {
	s        spec.Spec
	portals  string // comma separated
	lun      string
	credKind string // secret_arn | env | prompt
	credRef  string
	lniMode  string // dhcp | static
	lniAddr  string
	lniGW    string
	confirm  bool
}

// AskAnswers walks the operator through every answer, validating each field
// with the same rules as the answers file, and returns the validated spec.
func AskAnswers(ctx context.Context, o Options) (*spec.Spec, error) {
	a := &answers{s: specDefaults(), credKind: "secret_arn", lniMode: "dhcp"}
	in := o.In
	if o.Accessible && in != nil {
		in = &lineReader{r: bufio.NewReader(in)}
	}
	for _, st := range steps() {
		f := st.form(a)
		if f == nil {
			continue
		}
		f = f.WithAccessible(o.Accessible).WithShowHelp(!o.Accessible)
		if in != nil {
			f = f.WithInput(in)
		}
		if o.Out != nil {
			f = f.WithOutput(o.Out)
		}
		if err := f.RunWithContext(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
	}
	if !a.confirm {
		return nil, ErrAborted
	}
	a.apply()
	a.s.Normalize()
	if err := a.s.Validate(); err != nil {
		return nil, err
	}
	return &a.s, nil
}

func specDefaults() spec.Spec {
	return spec.Spec{GuestOS: "linux", Failover: spec.Failover{Policy: spec.DefaultPolicy}}
}

// apply copies the text answers into the spec.
func (a *answers) apply() {
	s := &a.s
	var ps []string
	for _, p := range strings.Split(a.portals, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	s.Storage.Boot.Portals = ps
	s.Storage.Boot.LUN = nil
	if n, err := strconv.Atoi(strings.TrimSpace(a.lun)); err == nil {
		s.Storage.Boot.LUN = &n
	}
	if s.Storage.Vendor == "generic" {
		s.Storage.Management = nil
	} else {
		if s.Storage.Management == nil {
			s.Storage.Management = &spec.Management{}
		}
		c := spec.CredentialsRef{}
		switch a.credKind {
		case "secret_arn":
			c.SecretARN = strings.TrimSpace(a.credRef)
		case "env":
			c.Env = strings.TrimSpace(a.credRef)
		case "prompt":
			c.Prompt = true
		}
		s.Storage.Management.Credentials = c
	}
	s.LNI = spec.LNI{}
	if a.lniMode == "static" {
		s.LNI.Static = &spec.StaticLNI{Address: strings.TrimSpace(a.lniAddr), Gateway: strings.TrimSpace(a.lniGW)}
	}
}

// check validates the answers so far and returns the problem reported for
// field, if any: each field is checked with exactly the answers-file rules.
func (a *answers) check(field string) error {
	a.apply()
	cp := a.s
	cp.Normalize()
	err := cp.Validate()
	var ps spec.Problems
	if !errors.As(err, &ps) {
		return nil
	}
	for _, p := range ps {
		if p.Field == field || strings.HasPrefix(p.Field, field+"[") || strings.HasPrefix(p.Field, field+".") {
			return errors.New(p.Message + " (" + p.Fix + ")")
		}
	}
	return nil
}

func (a *answers) validator(field string, set func(string), pre ...func(string) error) func(string) error {
	return func(v string) error {
		for _, p := range pre {
			if err := p(v); err != nil {
				return err
			}
		}
		set(v)
		return a.check(field)
	}
}

func (a *answers) input(title, field string, val *string, desc string) *huh.Input {
	return huh.NewInput().Title(title).Description(desc).Value(val).
		Validate(a.validator(field, func(v string) { *val = strings.TrimSpace(v) }))
}

// lineReader hands out at most one line per Read, as a terminal does. huh's
// accessible prompts each wrap the input in their own scanner; without this a
// piped input would be swallowed by the first prompt.
type lineReader struct {
	r       *bufio.Reader
	pending []byte
}

func (l *lineReader) Read(p []byte) (int, error) {
	if len(l.pending) == 0 {
		line, err := l.r.ReadBytes('\n')
		if len(line) == 0 {
			return 0, err
		}
		l.pending = line
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}
