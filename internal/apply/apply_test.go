package apply_test

// Unit tests of the step runner, on the fake world of world_test.go (fake
// inventory, fake steps, the Parameter Store fake, an injected clock). No
// network, no wall clock.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
)

// reference is the inventory a clean run leaves.
func reference(t *testing.T) map[string]item {
	t.Helper()
	w := newWorld()
	_, err := w.machine("run-ref").runner.Run(context.Background())
	require.NoError(t, err)
	return w.inv.snapshot()
}

func TestCleanRunJournalRecordEvents(t *testing.T) {
	w := newWorld()
	before := w.inv.snapshot()
	m := w.machine("run-1")
	res, err := m.runner.Run(context.Background())
	require.NoError(t, err)

	// Each step made its one thing, in order, with later steps reading
	// earlier outputs.
	assert.Equal(t, 4, w.inv.creates)
	assert.Equal(t, "26", res.Output("array-map", "lun"))
	ltID := res.Output("launch-template", "lt")
	inst, n := w.inv.find(func(it item) bool { return it.Kind == "instance" && it.Tags[naming.TagWorkload] == workload })
	require.Equal(t, 1, n)
	assert.Equal(t, ltID, inst.Attrs["lt"], "launched from the template the previous step made")
	assert.Equal(t, "1", w.inv.snapshot()["subnet-p"].Attrs["lni"])
	assert.Len(t, before, 4)

	// The journal: every step done, with its resources; the lease released.
	j, err := m.runner.Store.GetJournal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, record.RunDone, j.State)
	for i, name := range stepNames {
		assert.Equal(t, name, j.Steps[i].Name)
		assert.Equal(t, record.StepDone, j.Steps[i].State, name)
		assert.Equal(t, 1, j.Steps[i].Attempts, name)
		assert.Equal(t, time.Second, j.Steps[i].Ended.Sub(j.Steps[i].Started), "duration on the injected clock")
	}
	assert.Equal(t, []string{"subnet-p", "subnet-s"}, []string{j.Steps[0].Resources[0].ID, j.Steps[0].Resources[1].ID})
	assert.False(t, j.Steps[0].Resources[1].CreatedByUs, "a subnet that already had LNI is listed, not ours")
	l, _, err := m.runner.Store.GetLease(context.Background())
	require.NoError(t, err)
	assert.True(t, l.Released)

	// The record: the answers and every resource, with IDs.
	r, err := m.runner.Store.GetRecord(context.Background())
	require.NoError(t, err)
	assert.Equal(t, answers, r.Answers)
	var ids []string
	for _, x := range r.Resources {
		ids = append(ids, x.ID)
	}
	assert.Contains(t, ids, inst.ID)
	assert.Contains(t, ids, ltID)
	assert.Equal(t, inst.ID, r.Outputs["launch.instance"])

	// Events: started then done for every step, with duration and IDs.
	var got []string
	for _, e := range m.events {
		assert.Equal(t, len(stepNames), e.Total)
		got = append(got, fmt.Sprintf("%d %s %s", e.Index, e.Step, e.State))
		if e.State == record.StepDone {
			assert.Equal(t, time.Second, e.Duration)
			assert.NotEmpty(t, e.Resources)
		}
	}
	var want []string
	for i, n := range stepNames {
		want = append(want, fmt.Sprintf("%d %s started", i, n), fmt.Sprintf("%d %s done", i, n))
	}
	assert.Equal(t, want, got)
	// The plain line accessible mode prints.
	assert.Equal(t, "3/6 array-map started", m.events[4].String())
	assert.Equal(t, "3/6 array-map done 1s map-0002", m.events[5].String())
	assert.Equal(t, "1/6 lni done 1s subnet-p subnet-s", m.events[1].String())

	// Re-running after success changes nothing (not even the journal) and
	// runs no step.
	journalBefore := w.ssm.Value(record.JournalParam(workload))
	m2 := w.machine("run-2")
	res2, err := m2.runner.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 4, w.inv.creates)
	assert.Equal(t, journalBefore, w.ssm.Value(record.JournalParam(workload)))
	assert.Equal(t, res, res2, "the results come from the journal")
	assert.Len(t, m2.events, len(stepNames))
	for _, e := range m2.events {
		assert.True(t, e.Resumed, "%s came from the journal", e.Step)
	}
	assert.Equal(t, "6/6 record done 1s /outposts-ha/web01/record (from an earlier run)", m2.events[5].String())
}

