//go:build integration

// Integration tests of the failover engine against moto; see world_integration_test.go.
package recovery_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

func tags(in ec2types.Instance) map[string]string {
	m := map[string]string{}
	for _, t := range in.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// Twenty deliveries of one alarm state change at once (SNS and Lambda both
// deliver at least once) launch exactly one recovery instance.
func TestConcurrentDuplicateDeliveriesLaunchOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	// A lease far longer than the test: the waiting deliveries must stand
	// down for the launching one however slow the machine is (a lease that
	// ran out would let them take over, which other tests cover).
	e := w.engine(t, options{ec2: failingPrimary(w), cfg: func(c *recovery.Config) { c.LockLease, c.LockPoll = 10*time.Minute, 20*time.Millisecond }})
	ev := w.alarmEvent(t, "ALARM", time.Now())

	const n = 20
	results := make([]recovery.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.HandleAlarm(context.Background(), ev)
		}()
	}
	close(start)
	wg.Wait()

	outcomes := map[recovery.Outcome]int{}
	for i := range n {
		require.NoError(t, errs[i], "delivery %d", i)
		outcomes[results[i].Outcome]++
	}
	assert.Equal(t, map[recovery.Outcome]int{recovery.OutcomeLaunched: 1, recovery.OutcomeDuplicate: n - 1}, outcomes)
	insts := w.recoveryInstances(t)
	require.Len(t, insts, 1, "recovery instances in moto")
	assert.Equal(t, 1, w.calls.Count("RunInstances"), "RunInstances calls: %v", w.calls.Summary())
	for _, r := range results {
		assert.Equal(t, aws.ToString(insts[0].InstanceId), r.RecoveryInstance)
	}

	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.LockLaunched, lock.State)
	assert.Equal(t, aws.ToString(insts[0].InstanceId), lock.Instance)
	notes := w.notifications(t)
	require.Len(t, notes, 1, "one success notification, from the delivery that launched")
	assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
}

// A confirmed fence under the confirmed policy launches one instance from the
// recovery template, tagged as the contract says, and records the timeline.
func TestConfirmedFenceLaunches(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	e := w.engine(t, options{ec2: failingPrimary(w)})
	alarmAt := time.Now().Add(-2 * time.Second).UTC().Truncate(time.Millisecond)

	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", alarmAt))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	require.NotNil(t, res.Fence)
	assert.True(t, res.Fence.Confirmed)
	assert.True(t, res.Fence.StopRequested)
	assert.Equal(t, "terminated", w.primaryState(t), "the fenced primary is terminated once the recovery instance passed its checks")
	assert.Equal(t, "true", w.primaryTags(t)[naming.TagFenced], "tagged fenced before the launch")
	assert.Equal(t, recovery.FailbackCommand(w.workload), res.NextCommand)

	insts := w.recoveryInstances(t)
	require.Len(t, insts, 1)
	inst := insts[0]
	assert.Equal(t, res.RecoveryInstance, aws.ToString(inst.InstanceId))
	tg := tags(inst)
	assert.Equal(t, w.templateID, tg["aws:ec2launchtemplate:id"], "launched from the recovery template")
	assert.Equal(t, w.workload, tg[naming.TagWorkload])
	assert.Equal(t, naming.RoleRecovery, tg[naming.TagRole])
	assert.Equal(t, naming.ManagedBy, tg[naming.TagManaged])
	assert.Equal(t, res.Token, tg[recovery.TagLock])
	ct := aws.ToString(inst.ClientToken)
	assert.LessOrEqual(t, len(ct), 64)
	assert.Contains(t, ct, res.Token)
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, tl.Outcome)
	assert.True(t, alarmAt.Equal(tl.AlarmTime), "alarm time %s, want %s", tl.AlarmTime, alarmAt)
	for name, at := range map[string]time.Time{"decision": tl.DecisionAt, "fence": tl.FencedAt, "launch": tl.LaunchAt, "running": tl.RunningAt} {
		assert.False(t, at.IsZero(), "%s time missing", name)
		assert.False(t, at.Before(alarmAt), "%s before the alarm", name)
	}
	assert.False(t, tl.RunningAt.Before(tl.LaunchAt))
	assert.True(t, tl.Degraded)
	assert.Equal(t, w.primary, tl.PrimaryInstance)
	assert.Equal(t, res.RecoveryInstance, tl.RecoveryInstance)

	assert.Equal(t, []string{"alarm", "fence", "decision", "fence", "launch", "running", "terminate"}, steps(tl))
	assert.Contains(t, tl.Events[3].Detail, naming.TagFenced+"=true")
	assert.Contains(t, tl.Events[6].Detail, "terminated the old primary "+w.primary)
	lock, err := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.Equal(t, recovery.RetireDone, lock.Retire)

	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
	details := strings.Join(notes[0].Details, " ")
	assert.Contains(t, details, "DEGRADED")
	assert.Contains(t, details, "Fence: tagged "+w.primary+" "+naming.TagFenced+"=true")
	assert.Contains(t, details, "Terminate: terminated the old primary "+w.primary)
	assert.Equal(t, tl.Token, notes[0].Timeline.Token)

	// The alarm stays on the dead primary (D4): a later ALARM transition finds
	// the launched lock and changes nothing.
	w.calls.Reset()
	again, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", alarmAt.Add(10*time.Minute)))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeAlreadyFailedOver, again.Outcome)
	assert.Empty(t, w.calls.Mutating())
	assert.Len(t, w.recoveryInstances(t), 1)
}

