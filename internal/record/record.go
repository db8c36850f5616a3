// Package record keeps the durable description of a workload and the journal
// of the setup run that made it, in SSM Parameter Store under
// /outposts-ha/<workload>/ (so another machine can see, resume or abort a run),
// mirrored into the plan folder.
//
//   - The record (naming.RecordParam): every choice (the answers file the run
//     applied, as YAML, and its SHA-256) and every resource created, with IDs.
//   - The journal (JournalParam): for each apply step, whether it ran and what it
//     made (resource type, ID, region, tags, created-by-us flag, time).
//   - The lease (LeaseParam): the run that may write the journal, with an expiry,
//     so two machines never apply at once.
//
// Nothing here holds a secret: answers carry secret references (ARNs, variable
// names), never values, and Validate refuses keys that name secret values.
// The package knows no step and no AWS resource type beyond SSM; the step
// runner is internal/apply.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// Schema versions. A reader refuses a newer schema than it knows, so an old
// binary never rewrites (and so truncates) a record a newer one wrote.
const (
	RecordSchema  = 1
	JournalSchema = 1
	LeaseSchema   = 1
)

// JournalParam is the SSM parameter holding the setup journal of a workload.
// (Defined here, not in internal/naming, which this package uses read-only.)
func JournalParam(workload string) string { return naming.ParamPrefix(workload) + "journal" }

// LeaseParam is the SSM parameter holding the apply lease of a workload.
func LeaseParam(workload string) string { return naming.ParamPrefix(workload) + "apply-lease" }

