//go:build integration

// Integration tests against moto (see world_integration_test.go) of what real
// AWS does and moto does not: SSM's TooManyUpdates when two deliveries write
// the lock at once. A decorator around the real SSM client (a fake on that one
// call) answers with TooManyUpdates; everything else is moto.
package recovery_test

import (
	"context"
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