// The fault-injection matrix: for each step and each way of failing (an
// error before it makes anything, an error after it made its resource
// without reporting it, a crash of the machine after the step finished but
// before the journal said so), run, then resume on another machine, and
// assert the inventory is exactly the clean run's (no duplicates); then abort
// and assert it is exactly as before setup. Also abort straight after the
// failure.
func TestFaultInjectionResumeAndAbort(t *testing.T) {
	ref := reference(t)
	for _, point := range []string{"before", "after", "crash"} {
		for _, step := range stepNames {
			t.Run(point+"/"+step, func(t *testing.T) {
				for _, abortOnly := range []bool{false, true} {
					w := newWorld()
					before := w.inv.snapshot()
					w.fault = fault{step: step, point: point}
					m1 := w.machine("run-1")
					_, err := m1.runner.Run(context.Background())
					require.Error(t, err)
					if point == "crash" {
						require.ErrorIs(t, err, errDead)
						// The dead machine's lease blocks others until it expires.
						_, err = w.machine("run-early").runner.Run(context.Background())
						var held *record.LeaseHeldError
						require.ErrorAs(t, err, &held)
						w.clock.Add(31 * time.Minute)
					} else {
						require.ErrorIs(t, err, errInjected)
					}
					j, err := w.machine("observer").runner.Store.GetJournal(context.Background())
					require.NoError(t, err, "a second machine sees the journal")
					assert.Contains(t, []record.RunState{record.RunStopped, record.RunRunning}, j.State)
					assert.NotEqual(t, record.StepDone, j.Step(step).State, "the failed step is not done")

					if !abortOnly {
						m2 := w.machine("run-2")
						_, err = m2.runner.Run(context.Background())
						require.NoError(t, err)
						after := w.inv.snapshot()
						assert.Equal(t, ref, after, "resumed run leaves exactly the clean run's inventory:\n%s", describeInventory(after))
						assert.Equal(t, 4, w.inv.creates, "no duplicate was ever created")
						if point == "crash" {
							assert.Contains(t, m2.events[0].Note, "run-1", "the takeover of the dead run's lease is reported")
						}
						j, err = m2.runner.Store.GetJournal(context.Background())
						require.NoError(t, err)
						assert.Equal(t, record.RunDone, j.State)
						assert.Len(t, j.Runs, 2, "the run refused for the lease left no trace")
					}

					ma := w.machine("run-abort")
					require.NoError(t, ma.runner.Abort(context.Background()))
					after := w.inv.snapshot()
					assert.Equal(t, before, after, "abort leaves the inventory exactly as before setup:\n%s", describeInventory(after))
					assert.Empty(t, w.ssm.Names(), "no record, journal or lease left in Parameter Store")
					assert.Empty(t, w.foreign, "Undo was never given a resource setup did not create")
					for id, n := range w.undoneBy {
						assert.Equal(t, 1, n, "%s undone once", id)
					}
				}
			})
		}
	}
}

// A resource that existed before setup (the workload's array host, made by
// hand) is found and listed but not created by us; abort leaves it.
func TestAbortLeavesWhatItDidNotCreate(t *testing.T) {
	w := newWorld()
	tags := ours()
	tags["step"] = "array-host"
	w.inv.items["host-mine-before"] = item{Kind: "host", ID: "host-mine-before", Name: "oha-web01", Tags: tags}
	before := w.inv.snapshot()
	m := w.machine("run-1")
	// The host step adopts an existing host of the workload's name and
	// reports it as not created by us.
	steps := m.runner.Steps
	inner := steps[1]
	steps[1] = &fakeStep{name: "array-host",
		find: inner.Find,
		do: func(ctx context.Context, env apply.Env) (apply.Result, error) {
			if it, n := w.inv.find(func(it item) bool { return it.Kind == "host" && it.Name == "oha-web01" }); n == 1 {
				return apply.Result{Resources: []record.Resource{{Type: "host", ID: it.ID, CreatedByUs: false}},
					Outputs: map[string]string{"host": it.ID}}, nil
			}
			return inner.Do(ctx, env)
		},
		undo: inner.Undo}
	_, err := m.runner.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, w.inv.creates, "the host was reused")
	require.NoError(t, w.machine("run-abort").runner.Abort(context.Background()))
	assert.Equal(t, before, w.inv.snapshot())
	assert.Empty(t, w.foreign)
	_, still := w.undoneBy["host-mine-before"]
	assert.False(t, still, "Undo never saw the pre-existing host")
}

