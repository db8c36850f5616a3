// Package apply runs setup's apply steps in order, journaled in SSM through
// internal/record, so that a run interrupted anywhere (a crash, Ctrl-C, an
// API error) resumes where it stopped on this or another machine, and an
// abort undoes exactly what the run created.
//
// The contract with a step:
//   - Do is idempotent (find-or-create: tags, names, client tokens), so
//     re-running it after success changes nothing;
//   - Find looks, without changing anything, for what an interrupted Do may
//     have made. The runner calls it before re-running a step the journal
//     left "started" or "failed", and before undoing such a step;
//   - every resource in a Result says whether this run created it
//     (CreatedByUs); Undo is only ever given those, so it never touches what
//     the run did not create. Undo is idempotent (already gone is success).
//
// The runner writes the journal entry before a step starts ("started") and
// after it ends ("done" with its resources), holds the workload's apply lease
// (renewed before each step and, by a heartbeat, while one runs) so two
// machines never apply at once, stops after
// the current step when its context is cancelled, and reports progress
// through OnEvent. It imports no charm package: the TUI turns events into its
// checklist.
package apply

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"sync"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
)

// Result is what a step made or found.
type Result struct {
	Resources []record.Resource
	// Outputs are values later steps need (the LUN the array assigned, the
	// instance ID). Never a secret: they are journaled.
	Outputs map[string]string
}

// Results holds the results of the steps done so far, by step name. On a
// resume, those of steps done by an earlier run come from the journal.
type Results map[string]Result

// Output returns one output of a done step ("" when absent).
func (r Results) Output(step, key string) string { return r[step].Outputs[key] }

// TagSetup is the tag key a step puts, with Env.Token as the value, on what
// it creates, so that its Find can prove the thing is this setup's. (Defined
// here: internal/naming has no such key yet.)
const TagSetup = "outposts-ha:setup"

// Env is what a step is given besides its context.
type Env struct {
	// Prior holds the results of the steps before it. On a resume, those
	// of steps an earlier run did come from the journal: a step reads the LUN
	// the array assigned or the template ID from here, never from memory.
	Prior Results
	// Token is the same for every run of this workload's setup (it is kept
	// in the journal from the first run until an abort). Steps derive their
	// ClientTokens and creation marks from it (Token+"-launch", the tag
	// TagSetup=<Token>), so that a re-run Do is idempotent and Find
	// can tell what this setup created from what was there before.
	Token string
}

// Step is one apply step.
type Step interface {
	Name() string
	// Find reports what an earlier, interrupted Do of this step made, or
	// found=false. It changes nothing. It may report a resource as
	// CreatedByUs only on proof that this setup made it (the Token's
	// ClientToken or creation tag), never on the workload tag alone: a
	// resource an operator made by hand can carry that too.
	Find(ctx context.Context, env Env) (res Result, found bool, err error)
	// Do performs the step idempotently. On error it returns, with the
	// error, whatever it created before failing, so the journal lists it.
	Do(ctx context.Context, env Env) (Result, error)
	// Undo removes the resources given (only those this run created).
	Undo(ctx context.Context, r Result) error
}

// Event is a progress report for a checklist. Step is "" for run-level
// notices (a lease taken over, an interrupt).
type Event struct {
	Step      string
	Index     int // 0-based position in the step list
	Total     int
	State     record.StepState
	Resumed   bool // done by an earlier run (from the journal) or found by Find
	Duration  time.Duration
	Resources []record.Resource
	Err       error
	Note      string
}

// ErrInterrupted is returned when the context was cancelled: the run stopped
// after the step that was running, and can be resumed.
var ErrInterrupted = errors.New("interrupted: stopped after the current step; run setup again to resume, or abort it")

