//go:build integration

// Integration tests against moto (see world_integration_test.go) of "never
// two writers, for real" (issue 8 §3): an unreachable primary is not stopped,
// the fenced primary is tagged and then terminated once the recovery instance
// passes its checks (or by the retry when that does not fit), and the
// dry-run drill's added checks. The AWS/Outposts metrics are real moto
// metrics (PutMetricData); decorators stand in only for what moto cannot do
// on cue (a recovery instance whose status checks are still initializing, a
// subnet's EnableLniAtDeviceIndex, a failing Publish).
package recovery_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// Disconnected is not dead: with the primary Outpost's ConnectedStatus at 0
// (or missing) the stop is never sent. confirmed asks for approval saying
// "unreachable, not confirmed stopped"; automatic launches (acknowledged risk)
// and says so in the notification, tags the primary fenced, and terminates it
// once the recovery instance passed its checks. A connected Outpost still
// gets the stop. On the code before the fix, every case sent StopInstances.
func TestUnreachablePrimaryIsNotStopped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		policy   recovery.Policy
		samples  []float64 // the 3 minutes before the alarm, then the alarm's minute
		stop     bool
		launched bool
	}{
		{"confirmed, disconnected", recovery.PolicyConfirmed, []float64{0, 0, 0, 0}, false, false},
		{"confirmed, no data", recovery.PolicyConfirmed, nil, false, false},
		{"automatic, disconnected", recovery.PolicyAutomatic, []float64{0, 0, 0, 0}, false, true},
		{"confirmed, connected", recovery.PolicyConfirmed, []float64{1, 1, 1, 1}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.setAlarm(t, cwtypes.StateValueAlarm)
			alarmAt := time.Now().UTC()
			if tc.samples != nil {
				w.putConnected(t, alarmAt.Truncate(time.Minute).Add(-3*time.Minute), tc.samples...)
			}
			// Virtual clock at the alarm's time: the metric windows are read
			// relative to it, however long the machine takes to get here.
			e := w.engine(t, options{policy: tc.policy, ec2: failingPrimary(w), outpost: true, clock: recovery.NewFakeClock(alarmAt)})
			res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", alarmAt))
			require.NotNil(t, res.Fence, "reason: %s", res.Reason)
			notes := w.notifications(t)
			require.Len(t, notes, 1)
			if tc.stop {
				assert.Equal(t, 1, w.calls.Count("StopInstances"))
				assert.False(t, res.Fence.Unreachable)
				assert.Contains(t, res.Fence.Connectivity, "connected (ConnectedStatus 1")
			} else {
				assert.Zero(t, w.calls.Count("StopInstances"), "no stop to an unreachable primary; calls: %v", w.calls.Summary())
				assert.True(t, res.Fence.Unreachable)
				assert.False(t, res.Fence.Confirmed)
				assert.Contains(t, notes[0].Summary, "unreachable, not confirmed stopped")
			}
			if !tc.launched {
				require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation)
				assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome)
				assert.Equal(t, recovery.KindApprovalRequired, notes[0].Kind)
				assert.Equal(t, "running", w.primaryState(t))
				assert.Empty(t, w.recoveryInstances(t))
				assert.NotContains(t, w.primaryTags(t), naming.TagFenced, "nothing launched, nothing fenced")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
			assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
			assert.Len(t, w.recoveryInstances(t), 1)
			assert.Equal(t, "true", w.primaryTags(t)[naming.TagFenced])
			assert.Equal(t, 1, w.calls.Count("TerminateInstances"))
			details := strings.Join(notes[0].Details, " ")
			assert.Contains(t, details, "Fence: tagged "+w.primary)
			assert.Contains(t, details, "Terminate: terminated the old primary "+w.primary)
			if !tc.stop {
				assert.Contains(t, details, "PRIMARY UNREACHABLE, NOT CONFIRMED STOPPED")
				assert.Contains(t, details, "EC2 may carry the terminate out only when it reconnects")
			}
		})
	}
}

// recoveryChecks reports every instance but the primary with its instance
// status check initializing while busy is set: a recovery instance that runs
// but has not passed its checks yet.
type recoveryChecks struct {
	impaired
	busy atomic.Bool
}

func (d *recoveryChecks) DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, o ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	out, err := d.impaired.DescribeInstanceStatus(ctx, in, o...)
	if err != nil || !d.busy.Load() {
		return out, err
	}
	for i, s := range out.InstanceStatuses {
		if aws.ToString(s.InstanceId) != d.id {
			out.InstanceStatuses[i].InstanceStatus = &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusInitializing}
		}
	}
	return out, nil
}

// The recovery instance runs but does not pass its checks within the
// invocation (virtual clock): the failover is recorded and notified, the
// primary stays stopped and tagged fenced, and ErrRetirePending makes Lambda
// retry. The retry, once the checks pass, terminates the primary, records it
// and notifies; a later delivery does nothing.
func TestRetirePendingIsFinishedByTheRetry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	clk := recovery.NewFakeClock(time.Now())
	dec := &recoveryChecks{impaired: impaired{id: w.primary}}
	dec.busy.Store(true)
	e := w.engine(t, options{clock: clk, ec2: func(next recovery.EC2) recovery.EC2 { dec.EC2 = next; return dec },
		cfg: func(c *recovery.Config) { c.LaunchPoll, c.RetireTimeout = 500*time.Millisecond, 5*time.Second }})
	ev := w.alarmEvent(t, "ALARM", clk.Now())

	res, err := e.HandleAlarm(context.Background(), ev)
	require.ErrorIs(t, err, recovery.ErrRetirePending)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Equal(t, 5*time.Second, clk.Slept(), "waited RetireTimeout for the checks")
	assert.Equal(t, "stopped", w.primaryState(t))
	assert.Equal(t, "true", w.primaryTags(t)[naming.TagFenced])
	assert.Zero(t, w.calls.Count("TerminateInstances"))
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.RetirePending, lock.Retire)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
	assert.Contains(t, strings.Join(notes[0].Details, " "), "Terminate: old primary "+w.primary+" not terminated yet")

	// Lambda's retry, once the recovery instance passes its checks.
	dec.busy.Store(false)
	clk.Advance(time.Minute)
	res, err = e.HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeDuplicate, res.Outcome)
	assert.Contains(t, res.Reason, "terminated the old primary "+w.primary)
	assert.Equal(t, "terminated", w.primaryState(t))
	lock, err = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.RetireDone, lock.Retire)
	notes = w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindPrimaryRetired, notes[0].Kind)
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	last := tl.Events[len(tl.Events)-1]
	assert.Equal(t, "terminate", last.Step)
	assert.Contains(t, last.Detail, "terminated the old primary")

	w.calls.Reset()
	res, err = e.HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeDuplicate, res.Outcome)
	assert.Empty(t, w.calls.Mutating())
	assert.Empty(t, w.notifications(t))
}