// A step adopts a pre-existing host (not created by us) and then fails; a
// careless Find, on abort, claims the host as ours. The journal's first word
// stands: the host is never undone.
func TestJournalFlagBeatsALaterFind(t *testing.T) {
	w := newWorld()
	w.inv.items["host-mine-before"] = item{Kind: "host", ID: "host-mine-before", Name: "oha-web01", Tags: ours()}
	before := w.inv.snapshot()
	m := w.machine("run-1")
	inner := m.runner.Steps[1]
	found := record.Resource{Type: "host", ID: "host-mine-before"}
	m.runner.Steps[1] = &fakeStep{name: "array-host", undo: inner.Undo,
		do: func(context.Context, apply.Env) (apply.Result, error) {
			return apply.Result{Resources: []record.Resource{found}}, errors.New("array: mapping the initiator failed")
		}}
	_, err := m.runner.Run(context.Background())
	require.ErrorContains(t, err, "mapping the initiator")
	j, err := m.runner.Store.GetJournal(context.Background())
	require.NoError(t, err)
	require.Len(t, j.Step("array-host").Resources, 1, "a failed step's partial result is journaled")

	ma := w.machine("run-abort")
	careless := found
	careless.CreatedByUs = true
	ma.runner.Steps[1] = &fakeStep{name: "array-host", undo: inner.Undo, do: inner.Do,
		find: func(context.Context, apply.Env) (apply.Result, bool, error) {
			return apply.Result{Resources: []record.Resource{careless}}, true, nil
		}}
	require.NoError(t, ma.runner.Abort(context.Background()))
	assert.Equal(t, before, w.inv.snapshot())
	assert.Empty(t, w.foreign)
}

// Ctrl-C (context cancel) during a step: the step finishes and is journaled
// done, the run stops before the next one, and a resume completes.
func TestCancelStopsAfterCurrentStep(t *testing.T) {
	w := newWorld()
	m := w.machine("run-1")
	ctx, cancel := context.WithCancel(context.Background())
	inner := m.runner.Steps[2]
	var stepCtxErr error
	m.runner.Steps[2] = &fakeStep{name: inner.Name(), find: inner.Find, undo: inner.Undo,
		do: func(c context.Context, env apply.Env) (apply.Result, error) {
			cancel() // Ctrl-C arrives while array-map runs
			stepCtxErr = c.Err()
			return inner.Do(c, env)
		}}
	_, err := m.runner.Run(ctx)
	require.ErrorIs(t, err, apply.ErrInterrupted)
	require.NoError(t, stepCtxErr, "the running step is not cut")
	j, err := m.runner.Store.GetJournal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, record.RunInterrupted, j.State)
	assert.Equal(t, record.StepDone, j.Step("array-map").State)
	assert.Equal(t, record.StepPending, j.Step("launch-template").State)
	assert.Equal(t, 2, w.inv.creates)
	l, _, err := m.runner.Store.GetLease(context.Background())
	require.NoError(t, err)
	assert.True(t, l.Released, "an interrupted run gives the lease back")

	_, err = w.machine("run-2").runner.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 4, w.inv.creates)

	// A cancelled abort stops after the current undo and can be continued.
	actx, acancel := context.WithCancel(context.Background())
	ma := w.machine("run-abort")
	rec := ma.runner.Steps[5]
	ma.runner.Steps[5] = &fakeStep{name: rec.Name(), find: rec.Find, do: rec.Do,
		undo: func(c context.Context, r apply.Result) error { acancel(); return rec.Undo(c, r) }}
	require.ErrorIs(t, ma.runner.Abort(actx), apply.ErrInterrupted)
	j, err = ma.runner.Store.GetJournal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, record.RunAborting, j.State)
	assert.Equal(t, record.StepUndone, j.Step("record").State)
	assert.Equal(t, record.StepDone, j.Step("launch").State)
	// A run refuses while an abort is under way.
	_, err = w.machine("run-3").runner.Run(context.Background())
	require.ErrorContains(t, err, "abort")
	require.NoError(t, w.machine("run-abort-2").runner.Abort(context.Background()))
	assert.Equal(t, newInventory().snapshot(), w.inv.snapshot())
	assert.Empty(t, w.ssm.Names())
}