// Runner applies or aborts one workload's steps.
type Runner struct {
	Store *record.Store
	Steps []Step
	// RunID names this run (a new one per process); Owner is host and user
	// (DefaultOwner when empty).
	RunID, Owner string
	// AnswersSHA256 ties the journal to the answers: a resume with other
	// answers is refused.
	AnswersSHA256 string
	// BreakLease names a run whose unexpired lease this run may take over
	// (the operator knows it is dead); "" waits for expiry as usual.
	BreakLease string
	// LeaseTTL bounds how long a dead run blocks others; it must exceed the
	// longest step (default 30 minutes).
	LeaseTTL time.Duration
	Now      func() time.Time
	OnEvent  func(Event)
	// Heartbeat is how often the lease is renewed while a step runs
	// (LeaseTTL/3 when zero); After is the timer it waits on (time.After
	// when nil; tests inject one).
	Heartbeat time.Duration
	After     func(time.Duration) <-chan time.Time
	// NewToken makes the setup's Env.Token when no journal exists yet
	// (random 32 hex digits when nil; tests pin it).
	NewToken func() string

	mirrorWarned bool
}

// maxRuns bounds the run history a journal keeps, so that many resumes do
// not grow it past what Parameter Store holds.
const maxRuns = 20

// DefaultLeaseTTL is the lease length when Runner.LeaseTTL is zero.
const DefaultLeaseTTL = 30 * time.Minute

// DefaultOwner is "user@host" of this process.
func DefaultOwner() string {
	h, _ := os.Hostname()
	u := "?"
	if cu, err := user.Current(); err == nil {
		u = cu.Username
	}
	return u + "@" + h
}

