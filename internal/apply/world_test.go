package apply_test

// The fake world of the runner's unit tests: an in-memory inventory (subnets,
// an array with hosts and maps, launch templates, instances) and six fake
// steps shaped like setup's (enable LNI, array host, map with LUN read-back,
// launch template, launch, record). Everything here is a fake; the record
// store is the real internal/record code on the Parameter Store fake.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/record/recordtest"
)

const (
	workload = "web01"
	answers  = "workload: web01\nregion: us-west-2\n"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// clock is the injected clock shared by runners and stores.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// item is one thing in the inventory.
type item struct {
	Kind  string
	ID    string
	Name  string
	Tags  map[string]string
	Attrs map[string]string
}

// inventory is the fake cloud plus array.
type inventory struct {
	mu      sync.Mutex
	items   map[string]item
	seq     int
	creates int
}

func newInventory() *inventory {
	inv := &inventory{items: map[string]item{}}
	// Pre-existing things setup must not remove: two subnets (one with LNI
	// already enabled), another workload's array host, and an unrelated
	// instance.
	inv.items["subnet-p"] = item{Kind: "subnet", ID: "subnet-p", Attrs: map[string]string{"lni": "0"}}
	inv.items["subnet-s"] = item{Kind: "subnet", ID: "subnet-s", Attrs: map[string]string{"lni": "1"}}
	inv.items["host-other"] = item{Kind: "host", ID: "host-other", Name: "oha-other"}
	inv.items["i-other"] = item{Kind: "instance", ID: "i-other", Tags: map[string]string{naming.TagWorkload: "other"}}
	return inv
}

func (inv *inventory) snapshot() map[string]item {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	out := map[string]item{}
	for k, v := range inv.items {
		v.Tags = maps.Clone(v.Tags)
		v.Attrs = maps.Clone(v.Attrs)
		out[k] = v
	}
	return out
}

func (inv *inventory) create(kind, name string, tags, attrs map[string]string) item {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.seq++
	inv.creates++
	it := item{Kind: kind, ID: fmt.Sprintf("%s-%04d", kind, inv.seq), Name: name, Tags: tags, Attrs: attrs}
	inv.items[it.ID] = it
	return it
}

func (inv *inventory) find(match func(item) bool) (item, int) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	var found item
	n := 0
	ids := make([]string, 0, len(inv.items))
	for id := range inv.items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if match(inv.items[id]) {
			found = inv.items[id]
			n++
		}
	}
	return found, n
}

func (inv *inventory) remove(id string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	delete(inv.items, id)
}

func (inv *inventory) setAttr(id, k, v string, tag map[string]string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	it := inv.items[id]
	it.Attrs = maps.Clone(it.Attrs)
	it.Attrs[k] = v
	it.Tags = tag
	inv.items[id] = it
}

// fault says where a test makes a step fail.
type fault struct {
	step  string
	point string // "before" (error, nothing made), "after" (made, then error), "crash" (made, then the machine dies)
}

var errInjected = errors.New("injected failure")

// world is one test's fake cloud, array, Parameter Store and clock.
type world struct {
	inv   *inventory
	ssm   *recordtest.SSM
	clock *clock
	fault fault
	// stepDelay is how long each Do takes on the injected clock.
	stepDelay time.Duration
	// undone counts Undo calls per resource ID (never twice, never foreign).
	mu       sync.Mutex
	undoneBy map[string]int
	foreign  []string
	tokens   int
}

func newWorld() *world {
	return &world{inv: newInventory(), ssm: &recordtest.SSM{}, clock: &clock{now: t0}, stepDelay: time.Second, undoneBy: map[string]int{}}
}

// machine is one process running setup: its own run ID and its own view of
// Parameter Store, which a "crash" kills.
type machine struct {
	w      *world
	dead   atomic.Bool
	runner *apply.Runner
	events []apply.Event
}

// deadSSM fails every call once the machine has crashed.
type deadSSM struct {
	m     *machine
	inner record.SSM
}

var errDead = errors.New("machine crashed")

func (d deadSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, o ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if d.m.dead.Load() {
		return nil, errDead
	}
	return d.inner.GetParameter(ctx, in, o...)
}

func (d deadSSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if d.m.dead.Load() {
		return nil, errDead
	}
	return d.inner.PutParameter(ctx, in, o...)
}

func (d deadSSM) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, o ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	if d.m.dead.Load() {
		return nil, errDead
	}
	return d.inner.DeleteParameter(ctx, in, o...)
}