// Two machines start setup of the same workload at the same time: exactly one
// gets the lease and applies; the other is told who holds it and changes
// nothing.
func TestTwoConcurrentRunners(t *testing.T) {
	w := newWorld()
	a, b := w.machine("run-a"), w.machine("run-b")
	// Hold runner A inside its first step until B has tried, so the two
	// overlap whatever the scheduler does.
	bTried := make(chan struct{})
	inner := a.runner.Steps[0]
	a.runner.Steps[0] = &fakeStep{name: inner.Name(), find: inner.Find, undo: inner.Undo,
		do: func(c context.Context, env apply.Env) (apply.Result, error) {
			<-bTried
			return inner.Do(c, env)
		}}
	aStarted := make(chan struct{})
	a.runner.OnEvent = func(e apply.Event) {
		if e.Step == "lni" && e.State == record.StepStarted {
			close(aStarted)
		}
	}
	var wg sync.WaitGroup
	var aErr, bErr error
	wg.Add(2)
	go func() { defer wg.Done(); _, aErr = a.runner.Run(context.Background()) }()
	go func() {
		defer wg.Done()
		defer close(bTried)
		<-aStarted
		_, bErr = b.runner.Run(context.Background())
	}()
	wg.Wait()
	require.NoError(t, aErr)
	var held *record.LeaseHeldError
	require.ErrorAs(t, bErr, &held)
	assert.Equal(t, "run-a", held.Holder.RunID)
	assert.Equal(t, 4, w.inv.creates, "only A's run created anything")
	assert.Empty(t, b.events, "B ran no step")

	// And when both race from the very start, still exactly one applies.
	w2 := newWorld()
	const n = 8
	errs := make([]error, n)
	var wg2 sync.WaitGroup
	for i := range n {
		m := w2.machine(fmt.Sprintf("run-%d", i))
		m.runner.OnEvent = nil
		wg2.Add(1)
		go func() { defer wg2.Done(); _, errs[i] = m.runner.Run(context.Background()) }()
	}
	wg2.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorAs(t, err, &held)
	}
	// One run took the lease; a run that started after it released may also
	// succeed, finding every step done: never two at once, never duplicates.
	assert.GreaterOrEqual(t, ok, 1)
	assert.Equal(t, 4, w2.inv.creates)
}

func TestResumeRefusesOtherAnswersAndSteps(t *testing.T) {
	w := newWorld()
	w.fault = fault{step: "array-map", point: "before"}
	_, err := w.machine("run-1").runner.Run(context.Background())
	require.ErrorIs(t, err, errInjected)
	st, err := apply.Inspect(context.Background(), w.machine("observer").runner.Store, w.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, "web01: setup stopped (2 of 6 steps done; step array-map failed: injected failure): run setup again to resume, or setup --abort web01", st.Summary)

	m := w.machine("run-2")
	m.runner.AnswersSHA256 = record.HashAnswers("workload: web01\nregion: eu-west-1\n")
	_, err = m.runner.Run(context.Background())
	require.ErrorContains(t, err, "other answers")

	m = w.machine("run-3")
	m.runner.Steps = m.runner.Steps[:5]
	_, err = m.runner.Run(context.Background())
	require.ErrorContains(t, err, "journal lists steps")

	m = w.machine("run-4")
	m.runner.Steps = m.runner.Steps[2:] // does not know lni / array-host, which the journal says ran
	require.ErrorContains(t, m.runner.Abort(context.Background()), "does not know")
	// Nothing was made or removed by the refusals: the host is all run-1 made.
	assert.Equal(t, 1, w.inv.creates)
	assert.Len(t, w.inv.snapshot(), 4+1)
}

// The runner refuses a bad step list before touching anything.
func TestRunnerChecksItsSteps(t *testing.T) {
	w := newWorld()
	m := w.machine("run-1")
	m.runner.Steps = append(m.runner.Steps, m.runner.Steps[0])
	_, err := m.runner.Run(context.Background())
	require.ErrorContains(t, err, "repeated")
	assert.Empty(t, w.ssm.Names())
	m.runner.RunID = ""
	require.Error(t, m.runner.Abort(context.Background()))
}

