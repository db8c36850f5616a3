//go:build integration

// Integration tests of the engine's safety checks against moto (see
// world_integration_test.go): other live instances of the workload, a primary
// EC2 does not know, a primary that just restarted, waits cut to the
// invocation's deadline, a run killed after the launch, the email
// subscription check, and a lost takeover of the lock. Decorators around the
// real clients stand in only for what moto cannot do on cue: report status
// checks initializing, keep an instance pending, report an unconfirmed
// subscription, end a run at a chosen call, or interleave another run's writes.
package recovery_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// launchTagged starts an instance tagged for the workload, as an operator
// relaunching from lt-<w>-primary (or a run of the engine) would.
func (w *world) launchTagged(t testing.TB, role, lockToken string) string {
	t.Helper()
	tg := []ec2types.Tag{
		{Key: aws.String(naming.TagWorkload), Value: aws.String(w.workload)},
		{Key: aws.String(naming.TagRole), Value: aws.String(role)},
	}
	if lockToken != "" {
		tg = append(tg, ec2types.Tag{Key: aws.String(recovery.TagLock), Value: aws.String(lockToken)})
	}
	out, err := w.admin.ec2.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tg}},
	})
	require.NoError(t, err)
	return aws.ToString(out.Instances[0].InstanceId)
}

// watch points the status alarm at another instance ID (a stale or mistyped
// PrimaryInstanceId) and puts it in ALARM.
func (w *world) watch(t testing.TB, id string) {
	t.Helper()
	real := w.primary
	w.primary = id
	w.putAlarm(t, "breaching")
	w.primary = real
	w.setAlarm(t, cwtypes.StateValueAlarm)
}

const bogusInstance = "i-0badc0ffee0000001"

// The alarm watches an instance EC2 does not know while the workload's real
// primary runs, or an operator launched another instance of the workload:
// nothing is launched, whatever the policy or approval, and the approval
// request names the other instance.
func TestOtherLiveInstanceBlocksLaunch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy recovery.Policy
		setup  func(t *testing.T, w *world) (other string, ec2 func(recovery.EC2) recovery.EC2)
		manual bool
	}{
		{"stale primary id", recovery.PolicyConfirmed, func(t *testing.T, w *world) (string, func(recovery.EC2) recovery.EC2) {
			w.watch(t, bogusInstance)
			return w.primary, nil
		}, false},
		{"stale primary id, automatic", recovery.PolicyAutomatic, func(t *testing.T, w *world) (string, func(recovery.EC2) recovery.EC2) {
			w.watch(t, bogusInstance)
			return w.primary, nil
		}, false},
		{"operator relaunch", recovery.PolicyConfirmed, func(t *testing.T, w *world) (string, func(recovery.EC2) recovery.EC2) {
			w.setAlarm(t, cwtypes.StateValueAlarm)
			return w.launchTagged(t, naming.RolePrimary, ""), failingPrimary(w)
		}, false},
		{"operator relaunch, approved manual failover", recovery.PolicyConfirmed, func(t *testing.T, w *world) (string, func(recovery.EC2) recovery.EC2) {
			return w.launchTagged(t, naming.RolePrimary, ""), stuck(w)
		}, true},
		{"recovery instance launched by hand", recovery.PolicyConfirmed, func(t *testing.T, w *world) (string, func(recovery.EC2) recovery.EC2) {
			w.setAlarm(t, cwtypes.StateValueAlarm)
			return w.launchTagged(t, naming.RoleRecovery, ""), failingPrimary(w)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			other, dec := tc.setup(t, w)
			e := w.engine(t, options{policy: tc.policy, ec2: dec})
			before := ids(w.recoveryInstances(t))

			var res recovery.Result
			var err error
			if tc.manual {
				res, err = e.Failover(context.Background(), recovery.ManualRequest{By: "ops", Approve: true})
			} else {
				res, err = e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
			}
			require.ErrorIs(t, err, recovery.ErrOtherInstances)
			require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation, "Lambda's retries re-check")
			var oe *recovery.OtherInstancesError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, []string{other}, oe.Instances)
			assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome)
			assert.Contains(t, res.Reason, other)
			assert.Zero(t, w.calls.Count("RunInstances"), "calls: %v", w.calls.Summary())
			assert.Equal(t, before, ids(w.recoveryInstances(t)), "nothing launched")
			_, err = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
			assert.ErrorIs(t, err, recovery.ErrNoLock, "refused before the lock")

			tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
			require.NoError(t, err)
			assert.Equal(t, recovery.OutcomeAwaitingApproval, tl.Outcome)
			assert.Contains(t, steps(tl), "others")
			notes := w.notifications(t)
			require.Len(t, notes, 1)
			assert.Equal(t, recovery.KindApprovalRequired, notes[0].Kind)
			assert.Contains(t, notes[0].Summary, other)
			assert.Contains(t, strings.Join(notes[0].Details, " "), "PrimaryInstanceId")
		})
	}
}