// Resource is one thing a step made or found.
type Resource struct {
	Type   string            `json:"type"`             // e.g. AWS::EC2::Instance, array:host, array:map
	ID     string            `json:"id"`               // the ID the service gave it
	Region string            `json:"region,omitempty"` // "" for array objects
	Tags   map[string]string `json:"tags,omitempty"`
	// CreatedByUs is true only when this run created it. Abort undoes only
	// these; a resource that existed before (a pre-existing array host, a
	// subnet whose LNI was already enabled) is listed with false.
	CreatedByUs bool      `json:"createdByUs"`
	Time        time.Time `json:"time"`
	// Attrs are small facts later steps or flows need (the LUN the array
	// assigned, the target name). Never a secret.
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Record is the durable description of a workload.
type Record struct {
	Schema   int    `json:"schema"`
	Workload string `json:"workload"`
	Region   string `json:"region"`
	// Answers is the validated answers file the run applied (YAML, as
	// `plan` and `setup --yes` accept it); AnswersSHA256 its hash.
	Answers       string `json:"answers"`
	AnswersSHA256 string `json:"answersSha256"`
	RunID         string `json:"runId"` // the setup run that wrote it
	// Token is the journal's setup token: proof that this setup wrote it.
	Token     string     `json:"token"`
	Created   time.Time  `json:"created"`
	Updated   time.Time  `json:"updated"`
	Resources []Resource `json:"resources"` // every resource of the journal, in step order
	// Outputs are the values the steps produced (instance ID, LUN), by key
	// "<step>.<name>".
	Outputs map[string]string `json:"outputs,omitempty"`
}

// StepState is the journal state of one step.
type StepState string

// Step states, in the order a step goes through them.
const (
	StepPending StepState = "pending" // listed when the run starts, not begun
	StepStarted StepState = "started" // written before the step's work: a crash leaves this
	StepDone    StepState = "done"    // written after, with what it made
	StepFailed  StepState = "failed"  // the step returned an error; a resume re-runs it
	StepUndoing StepState = "undoing" // abort started undoing it
	StepUndone  StepState = "undone"  // abort undid what it created
)

// StepEntry is one step in the journal.
type StepEntry struct {
	Name      string            `json:"name"`
	State     StepState         `json:"state"`
	Started   time.Time         `json:"started"`
	Ended     time.Time         `json:"ended,omitzero"`
	Attempts  int               `json:"attempts"`
	Resources []Resource        `json:"resources,omitempty"`
	Outputs   map[string]string `json:"outputs,omitempty"`
	Error     string            `json:"error,omitempty"`
}

// RunState is the state of the whole run.
type RunState string

// Run states.
const (
	RunRunning     RunState = "running"     // steps are being applied (or a crash left it so)
	RunStopped     RunState = "stopped"     // interrupted or failed; resume or abort
	RunDone        RunState = "done"        // every step done
	RunAborting    RunState = "aborting"    // abort in progress (or crashed during it)
	RunAborted     RunState = "aborted"     // everything created was undone
	RunInterrupted RunState = "interrupted" // stopped after a step on request (Ctrl-C)
)

// RunInfo is one run (first or resumed) that worked on the journal.
type RunInfo struct {
	ID      string    `json:"id"`
	Owner   string    `json:"owner"` // host and user, for the operator's eyes
	Started time.Time `json:"started"`
	Action  string    `json:"action"` // apply | resume | abort
}

// Journal records a setup run step by step.
type Journal struct {
	Schema   int    `json:"schema"`
	Workload string `json:"workload"`
	// Token is the same for every run of this setup, from the first run to
	// the abort: steps derive ClientTokens and creation tags from it.
	Token         string      `json:"token"`
	AnswersSHA256 string      `json:"answersSha256"`
	State         RunState    `json:"state"`
	Runs          []RunInfo   `json:"runs"`
	Updated       time.Time   `json:"updated"`
	Steps         []StepEntry `json:"steps"`
}

// Step returns the entry of the named step, or nil.
func (j *Journal) Step(name string) *StepEntry {
	for i := range j.Steps {
		if j.Steps[i].Name == name {
			return &j.Steps[i]
		}
	}
	return nil
}

// Created lists, in step order, every resource the journal says this run
// created (CreatedByUs), of steps not yet undone.
func (j *Journal) Created() []Resource {
	var out []Resource
	for _, s := range j.Steps {
		if s.State == StepUndone {
			continue
		}
		for _, r := range s.Resources {
			if r.CreatedByUs {
				out = append(out, r)
			}
		}
	}
	return out
}

// NewRecord builds the record of a finished journal: the answers, every
// resource of the done steps (created or found), and their outputs.
func NewRecord(j *Journal, region, answers, runID string, now time.Time) Record {
	r := Record{
		Schema: RecordSchema, Workload: j.Workload, Region: region,
		Answers: answers, AnswersSHA256: HashAnswers(answers), RunID: runID, Token: j.Token,
		Created: now.UTC(), Updated: now.UTC(), Resources: []Resource{},
	}
	for _, s := range j.Steps {
		if s.State != StepDone {
			continue
		}
		r.Resources = append(r.Resources, s.Resources...)
		for k, v := range s.Outputs {
			if r.Outputs == nil {
				r.Outputs = map[string]string{}
			}
			r.Outputs[s.Name+"."+k] = v
		}
	}
	return r
}

// HashAnswers is the hex SHA-256 of an answers file.
func HashAnswers(answers string) string {
	sum := sha256.Sum256([]byte(answers))
	return hex.EncodeToString(sum[:])
}

// secretKey matches keys that would hold a secret's value rather than a
// reference to it. "chap_secret_arn", "secret_arn" and "env" are references
// and pass; "password", "api_token", "chap_secret", "secret_value" do not.
var secretKey = regexp.MustCompile(`(?i)(pass(word|wd|phrase)?|token|private[_-]?key|secret[_-]?(value|string|key)?|credential[s]?[_-]?value)$`)

// yamlKey finds "key:" at the start of a YAML line (after indentation and
// list dashes).
var yamlKey = regexp.MustCompile(`(?m)^[\s-]*([A-Za-z0-9_.-]+)\s*:`)

// checkNoSecrets refuses keys that name a secret value in tags, attrs,
// outputs and the answers.
func checkNoSecrets(where string, keys []string) error {
	for _, k := range keys {
		if secretKey.MatchString(k) {
			return fmt.Errorf("%s: key %q looks like a secret value; the record and journal hold references (an ARN, a variable name), never secrets", where, k)
		}
	}
	return nil
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkResources(where string, rs []Resource) error {
	for i, r := range rs {
		if r.Type == "" || r.ID == "" {
			return fmt.Errorf("%s: resource %d has no type or ID (type %q, id %q)", where, i, r.Type, r.ID)
		}
		if err := checkNoSecrets(fmt.Sprintf("%s: %s %s tags", where, r.Type, r.ID), mapKeys(r.Tags)); err != nil {
			return err
		}
		if err := checkNoSecrets(fmt.Sprintf("%s: %s %s attrs", where, r.Type, r.ID), mapKeys(r.Attrs)); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a record before it is stored.
func (r *Record) Validate() error {
	if err := naming.ValidateWorkload(r.Workload); err != nil {
		return fmt.Errorf("record: workload %w", err)
	}
	if r.Schema != RecordSchema {
		return fmt.Errorf("record: schema %d, this binary writes %d", r.Schema, RecordSchema)
	}
	if r.AnswersSHA256 != HashAnswers(r.Answers) {
		return fmt.Errorf("record: answersSha256 does not match the answers")
	}
	var keys []string
	for _, m := range yamlKey.FindAllStringSubmatch(r.Answers, -1) {
		keys = append(keys, m[1])
	}
	if err := checkNoSecrets("record answers", keys); err != nil {
		return err
	}
	if err := checkNoSecrets("record outputs", mapKeys(r.Outputs)); err != nil {
		return err
	}
	return checkResources("record", r.Resources)
}

// Validate checks a journal before it is stored.
func (j *Journal) Validate() error {
	if err := naming.ValidateWorkload(j.Workload); err != nil {
		return fmt.Errorf("journal: workload %w", err)
	}
	if j.Schema != JournalSchema {
		return fmt.Errorf("journal: schema %d, this binary writes %d", j.Schema, JournalSchema)
	}
	seen := map[string]bool{}
	for _, s := range j.Steps {
		if s.Name == "" || seen[s.Name] {
			return fmt.Errorf("journal: step name %q is empty or repeated", s.Name)
		}
		seen[s.Name] = true
		if err := checkNoSecrets("journal step "+s.Name+" outputs", mapKeys(s.Outputs)); err != nil {
			return err
		}
		if err := checkResources("journal step "+s.Name, s.Resources); err != nil {
			return err
		}
		if strings.ContainsAny(s.Name, "\n\r") {
			return fmt.Errorf("journal: step name %q has a line break", s.Name)
		}
	}
	return nil
}
