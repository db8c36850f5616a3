//go:build integration

// Integration tests against moto (see world_integration_test.go) of what real
// AWS does and moto does not: SSM's TooManyUpdates when two deliveries write
// the lock at once. A decorator around the real SSM client (a fake on that one
// call) answers with TooManyUpdates; everything else is moto.
package recovery_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// busyLock answers the first `busy` writes of the lock with TooManyUpdates;
// before the first, it runs `first` (the other delivery, which wins).
type busyLock struct {
	recovery.SSM
	lock  string
	busy  int32
	first func()
	once  sync.Once
	n     atomic.Int32
}

func (d *busyLock) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if aws.ToString(in.Name) == d.lock && d.n.Add(1) <= d.busy {
		d.once.Do(d.first)
		return nil, &smithy.GenericAPIError{Code: "TooManyUpdates", Message: "There are concurrent updates for a resource that supports one update at a time."}
	}
	return d.SSM.PutParameter(ctx, in, o...)
}

// The status and the connected alarm fire together. The connected alarm's
// delivery takes the lock and launches; the status alarm's delivery meets
// TooManyUpdates on its lock write. It must retry (or count the swap as
// lost), find the launch and stand down: no "failover FAILED" e-mail while
// the other delivery launched. On the code before the fix, the losing
// delivery published failover-failed.
func TestTooManyUpdatesLoserDoesNotReportFailure(t *testing.T) {
	t.Parallel()
	for _, busy := range []int32{2, 50} { // retried then AlreadyExists; still busy after every retry (a lost swap)
		t.Run(map[int32]string{2: "retried", 50: "exhausted"}[busy], func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.setAlarm(t, cwtypes.StateValueAlarm)
			connected := w.putConnectedAlarm(t)
			status := w.alarmEvent(t, "ALARM", time.Now())
			conn := status
			conn.AlarmName = connected

			winner := w.engine(t, options{ec2: failingPrimary(w), connectedAlarm: connected})
			var wres recovery.Result
			var werr error
			dec := &busyLock{lock: naming.LockParam(w.workload), busy: busy, first: func() {
				wres, werr = winner.HandleAlarm(context.Background(), conn)
			}}
			loser := w.engine(t, options{ec2: failingPrimary(w), connectedAlarm: connected,
				ssm: func(next recovery.SSM) recovery.SSM { dec.SSM = next; return dec }})

			res, err := loser.HandleAlarm(context.Background(), status)
			require.NoError(t, werr)
			assert.Equal(t, recovery.OutcomeLaunched, wres.Outcome)
			require.NoError(t, err, "the losing delivery is not a failure")
			assert.Equal(t, recovery.OutcomeAlreadyFailedOver, res.Outcome, "reason: %s", res.Reason)
			assert.GreaterOrEqual(t, dec.n.Load(), int32(2), "the loser met TooManyUpdates")
			assert.Len(t, w.recoveryInstances(t), 1)
			notes := w.notifications(t)
			require.Len(t, notes, 1, "only the winner's notification")
			assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
		})
	}
}

// retriedLock makes every write of the lock land twice, as when a transport
// loses the answer of a write that had landed and the SDK sends it again: the
// caller sees only the second answer (ParameterAlreadyExists for a create, a
// version two above the one it read for an overwrite).
type retriedLock struct {
	recovery.SSM
	lock string
	n    atomic.Int32
}

func (d *retriedLock) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if aws.ToString(in.Name) != d.lock {
		return d.SSM.PutParameter(ctx, in, o...)
	}
	d.n.Add(1)
	if _, err := d.SSM.PutParameter(ctx, in, o...); err != nil {
		return nil, err
	}
	return d.SSM.PutParameter(ctx, in, o...)
}

// A delivery whose own lock writes were retried after landing still owns the
// lock and launches once: its create meeting its own parameter, and a takeover
// of a failed lock whose write landed twice, are wins. Before the fix the
// create case waited for "another delivery" (itself) until its lease ran out,
// and the takeover case stood down as a lost swap: no failover at all.
func TestOwnRetriedLockWritesStillLaunch(t *testing.T) {
	t.Parallel()
	for _, takeover := range []bool{false, true} {
		t.Run(map[bool]string{false: "create", true: "takeover"}[takeover], func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.setAlarm(t, cwtypes.StateValueAlarm)
			if takeover {
				failed := recovery.Lock{Token: "00112233445566778899aabbccddeeff", Alarm: w.statusAlarm(), State: recovery.LockFailed,
					Owner: "first-run", Attempt: 1, Primary: w.primary, Error: "InsufficientInstanceCapacity"}
				b, err := json.Marshal(failed)
				require.NoError(t, err)
				w.putParam(t, naming.LockParam(w.workload), string(b))
			}
			dec := &retriedLock{lock: naming.LockParam(w.workload)}
			clk := recovery.NewFakeClock(time.Now())
			e := w.engine(t, options{ec2: failingPrimary(w), clock: clk,
				ssm: func(next recovery.SSM) recovery.SSM { dec.SSM = next; return dec }})
			ctx, cancel := clk.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			res, err := e.HandleAlarm(ctx, w.alarmEvent(t, "ALARM", time.Now()))
			require.NoError(t, err)
			assert.Equal(t, recovery.OutcomeLaunched, res.Outcome, "reason: %s", res.Reason)
			assert.Positive(t, dec.n.Load(), "the lock writes went through the doubling transport")
			assert.Len(t, w.recoveryInstances(t), 1)
			assert.Equal(t, 1, w.calls.Count("RunInstances"))
		})
	}
}