// newToken is the setup's token (Env.Token): 32 random hex digits.
func (r *Runner) newToken() string {
	if r.NewToken != nil {
		return r.NewToken()
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Runner) ttl() time.Duration {
	if r.LeaseTTL > 0 {
		return r.LeaseTTL
	}
	return DefaultLeaseTTL
}

func (r *Runner) owner() string {
	if r.Owner != "" {
		return r.Owner
	}
	return DefaultOwner()
}

func (r *Runner) emit(e Event) {
	if r.OnEvent != nil {
		e.Total = len(r.Steps)
		r.OnEvent(e)
	}
}

func (r *Runner) check() error {
	if r.Store == nil || r.RunID == "" {
		return errors.New("apply: runner needs a Store and a RunID")
	}
	seen := map[string]bool{}
	for _, s := range r.Steps {
		if s.Name() == "" || seen[s.Name()] {
			return fmt.Errorf("apply: step name %q is empty or repeated", s.Name())
		}
		seen[s.Name()] = true
	}
	return nil
}

// acquire takes the lease and reports a takeover.
func (r *Runner) acquire(ctx context.Context, action string) error {
	var got record.Acquired
	var err error
	if r.BreakLease != "" {
		got, err = r.Store.BreakLease(ctx, r.RunID, r.owner(), action, r.ttl(), r.BreakLease)
	} else {
		got, err = r.Store.AcquireLease(ctx, r.RunID, r.owner(), action, r.ttl())
	}
	if err != nil {
		return err
	}
	if msg := got.Message(); msg != "" {
		r.emit(Event{Note: msg})
	}
	return nil
}

// release gives the lease back; on the way out of a run whose context may be
// cancelled, so it does not use ctx's cancellation.
func (r *Runner) release(ctx context.Context) {
	_ = r.Store.ReleaseLease(context.WithoutCancel(ctx), r.RunID)
}

// load reads the journal, or starts one that lists every step as pending.
func (r *Runner) load(ctx context.Context, action string) (*record.Journal, bool, error) {
	j, err := r.Store.GetJournal(ctx)
	if errors.Is(err, record.ErrNotFound) {
		j = record.Journal{Schema: record.JournalSchema, Workload: r.Store.Workload, AnswersSHA256: r.AnswersSHA256, State: record.RunRunning, Token: r.newToken()}
		for _, s := range r.Steps {
			j.Steps = append(j.Steps, record.StepEntry{Name: s.Name(), State: record.StepPending})
		}
		j.Runs = append(j.Runs, record.RunInfo{ID: r.RunID, Owner: r.owner(), Started: r.now(), Action: action})
		return &j, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	j.Runs = append(j.Runs, record.RunInfo{ID: r.RunID, Owner: r.owner(), Started: r.now(), Action: action})
	if len(j.Runs) > maxRuns {
		// Keep the first run (who started it) and the latest ones.
		j.Runs = append(j.Runs[:1], j.Runs[len(j.Runs)-maxRuns+1:]...)
	}
	return &j, true, nil
}

// Run applies the steps, resuming from the journal. It returns the results
// of every step when all are done; ErrInterrupted when ctx was cancelled
// (after the current step); a *record.LeaseHeldError when another run
// applies this workload now.
func (r *Runner) Run(ctx context.Context) (Results, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ErrInterrupted
	}
	if err := r.acquire(ctx, "apply"); err != nil {
		return nil, err
	}
	// From here on the journal and the lease are written even after ctx is
	// cancelled: Ctrl-C stops after the current step, it does not cut it.
	wctx := context.WithoutCancel(ctx)
	j, existed, err := r.load(wctx, "apply")
	if err != nil {
		r.release(ctx)
		return nil, err
	}
	if existed {
		if err := r.resumable(j); err != nil {
			r.release(ctx)
			return nil, err
		}
		j.Runs[len(j.Runs)-1].Action = "resume"
		if allDone(j) {
			// Re-running after success changes nothing, not even the journal.
			results := Results{}
			for i, e := range j.Steps {
				results[e.Name] = Result{Resources: e.Resources, Outputs: e.Outputs}
				r.emit(Event{Step: e.Name, Index: i, State: record.StepDone, Resumed: true, Duration: e.Ended.Sub(e.Started), Resources: e.Resources})
			}
			r.release(ctx)
			return results, nil
		}
	}
	j.State = record.RunRunning
	if err := r.putJournal(wctx, j); err != nil {
		r.release(ctx)
		return nil, err
	}
	results := Results{}
	for i, step := range r.Steps {
		e := j.Step(step.Name())
		if e.State == record.StepDone {
			results[step.Name()] = Result{Resources: e.Resources, Outputs: e.Outputs}
			r.emit(Event{Step: step.Name(), Index: i, State: record.StepDone, Resumed: true, Duration: e.Ended.Sub(e.Started), Resources: e.Resources})
			continue
		}
		if ctx.Err() != nil {
			return nil, r.stop(ctx, j, record.RunInterrupted, ErrInterrupted)
		}
		res, err := r.runStep(wctx, j, i, step, results)
		if err != nil {
			if errors.Is(err, record.ErrLeaseLost) {
				return nil, err // not ours to write any more
			}
			return nil, r.stop(ctx, j, record.RunStopped, err)
		}
		results[step.Name()] = res
	}
	j.State = record.RunDone
	if err := r.putJournal(wctx, j); err != nil {
		r.release(ctx)
		return nil, err
	}
	r.release(ctx)
	return results, nil
}

func allDone(j *record.Journal) bool {
	for _, e := range j.Steps {
		if e.State != record.StepDone {
			return false
		}
	}
	return true
}

// resumable checks that a journal found in SSM belongs to this run's plan.
func (r *Runner) resumable(j *record.Journal) error {
	switch j.State {
	case record.RunAborting, record.RunAborted:
		return fmt.Errorf("workload %s: an abort of its setup is under way (journal state %s): finish it with setup --abort %s first", j.Workload, j.State, j.Workload)
	}
	if j.AnswersSHA256 != r.AnswersSHA256 {
		return fmt.Errorf("workload %s: the journal in %s was written for other answers (sha256 %.12s…, these are %.12s…): run setup with the same answers file to resume, or abort it with setup --abort %s",
			j.Workload, record.JournalParam(j.Workload), j.AnswersSHA256, r.AnswersSHA256, j.Workload)
	}
	names := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		names[i] = s.Name()
	}
	var have []string
	for _, s := range j.Steps {
		have = append(have, s.Name)
	}
	if !slices.Equal(names, have) {
		return fmt.Errorf("workload %s: the journal lists steps %v, this binary runs %v: resume with the version of outposts-ha that started it, or abort it", j.Workload, have, names)
	}
	return nil
}