// A flap (the alarm is back to OK when the function re-reads it) ends the run
// before anything changes. No history substring guards: the state is read now.
func TestFlapLaunchesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	w.setAlarm(t, cwtypes.StateValueOk)
	e := w.engine(t, options{ec2: failingPrimary(w)})

	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeFlap, res.Outcome)
	assert.Empty(t, w.calls.Mutating())
	assert.Empty(t, w.recoveryInstances(t))
	assert.Equal(t, "running", w.primaryState(t))
	assert.Empty(t, w.notifications(t))

	// ALARM -> OK -> ALARM: the second, real failure is acted on.
	w.setAlarm(t, cwtypes.StateValueAlarm)
	res, err = e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now().Add(time.Second)))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Len(t, w.recoveryInstances(t), 1)
}

// A primary that is running and passes its status checks now has recovered
// (the alarm lags): nothing is stopped or launched, and the alarm, still in
// ALARM, is re-armed (set OK). Then the primary fails for real: CloudWatch
// re-evaluates the re-armed alarm, which goes to ALARM again (a transition,
// so a notification), and that second failure is acted on. Without the
// re-arm the alarm would stay in ALARM and the real failure would never
// reach the function (moto; the SetAlarmState calls are real).
func TestRecoveredPrimaryLaunchesNothingAndRearms(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	e := w.engine(t, options{}) // moto's running instances pass their checks

	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomePrimaryRecovered, res.Outcome)
	assert.Equal(t, []string{"CloudWatch.SetAlarmState"}, w.calls.Mutating(), "only the re-arm")
	assert.Contains(t, res.Reason, "re-armed "+w.statusAlarm())
	assert.Equal(t, cwtypes.StateValueOk, w.alarmState(t), "re-armed: a later failure is a new transition")
	assert.Equal(t, "running", w.primaryState(t))
	assert.Empty(t, w.recoveryInstances(t))

	// The second, real failure after the flap.
	w.setAlarm(t, cwtypes.StateValueAlarm)
	res, err = w.engine(t, options{ec2: failingPrimary(w)}).HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now().Add(time.Minute)))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Len(t, w.recoveryInstances(t), 1)
}

