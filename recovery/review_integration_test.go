//go:build integration

// Integration tests against moto (see world_integration_test.go) of the
// second review's findings: a primary live again right before RunInstances,
// insufficient-data status checks, the other-instances check before the
// fence, a run that fenced then stood down, a run killed between RunInstances
// and the launched lock, a hanging AWS call, a malformed drill marker, a stop
// EC2 did not accept, an endpoint that ignores DryRun, and a recovery
// instance that dies before it runs. Decorators around the real clients only
// time a real change (start or stop an instance, write the lock) at a chosen
// call, or report what moto cannot (status checks, hangs, error codes).
package recovery_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// onListing runs fn before the n-th listing of the workload's instances (by
// tag filter); the engine's first listing is the other-instances check, its
// second the one right before RunInstances.
type onListing struct {
	impaired
	at   int32
	fn   func()
	seen atomic.Int32
}

func (d *onListing) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	for _, f := range in.Filters {
		if aws.ToString(f.Name) == "tag:"+naming.TagWorkload && d.seen.Add(1) == d.at {
			d.fn()
		}
	}
	return d.EC2.DescribeInstances(ctx, in, o...)
}

// Item 1: the fence confirmed the primary stopped, but it runs again (someone
// started it) by the time of the launch: nothing is launched.
func TestPrimaryLiveAgainBeforeRunInstances(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	dec := &onListing{impaired: impaired{id: w.primary}, at: 2, fn: func() {
		_, err := w.admin.ec2.StartInstances(context.Background(), &ec2.StartInstancesInput{InstanceIds: []string{w.primary}})
		require.NoError(t, err)
	}}
	e := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 { dec.EC2 = next; return dec }})

	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation)
	assert.Equal(t, int32(2), dec.seen.Load())
	assert.Equal(t, 1, w.calls.Count("StopInstances"))
	assert.Zero(t, w.calls.Count("RunInstances"), "calls: %v", w.calls.Summary())
	assert.Empty(t, w.recoveryInstances(t))
	assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome)
	require.NotNil(t, res.Fence)
	assert.False(t, res.Fence.Confirmed)
	assert.Contains(t, res.Fence.Detail, "right before RunInstances")
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockFailed, lock.State)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindApprovalRequired, notes[0].Kind)
}

// statusOf reports the primary's instance status check as a fixed value.
type statusOf struct {
	recovery.EC2
	id     string
	status ec2types.SummaryStatus
}

func (d *statusOf) DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, o ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	out, err := d.EC2.DescribeInstanceStatus(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for i, s := range out.InstanceStatuses {
		if aws.ToString(s.InstanceId) == d.id {
			out.InstanceStatuses[i].InstanceStatus = &ec2types.InstanceStatusSummary{Status: d.status}
		}
	}
	return out, nil
}

// Item 2: insufficient-data (a hung or cut-off primary) is not a restart: the
// primary is fenced and the failover launches.
func TestInsufficientDataPrimaryIsFenced(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	e := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 {
		return &statusOf{EC2: next, id: w.primary, status: ec2types.SummaryStatusInsufficientData}
	}})
	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Equal(t, 1, w.calls.Count("StopInstances"))
	assert.Equal(t, "terminated", w.primaryState(t), "stopped, then terminated once the recovery instance passed its checks")
	assert.Len(t, w.recoveryInstances(t), 1)
}

// Item 3a: another live instance of the workload is found before the fence:
// the primary is not stopped for a failover that cannot launch.
func TestOtherInstancesCheckedBeforeFence(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	other := w.launchTagged(t, naming.RolePrimary, "")
	res, err := w.engine(t, options{ec2: failingPrimary(w)}).HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.ErrorIs(t, err, recovery.ErrOtherInstances)
	assert.Contains(t, res.Reason, other)
	assert.Zero(t, w.calls.Count("StopInstances"), "calls: %v", w.calls.Summary())
	assert.Equal(t, "running", w.primaryState(t))
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Contains(t, strings.Join(notes[0].Details, " "), "not stopped")
}