// putJournal stores the journal. A plan-folder copy that cannot be written
// is reported as a note, not a failure: Parameter Store has the journal, and
// a broken or missing plan folder must not block a resume or an abort.
func (r *Runner) putJournal(ctx context.Context, j *record.Journal) error {
	err := r.Store.PutJournal(ctx, j)
	var me *record.MirrorError
	if errors.As(err, &me) {
		if !r.mirrorWarned {
			r.mirrorWarned = true
			r.emit(Event{Note: "warning: " + me.Error()})
		}
		return nil
	}
	return err
}

// stop records why the run stopped and gives the lease back.
func (r *Runner) stop(ctx context.Context, j *record.Journal, state record.RunState, cause error) error {
	j.State = state
	wctx := context.WithoutCancel(ctx)
	if err := r.putJournal(wctx, j); err != nil {
		cause = errors.Join(cause, fmt.Errorf("and the journal could not record it: %w", err))
	}
	if state == record.RunInterrupted {
		r.emit(Event{Note: "interrupted: stopped after the current step; the journal says where to resume"})
	}
	r.release(ctx)
	return cause
}

// runStep runs one step that is not done: Find first when an earlier run
// left it started or failed, then Do, journaling before and after.
func (r *Runner) runStep(ctx context.Context, j *record.Journal, i int, step Step, prior Results) (Result, error) {
	e := j.Step(step.Name())
	if _, err := r.Store.RenewLease(ctx, r.RunID, r.ttl()); err != nil {
		return Result{}, err
	}
	if e.State == record.StepStarted || e.State == record.StepFailed {
		res, found, err := step.Find(ctx, Env{Prior: prior, Token: j.Token})
		if err != nil {
			return Result{}, fmt.Errorf("step %s: looking for what an interrupted run made: %w", step.Name(), err)
		}
		if found {
			e.State, e.Ended, e.Error = record.StepDone, r.now(), ""
			e.Resources = mergeResources(e.Resources, res.Resources)
			e.Outputs = res.Outputs
			if err := r.putJournal(ctx, j); err != nil {
				return Result{}, err
			}
			r.emit(Event{Step: step.Name(), Index: i, State: record.StepDone, Resumed: true, Duration: e.Ended.Sub(e.Started), Resources: e.Resources})
			return Result{Resources: e.Resources, Outputs: e.Outputs}, nil
		}
	}
	start := r.now()
	e.State, e.Started, e.Ended, e.Error = record.StepStarted, start, time.Time{}, ""
	e.Attempts++
	if err := r.putJournal(ctx, j); err != nil {
		return Result{}, err
	}
	r.emit(Event{Step: step.Name(), Index: i, State: record.StepStarted})
	res, doErr, lost := r.doWithHeartbeat(ctx, step, Env{Prior: prior, Token: j.Token})
	if lost != nil {
		// Another run holds the lease now and resumes this step through
		// Find; writing our journal entry would clobber its journal.
		return Result{}, fmt.Errorf("step %s stopped (%s): %w", step.Name(), describe(res.Resources), lost)
	}
	for k := range res.Resources {
		if res.Resources[k].Time.IsZero() {
			res.Resources[k].Time = r.now()
		}
	}
	e.Resources = mergeResources(e.Resources, res.Resources)
	e.Outputs = res.Outputs
	e.Ended = r.now()
	if doErr != nil {
		e.State, e.Error = record.StepFailed, doErr.Error()
		r.emit(Event{Step: step.Name(), Index: i, State: record.StepFailed, Duration: e.Ended.Sub(start), Resources: e.Resources, Err: doErr})
		return Result{}, fmt.Errorf("step %s: %w", step.Name(), doErr)
	}
	// Still ours? If the lease ran out during the step and another run took
	// over, that run resumes this step through Find; we write nothing.
	if _, err := r.Store.RenewLease(ctx, r.RunID, r.ttl()); err != nil {
		return Result{}, fmt.Errorf("step %s finished (%s) but %w", step.Name(), describe(res.Resources), err)
	}
	e.State = record.StepDone
	if err := r.putJournal(ctx, j); err != nil {
		return Result{}, fmt.Errorf("step %s finished (%s) but the journal could not record it; a resume finds it: %w", step.Name(), describe(res.Resources), err)
	}
	r.emit(Event{Step: step.Name(), Index: i, State: record.StepDone, Duration: e.Ended.Sub(start), Resources: e.Resources})
	return Result{Resources: e.Resources, Outputs: e.Outputs}, nil
}