// newToken numbers the tokens a world hands out: a resume that made a new
// token instead of keeping the journal's would not find what the first run
// made, and the inventory checks would see duplicates.
func (w *world) newToken() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokens++
	return fmt.Sprintf("setup-token-%d", w.tokens)
}

func (w *world) machine(runID string) *machine {
	m := &machine{w: w}
	store := &record.Store{SSM: deadSSM{m: m, inner: w.ssm}, Workload: workload, Now: w.clock.Now,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	m.runner = &apply.Runner{
		Store: store, RunID: runID, Owner: "tester@" + runID, AnswersSHA256: record.HashAnswers(answers),
		LeaseTTL: 30 * time.Minute, Now: w.clock.Now, NewToken: w.newToken,
		OnEvent: func(e apply.Event) { m.events = append(m.events, e) },
	}
	m.runner.Steps = w.steps(m)
	return m
}

// hit applies the fault for step at point; made says whether the step has
// created its resource already.
func (w *world) hit(m *machine, step, point string) error {
	if w.fault.step != step || w.fault.point != point {
		return nil
	}
	w.fault = fault{} // fires once
	if point == "crash" {
		m.dead.Store(true)
		return nil
	}
	return errInjected
}

func (w *world) noteUndo(r record.Resource) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.undoneBy[r.ID]++
	if !r.CreatedByUs {
		w.foreign = append(w.foreign, r.ID)
	}
}

// fakeStep is a Step built from functions.
type fakeStep struct {
	name string
	find func(ctx context.Context, env apply.Env) (apply.Result, bool, error)
	do   func(ctx context.Context, env apply.Env) (apply.Result, error)
	undo func(ctx context.Context, r apply.Result) error
}

func (s *fakeStep) Name() string { return s.name }
func (s *fakeStep) Find(ctx context.Context, env apply.Env) (apply.Result, bool, error) {
	return s.find(ctx, env)
}
func (s *fakeStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	return s.do(ctx, env)
}
func (s *fakeStep) Undo(ctx context.Context, r apply.Result) error { return s.undo(ctx, r) }

func ours() map[string]string {
	return map[string]string{naming.TagWorkload: workload, naming.TagManaged: naming.ManagedBy}
}

// createStep makes one tagged item; Find finds it by the setup's token tag
// (proof that this setup made it; the workload tag alone is no proof).
func (w *world) createStep(m *machine, name, kind, objName string, attrs func(prior apply.Results) map[string]string, outputs func(it item) map[string]string) apply.Step {
	match := func(token string) func(it item) bool {
		return func(it item) bool {
			return it.Kind == kind && it.Tags[naming.TagWorkload] == workload && it.Tags["step"] == name && it.Tags["setup"] == token
		}
	}
	result := func(it item, created bool) apply.Result {
		return apply.Result{Resources: []record.Resource{{Type: kind, ID: it.ID, Region: "us-west-2", Tags: it.Tags, CreatedByUs: created, Attrs: it.Attrs}}, Outputs: outputs(it)}
	}
	s := &fakeStep{name: name}
	s.find = func(_ context.Context, env apply.Env) (apply.Result, bool, error) {
		it, n := w.inv.find(match(env.Token))
		if n == 0 {
			return apply.Result{}, false, nil
		}
		return result(it, true), true, nil
	}
	s.do = func(_ context.Context, env apply.Env) (apply.Result, error) {
		w.clock.Add(w.stepDelay)
		if err := w.hit(m, name, "before"); err != nil {
			return apply.Result{}, err
		}
		// Deliberately naive: Do creates without looking first (as
		// RunInstances would without a ClientToken), so only the runner's
		// skip-done and Find-before-re-run keep the inventory free of
		// duplicates; the tests prove the runner, not the step.
		tags := ours()
		tags["step"] = name
		tags["setup"] = env.Token
		it := w.inv.create(kind, objName, tags, attrs(env.Prior))
		if err := w.hit(m, name, "after"); err != nil {
			// A step that fails after creating: it may or may not report what
			// it made. This one does not, the hardest case: the resume and
			// the abort must find it.
			return apply.Result{}, err
		}
		_ = w.hit(m, name, "crash")
		return result(it, true), nil
	}
	s.undo = func(_ context.Context, r apply.Result) error {
		for _, x := range r.Resources {
			w.noteUndo(x)
			w.inv.remove(x.ID)
		}
		return nil
	}
	return s
}