// Item 3b: a run that fenced, then found another failover launched, records
// its stop in that failover's timeline.
func TestStandDownAfterFenceIsRecorded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	const token = "ffeeddccbbaa99887766554433221100"
	var launched string
	inject := func() {
		launched = w.launchTagged(t, naming.RoleRecovery, token)
		l := recovery.Lock{Token: token, Alarm: w.statusAlarm(), State: recovery.LockLaunched, Owner: "other", Attempt: 1,
			Primary: w.primary, Instance: launched, Updated: time.Now().UTC()}
		b, err := json.Marshal(l)
		require.NoError(t, err)
		w.putParam(t, naming.LockParam(w.workload), string(b))
		tl := recovery.Timeline{Workload: w.workload, Token: token, Outcome: recovery.OutcomeLaunched, RecoveryInstance: launched,
			NotifiedAt: time.Now().UTC(), Events: []recovery.Event{{At: time.Now().UTC(), Step: "launch", Detail: launched}}}
		b, err = json.Marshal(tl)
		require.NoError(t, err)
		w.putParam(t, naming.TimelineParam(w.workload), string(b))
	}
	// Another failover launches after this run's other-instances check,
	// while it fences.
	e := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 {
		return &stopHook{EC2: &impaired{EC2: next, id: w.primary}, after: inject}
	}})

	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeAlreadyFailedOver, res.Outcome)
	assert.Equal(t, launched, res.RecoveryInstance)
	assert.Equal(t, 1, w.calls.Count("StopInstances"))
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, token, tl.Token)
	assert.False(t, tl.NotifiedAt.IsZero(), "the other failover's record stays complete")
	last := tl.Events[len(tl.Events)-1]
	assert.Equal(t, "fence", last.Step)
	assert.Contains(t, last.Detail, "stood down")
	assert.Contains(t, last.Detail, w.primary)
}

// stopHook runs after once the first real StopInstances returned.
type stopHook struct {
	recovery.EC2
	after func()
	once  sync.Once
}

func (d *stopHook) StopInstances(ctx context.Context, in *ec2.StopInstancesInput, o ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	out, err := d.EC2.StopInstances(ctx, in, o...)
	if !aws.ToBool(in.DryRun) {
		d.once.Do(d.after)
	}
	return out, err
}

// dieAfterRun ends the run (as Lambda's timeout would) right after
// RunInstances succeeded, before the lock says launched.
type dieAfterRun struct {
	impaired
	cancel context.CancelFunc
}

func (d *dieAfterRun) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	out, err := d.EC2.RunInstances(ctx, in, o...)
	if err == nil && !aws.ToBool(in.DryRun) {
		d.cancel()
		return nil, context.Canceled
	}
	return out, err
}

// Item 4: a run killed between RunInstances and the launched lock. Its retry,
// after the lease, records the launch and notifies even though the alarm is
// back to OK (without the check it would end as a flap saying nothing was
// launched).
func TestKilledBeforeLaunchedLockIsRecordedByTheRetry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	clk := recovery.NewFakeClock(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dec := &dieAfterRun{impaired: impaired{id: w.primary}, cancel: cancel}
	ev := w.alarmEvent(t, "ALARM", clk.Now())
	_, err := w.engine(t, options{clock: clk, ec2: func(next recovery.EC2) recovery.EC2 { dec.EC2 = next; return dec }}).HandleAlarm(ctx, ev)
	require.Error(t, err)
	insts := w.recoveryInstances(t)
	require.Len(t, insts, 1)
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	require.Equal(t, recovery.LockLaunching, lock.State)
	assert.Empty(t, w.notifications(t))

	w.setAlarm(t, cwtypes.StateValueOk) // the alarm recovered meanwhile
	clk.Advance(10 * time.Minute)
	res, err := w.engine(t, options{clock: clk, ec2: failingPrimary(w)}).HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome, "reason: %s", res.Reason)
	assert.Equal(t, aws.ToString(insts[0].InstanceId), res.RecoveryInstance)
	assert.Equal(t, 1, w.calls.Count("RunInstances"))
	lock, err = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockLaunched, lock.State)
	assert.Equal(t, res.RecoveryInstance, lock.Instance)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, tl.Outcome)
	assert.False(t, tl.NotifiedAt.IsZero())
}

