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

func TestWaitBudget(t *testing.T) {
	e := &Engine{cfg: Config{DeadlineMargin: 30 * time.Second}}
	assert.Equal(t, 10*time.Minute, e.waitBudget(context.Background(), 10*time.Minute, time.Minute), "no deadline: unchanged")

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	assert.Equal(t, time.Minute, e.waitBudget(ctx, time.Minute, 0), "far deadline: unchanged")
	got := e.waitBudget(ctx, 2*time.Hour, time.Minute)
	assert.Less(t, got, time.Hour-90*time.Second+time.Millisecond, "cut to leave reserve and margin")
	assert.Greater(t, got, 50*time.Minute)

	soon, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	assert.Equal(t, time.Duration(0), e.waitBudget(soon, time.Minute, 0), "never negative")
}
