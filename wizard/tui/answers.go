// Package tui is the terminal UI: huh forms that build an answers file, one
// page per step. It is the only package that imports charm libraries. Every
// question it asks has a key in the answers file, so anything done here can be
// done unattended with `plan ANSWERS.yaml`.
package tui

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/sanboot"
	"github.com/outposts-ha/outposts-ha/wizard"
)

// Options configure the wizard.
type Options struct {
	// Accessible runs plain line-by-line prompts, for screen readers and
	// non-TTY input. Decide it with IsTerminal, never with a character-device test.
	Accessible bool
	In         io.Reader
	Out        io.Writer
	// SavePath is where the answers are saved. When set, AskAnswers checks it
	// before the first question (see CheckSavePath) and saves the answers
	// itself: after the final Yes; after No when the operator asks to keep
	// them; and before reporting a check that still fails at the end.
	SavePath string
	// NewUUID pins the workload identity (identity.uuid). Default uuid.New.
	NewUUID func() uuid.UUID
}

// ErrAborted is returned when the operator stops the wizard (Ctrl-C); nothing
// was written.
var ErrAborted = huh.ErrUserAborted

// ErrCancelled is returned when the operator answers No to the final
// question. The answers may still have been saved, if the operator asked.
var ErrCancelled = errors.New("cancelled: no plan was rendered")

// InputEndedError is returned in accessible mode when the input ends before
// every question is answered. The command maps it to exit code 2.
type InputEndedError struct {
	Field string // the answers-file key that was being asked
}

func (e *InputEndedError) Error() string { return "input ended while asking " + e.Field }

// Unwrap lets callers test errors.Is(err, io.ErrUnexpectedEOF).
func (e *InputEndedError) Unwrap() error { return io.ErrUnexpectedEOF }

// SavedError reports a check that still failed after the last question; the
// answers were saved first so that nothing typed is lost. It wraps the
// problems (spec.Problems), so errors.As finds them.
type SavedError struct {
	Path string
	Err  error
}

func (e *SavedError) Error() string {
	return fmt.Sprintf("%v\nThe answers were saved to %s: fix the fields above in that file, then run `outposts-ha plan %s`", e.Err, e.Path, e.Path)
}

func (e *SavedError) Unwrap() error { return e.Err }

// volText is the text form of a volume's portals and LUN.
type volText struct {
	portals string // comma separated
	lun     string
}

// answers is the spec plus the text forms of values that are not strings in it.
// Values of branches the operator left (a static LNI after choosing DHCP) are
// kept here but not applied to the spec, so going back loses nothing.
type answers struct {
	s          spec.Spec
	mgmt       spec.Management
	credKind   string // secret_arn | env | prompt
	credRef    string
	boot       volText
	dataN      string
	dataVols   []spec.Volume
	data       []volText
	lniMode    string // dhcp | static
	lniAddr    string
	lniGW      string
	dhcp       string
	uefi       string
	periods    string
	datapoints string
	iqnAuth    string
	ack        string
	advanced   bool
	confirm    bool
	keep       bool   // after No: save the answers anyway
	savePath   string // where they are saved; "" when the caller saves
}

func newAnswers(id uuid.UUID, savePath string) *answers {
	a := &answers{
		s:        spec.Spec{GuestOS: "linux", Failover: spec.Failover{Policy: spec.DefaultPolicy}},
		credKind: "secret_arn", lniMode: "dhcp", dataN: "0",
		confirm: true, keep: true, savePath: savePath,
	}
	a.s.Storage.Vendor, a.s.Storage.Protocol = "generic", "iscsi"
	a.s.Identity.UUID = id.String()
	return a
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseLUN(v string) *int {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return &n
	}
	return nil
}