func ids(list []ec2types.Instance) []string {
	var out []string
	for _, in := range list {
		out = append(out, aws.ToString(in.InstanceId))
	}
	return out
}

func steps(tl recovery.Timeline) []string {
	var out []string
	for _, ev := range tl.Events {
		out = append(out, ev.Step)
	}
	return out
}

// A primary EC2 does not know is not confirmed down. With no other live
// instance of the workload, only an operator's approved failover launches.
func TestAbsentPrimaryNeedsManualApproval(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.admin.ec2.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{w.primary}})
	require.NoError(t, err)
	w.watch(t, bogusInstance)
	alarmAt := time.Now().UTC()
	down := fakeHealth{}
	for m := alarmAt.Truncate(time.Minute).Add(-3 * time.Minute); !m.After(alarmAt); m = m.Add(time.Minute) {
		down = append(down, recovery.Sample{At: m, Value: 0})
	}

	for _, pol := range []recovery.Policy{recovery.PolicyConfirmed, recovery.PolicyAutomatic} {
		res, err := w.engine(t, options{policy: pol, health: down, outpost: true}).
			HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", alarmAt))
		require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation, pol)
		assert.NotErrorIs(t, err, recovery.ErrOtherInstances, pol)
		assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome, pol)
		require.NotNil(t, res.Fence)
		assert.False(t, res.Fence.Confirmed, pol)
		assert.Equal(t, "absent", res.Fence.State)
		assert.Contains(t, res.Fence.Detail, "not found by EC2")
	}
	assert.Zero(t, w.calls.Count("StopInstances"), "an unknown instance is not stopped")
	assert.Zero(t, w.calls.Count("RunInstances"))
	assert.Empty(t, w.recoveryInstances(t))

	e := w.engine(t, options{})
	_, err = e.Failover(context.Background(), recovery.ManualRequest{By: "ops"})
	require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation, "not without --approve")
	res, err := e.Failover(context.Background(), recovery.ManualRequest{By: "ops", Approve: true})
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Contains(t, res.Reason, "unknown to EC2")
	assert.Len(t, w.recoveryInstances(t), 1)
}

// secondListing counts the workload listings (DescribeInstances filtered by
// the workload tag) and starts another instance of the workload just before
// the second one: the one right before RunInstances.
type secondListing struct {
	impaired
	w *world
	t *testing.T
	n atomic.Int32
}

func (d *secondListing) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	for _, f := range in.Filters {
		if aws.ToString(f.Name) == "tag:"+naming.TagWorkload && d.n.Add(1) == 2 {
			d.w.launchTagged(d.t, naming.RolePrimary, "")
		}
	}
	return d.EC2.DescribeInstances(ctx, in, o...)
}