// An undo that fails stops the abort with the step named; the journal keeps
// the step as undoing, and a later abort finishes it.
func TestAbortUndoFailureIsResumable(t *testing.T) {
	w := newWorld()
	_, err := w.machine("run-1").runner.Run(context.Background())
	require.NoError(t, err)
	m := w.machine("run-abort")
	inner := m.runner.Steps[3]
	m.runner.Steps[3] = &fakeStep{name: inner.Name(), find: inner.Find, do: inner.Do,
		undo: func(context.Context, apply.Result) error { return errors.New("DeleteLaunchTemplate: throttled") }}
	err = m.runner.Abort(context.Background())
	require.ErrorContains(t, err, "launch-template")
	j, err := m.runner.Store.GetJournal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, record.StepUndoing, j.Step("launch-template").State)
	assert.Contains(t, j.Step("launch-template").Error, "throttled")
	require.NoError(t, w.machine("run-abort-2").runner.Abort(context.Background()))
	assert.Equal(t, newInventory().snapshot(), w.inv.snapshot())
}

// With no journal there is nothing to abort, and nothing is left behind.
func TestAbortWithoutJournal(t *testing.T) {
	w := newWorld()
	m := w.machine("run-1")
	var notes []string
	m.runner.OnEvent = func(e apply.Event) { notes = append(notes, e.Note) }
	require.NoError(t, m.runner.Abort(context.Background()))
	assert.Empty(t, w.ssm.Names())
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], "nothing to abort")
}

// Many resumes keep the journal's run history bounded: the first run and
// the latest ones.
func TestRunHistoryBounded(t *testing.T) {
	w := newWorld()
	for i := range 30 {
		w.fault = fault{step: "launch", point: "before"}
		_, err := w.machine(fmt.Sprintf("run-%02d", i)).runner.Run(context.Background())
		require.ErrorIs(t, err, errInjected)
	}
	j, err := w.machine("observer").runner.Store.GetJournal(context.Background())
	require.NoError(t, err)
	require.Len(t, j.Runs, 20)
	assert.Equal(t, "run-00", j.Runs[0].ID)
	assert.Equal(t, "run-29", j.Runs[19].ID)
	assert.Equal(t, 30, j.Step("launch").Attempts)
	assert.Equal(t, 3, w.inv.creates, "the failing step never made anything; earlier ones once")
}

// After a crash, the operator breaks the dead run's lease by naming it and
// resumes at once, without waiting for the lease to expire.
func TestBreakTheDeadRunsLease(t *testing.T) {
	w := newWorld()
	w.fault = fault{step: "array-map", point: "crash"}
	_, err := w.machine("run-1").runner.Run(context.Background())
	require.ErrorIs(t, err, errDead)
	m := w.machine("run-2")
	m.runner.BreakLease = "run-1"
	_, err = m.runner.Run(context.Background())
	require.NoError(t, err)
	assert.Contains(t, m.events[0].Note, "broke the apply lease of run run-1")
	assert.Equal(t, reference(t), w.inv.snapshot())
}

// The plan folder mirrors the journal and the record while setup runs, and
// keeps the abort's final journal as its report after Parameter Store is
// cleared.
func TestPlanFolderMirror(t *testing.T) {
	dir := t.TempDir()
	w := newWorld()
	m := w.machine("run-1")
	m.runner.Store.JournalMirror = filepath.Join(dir, "journal.json")
	m.runner.Store.RecordMirror = filepath.Join(dir, "record.json")
	_, err := m.runner.Run(context.Background())
	require.NoError(t, err)
	var j record.Journal
	readJSON(t, filepath.Join(dir, "journal.json"), &j)
	assert.Equal(t, record.RunDone, j.State)
	var r record.Record
	readJSON(t, filepath.Join(dir, "record.json"), &r)
	assert.Equal(t, answers, r.Answers)
	assert.Len(t, r.Resources, 6, "every resource of the steps before the record step")

	ma := w.machine("run-abort")
	ma.runner.Store.JournalMirror = filepath.Join(dir, "journal.json")
	require.NoError(t, ma.runner.Abort(context.Background()))
	readJSON(t, filepath.Join(dir, "journal.json"), &j)
	assert.Equal(t, record.RunAborted, j.State)
	for _, e := range j.Steps {
		assert.Equal(t, record.StepUndone, e.State, e.Name)
	}
	assert.Empty(t, w.ssm.Names())

	// A plan folder that vanished blocks neither a run (one warning) nor
	// the abort of what exists.
	w2 := newWorld()
	m2 := w2.machine("run-1")
	m2.runner.Store.JournalMirror = filepath.Join(dir, "gone", "journal.json")
	_, err = m2.runner.Run(context.Background())
	require.NoError(t, err)
	var warnings []string
	for _, e := range m2.events {
		if strings.HasPrefix(e.Note, "warning:") {
			warnings = append(warnings, e.Note)
		}
	}
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], "could not be written")
	mb := w2.machine("run-abort")
	mb.runner.Store.JournalMirror = filepath.Join(dir, "gone", "journal.json")
	require.ErrorContains(t, mb.runner.Abort(context.Background()), "aborted, but the report")
	assert.Empty(t, w2.ssm.Names())
	assert.Equal(t, newInventory().snapshot(), w2.inv.snapshot())
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