// apply copies the text answers of the branches in use into the spec.
func (a *answers) apply() {
	s := &a.s
	s.Storage.Boot.Portals = splitList(a.boot.portals)
	s.Storage.Boot.LUN = parseLUN(a.boot.lun)
	s.Storage.Data = nil
	for i, v := range a.dataVols {
		if i >= a.dataCount() {
			break
		}
		v.Portals = splitList(a.data[i].portals)
		v.LUN = parseLUN(a.data[i].lun)
		if s.Storage.Vendor == "generic" {
			v.Volume = ""
		}
		s.Storage.Data = append(s.Storage.Data, v)
	}
	if s.Storage.Vendor == "generic" {
		s.Storage.Management = nil
		s.Storage.Boot.Volume = ""
	} else {
		m := a.mgmt
		m.Credentials = spec.CredentialsRef{}
		switch a.credKind {
		case "secret_arn":
			m.Credentials.SecretARN = strings.TrimSpace(a.credRef)
		case "env":
			m.Credentials.Env = strings.TrimSpace(a.credRef)
		case "prompt":
			m.Credentials.Prompt = true
		}
		if s.Storage.Vendor == "pure" {
			m.Username = ""
		}
		if s.Storage.Vendor != "ontap" {
			m.SVM = ""
		}
		s.Storage.Management = &m
	}
	s.LNI = spec.LNI{}
	s.Boot = spec.BootOpts{}
	if s.BootMode() == "sanboot" {
		if a.lniMode == "static" {
			s.LNI.Static = &spec.StaticLNI{Address: strings.TrimSpace(a.lniAddr), Gateway: strings.TrimSpace(a.lniGW)}
		} else {
			s.LNI.DHCPTimeout = strings.TrimSpace(a.dhcp)
		}
		if a.advanced {
			s.Boot.UEFIFilename = strings.TrimSpace(a.uefi)
		}
	}
	// Advanced answers count only while "Change advanced settings?" is Yes.
	s.Failover.DetectionPeriods, s.Failover.DatapointsToAlarm, s.Identity.IQNAuthority = 0, 0, ""
	if a.advanced {
		if n, err := strconv.Atoi(strings.TrimSpace(a.periods)); err == nil {
			s.Failover.DetectionPeriods = n
		}
		if n, err := strconv.Atoi(strings.TrimSpace(a.datapoints)); err == nil {
			s.Failover.DatapointsToAlarm = n
		}
		if s.Storage.Protocol == "iscsi" {
			s.Identity.IQNAuthority = strings.TrimSpace(a.iqnAuth)
		}
	}
	s.Failover.AutomaticRiskAcknowledgement = ""
	if s.Failover.Policy == "automatic" {
		s.Failover.AutomaticRiskAcknowledgement = strings.TrimSpace(a.ack)
	}
}

func (a *answers) dataCount() int {
	n, err := strconv.Atoi(strings.TrimSpace(a.dataN))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, len(a.dataVols))
}

// setDataCount resizes the data volumes, keeping the ones already answered.
func (a *answers) setDataCount(n int) {
	for len(a.dataVols) < n {
		a.dataVols = append(a.dataVols, spec.Volume{})
		a.data = append(a.data, volText{})
	}
}

// problems validates the answers so far with the answers-file rules, plus
// what plan needs to render offline.
func (a *answers) problems() spec.Problems {
	a.apply()
	cp := a.s
	cp.Normalize()
	var ps spec.Problems
	if err := cp.Validate(); err != nil && !errors.As(err, &ps) {
		ps = spec.Problems{{Field: "(answers)", Message: err.Error()}}
	}
	ps = append(ps, wizard.OfflineProblems(&cp)...) // plan calls no array
	return ps
}

// check returns the problem reported for field, if any: each field is checked
// with exactly the answers-file rules, where it is asked.
func (a *answers) check(field string) error {
	for _, p := range a.problems() {
		if p.Field == field || strings.HasPrefix(p.Field, field+"[") || strings.HasPrefix(p.Field, field+".") {
			msg := p.Message
			if sub := strings.TrimPrefix(p.Field, field); sub != "" {
				msg = strings.TrimPrefix(sub, ".") + ": " + msg // e.g. [1]: for the second portal
				if n, err := strconv.Atoi(strings.Trim(sub, "[]")); err == nil {
					msg = fmt.Sprintf("entry %d: %s", n+1, p.Message)
				}
			}
			if p.Fix == "" {
				return errors.New(msg)
			}
			return fmt.Errorf("%s: %s", msg, p.Fix)
		}
	}
	return nil
}

// validLUN checks the LUN text before the spec sees it, with a message that
// matches plan: the field may only be empty when plan does not need it.
func validLUN(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a whole number: give the LUN as a decimal number, e.g. 1", v)
	}
	// The widest range any vendor uses (what the SAN URI's LUN field carries);
	// the spec's check then applies the chosen vendor's own range.
	if n < 0 || n > sanboot.MaxSANLUN {
		return fmt.Errorf("%d is out of range: use 0-%d", n, sanboot.MaxSANLUN)
	}
	return nil
}