// steps returns setup-shaped steps bound to machine m.
func (w *world) steps(m *machine) []apply.Step {
	none := func(apply.Results) map[string]string { return nil }

	// 1. LNI: enable on subnet-p (ours: tagged), subnet-s already enabled
	// (listed, not ours).
	lniResult := func(createdP bool) apply.Result {
		return apply.Result{Resources: []record.Resource{
			{Type: "lni", ID: "subnet-p", Region: "us-west-2", CreatedByUs: createdP, Attrs: map[string]string{"previous": "0"}},
			{Type: "lni", ID: "subnet-s", Region: "us-west-2", CreatedByUs: false},
		}}
	}
	lni := &fakeStep{name: "lni"}
	lni.find = func(_ context.Context, env apply.Env) (apply.Result, bool, error) {
		it, _ := w.inv.find(func(it item) bool { return it.ID == "subnet-p" })
		if it.Attrs["lni"] == "1" && it.Tags["outposts-ha:lni-enabled-by"] == env.Token {
			return lniResult(true), true, nil
		}
		return apply.Result{}, false, nil
	}
	lni.do = func(_ context.Context, env apply.Env) (apply.Result, error) {
		w.clock.Add(w.stepDelay)
		if err := w.hit(m, "lni", "before"); err != nil {
			return apply.Result{}, err
		}
		it, _ := w.inv.find(func(it item) bool { return it.ID == "subnet-p" })
		if it.Attrs["lni"] != "1" {
			w.inv.setAttr("subnet-p", "lni", "1", map[string]string{"outposts-ha:lni-enabled-by": env.Token})
		}
		if err := w.hit(m, "lni", "after"); err != nil {
			return apply.Result{}, err
		}
		_ = w.hit(m, "lni", "crash")
		return lniResult(true), nil
	}
	lni.undo = func(_ context.Context, r apply.Result) error {
		for _, x := range r.Resources {
			w.noteUndo(x)
			w.inv.setAttr(x.ID, "lni", x.Attrs["previous"], nil)
		}
		return nil
	}

	host := w.createStep(m, "array-host", "host", "oha-"+workload, none, func(it item) map[string]string { return map[string]string{"host": it.ID} })
	mapping := w.createStep(m, "array-map", "map", "vol-boot",
		func(p apply.Results) map[string]string {
			return map[string]string{"host": p.Output("array-host", "host"), "volume": "vol-boot", "lun": "26"}
		},
		func(it item) map[string]string { return map[string]string{"lun": it.Attrs["lun"]} })
	lt := w.createStep(m, "launch-template", "lt", naming.LaunchTemplate(workload, naming.RolePrimary),
		func(p apply.Results) map[string]string {
			return map[string]string{"userdata": "sanboot iscsi:...:" + p.Output("array-map", "lun")}
		},
		func(it item) map[string]string { return map[string]string{"lt": it.ID} })
	inst := w.createStep(m, "launch", "instance", "",
		func(p apply.Results) map[string]string {
			return map[string]string{"lt": p.Output("launch-template", "lt")}
		},
		func(it item) map[string]string { return map[string]string{"instance": it.ID} })

	// 6. The record: apply.RecordStep on the real record store, with the
	// faults around it.
	inner := &apply.RecordStep{Store: m.runner.Store, Region: "us-west-2", Answers: answers, RunID: m.runner.RunID, Now: w.clock.Now}
	rec := &fakeStep{name: inner.Name(), find: inner.Find, undo: func(ctx context.Context, r apply.Result) error {
		for _, x := range r.Resources {
			w.noteUndo(x)
		}
		return inner.Undo(ctx, r)
	}}
	rec.do = func(ctx context.Context, env apply.Env) (apply.Result, error) {
		w.clock.Add(w.stepDelay)
		if err := w.hit(m, "record", "before"); err != nil {
			return apply.Result{}, err
		}
		res, err := inner.Do(ctx, env)
		if err != nil {
			return res, err
		}
		if err := w.hit(m, "record", "after"); err != nil {
			return apply.Result{}, err
		}
		_ = w.hit(m, "record", "crash")
		return res, nil
	}
	return []apply.Step{lni, host, mapping, lt, inst, rec}
}

var stepNames = []string{"lni", "array-host", "array-map", "launch-template", "launch", "record"}

// describeInventory is a stable text of the inventory for failure messages.
func describeInventory(m map[string]item) string {
	var lines []string
	for id, it := range m {
		lines = append(lines, fmt.Sprintf("%s %s %s %v %v", id, it.Kind, it.Name, it.Tags, it.Attrs))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
