// Unit tests of the pure parts of the safety checks (no AWS): which instances
// count as other writers, the error they produce, when a launched lock's
// record is complete, and how waits are cut to a context's deadline. The
// checks' behaviour against AWS is tested against moto in
// safety_integration_test.go.
package recovery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOtherWriters(t *testing.T) {
	list := []instance{
		{id: "i-primary", state: "running"},
		{id: "i-stopped", state: "stopped"},
		{id: "i-terminated", state: "terminated"},
		{id: "i-ours", state: "pending", lock: "tok"},
		{id: "i-earlier", state: "running", lock: "earlier"},
		{id: "i-relaunch", state: "running", role: "primary"},
		{id: "i-stopping", state: "stopping"},
		{id: "i-dying", state: "shutting-down"},
		{id: "i-untagged-lock", state: "running", lock: ""},
	}
	var got []string
	for _, in := range otherWriters(list, "i-primary", "tok", "") {
		got = append(got, in.id)
	}
	assert.Equal(t, []string{"i-earlier", "i-relaunch", "i-stopping", "i-dying", "i-untagged-lock"}, got,
		"an empty token must not excuse an instance without the lock tag")

	got = nil
	for _, in := range otherWriters(list, "i-primary", "tok", "earlier") {
		got = append(got, in.id)
	}
	assert.Equal(t, []string{"i-relaunch", "i-stopping", "i-dying", "i-untagged-lock"}, got)
}

func TestOtherInstancesError(t *testing.T) {
	oe := othersError([]instance{{id: "i-1", state: "running", role: "primary"}, {id: "i-2", state: "pending", lock: "x"}})
	var err error = oe
	wrapped := errors.Join(errors.New("context"), err)
	assert.ErrorIs(t, wrapped, ErrOtherInstances)
	assert.ErrorIs(t, wrapped, ErrAwaitingConfirmation)
	assert.NotErrorIs(t, wrapped, ErrNotManaged)
	var got *OtherInstancesError
	require.ErrorAs(t, wrapped, &got)
	assert.Equal(t, []string{"i-1", "i-2"}, got.Instances)
	assert.Contains(t, err.Error(), "i-1 (running, role primary)")
	assert.Contains(t, err.Error(), "i-2 (pending, failover x)")
}

func TestRecorded(t *testing.T) {
	l := Lock{Token: "t", State: LockLaunched, Instance: "i-r"}
	done := Timeline{Token: "t", RecoveryInstance: "i-r", NotifiedAt: time.Now()}
	assert.True(t, recorded(done, l))
	for name, tl := range map[string]Timeline{
		"not notified":      {Token: "t", RecoveryInstance: "i-r"},
		"launch not stored": {Token: "t", NotifiedAt: time.Now()}, // e.g. an earlier approval request
		"other failover":    {Token: "u", RecoveryInstance: "i-r", NotifiedAt: time.Now()},
		"no timeline":       {},
	} {
		assert.False(t, recorded(tl, l), name)
	}
}

// The wait budget runs on the engine's clock (a virtual one here), so the
// figures are exact and a loaded machine cannot change them.
func TestWaitBudget(t *testing.T) {
	clk := NewFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	e := &Engine{cfg: Config{DeadlineMargin: 30 * time.Second}, clock: clk}
	assert.Equal(t, 10*time.Minute, e.waitBudget(context.Background(), 10*time.Minute, time.Minute), "no deadline: unchanged")

	ctx, cancel := clk.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	assert.Equal(t, time.Minute, e.waitBudget(ctx, time.Minute, 0), "far deadline: unchanged")
	assert.Equal(t, time.Hour-90*time.Second, e.waitBudget(ctx, 2*time.Hour, time.Minute), "cut to leave reserve and margin")
	clk.Advance(30 * time.Minute)
	assert.Equal(t, 30*time.Minute-90*time.Second, e.waitBudget(ctx, 2*time.Hour, time.Minute), "the time left shrinks with the clock")

	soon, cancel2 := clk.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	assert.Equal(t, time.Duration(0), e.waitBudget(soon, time.Minute, 0), "never negative")
}

// The virtual clock's contexts end at their deadline, with
// context.DeadlineExceeded, only when the virtual time gets there, and end
// with their parent.
func TestFakeClockDeadlines(t *testing.T) {
	clk := NewFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	parent, cancelParent := clk.WithTimeout(context.Background(), 3*time.Second)
	defer cancelParent()
	child, cancelChild := clk.WithTimeout(parent, time.Hour)
	defer cancelChild()
	dl, ok := child.Deadline()
	require.True(t, ok)
	assert.Equal(t, clk.Now().Add(3*time.Second), dl, "a child never outlives its parent")
	require.NoError(t, clk.Sleep(parent, 2*time.Second))
	assert.NoError(t, parent.Err())
	assert.ErrorIs(t, clk.Sleep(parent, 2*time.Second), context.DeadlineExceeded)
	<-child.Done()
	assert.ErrorIs(t, child.Err(), context.DeadlineExceeded)
	assert.Equal(t, 4*time.Second, clk.Slept())
}

// A child of an ended parent is ended at once, as with context.WithDeadline:
// a record made under a killed invocation's context must not slip out.
func TestFakeClockEndedParent(t *testing.T) {
	clk := NewFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	parent, cancel := context.WithCancel(context.Background())
	cancel()
	child, cancelChild := clk.WithTimeout(parent, time.Hour)
	defer cancelChild()
	assert.ErrorIs(t, child.Err(), context.Canceled)
	select {
	case <-child.Done():
	default:
		t.Fatal("Done not closed")
	}
	live, cancelLive := context.WithCancel(context.Background())
	child2, cancelChild2 := clk.WithTimeout(live, time.Hour)
	defer cancelChild2()
	require.NoError(t, child2.Err())
	cancelLive()
	assert.ErrorIs(t, child2.Err(), context.Canceled, "seen at once after the parent ends")
}