// doWithHeartbeat runs step.Do while renewing the lease every Heartbeat, so
// a step longer than the lease (a slow launch) keeps it. When a renewal
// finds another run holding the lease, the step's context is cancelled and
// lost is set. A renewal that fails for another reason (a throttled call) is
// tried again at the next beat; the lease's length leaves room for that.
func (r *Runner) doWithHeartbeat(ctx context.Context, step Step, env Env) (res Result, err, lost error) {
	lost = r.withHeartbeat(ctx, func(sctx context.Context) { res, err = step.Do(sctx, env) })
	return res, err, lost
}

// withHeartbeat runs fn while renewing the lease; see doWithHeartbeat.
func (r *Runner) withHeartbeat(ctx context.Context, fn func(context.Context)) (lost error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-r.after(r.heartbeat()):
			}
			if _, err := r.Store.RenewLease(ctx, r.RunID, r.ttl()); errors.Is(err, record.ErrLeaseLost) {
				lost = err
				cancel()
				return
			}
		}
	}()
	fn(sctx)
	close(stop)
	wg.Wait()
	return lost
}

func (r *Runner) heartbeat() time.Duration {
	if r.Heartbeat > 0 {
		return r.Heartbeat
	}
	return r.ttl() / 3
}

func (r *Runner) after(d time.Duration) <-chan time.Time {
	if r.After != nil {
		return r.After(d)
	}
	return time.After(d)
}

func describe(rs []record.Resource) string {
	if len(rs) == 0 {
		return "nothing made"
	}
	s := ""
	for i, x := range rs {
		if i > 0 {
			s += ", "
		}
		s += x.Type + " " + x.ID
	}
	return s
}

// mergeResources adds b to a, keyed by type and ID. For a resource already
// journaled, b updates its facts but never its CreatedByUs: what the journal
// first recorded stands (a resource recorded as found, not created, never
// becomes ours to delete because a later look finds it tagged; one we created
// stays ours when a re-run finds it existing).
func mergeResources(a, b []record.Resource) []record.Resource {
	out := slices.Clone(a)
	for _, x := range b {
		i := slices.IndexFunc(out, func(y record.Resource) bool { return y.Type == x.Type && y.ID == x.ID })
		if i < 0 {
			out = append(out, x)
			continue
		}
		created := out[i].CreatedByUs
		out[i] = x
		out[i].CreatedByUs = created
	}
	return out
}