// Confirmed policy, fence not confirmed (the primary hangs in "stopping"): an
// approval request with the exact command, ErrAwaitingConfirmation for
// Lambda's retries, and nothing launched. A retry once EC2 confirms the stop
// launches.
func TestConfirmedUnconfirmedFenceAsksForApproval(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	ev := w.alarmEvent(t, "ALARM", time.Now())

	res, err := w.engine(t, options{ec2: stuck(w)}).HandleAlarm(context.Background(), ev)
	require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation)
	assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome)
	assert.False(t, res.Fence.Confirmed)
	assert.Equal(t, "stopping", res.Fence.State)
	assert.Equal(t, "outposts-ha failover "+w.workload+" --approve", res.NextCommand)
	assert.Empty(t, w.recoveryInstances(t))
	assert.Zero(t, w.calls.Count("RunInstances"))
	_, err = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	assert.ErrorIs(t, err, recovery.ErrNoLock, "no lock without a launch")
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindApprovalRequired, notes[0].Kind)
	assert.Equal(t, res.NextCommand, notes[0].NextCommand)
	assert.Equal(t, recovery.OutcomeAwaitingApproval, notes[0].Timeline.Outcome)

	// Lambda's retry of the same event, now that EC2 reports the stop.
	res, err = w.engine(t, options{ec2: failingPrimary(w)}).HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Len(t, w.recoveryInstances(t), 1)
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	var steps []string
	for _, e := range tl.Events {
		steps = append(steps, e.Step)
	}
	assert.Equal(t, []string{"alarm", "fence", "decision", "fence", "decision", "fence", "launch", "running", "terminate"}, steps,
		"the retry continues the first attempt's timeline")
}

// Automatic policy: an unconfirmed fence launches only with positive evidence
// that the primary Outpost was disconnected for the whole detection window,
// read from AWS/Outposts ConnectedStatus through the real CloudWatch client.
func TestAutomaticPolicyNeedsWholeWindowDisconnected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		samples []float64 // the 3 minutes before the alarm, then the alarm's minute
		want    recovery.Outcome
	}{
		{"disconnected throughout", []float64{0, 0, 0, 0}, recovery.OutcomeLaunched},
		{"connected one minute", []float64{0, 1, 0, 0}, recovery.OutcomeAwaitingApproval},
		{"one minute without data", []float64{0, 0}, recovery.OutcomeAwaitingApproval},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.setAlarm(t, cwtypes.StateValueAlarm)
			alarmAt := time.Now().UTC()
			w.putConnected(t, alarmAt.Truncate(time.Minute).Add(-3*time.Minute), tc.samples...)
			// Virtual clock at the alarm's time: the metric windows are read
			// relative to it, however long the machine takes to get here.
			e := w.engine(t, options{policy: recovery.PolicyAutomatic, ec2: stuck(w), outpost: true, clock: recovery.NewFakeClock(alarmAt)})

			res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", alarmAt))
			assert.Equal(t, tc.want, res.Outcome, "reason: %s", res.Reason)
			if tc.want == recovery.OutcomeLaunched {
				require.NoError(t, err)
				assert.False(t, res.Fence.Confirmed)
				assert.Len(t, w.recoveryInstances(t), 1)
				assert.Contains(t, res.Reason, "disconnected in all 3 minutes")
			} else {
				require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation)
				assert.Empty(t, w.recoveryInstances(t))
			}
		})
	}
}

// The automatic policy with a fake Outpost health source (the interface that
// stands in for what moto may lack), and without an Outpost ID at all.
func TestAutomaticPolicyFakeHealth(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	alarmAt := time.Now().UTC()
	down := fakeHealth{}
	for m := alarmAt.Truncate(time.Minute).Add(-3 * time.Minute); !m.After(alarmAt); m = m.Add(time.Minute) {
		down = append(down, recovery.Sample{At: m, Value: 0})
	}
	res, err := w.engine(t, options{policy: recovery.PolicyAutomatic, ec2: stuck(w), health: down, clock: recovery.NewFakeClock(alarmAt)}).
		HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", alarmAt))
	require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation, "no Outpost ID configured: no evidence")
	assert.Equal(t, recovery.OutcomeAwaitingApproval, res.Outcome)

	res, err = w.engine(t, options{policy: recovery.PolicyAutomatic, ec2: stuck(w), health: down, outpost: true, clock: recovery.NewFakeClock(alarmAt)}).
		HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", alarmAt))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Len(t, w.recoveryInstances(t), 1)
}

type fakeHealth []recovery.Sample