// A record another setup left (its token differs) is not "found" as this
// setup's: the record step overwrites it.
func TestRecordStepOverwritesAForeignRecord(t *testing.T) {
	w := newWorld()
	stale := record.Record{Schema: record.RecordSchema, Workload: workload, Answers: "old", AnswersSHA256: record.HashAnswers("old"), Token: "another-setup"}
	require.NoError(t, w.machine("old").runner.Store.PutRecord(context.Background(), &stale))
	step := &apply.RecordStep{Store: w.machine("x").runner.Store, Region: "us-west-2", Answers: answers}
	_, found, err := step.Find(context.Background(), apply.Env{Token: "setup-token-1"})
	require.NoError(t, err)
	assert.False(t, found)
	_, err = w.machine("run-1").runner.Run(context.Background())
	require.NoError(t, err)
	got, err := step.Store.GetRecord(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "setup-token-1", got.Token)
	assert.Equal(t, answers, got.Answers)
	_, found, err = step.Find(context.Background(), apply.Env{Token: "setup-token-1"})
	require.NoError(t, err)
	assert.True(t, found)
}

// A second machine inspects a setup: running elsewhere, crashed, stopped,
// done, aborted. Fake world, injected clock.
func TestInspect(t *testing.T) {
	ctx := context.Background()
	w := newWorld()
	obs := w.machine("observer").runner.Store
	st, err := apply.Inspect(ctx, obs, w.clock.Now())
	require.NoError(t, err)
	assert.Nil(t, st.Journal)
	assert.Contains(t, st.Summary, "no setup journal")

	// While run-1 is inside array-map, the observer sees it active.
	m := w.machine("run-1")
	inner := m.runner.Steps[2]
	var during apply.Status
	m.runner.Steps[2] = &fakeStep{name: inner.Name(), find: inner.Find, undo: inner.Undo,
		do: func(c context.Context, env apply.Env) (apply.Result, error) {
			var err error
			during, err = apply.Inspect(ctx, obs, w.clock.Now())
			require.NoError(t, err)
			return inner.Do(c, env)
		}}
	w.fault = fault{step: "launch", point: "crash"}
	_, err = m.runner.Run(ctx)
	require.ErrorIs(t, err, errDead)
	assert.True(t, during.Active)
	assert.Contains(t, during.Summary, "apply by run run-1 (tester@run-1) now")
	assert.Contains(t, during.Summary, "2 of 6 steps done; step array-map started")

	// Crashed: lease not released; still active until it expires.
	st, err = apply.Inspect(ctx, obs, w.clock.Now())
	require.NoError(t, err)
	assert.True(t, st.Active)
	w.clock.Add(31 * time.Minute)
	st, err = apply.Inspect(ctx, obs, w.clock.Now())
	require.NoError(t, err)
	assert.False(t, st.Active)
	assert.Contains(t, st.Summary, "crashed or was killed")
	assert.Contains(t, st.Summary, "step launch started")

	_, err = w.machine("run-2").runner.Run(ctx)
	require.NoError(t, err)
	st, err = apply.Inspect(ctx, obs, w.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, "web01: setup done (6 of 6 steps done)", st.Summary)

	require.NoError(t, w.machine("run-abort").runner.Abort(ctx))
	st, err = apply.Inspect(ctx, obs, w.clock.Now())
	require.NoError(t, err)
	assert.Nil(t, st.Journal)
	assert.Nil(t, st.Lease)
}