// An instance that appears after the check before the lock is caught by the
// check right before RunInstances: the lock is marked failed, nothing runs.
func TestOtherInstanceAppearingBeforeRunInstances(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	dec := &secondListing{impaired: impaired{id: w.primary}, w: w, t: t}
	e := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 { dec.EC2 = next; return dec }})

	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.ErrorIs(t, err, recovery.ErrOtherInstances)
	assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome)
	assert.Equal(t, int32(2), dec.n.Load())
	assert.Zero(t, w.calls.Count("RunInstances"))
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockFailed, lock.State, "a retry may take it over and check again")
	assert.Contains(t, lock.Error, "other live instances")
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindApprovalRequired, notes[0].Kind)
}

// initializingPrimary reports the primary's instance status check as
// initializing: it just rebooted.
type initializingPrimary struct {
	recovery.EC2
	id string
}

func (d *initializingPrimary) DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, o ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	out, err := d.EC2.DescribeInstanceStatus(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for i, s := range out.InstanceStatuses {
		if aws.ToString(s.InstanceId) == d.id {
			out.InstanceStatuses[i].InstanceStatus = &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusInitializing}
		}
	}
	return out, nil
}

// A primary that restarted (running, status checks initializing) is not
// stopped: the run says so and returns ErrAwaitingConfirmation, and Lambda's
// retry, finding it healthy, does nothing.
func TestInitializingPrimaryIsNotStopped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	ev := w.alarmEvent(t, "ALARM", time.Now())
	e := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 { return &initializingPrimary{EC2: next, id: w.primary} }})

	res, err := e.HandleAlarm(context.Background(), ev)
	require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation)
	assert.Equal(t, recovery.OutcomePrimaryInitializing, res.Outcome)
	assert.Zero(t, w.calls.Count("StopInstances"))
	assert.Zero(t, w.calls.Count("RunInstances"))
	assert.Equal(t, "running", w.primaryState(t))
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomePrimaryInitializing, tl.Outcome)
	assert.Contains(t, tl.Decision, "initializing")
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindApprovalRequired, notes[0].Kind)
	assert.Contains(t, notes[0].Summary, "initializing")
	assert.Contains(t, strings.Join(notes[0].Details, " "), "retries")

	res, err = w.engine(t, options{}).HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomePrimaryRecovered, res.Outcome)
	assert.Equal(t, "running", w.primaryState(t))
}

// pendingRecovery keeps every instance but the primary pending when read by ID.
type pendingRecovery struct {
	impaired
}

func (d *pendingRecovery) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	out, err := d.EC2.DescribeInstances(ctx, in, o...)
	if err != nil || len(in.InstanceIds) == 0 {
		return out, err
	}
	for _, r := range out.Reservations {
		for i, inst := range r.Instances {
			if aws.ToString(inst.InstanceId) != d.id {
				r.Instances[i].State = &ec2types.InstanceState{Name: ec2types.InstanceStateNamePending, Code: aws.Int32(0)}
			}
		}
	}
	return out, nil
}