func (f fakeHealth) ConnectedStatus(_ context.Context, _ string, start, end time.Time) ([]recovery.Sample, error) {
	var out []recovery.Sample
	for _, s := range f {
		if !s.At.Before(start) && s.At.Before(end) {
			out = append(out, s)
		}
	}
	return out, nil
}

// The notify policy is hands-off: it neither stops the primary nor launches,
// and tells the operator the exact command (which fences, then launches).
func TestNotifyPolicyNeverLaunches(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	res, err := w.engine(t, options{policy: recovery.PolicyNotify, ec2: failingPrimary(w)}).
		HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeNotified, res.Outcome)
	assert.Zero(t, w.calls.Count("RunInstances"))
	assert.Zero(t, w.calls.Count("StopInstances"), "notify must not fence")
	assert.Empty(t, w.recoveryInstances(t))
	_, err = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	assert.ErrorIs(t, err, recovery.ErrNoLock)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindActionRequired, notes[0].Kind)
	assert.Equal(t, "outposts-ha failover "+w.workload+" --approve", notes[0].NextCommand)
}

// An active maintenance marker skips the failover and says so; an expired one
// is ignored.
func TestMaintenanceMarker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		until time.Duration
		want  recovery.Outcome
	}{
		{"active", time.Hour, recovery.OutcomeMaintenance},
		{"expired", -time.Minute, recovery.OutcomeLaunched},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.setAlarm(t, cwtypes.StateValueAlarm)
			m, err := json.Marshal(recovery.Marker{Until: time.Now().Add(tc.until).UTC(), Reason: "patching", By: "ops@example.com"})
			require.NoError(t, err)
			w.putParam(t, naming.MaintenanceParam(w.workload), string(m))

			res, err := w.engine(t, options{ec2: failingPrimary(w)}).HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Outcome)
			notes := w.notifications(t)
			require.Len(t, notes, 1)
			if tc.want == recovery.OutcomeMaintenance {
				assert.Equal(t, "running", w.primaryState(t), "not fenced during maintenance")
				assert.Empty(t, w.recoveryInstances(t))
				assert.Equal(t, []string{"CloudWatch.SetAlarmState", "SNS.Publish", "SSM.PutParameter"}, w.calls.Mutating(), "only the re-arm, the notification and the timeline")
				assert.Equal(t, cwtypes.StateValueOk, w.alarmState(t), "re-armed, so a failure after maintenance is a new transition")
				assert.Equal(t, recovery.KindMaintenanceSkipped, notes[0].Kind)
				assert.Contains(t, strings.Join(notes[0].Details, " "), "ops@example.com")
			} else {
				assert.Len(t, w.recoveryInstances(t), 1)
				assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)
			}
		})
	}
}

// A dry-run drill reports the decision and changes nothing: no lock, no
// timeline, no stop, no instance, no notification. The only EC2 write APIs it
// calls carry DryRun=true.
func TestDryRunDrillChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.engine(t, options{})

	rep, err := e.Drill(context.Background(), recovery.DrillRequest{Kind: "drill", DryRun: true, RequestedBy: "it"})
	require.NoError(t, err)
	b, err := json.MarshalIndent(rep, "", "  ")
	require.NoError(t, err)
	t.Logf("report: %s", b)
	assert.Equal(t, []string{"SNS.Publish"}, w.calls.Mutating(), "only the [drill] notification; calls: %v", w.calls.Summary())
	var dry []string
	for _, c := range w.calls.List() {
		if c.DryRun {
			dry = append(dry, c.Operation+" "+c.ErrCode)
		}
	}
	assert.ElementsMatch(t, []string{"StopInstances DryRunOperation", "RunInstances DryRunOperation"}, dry)
	assert.True(t, rep.Ready, "checks: %+v", rep.Checks)
	assert.Equal(t, w.primary, rep.PrimaryInstance)
	assert.Contains(t, rep.Decision, "force-stop "+w.primary)
	assert.Contains(t, rep.Decision, "policy confirmed")
	assert.Contains(t, rep.Decision, "healthy now")

	assert.Equal(t, "running", w.primaryState(t))
	assert.Empty(t, w.recoveryInstances(t))
	_, err = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	assert.ErrorIs(t, err, recovery.ErrNoLock)
	_, err = recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	assert.ErrorIs(t, err, recovery.ErrNoTimeline)
	notes := w.notifications(t)
	require.Len(t, notes, 1, "the [drill] notification")
	assert.Equal(t, recovery.KindDrill, notes[0].Kind)
	assert.True(t, strings.HasPrefix(notes[0].Summary, "[drill] "), notes[0].Summary)

	_, err = e.Drill(context.Background(), recovery.DrillRequest{Kind: "drill"})
	assert.ErrorIs(t, err, recovery.ErrFullDrill)
}