// hangRun makes RunInstances hang until its context ends: it moves the
// virtual clock to the context's deadline (the actions' deadline) and waits.
// A context without a deadline is refused: the engine must bound its actions.
type hangRun struct {
	impaired
	clock *recovery.FakeClock
}

func (d *hangRun) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	if aws.ToBool(in.DryRun) {
		return d.EC2.RunInstances(ctx, in, o...)
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return nil, errors.New("hangRun: RunInstances got a context without a deadline")
	}
	d.clock.AdvanceTo(dl)
	<-ctx.Done()
	return nil, ctx.Err()
}

// Item 6: one hanging call ends at the actions' deadline, leaving the margin
// to mark the lock failed, record the timeline and notify. Virtual clock
// (FakeClock): the invocation's 3 s deadline and the 1.5 s margin are
// virtual, so a slow machine cannot eat them; an engine that recorded under
// the actions' context, or did not cut it, fails (the records would run on
// an ended context).
func TestHangingCallLeavesTimeToRecord(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	clk := recovery.NewFakeClock(time.Now())
	e := w.engine(t, options{
		clock: clk,
		ec2:   func(next recovery.EC2) recovery.EC2 { return &hangRun{impaired{EC2: next, id: w.primary}, clk} },
		cfg:   func(c *recovery.Config) { c.DeadlineMargin = 1500 * time.Millisecond },
	})
	start := clk.Now()
	ctx, cancel := clk.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := e.HandleAlarm(ctx, w.alarmEvent(t, "ALARM", start))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NoError(t, ctx.Err(), "the invocation's own deadline was not reached")
	assert.Equal(t, 1500*time.Millisecond, clk.Now().Sub(start), "RunInstances ended at the actions' deadline")
	assert.Equal(t, recovery.OutcomeFailed, res.Outcome)
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockFailed, lock.State)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailoverFailed, notes[0].Kind)
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeFailed, tl.Outcome)
	assert.False(t, tl.NotifiedAt.IsZero())
}

// Item 7: a drill marker that does not parse is recorded and ignored; it
// does not block the failover.
func TestMalformedDrillMarkerDoesNotBlock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	w.putParam(t, naming.DrillParam(w.workload), "drill on, by bob")
	res, err := w.engine(t, options{ec2: failingPrimary(w)}).HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.False(t, tl.Drill)
	found := false
	for _, ev := range tl.Events {
		found = found || (ev.Step == "drill" && strings.Contains(ev.Detail, "ignored"))
	}
	assert.True(t, found, "events: %+v", tl.Events)
}

// refusedStop answers the force-stop with IncorrectInstanceState after the
// instance stopped by other means (someone else stopped it first).
type refusedStop struct{ impaired }

func (d *refusedStop) StopInstances(ctx context.Context, in *ec2.StopInstancesInput, o ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	if _, err := d.EC2.StopInstances(ctx, in, o...); err != nil {
		return nil, err
	}
	return nil, &smithy.GenericAPIError{Code: "IncorrectInstanceState", Message: "The instance is not in a state from which it can be stopped."}
}

// ignoreDryRun runs StopInstances for real whatever DryRun says, as a broken
// endpoint would.
type ignoreDryRun struct{ recovery.EC2 }

func (d ignoreDryRun) StopInstances(ctx context.Context, in *ec2.StopInstancesInput, o ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	req := *in
	req.DryRun = aws.Bool(false)
	return d.EC2.StopInstances(ctx, &req, o...)
}