// Every wait is cut to the invocation's deadline minus the margin, so the run
// still records its timeline and notifies: a fence that EC2 never confirms
// (FenceTimeout 10 minutes), and a recovery instance that stays pending
// (LaunchTimeout 10 minutes), under a 3-second deadline. Virtual clock
// (FakeClock): the polls advance it, so the deadline is reached by the
// engine's own waiting, not by the machine's speed; a wait that was not cut
// would run the virtual deadline out and the records with it.
func TestWaitsEndBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	long := func(c *recovery.Config) {
		c.FenceTimeout, c.FencePoll = 10*time.Minute, 50*time.Millisecond
		c.LaunchTimeout, c.LaunchPoll = 10*time.Minute, 50*time.Millisecond
		c.DeadlineMargin = 500 * time.Millisecond
	}
	t.Run("fence", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.setAlarm(t, cwtypes.StateValueAlarm)
		clk := recovery.NewFakeClock(time.Now())
		ctx, cancel := clk.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		res, err := w.engine(t, options{clock: clk, ec2: stuck(w), cfg: long}).HandleAlarm(ctx, w.alarmEvent(t, "ALARM", clk.Now()))
		require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.NoError(t, ctx.Err(), "finished before the invocation's deadline")
		assert.Equal(t, 1500*time.Millisecond, clk.Slept(), "the fence waited 3 s less the actions' margin, the records' margin and the launch's reserve")
		assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome)
		assert.Contains(t, res.Fence.Detail, "wait cut from 10m0s")
		notes := w.notifications(t)
		require.Len(t, notes, 1, "notified before the deadline")
		assert.Equal(t, recovery.KindApprovalRequired, notes[0].Kind)
		tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
		require.NoError(t, err)
		assert.Equal(t, recovery.OutcomeAwaitingApproval, tl.Outcome)
	})
	t.Run("running", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.setAlarm(t, cwtypes.StateValueAlarm)
		clk := recovery.NewFakeClock(time.Now())
		ctx, cancel := clk.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		dec := func(next recovery.EC2) recovery.EC2 { return &pendingRecovery{impaired{EC2: next, id: w.primary}} }
		res, err := w.engine(t, options{clock: clk, ec2: dec, cfg: long}).HandleAlarm(ctx, w.alarmEvent(t, "ALARM", clk.Now()))
		require.ErrorIs(t, err, recovery.ErrRetirePending, "not running yet: the fenced primary is terminated by a retry")
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.NoError(t, ctx.Err(), "finished before the invocation's deadline")
		assert.Equal(t, 2*time.Second, clk.Slept(), "the wait for running took 3 s less the actions' and the records' margins")
		assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
		notes := w.notifications(t)
		require.Len(t, notes, 1, "notified before the deadline")
		assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
		tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
		require.NoError(t, err)
		assert.True(t, tl.RunningAt.IsZero())
		assert.Contains(t, tl.Events[len(tl.Events)-2].Detail, "still pending")
		assert.Contains(t, tl.Events[len(tl.Events)-1].Detail, "not terminated yet")
		assert.False(t, tl.NotifiedAt.IsZero())
	})
}

// dieAfterLaunched ends the run (as Lambda's timeout would) right after the
// lock records the launch.
type dieAfterLaunched struct {
	recovery.SSM
	lock   string
	cancel context.CancelFunc
}

func (d *dieAfterLaunched) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	out, err := d.SSM.PutParameter(ctx, in, o...)
	if err == nil && aws.ToString(in.Name) == d.lock && strings.Contains(aws.ToString(in.Value), `"state":"launched"`) {
		d.cancel()
	}
	return out, err
}