// A drill finds the reference stacks' mistakes: an alarm without
// TreatMissingData, a missing recovery template, a template without instance
// profile or LNI.
func TestDryRunDrillFindsProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		template func(t *testing.T, w *world) string
		want     []string
	}{
		{"missing template", func(*testing.T, *world) string { return "lt-nosuch" }, []string{"InvalidLaunchTemplateName.NotFoundException"}},
		{"bare template", func(t *testing.T, w *world) string {
			name := "lt-" + w.workload + "-bare"
			_, err := w.admin.ec2.CreateLaunchTemplate(context.Background(), &ec2.CreateLaunchTemplateInput{
				LaunchTemplateName: aws.String(name),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro},
			})
			require.NoError(t, err)
			return name
		}, []string{"no instance profile", "no network interface at device index 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.putAlarm(t, "missing")
			cfg := w.engine(t, options{}).Config()
			cfg.RecoveryTemplate = tc.template(t, w)
			e, err := recovery.New(recovery.Deps{Config: cfg, EC2: lniSubnets{EC2: w.eng.ec2, index: 1}, SSM: w.eng.ssm, SNS: w.eng.sns, CloudWatch: w.eng.cw, SQS: w.eng.sqs})
			require.NoError(t, err)

			rep, err := e.Drill(context.Background(), recovery.DrillRequest{DryRun: true})
			require.NoError(t, err)
			assert.False(t, rep.Ready)
			failed := map[string]string{}
			for _, c := range rep.Checks {
				if !c.OK {
					failed[c.Name] = c.Detail
				}
			}
			assert.Contains(t, failed["alarm "+w.statusAlarm()], "TreatMissingData")
			for _, want := range tc.want {
				assert.Contains(t, failed["recovery template"], want)
			}
			assert.Contains(t, failed, "LNI subnet", "no template interface at index 1, so no LNI subnet")
			assert.Len(t, failed, 3, "failed checks: %v", failed)
			assert.Equal(t, []string{"SNS.Publish"}, w.calls.Mutating())
		})
	}
}

// RunInstances fails once: a failure notification and a returned error; the
// retry (the same event again) takes the failed lock over and launches
// exactly one instance with the same ClientToken.
func TestLaunchFailureThenRetry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	dec := &failFirstRun{impaired: impaired{id: w.primary}}
	e := w.engine(t, options{ec2: func(next recovery.EC2) recovery.EC2 { dec.EC2 = next; return dec }})
	ev := w.alarmEvent(t, "ALARM", time.Now())

	res, err := e.HandleAlarm(context.Background(), ev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "InsufficientInstanceCapacity")
	assert.Contains(t, err.Error(), "run instance from lt-"+w.workload+"-recovery")
	assert.Equal(t, recovery.OutcomeFailed, res.Outcome)
	assert.Empty(t, w.recoveryInstances(t))
	lock, lerr := recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, lerr)
	assert.Equal(t, recovery.LockFailed, lock.State)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailoverFailed, notes[0].Kind)
	assert.Contains(t, notes[0].Timeline.Error, "InsufficientInstanceCapacity")

	res, err = e.HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	require.Len(t, w.recoveryInstances(t), 1)
	require.Len(t, dec.tokens, 2)
	assert.Equal(t, dec.tokens[0], dec.tokens[1], "the retry reuses the ClientToken")
	lock, lerr = recovery.ReadLock(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, lerr)
	assert.Equal(t, recovery.LockLaunched, lock.State)
	assert.Equal(t, 2, lock.Attempt)
	notes = w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailedOver, notes[0].Kind)

	res, err = e.HandleAlarm(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeDuplicate, res.Outcome, "a third delivery does nothing")
	assert.Len(t, w.recoveryInstances(t), 1)
}