// putCapacity publishes AWS/Outposts AvailableInstanceType_Count for the
// secondary Outpost and the template's instance type into moto.
func (w *world) putCapacity(t testing.TB, value float64) {
	t.Helper()
	_, err := w.admin.cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/Outposts"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("AvailableInstanceType_Count"), Value: aws.Float64(value), Timestamp: aws.Time(time.Now().Add(-time.Minute)),
			Dimensions: []cwtypes.Dimension{
				{Name: aws.String("OutpostId"), Value: aws.String(w.secondaryOutpost)},
				{Name: aws.String("InstanceType"), Value: aws.String("t3.micro")},
			},
		}},
	})
	require.NoError(t, err)
}

// failPublish refuses every Publish.
type failPublish struct{ recovery.SNS }

func (failPublish) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return nil, errors.New("AuthorizationError: not authorized to perform sns:Publish")
}

// The dry-run drill's added checks (issue 8 §3): alarm state OK only, the
// LNI subnet, the secondary Outpost's capacity, the DLQ, and a published
// "[drill]" notification. Each case breaks one thing and expects exactly that
// check to fail.
func TestDryRunDrillAddedChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, w *world, o *options)
		failed string // the one failing check, "" none
		detail string
	}{
		{"ready, capacity skipped", func(*testing.T, *world, *options) {}, "", "skipped: no secondary Outpost ID"},
		{"capacity available", func(t *testing.T, w *world, o *options) {
			w.putCapacity(t, 2)
			o.cfg = func(c *recovery.Config) { c.SecondaryOutpostID = w.secondaryOutpost }
		}, "", "can launch 2 more t3.micro"},
		{"no capacity", func(t *testing.T, w *world, o *options) {
			w.putCapacity(t, 0)
			o.cfg = func(c *recovery.Config) { c.SecondaryOutpostID = w.secondaryOutpost }
		}, "secondary capacity", "has no free t3.micro"},
		{"no capacity data", func(t *testing.T, w *world, o *options) {
			o.cfg = func(c *recovery.Config) { c.SecondaryOutpostID = w.secondaryOutpost }
		}, "secondary capacity", "no AvailableInstanceType_Count data"},
		{"alarm in ALARM", func(t *testing.T, w *world, o *options) { w.setAlarm(t, cwtypes.StateValueAlarm) }, "alarm", "state ALARM, want OK"},
		{"alarm without data", func(t *testing.T, w *world, o *options) { w.setAlarm(t, cwtypes.StateValueInsufficientData) }, "alarm", "state INSUFFICIENT_DATA, want OK"},
		{"LNI not enabled", func(t *testing.T, w *world, o *options) {
			o.ec2 = func(next recovery.EC2) recovery.EC2 { return lniSubnets{EC2: next, index: 0} }
		}, "LNI subnet", "EnableLniAtDeviceIndex=0, want 1"},
		{"DLQ deleted", func(t *testing.T, w *world, o *options) {
			_, err := w.admin.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(w.dlq)})
			require.NoError(t, err)
		}, "dead-letter queue", "SQS deletes a queue unused for 30 days"},
		{"publish refused", func(t *testing.T, w *world, o *options) {
			o.sns = func(next recovery.SNS) recovery.SNS { return failPublish{next} }
		}, "notification", "not authorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			o := options{}
			tc.setup(t, w, &o)
			rep, err := w.engine(t, o).Drill(context.Background(), recovery.DrillRequest{Kind: "drill", DryRun: true, RequestedBy: "it"})
			require.NoError(t, err)
			failed := map[string]string{}
			all := map[string]string{}
			for _, c := range rep.Checks {
				name := c.Name
				if strings.HasPrefix(name, "alarm ") {
					name = "alarm"
				}
				all[name] = c.Detail
				if !c.OK {
					failed[name] = c.Detail
				}
			}
			for _, name := range []string{"LNI subnet", "secondary capacity", "dead-letter queue", "notification"} {
				assert.Contains(t, all, name)
			}
			if tc.failed == "" {
				assert.Empty(t, failed)
				assert.True(t, rep.Ready)
				assert.Contains(t, all["secondary capacity"], tc.detail)
			} else {
				assert.Len(t, failed, 1, "failed: %v", failed)
				assert.Contains(t, failed[tc.failed], tc.detail)
				assert.False(t, rep.Ready)
			}
			if tc.failed != "notification" {
				notes := w.notifications(t)
				require.Len(t, notes, 1)
				assert.Equal(t, recovery.KindDrill, notes[0].Kind)
				assert.True(t, strings.HasPrefix(notes[0].Summary, "[drill] "))
			}
		})
	}
}