// A step longer than the lease keeps it: the heartbeat renews it while the
// step runs (injected timer and clock), so another machine cannot take over.
func TestHeartbeatKeepsTheLeaseDuringALongStep(t *testing.T) {
	w := newWorld()
	m := w.machine("run-1")
	ticks := make(chan time.Time)
	m.runner.After = func(time.Duration) <-chan time.Time { return ticks }
	inner := m.runner.Steps[4]
	var otherErr error
	m.runner.Steps[4] = &fakeStep{name: inner.Name(), find: inner.Find, undo: inner.Undo,
		do: func(c context.Context, env apply.Env) (apply.Result, error) {
			w.clock.Add(20 * time.Minute)
			ticks <- w.clock.Now() // the heartbeat renews...
			ticks <- w.clock.Now() // ...and is back waiting: the renewal is done
			w.clock.Add(20 * time.Minute)
			_, otherErr = w.machine("run-2").runner.Run(context.Background())
			return inner.Do(c, env)
		}}
	_, err := m.runner.Run(context.Background())
	require.NoError(t, err)
	var held *record.LeaseHeldError
	require.ErrorAs(t, otherErr, &held, "40 minutes into a 30-minute lease, it is still held")
	assert.Equal(t, "run-1", held.Holder.RunID)
	assert.Equal(t, 4, w.inv.creates)
}

// When the lease is lost anyway (the machine was suspended past its lease
// and another run took over), the heartbeat cancels the step and the run
// stops without writing the journal the new holder now owns.
func TestLeaseLostDuringAStepStopsIt(t *testing.T) {
	w := newWorld()
	m := w.machine("run-1")
	ticks := make(chan time.Time)
	m.runner.After = func(time.Duration) <-chan time.Time { return ticks }
	inner := m.runner.Steps[4]
	var stepErr error
	m.runner.Steps[4] = &fakeStep{name: inner.Name(), find: inner.Find, undo: inner.Undo,
		do: func(c context.Context, env apply.Env) (apply.Result, error) {
			w.clock.Add(31 * time.Minute)
			_, err := w.machine("run-2").runner.Store.AcquireLease(context.Background(), "run-2", "other", "apply", 30*time.Minute)
			require.NoError(t, err)
			ticks <- w.clock.Now()
			// The heartbeat finds the lease lost, cancels the step and stops:
			// a second tick is then never taken. (If it were taken, the
			// heartbeat missed the loss.)
			select {
			case ticks <- w.clock.Now():
				t.Error("the heartbeat kept going after another run took the lease")
				return apply.Result{}, errors.New("heartbeat missed the lost lease")
			case <-c.Done():
			}
			stepErr = c.Err()
			return apply.Result{}, c.Err()
		}}
	journalBefore := ""
	m.runner.OnEvent = func(e apply.Event) {
		if e.Step == "launch" && e.State == record.StepStarted {
			journalBefore = w.ssm.Value(record.JournalParam(workload))
		}
	}
	_, err := m.runner.Run(context.Background())
	require.ErrorIs(t, err, record.ErrLeaseLost)
	require.ErrorIs(t, stepErr, context.Canceled)
	assert.Equal(t, journalBefore, w.ssm.Value(record.JournalParam(workload)), "the journal was not written after the lease was lost")
	l, _, err := m.runner.Store.GetLease(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "run-2", l.RunID)
	assert.False(t, l.Released, "the lost run did not release the new holder's lease")
}

// An undo runs under the heartbeat too: an abort whose lease is taken over
// during a slow undo stops without writing the journal.
func TestLeaseLostDuringAnUndoStopsTheAbort(t *testing.T) {
	w := newWorld()
	_, err := w.machine("run-1").runner.Run(context.Background())
	require.NoError(t, err)
	m := w.machine("run-abort")
	ticks := make(chan time.Time)
	m.runner.After = func(time.Duration) <-chan time.Time { return ticks }
	inner := m.runner.Steps[5]
	journalBefore := ""
	m.runner.Steps[5] = &fakeStep{name: inner.Name(), find: inner.Find, do: inner.Do,
		undo: func(c context.Context, r apply.Result) error {
			journalBefore = w.ssm.Value(record.JournalParam(workload))
			w.clock.Add(31 * time.Minute)
			_, err := w.machine("run-2").runner.Store.AcquireLease(context.Background(), "run-2", "other", "abort", 30*time.Minute)
			require.NoError(t, err)
			ticks <- w.clock.Now()
			select {
			case ticks <- w.clock.Now():
				t.Error("the heartbeat kept going after another run took the lease")
			case <-c.Done():
			}
			return c.Err()
		}}
	err = m.runner.Abort(context.Background())
	require.ErrorIs(t, err, record.ErrLeaseLost)
	assert.Equal(t, journalBefore, w.ssm.Value(record.JournalParam(workload)))
}