// A delivery that died holding the lock (lease expired) is taken over; an
// instance it had already launched is adopted by its tag, not launched again.
func TestExpiredLockIsTakenOverAndInstanceAdopted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	const token = "0123456789abcdef0123456789abcdef"
	stale := recovery.Lock{Token: token, Alarm: w.statusAlarm(), State: recovery.LockLaunching, Owner: "dead-run", Attempt: 1,
		LeaseUntil: time.Now().Add(-time.Minute).UTC(), Primary: w.primary}
	b, err := json.Marshal(stale)
	require.NoError(t, err)
	w.putParam(t, naming.LockParam(w.workload), string(b))
	// What the dead run launched before it could record it.
	_, err = w.admin.ec2.RunInstances(context.Background(), &ec2.RunInstancesInput{
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("lt-" + w.workload + "-recovery"), Version: aws.String("$Default")},
		MinCount:       aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String(naming.TagWorkload), Value: aws.String(w.workload)},
			{Key: aws.String(naming.TagRole), Value: aws.String(naming.RoleRecovery)},
			{Key: aws.String(recovery.TagLock), Value: aws.String(token)},
		}}},
	})
	require.NoError(t, err)
	before := w.recoveryInstances(t)
	require.Len(t, before, 1)

	res, err := w.engine(t, options{ec2: failingPrimary(w)}).HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Equal(t, token, res.Token, "the failover keeps its token")
	assert.Equal(t, aws.ToString(before[0].InstanceId), res.RecoveryInstance)
	assert.Zero(t, w.calls.Count("RunInstances"))
	assert.Len(t, w.recoveryInstances(t), 1)
}

// Alarm events the engine must not act on: other states, other alarms (the
// DLQ alarm shares the topic), and an instance not tagged for the workload.
func TestIgnoredAndRefusedEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	e := w.engine(t, options{ec2: failingPrimary(w)})

	res, err := e.HandleAlarm(context.Background(), w.alarmEvent(t, "OK", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeIgnored, res.Outcome)
	dlq := w.alarmEvent(t, "ALARM", time.Now())
	dlq.AlarmName = "oha-" + w.workload + "-dlq"
	res, err = e.HandleAlarm(context.Background(), dlq)
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeIgnored, res.Outcome)
	assert.Zero(t, w.calls.Len(), "ignored events make no AWS call")

	_, err = w.admin.ec2.DeleteTags(context.Background(), &ec2.DeleteTagsInput{Resources: []string{w.primary},
		Tags: []ec2types.Tag{{Key: aws.String(naming.TagWorkload)}}})
	require.NoError(t, err)
	res, err = e.HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.ErrorIs(t, err, recovery.ErrNotManaged)
	assert.Equal(t, recovery.OutcomeFailed, res.Outcome)
	assert.Equal(t, "running", w.primaryState(t))
	assert.Equal(t, []string{"SNS.Publish", "SSM.PutParameter"}, w.calls.Mutating(), "only the notification and the timeline")
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.Equal(t, recovery.KindFailoverFailed, notes[0].Kind)
	assert.Contains(t, notes[0].Timeline.Error, "is not tagged for this workload")
}

// An operator's approved failover launches although the fence is unconfirmed.
func TestManualApprovedFailover(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	e := w.engine(t, options{ec2: stuck(w)})

	_, err := e.Failover(context.Background(), recovery.ManualRequest{By: "ops"})
	require.ErrorIs(t, err, recovery.ErrAwaitingConfirmation, "without --approve, an unconfirmed fence launches nothing")
	assert.Empty(t, w.recoveryInstances(t))

	res, err := e.Failover(context.Background(), recovery.ManualRequest{By: "ops", Approve: true})
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.Contains(t, res.Reason, "approved by ops")
	assert.Len(t, w.recoveryInstances(t), 1)
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.True(t, tl.Manual)

	res, err = e.Failover(context.Background(), recovery.ManualRequest{By: "ops", Approve: true})
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeAlreadyFailedOver, res.Outcome)
	assert.Len(t, w.recoveryInstances(t), 1)
}