// A run killed after the lock says launched leaves no outcome and no
// notification. The next delivery (Lambda's retry), once the dead run's lease
// is over, records the launch and sends the success notification, once.
func TestKilledAfterLaunchIsRecordedByTheRetry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	clk := recovery.NewFakeClock(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	die := &dieAfterLaunched{lock: naming.LockParam(w.workload), cancel: cancel}
	e := w.engine(t, options{ec2: failingPrimary(w), clock: clk, ssm: func(next recovery.SSM) recovery.SSM { die.SSM = next; return die }})
	ev := w.alarmEvent(t, "ALARM", clk.Now())

	_, err := e.HandleAlarm(ctx, ev)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, w.recoveryInstances(t), 1)
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	require.Equal(t, recovery.LockLaunched, lock.State)
	assert.Empty(t, w.notifications(t), "the killed run told nobody")
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err, "the decision was recorded before RunInstances")
	assert.Equal(t, recovery.OutcomeLaunching, tl.Outcome)

	// A delivery while the dead run's lease lasts waits for the record
	// within its own deadline, then returns a retryable error: Lambda must
	// come back, not drop the event.
	short, cancelShort := clk.WithTimeout(context.Background(), 35*time.Second) // virtual; no time left to wait past DeadlineMargin (30 s)
	defer cancelShort()
	res, err := e.HandleAlarm(short, ev)
	require.ErrorIs(t, err, recovery.ErrRecordPending)
	assert.Equal(t, recovery.OutcomeDuplicate, res.Outcome)
	assert.Empty(t, w.notifications(t))

	// Lambda's retry, after the lease.
	clk.Advance(10 * time.Minute)
	res, err = e.HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Equal(t, lock.Instance, res.RecoveryInstance)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
	assert.Contains(t, notes[0].Summary, lock.Instance)
	tl, err = recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, tl.Outcome)
	assert.Equal(t, lock.Instance, tl.RecoveryInstance)
	assert.False(t, tl.RunningAt.IsZero())
	assert.False(t, tl.NotifiedAt.IsZero())
	assert.NotEmpty(t, tl.FenceResult, "the fence recorded before RunInstances is kept")
	assert.Equal(t, 1, w.calls.Count("RunInstances"))

	// Later deliveries find the record complete: nothing more.
	clk.Advance(10 * time.Minute)
	w.calls.Reset()
	res, err = e.HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeDuplicate, res.Outcome)
	assert.Empty(t, w.calls.Mutating())
	assert.Empty(t, w.notifications(t))
	assert.Len(t, w.recoveryInstances(t), 1)
}

// pendingEmail reports every email subscription as SNS lists one the
// operator has not confirmed (moto confirms them at once).
type pendingEmail struct{ recovery.SNS }

func (d pendingEmail) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, o ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	out, err := d.SNS.ListSubscriptionsByTopic(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for i, s := range out.Subscriptions {
		if aws.ToString(s.Protocol) == "email" {
			out.Subscriptions[i].SubscriptionArn = aws.String("PendingConfirmation")
		}
	}
	return out, nil
}

// A dry-run drill fails when the operator's email subscription is missing or
// unconfirmed: every notification, approval requests included, would reach
// nobody (the reference stacks never check it).
func TestDryRunDrillChecksEmailSubscription(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, rep recovery.Report) recovery.Check {
		for _, c := range rep.Checks {
			if c.Name == "email subscription" {
				return c
			}
		}
		t.Fatalf("no email subscription check in %+v", rep.Checks)
		return recovery.Check{}
	}
	t.Run("confirmed", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		rep, err := w.engine(t, options{}).Drill(context.Background(), recovery.DrillRequest{DryRun: true})
		require.NoError(t, err)
		c := check(t, rep)
		assert.True(t, c.OK, c.Detail)
		assert.Contains(t, c.Detail, "ops@example.com")
		assert.Equal(t, 1, w.calls.Count("ListSubscriptionsByTopic"))
	})
	t.Run("pending", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		rep, err := w.engine(t, options{sns: func(next recovery.SNS) recovery.SNS { return pendingEmail{next} }}).
			Drill(context.Background(), recovery.DrillRequest{DryRun: true})
		require.NoError(t, err)
		c := check(t, rep)
		assert.False(t, c.OK)
		assert.Contains(t, c.Detail, "PendingConfirmation")
		assert.False(t, rep.Ready)
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		_, err := w.admin.sns.Unsubscribe(context.Background(), &sns.UnsubscribeInput{SubscriptionArn: aws.String(w.emailSub)})
		require.NoError(t, err)
		rep, err := w.engine(t, options{}).Drill(context.Background(), recovery.DrillRequest{DryRun: true})
		require.NoError(t, err)
		c := check(t, rep)
		assert.False(t, c.OK)
		assert.Contains(t, c.Detail, "no email subscription")
		assert.False(t, rep.Ready)
	})
}