// Abort undoes, in reverse step order, exactly the resources the journal
// lists as created by this workload's setup (and, for a step the journal left
// started or failed, what Find reports it created), then deletes the journal,
// the record and the lease. A cancelled ctx stops it after the current step;
// running Abort again continues. With no journal it does nothing.
func (r *Runner) Abort(ctx context.Context) error {
	if err := r.check(); err != nil {
		return err
	}
	if err := r.acquire(ctx, "abort"); err != nil {
		return err
	}
	wctx := context.WithoutCancel(ctx)
	j, existed, err := r.load(wctx, "abort")
	if err != nil {
		r.release(ctx)
		return err
	}
	if !existed {
		r.emit(Event{Note: "no setup journal for " + r.Store.Workload + ": nothing to abort"})
		return r.Store.Delete(wctx, record.LeaseParam(r.Store.Workload))
	}
	steps := map[string]Step{}
	for _, s := range r.Steps {
		steps[s.Name()] = s
	}
	for _, e := range j.Steps {
		if _, ok := steps[e.Name]; !ok && e.State != record.StepPending && e.State != record.StepUndone {
			r.release(ctx)
			return fmt.Errorf("abort %s: the journal lists step %q, which this binary does not know: abort with the version of outposts-ha that started it", j.Workload, e.Name)
		}
	}
	j.State = record.RunAborting
	if err := r.putJournal(wctx, j); err != nil {
		r.release(ctx)
		return err
	}
	index := map[string]int{}
	for i, s := range r.Steps {
		index[s.Name()] = i
	}
	for k := len(j.Steps) - 1; k >= 0; k-- {
		e := &j.Steps[k]
		if e.State == record.StepPending || e.State == record.StepUndone {
			continue
		}
		if ctx.Err() != nil {
			return r.stop(ctx, j, record.RunAborting, ErrInterrupted)
		}
		if err := r.undoStep(wctx, j, e, steps[e.Name], index[e.Name]); err != nil {
			if errors.Is(err, record.ErrLeaseLost) {
				return err // not ours to write any more
			}
			return r.stop(ctx, j, record.RunAborting, err)
		}
	}
	j.State = record.RunAborted
	// Parameter Store is left as it was before setup; the plan folder keeps
	// the final journal as the abort's report (a failure to write it comes
	// after everything is removed, so it cannot block the abort).
	w := r.Store.Workload
	if err := r.Store.Delete(wctx, naming.RecordParam(w), record.JournalParam(w), record.LeaseParam(w)); err != nil {
		return err
	}
	r.emit(Event{Note: "aborted: everything the setup of " + w + " created is removed"})
	if r.Store.JournalMirror != "" {
		j.Updated = r.now()
		if err := record.WriteJSONAtomic(r.Store.JournalMirror, j); err != nil {
			return fmt.Errorf("aborted, but the report could not be written into the plan folder: %w", err)
		}
	}
	return nil
}

func (r *Runner) undoStep(ctx context.Context, j *record.Journal, e *record.StepEntry, step Step, i int) error {
	if _, err := r.Store.RenewLease(ctx, r.RunID, r.ttl()); err != nil {
		return err
	}
	if e.State != record.StepDone {
		// Started, failed or undoing: an interrupted Do may have made more
		// than the journal lists.
		prior := Results{}
		for _, x := range j.Steps {
			if x.State == record.StepDone {
				prior[x.Name] = Result{Resources: x.Resources, Outputs: x.Outputs}
			}
		}
		res, found, err := step.Find(ctx, Env{Prior: prior, Token: j.Token})
		if err != nil {
			return fmt.Errorf("abort step %s: looking for what it made: %w", e.Name, err)
		}
		if found {
			e.Resources = mergeResources(e.Resources, res.Resources)
		}
	}
	start := r.now()
	e.State = record.StepUndoing
	if err := r.putJournal(ctx, j); err != nil {
		return err
	}
	r.emit(Event{Step: e.Name, Index: i, State: record.StepUndoing})
	var mine []record.Resource
	for _, x := range e.Resources {
		if x.CreatedByUs {
			mine = append(mine, x)
		}
	}
	if len(mine) > 0 {
		var err error
		if lost := r.withHeartbeat(ctx, func(sctx context.Context) { err = step.Undo(sctx, Result{Resources: mine, Outputs: e.Outputs}) }); lost != nil {
			return fmt.Errorf("abort step %s stopped: %w", e.Name, lost)
		}
		if err != nil {
			e.Error = "undo: " + err.Error()
			_ = r.putJournal(ctx, j)
			r.emit(Event{Step: e.Name, Index: i, State: record.StepFailed, Err: err, Duration: r.now().Sub(start)})
			return fmt.Errorf("abort step %s: %w", e.Name, err)
		}
	}
	e.State, e.Error = record.StepUndone, ""
	if err := r.putJournal(ctx, j); err != nil {
		return err
	}
	r.emit(Event{Step: e.Name, Index: i, State: record.StepUndone, Duration: r.now().Sub(start), Resources: mine})
	return nil
}