// A full drill sets the drill marker and fires the alarm with SetAlarmState,
// which snaps back to OK within seconds: the engine must not take that for a
// flap, and marks the timeline as a drill.
func TestDrillMarkerOverridesSnapBack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	m, err := json.Marshal(recovery.Marker{Until: time.Now().Add(10 * time.Minute).UTC(), By: "drill"})
	require.NoError(t, err)
	w.putParam(t, naming.DrillParam(w.workload), string(m))
	// The drill stopped the primary; the alarm is OK again already.
	_, err = w.admin.ec2.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{w.primary}})
	require.NoError(t, err)

	res, err := w.engine(t, options{}).HandleAlarm(context.Background(), w.alarmEvent(t, "ALARM", time.Now()))
	require.NoError(t, err)
	assert.Equal(t, recovery.OutcomeLaunched, res.Outcome)
	assert.False(t, res.Fence.StopRequested, "already stopped counts as confirmed")
	tl, err := recovery.ReadTimeline(context.Background(), w.admin.ssm, w.workload)
	require.NoError(t, err)
	assert.True(t, tl.Drill)
	notes := w.notifications(t)
	require.Len(t, notes, 1)
	assert.True(t, strings.HasPrefix(notes[0].Summary, "[drill] "), notes[0].Summary)
}

// The connected alarm and the status alarm both fire for one outage: two
// different failovers race for the lock, and one instance is launched.
func TestStatusAndConnectedAlarmsLaunchOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setAlarm(t, cwtypes.StateValueAlarm)
	connected := w.putConnectedAlarm(t)
	e := w.engine(t, options{ec2: failingPrimary(w), connectedAlarm: connected,
		cfg: func(c *recovery.Config) { c.LockLease, c.LockPoll = 10*time.Minute, 20*time.Millisecond }})
	status := w.alarmEvent(t, "ALARM", time.Now())
	conn := status
	conn.AlarmName = connected

	var wg sync.WaitGroup
	results := make([]recovery.Result, 2)
	errs := make([]error, 2)
	for i, ev := range []recovery.AlarmEvent{status, conn} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.HandleAlarm(context.Background(), ev)
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.ElementsMatch(t, []recovery.Outcome{recovery.OutcomeLaunched, recovery.OutcomeAlreadyFailedOver},
		[]recovery.Outcome{results[0].Outcome, results[1].Outcome})
	assert.Len(t, w.recoveryInstances(t), 1)
}

// A recovery template that attaches an existing network interface would make
// the recovery launch fail (it tags the interfaces it creates): the dry-run
// drill says so (moto stores the template as given).
func TestDryRunDrillRefusesAttachedInterface(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	eni, err := w.admin.ec2.CreateNetworkInterface(context.Background(), &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(w.secondary)})
	require.NoError(t, err)
	name := "lt-" + w.workload + "-eni"
	_, err = w.admin.ec2.CreateLaunchTemplate(context.Background(), &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro,
			IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("oha-" + w.workload + "-instance")},
			NetworkInterfaces: []ec2types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{
				{DeviceIndex: aws.Int32(0), SubnetId: aws.String(w.secondary)},
				{DeviceIndex: aws.Int32(1), NetworkInterfaceId: eni.NetworkInterface.NetworkInterfaceId},
			}},
	})
	require.NoError(t, err)
	rep, err := w.engine(t, options{cfg: func(c *recovery.Config) { c.RecoveryTemplate = name }}).
		Drill(context.Background(), recovery.DrillRequest{DryRun: true})
	require.NoError(t, err)
	assert.False(t, rep.Ready)
	found := false
	for _, c := range rep.Checks {
		if c.Name == "recovery template" {
			found = true
			assert.False(t, c.OK)
			assert.Contains(t, c.Detail, "attaches the existing "+aws.ToString(eni.NetworkInterface.NetworkInterfaceId))
		}
	}
	assert.True(t, found, "checks: %+v", rep.Checks)
}