// A dry-run drill reports another live instance of the workload: a failover
// would launch nothing.
func TestDryRunDrillReportsOtherInstances(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	other := w.launchTagged(t, naming.RolePrimary, "")
	rep, err := w.engine(t, options{}).Drill(context.Background(), recovery.DrillRequest{DryRun: true})
	require.NoError(t, err)
	assert.False(t, rep.Ready)
	failed := map[string]string{}
	for _, c := range rep.Checks {
		if !c.OK {
			failed[c.Name] = c.Detail
		}
	}
	assert.Len(t, failed, 1, "failed checks: %v", failed)
	assert.Contains(t, failed["other instances"], other)
	assert.Contains(t, rep.Decision, other)
	assert.Equal(t, []string{"SNS.Publish"}, w.calls.Mutating(), "only the [drill] notification")
}

// interleave lands another run's winning takeover and its launched record
// just before this run's (losing) takeover write reaches SSM.
type interleave struct {
	recovery.SSM
	w      *world
	t      *testing.T
	lock   string
	winner func() []recovery.Lock
	done   atomic.Bool
}

func (d *interleave) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if aws.ToString(in.Name) == d.lock && aws.ToBool(in.Overwrite) && !d.done.Swap(true) {
		for _, l := range d.winner() {
			b, err := json.Marshal(l)
			require.NoError(d.t, err)
			d.w.putParam(d.t, d.lock, string(b))
		}
	}
	return d.SSM.PutParameter(ctx, in, o...)
}

// Two runs take over a failed lock at once. The other run's write comes first
// (it wins) and it launches and records launched before this run's losing
// write lands: the loser restores the launched record instead of leaving its
// stale "launching" one on top, and stands down without launching.
func TestLostTakeoverKeepsLaunchedLock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	const token = "00112233445566778899aabbccddeeff"
	failed := recovery.Lock{Token: token, Alarm: w.statusAlarm(), State: recovery.LockFailed, Owner: "first-run", Attempt: 1,
		Primary: w.primary, Error: "InsufficientInstanceCapacity"}
	b, err := json.Marshal(failed)
	require.NoError(t, err)
	w.putParam(t, naming.LockParam(w.workload), string(b))
	// The winner launches during the race (an instance tagged with the
	// token before it would be adopted by the check of orphaned launches).
	var launched string
	winner := func() []recovery.Lock {
		launched = w.launchTagged(t, naming.RoleRecovery, token)
		lease := time.Now().Add(time.Hour).UTC()
		take := failed
		take.State, take.Owner, take.Attempt, take.Error, take.LeaseUntil = recovery.LockLaunching, "winner", 2, "", lease
		done := take
		done.State, done.Instance = recovery.LockLaunched, launched
		return []recovery.Lock{take, done}
	}
	dec := &interleave{w: w, t: t, lock: naming.LockParam(w.workload), winner: winner}
	clk := recovery.NewFakeClock(time.Now())
	e := w.engine(t, options{ec2: failingPrimary(w), newID: func() string { return "loser" }, clock: clk,
		ssm: func(next recovery.SSM) recovery.SSM { dec.SSM = next; return dec }})

	// A (virtual) deadline that leaves no time to wait for the winner's record.
	ctx, cancel := clk.WithTimeout(context.Background(), 35*time.Second)
	defer cancel()
	res, err := e.HandleAlarm(ctx, w.alarmEvent(t, "ALARM", time.Now()))
	require.ErrorIs(t, err, recovery.ErrRecordPending, "the winner has not recorded yet: Lambda retries")
	require.True(t, dec.done.Load(), "the takeover write was interleaved")
	assert.Equal(t, recovery.OutcomeAlreadyFailedOver, res.Outcome, "reason: %s", res.Reason)
	assert.Equal(t, launched, res.RecoveryInstance)
	assert.Zero(t, w.calls.Count("RunInstances"))
	assert.Len(t, w.recoveryInstances(t), 1)
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockLaunched, lock.State)
	assert.Equal(t, launched, lock.Instance)
	assert.Equal(t, "winner", lock.Owner)
}
