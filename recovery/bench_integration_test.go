//go:build integration

// Benchmarks of one whole failover against moto (see world_integration_test.go):
//
//	scripts/with-moto.sh go test -tags integration -run '^$' -bench Failover -benchtime 20x ./recovery/
//
// ms/event-to-run is the engine's own time from receiving the alarm event to
// calling RunInstances (moto answers in about a millisecond, and the fence is
// confirmed at once, so this is the engine's overhead plus local round trips);
// ms/decision-to-run is from the policy decision to RunInstances (the lock);
// calls/failover counts every AWS call the engine makes for one failover.
package recovery_test

import (
	"context"
	"sync"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/recovery"
)

// runClock notes when RunInstances is called.
type runClock struct {
	impaired
	mu sync.Mutex
	at time.Time
}

func (d *runClock) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	d.mu.Lock()
	d.at = time.Now()
	d.mu.Unlock()
	return d.EC2.RunInstances(ctx, in, o...)
}

func BenchmarkFailover(b *testing.B) {
	var eventToRun, decisionToRun time.Duration
	calls := 0
	for i := range b.N {
		b.StopTimer()
		w := newWorld(b)
		w.setAlarm(b, cwtypes.StateValueAlarm)
		clock := &runClock{impaired: impaired{id: w.primary}}
		e := w.engine(b, options{ec2: func(next recovery.EC2) recovery.EC2 { clock.EC2 = next; return clock }})
		ev := w.alarmEvent(b, "ALARM", time.Now())
		w.calls.Reset()
		b.StartTimer()

		start := time.Now()
		res, err := e.HandleAlarm(context.Background(), ev)

		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, recovery.OutcomeLaunched, res.Outcome)
		tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
		require.NoError(b, err)
		eventToRun += clock.at.Sub(start)
		decisionToRun += clock.at.Sub(tl.DecisionAt)
		calls += w.calls.Len()
		if i == 0 {
			b.Logf("calls of one failover: %v", w.calls.Summary())
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(eventToRun.Microseconds())/1000/n, "ms/event-to-run")
	b.ReportMetric(float64(decisionToRun.Microseconds())/1000/n, "ms/decision-to-run")
	b.ReportMetric(float64(calls)/n, "calls/failover")
}