// Item 8: a stop EC2 did not accept is recorded as such; a drill whose stop
// really ran stops before the RunInstances probe.
func TestStopNotAcceptedAndDryRunIgnored(t *testing.T) {
	t.Parallel()
	t.Run("not accepted", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.setAlarm(t, cwtypes.StateValueAlarm)
		res, err := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 { return &refusedStop{impaired{EC2: next, id: w.primary}} }}).
			HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
		require.NoError(t, err)
		require.NotNil(t, res.Fence)
		assert.True(t, res.Fence.Confirmed, "EC2 reports it stopped")
		assert.Contains(t, res.Fence.Detail, "did not accept the force-stop")
		assert.NotContains(t, res.Fence.Detail, "after force-stop")
		assert.Contains(t, res.Fence.StopError, "IncorrectInstanceState")
	})
	t.Run("drill", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		rep, err := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 { return ignoreDryRun{next} }}).
			Drill(context.Background(), recovery.DrillRequest{Kind: "drill", DryRun: true})
		require.NoError(t, err)
		assert.False(t, rep.Ready)
		assert.Zero(t, w.calls.Count("RunInstances"), "calls: %v", w.calls.Summary())
		assert.Contains(t, rep.Decision, "ignored DryRun")
		var launch *recovery.Check
		for i := range rep.Checks {
			if rep.Checks[i].Name == "launch permission" {
				launch = &rep.Checks[i]
			}
		}
		require.NotNil(t, launch)
		assert.False(t, launch.OK)
		assert.Contains(t, launch.Detail, "not probed")
	})
}

// dieBeforeRunning stops the first recovery instance right after
// RunInstances (really, in moto) and records every ClientToken.
type dieBeforeRunning struct {
	impaired
	w      *world
	t      *testing.T
	mu     sync.Mutex
	tokens []string
}

func (d *dieBeforeRunning) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	out, err := d.EC2.RunInstances(ctx, in, o...)
	if err != nil || aws.ToBool(in.DryRun) {
		return out, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tokens = append(d.tokens, aws.ToString(in.ClientToken))
	if len(d.tokens) == 1 {
		_, err := d.w.admin.ec2.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{aws.ToString(out.Instances[0].InstanceId)}, Force: aws.Bool(true)})
		require.NoError(d.t, err)
	}
	return out, nil
}

// Item 9: a recovery instance that stops before it runs releases the lock
// (failed, next ClientToken generation); the retry launches a new one with a
// fresh ClientToken and does not adopt the dead one.
func TestRecoveryDiesBeforeRunning(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	dec := &dieBeforeRunning{impaired: impaired{id: w.primary}, w: w, t: t}
	e := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 { dec.EC2 = next; return dec }})
	ev := w.alarmEvent(t, "ALARM", time.Now())

	res, err := e.HandleAlarm(context.Background(), ev)
	require.Error(t, err)
	assert.Equal(t, recovery.OutcomeFailed, res.Outcome)
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockFailed, lock.State)
	assert.Equal(t, 1, lock.TokenGen)
	dead := lock.Instance
	out, err := w.admin.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{dead}})
	require.NoError(t, err)
	assert.Equal(t, ec2types.InstanceStateNameTerminated, out.Reservations[0].Instances[0].State.Name, "a recovery instance that died is terminated, not left stopped")
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Contains(t, steps(tl), "terminate")

	res, err = e.HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome, "reason: %s", res.Reason)
	assert.NotEqual(t, dead, res.RecoveryInstance)
	require.Len(t, dec.tokens, 2)
	assert.NotEqual(t, dec.tokens[0], dec.tokens[1])
	assert.LessOrEqual(t, len(dec.tokens[1]), 64)
	lock, err = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockLaunched, lock.State)
	assert.Equal(t, res.RecoveryInstance, lock.Instance)
}
