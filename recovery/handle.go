package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// run is the state of one evaluation.
type run struct {
	ev      AlarmEvent
	token   string
	manual  bool
	approve bool // manual failover approved: launch even if the fence is unconfirmed
	by      string
	drill   bool
	primary instance
	tl      Timeline
	res     Result
}

// HandleAlarm evaluates one alarm notification (DESIGN.md "Detection and
// failover"):
//  1. only a transition to ALARM of this workload's status or connected alarm
//     counts; the alarm and the primary are re-read now, and a flap (alarm no
//     longer in ALARM) or a recovered primary (running, status checks ok) ends
//     the run with nothing changed;
//  2. an active maintenance marker skips the failover and says so;
//  3. the primary is fenced (force-stop, wait for stopped/terminated);
//  4. the policy decides: notify never launches; confirmed launches only on a
//     confirmed fence, else requests approval and returns
//     ErrAwaitingConfirmation; automatic also launches when the primary Outpost
//     was disconnected through the whole detection window;
//  5. the SSM lock makes exactly one delivery launch, from the recovery launch
//     template with a ClientToken derived from the lock;
//  6. the timeline is recorded and the operator notified.
//
// Errors are returned with the step that failed; a returned error makes Lambda
// retry the event, which the lock makes safe.
func (e *Engine) HandleAlarm(ctx context.Context, ev AlarmEvent) (Result, error) {
	r := &run{ev: ev, res: Result{Workload: e.cfg.Workload}}
	if ev.NewState != StateAlarm {
		return e.end(r, OutcomeIgnored, fmt.Sprintf("%s moved to %s, not ALARM", ev.AlarmName, ev.NewState)), nil
	}
	if ev.AlarmName != e.cfg.StatusAlarm && (e.cfg.ConnectedAlarm == "" || ev.AlarmName != e.cfg.ConnectedAlarm) {
		return e.end(r, OutcomeIgnored, fmt.Sprintf("%s is not a failover alarm of %s", ev.AlarmName, e.cfg.Workload)), nil
	}
	r.token = lockToken(e.cfg.Workload, ev.AlarmName, ev.StateChangeTime)
	r.res.Token = r.token
	// From here on a failure is a failed failover attempt: recorded, notified
	// and returned.
	res, err := e.evaluate(ctx, r)
	if err != nil && r.res.Outcome == "" {
		return e.failed(ctx, r, err)
	}
	return res, err
}

func (e *Engine) evaluate(ctx context.Context, r *run) (Result, error) {
	ev := r.ev
	// A failover that launched holds the lock until failback: nothing to do.
	if done, err := e.launchedLock(ctx, r); done || err != nil {
		return r.res, err
	}
	drill, drillOn, err := e.activeMarker(ctx, naming.DrillParam(e.cfg.Workload))
	if err != nil {
		return r.res, err
	}
	maint, maintOn, err := e.activeMarker(ctx, naming.MaintenanceParam(e.cfg.Workload))
	if err != nil {
		return r.res, err
	}

	alarms, err := e.describeAlarms(ctx, ev.AlarmName)
	if err != nil {
		return r.res, err
	}
	if st := string(alarms[ev.AlarmName].StateValue); st != StateAlarm {
		if !drillOn {
			return e.end(r, OutcomeFlap, fmt.Sprintf("%s is %s again", ev.AlarmName, st)), nil
		}
		// SetAlarmState, which a full drill uses, snaps back within seconds.
		e.log.Info("drill marker active: alarm state not re-checked", "alarm", ev.AlarmName, "state", st, "drillBy", drill.By)
	}
	r.drill = drillOn
	if r.primary, err = e.primaryOf(ctx, alarms[e.cfg.StatusAlarm]); err != nil {
		return r.res, err
	}
	ok, why, err := e.recovered(ctx, r.primary)
	if err != nil {
		return r.res, err
	}
	if ok {
		return e.end(r, OutcomePrimaryRecovered, why), nil
	}

	if maintOn {
		return e.skipForMaintenance(ctx, r, maint)
	}
	return e.act(ctx, r)
}

// ManualRequest is an operator's `outposts-ha failover`.
type ManualRequest struct {
	By string
	// Approve launches even when the fence cannot be confirmed: the operator
	// asserts the primary is down or cut off from the SAN.
	Approve bool
}

// Failover runs an operator-requested failover: the same fence, lock, launch,
// timeline and notification as HandleAlarm, without the flap, recovered and
// maintenance gates (the operator asked), and with the operator's approval in
// place of the policy when the fence is unconfirmed. Without Approve it
// launches only on a confirmed fence.
func (e *Engine) Failover(ctx context.Context, req ManualRequest) (Result, error) {
	now := e.now().UTC()
	by := req.By
	if by == "" {
		by = "an operator"
	}
	r := &run{
		ev: AlarmEvent{AlarmName: e.cfg.StatusAlarm, NewState: StateAlarm, StateChangeTime: now,
			Reason: "manual failover requested by " + by},
		token: lockToken(e.cfg.Workload, "manual:"+by, now), manual: true, approve: req.Approve, by: by,
		res: Result{Workload: e.cfg.Workload},
	}
	r.res.Token = r.token
	if done, err := e.launchedLock(ctx, r); done || err != nil {
		return r.res, err
	}
	alarms, err := e.describeAlarms(ctx, "")
	if err == nil {
		r.primary, err = e.primaryOf(ctx, alarms[e.cfg.StatusAlarm])
	}
	if err != nil {
		return e.failed(ctx, r, err)
	}
	return e.act(ctx, r)
}

// end finishes a run that changes nothing.
func (e *Engine) end(r *run, o Outcome, reason string) Result {
	r.res.Outcome, r.res.Reason = o, reason
	e.log.Info("failover evaluation ended", "workload", e.cfg.Workload, "outcome", o, "reason", reason, "alarm", r.ev.AlarmName)
	return r.res
}

// launchedLock ends the run when a failover has launched already.
func (e *Engine) launchedLock(ctx context.Context, r *run) (bool, error) {
	l, err := ReadLock(ctx, e.ssm, e.cfg.Workload)
	if errors.Is(err, ErrNoLock) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if l.State != LockLaunched {
		return false, nil
	}
	e.lockedResult(r, l)
	return true, nil
}

func (e *Engine) lockedResult(r *run, l Lock) {
	r.res.RecoveryInstance = l.Instance
	r.res.NextCommand = FailbackCommand(e.cfg.Workload)
	if l.Token == r.token {
		e.end(r, OutcomeDuplicate, fmt.Sprintf("this failover launched %s already", l.Instance))
		return
	}
	e.end(r, OutcomeAlreadyFailedOver, fmt.Sprintf("failed over to %s at %s; the workload stays degraded until failback",
		l.Instance, l.Updated.Format(time.RFC3339)))
}

func (e *Engine) activeMarker(ctx context.Context, name string) (Marker, bool, error) {
	m, found, err := ReadMarker(ctx, e.ssm, name)
	if err != nil || !found {
		return m, false, err
	}
	return m, m.Active(e.now()), nil
}

// describeAlarms re-reads the status alarm and, when different, the alarm that fired.
func (e *Engine) describeAlarms(ctx context.Context, trigger string) (map[string]cwtypes.MetricAlarm, error) {
	names := []string{e.cfg.StatusAlarm}
	if trigger != "" && trigger != e.cfg.StatusAlarm {
		names = append(names, trigger)
	}
	out, err := e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: names, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm},
	})
	if err != nil {
		return nil, fmt.Errorf("re-read alarms %v: %w", names, err)
	}
	m := map[string]cwtypes.MetricAlarm{}
	for _, a := range out.MetricAlarms {
		m[aws.ToString(a.AlarmName)] = a
	}
	for _, n := range names {
		if _, ok := m[n]; !ok {
			return nil, fmt.Errorf("re-read alarms: %s does not exist", n)
		}
	}
	return m, nil
}

// alarmInstance is the InstanceId dimension of the status alarm: the primary
// it watches (failback moves it).
func alarmInstance(a cwtypes.MetricAlarm) string {
	for _, d := range a.Dimensions {
		if aws.ToString(d.Name) == "InstanceId" {
			return aws.ToString(d.Value)
		}
	}
	return ""
}

// primaryOf reads the instance the status alarm watches, and refuses one that
// is not this workload's.
func (e *Engine) primaryOf(ctx context.Context, status cwtypes.MetricAlarm) (instance, error) {
	id := alarmInstance(status)
	if id == "" {
		return instance{}, fmt.Errorf("alarm %s has no InstanceId dimension", aws.ToString(status.AlarmName))
	}
	p, err := e.describeInstance(ctx, id)
	if err != nil {
		return instance{}, fmt.Errorf("re-read primary: %w", err)
	}
	if p.state != stateAbsent && p.workload != e.cfg.Workload {
		return instance{}, fmt.Errorf("primary %s (tag %s=%q): %w %s", id, naming.TagWorkload, p.workload, ErrNotManaged, e.cfg.Workload)
	}
	return p, nil
}

func (e *Engine) skipForMaintenance(ctx context.Context, r *run, m Marker) (Result, error) {
	if err := e.startTimeline(ctx, r); err != nil {
		return r.res, err
	}
	why := fmt.Sprintf("maintenance until %s", m.Until.UTC().Format(time.RFC3339))
	if m.By != "" {
		why += " by " + m.By
	}
	if m.Reason != "" {
		why += " (" + m.Reason + ")"
	}
	r.res.NextCommand = FailoverCommand(e.cfg.Workload)
	e.decide(r, OutcomeMaintenance, "skipped: "+why+"; the primary was not fenced")
	return e.finish(ctx, r, Notification{
		Kind:    KindMaintenanceSkipped,
		Summary: fmt.Sprintf("alarm during maintenance, no failover (primary %s)", r.primary.id),
		Details: []string{
			fmt.Sprintf("%s went to ALARM while %s.", r.ev.AlarmName, why),
			"Nothing was stopped or launched. If the primary is really down, fail over by hand:",
		},
	}, nil)
}

// act fences, applies the policy, and launches when it allows.
func (e *Engine) act(ctx context.Context, r *run) (Result, error) {
	if err := e.startTimeline(ctx, r); err != nil {
		return r.res, err
	}
	r.tl.PrimaryInstance, r.res.PrimaryInstance = r.primary.id, r.primary.id
	r.tl.Drill = r.tl.Drill || r.drill
	if e.cfg.Policy == PolicyNotify && !r.manual {
		// notify is hands-off: the function neither stops nor launches. A false
		// alarm must not become an outage the tool caused; the operator's
		// `failover` fences before it launches.
		r.res.NextCommand = FailoverCommand(e.cfg.Workload)
		e.decide(r, OutcomeNotified, "notify policy: the primary was not stopped and nothing was launched; the operator decides")
		return e.finish(ctx, r, Notification{
			Kind:    KindActionRequired,
			Summary: fmt.Sprintf("primary %s failed; fail over by hand", r.primary.id),
			Details: []string{
				fmt.Sprintf("%s went to ALARM. The primary was not stopped: the notify policy takes no action.", r.ev.AlarmName),
				"To fence the primary and fail over to the secondary server, run:",
			},
		}, nil)
	}
	f, err := e.fence(ctx, r.primary)
	r.res.Fence = &f
	r.tl.FencedAt, r.tl.FenceResult = e.now().UTC(), f.Detail
	if f.StopError != "" {
		r.tl.add(r.tl.FencedAt, "fence", f.Detail+": "+f.StopError)
	} else {
		r.tl.add(r.tl.FencedAt, "fence", f.Detail)
	}
	if err != nil {
		return e.failed(ctx, r, err)
	}

	launchWhy := ""
	var healthErr error
	switch {
	case f.Confirmed:
		launchWhy = "primary confirmed down"
	case r.manual && r.approve:
		launchWhy = "approved by " + r.by + " with the primary not confirmed down"
	case e.cfg.Policy == PolicyAutomatic && !r.manual:
		disc, why, err := e.outpostDisconnected(ctx, r.ev.StateChangeTime)
		if err != nil {
			healthErr = fmt.Errorf("read Outpost connectivity: %w", err)
			r.tl.add(e.now(), "health", healthErr.Error())
		} else {
			r.tl.add(e.now(), "health", why)
		}
		if disc {
			launchWhy = "primary not confirmed down, but " + why
		}
	}
	if launchWhy == "" {
		return e.awaitApproval(ctx, r, f, healthErr)
	}
	e.decide(r, OutcomeLaunched, "launch from "+e.cfg.RecoveryTemplate+": "+launchWhy)
	return e.lockAndLaunch(ctx, r)
}

func (e *Engine) decide(r *run, o Outcome, decision string) {
	r.tl.DecisionAt, r.tl.Decision, r.tl.Outcome = e.now().UTC(), decision, o
	r.res.Outcome, r.res.Reason = o, decision
	r.tl.add(r.tl.DecisionAt, "decision", decision)
}

func (e *Engine) awaitApproval(ctx context.Context, r *run, f Fence, healthErr error) (Result, error) {
	r.res.NextCommand = FailoverCommand(e.cfg.Workload)
	e.decide(r, OutcomeAwaitingApproval, fmt.Sprintf("%s policy: %s; approval requested", e.cfg.Policy, f.Detail))
	details := []string{
		fmt.Sprintf("%s went to ALARM, but EC2 has not confirmed that the primary %s is down: %s.", r.ev.AlarmName, r.primary.id, f.Detail),
		"Nothing was launched, so there is no risk of two writers on the SAN volumes.",
	}
	if f.StopError != "" {
		details = append(details, "The force-stop failed: "+f.StopError)
	}
	if !r.manual {
		details = append(details, "The function re-evaluates this alarm on its two automatic retries (about 1 and 2 minutes apart) and launches as soon as EC2 confirms the stop; after that the event goes to the dead-letter queue.")
	}
	details = append(details, "Only once you have verified the primary server is powered off or cut off from the array, approve with:")
	base := fmt.Errorf("%w: %s", ErrAwaitingConfirmation, f.Detail)
	return e.finish(ctx, r, Notification{
		Kind:    KindApprovalRequired,
		Summary: fmt.Sprintf("approval needed to fail over (primary %s not confirmed down)", r.primary.id),
		Details: details,
	}, errors.Join(base, f.stopErr, healthErr))
}

// lockAndLaunch takes the lock and launches the recovery instance.
func (e *Engine) lockAndLaunch(ctx context.Context, r *run) (Result, error) {
	l, owned, err := e.acquire(ctx, r)
	if err != nil {
		return e.failed(ctx, r, err)
	}
	if !owned {
		// Another delivery launched; it writes the timeline and notifies.
		e.lockedResult(r, l)
		return r.res, nil
	}
	r.res.Token, r.tl.Token = l.Token, l.Token
	r.tl.LaunchAt = e.now().UTC()
	id, adopted, err := e.launch(ctx, l.Token)
	if err != nil {
		l.State, l.Error = LockFailed, clip(err.Error(), 500)
		_, lerr := e.putLock(ctx, l, true)
		return e.failed(ctx, r, errors.Join(err, lerr))
	}
	l.State, l.Instance = LockLaunched, id
	_, lockErr := e.putLock(ctx, l, true)
	r.res.RecoveryInstance, r.tl.RecoveryInstance = id, id
	r.tl.Degraded = true
	how := fmt.Sprintf("RunInstances from %s ($Default) -> %s (attempt %d)", e.cfg.RecoveryTemplate, id, l.Attempt)
	if adopted {
		how = fmt.Sprintf("found %s already launched for this failover (tag %s)", id, TagLock)
	}
	r.tl.add(r.tl.LaunchAt, "launch", how)

	state, err := e.waitRunning(ctx, id)
	if err != nil {
		return e.failed(ctx, r, errors.Join(err, lockErr))
	}
	if state == "running" {
		r.tl.RunningAt = e.now().UTC()
		r.tl.add(r.tl.RunningAt, "running", id+" is running")
	} else {
		r.tl.add(e.now(), "launch", fmt.Sprintf("%s still %s after %s; check `outposts-ha status`", id, state, e.cfg.LaunchTimeout))
	}
	r.res.NextCommand = FailbackCommand(e.cfg.Workload)
	details := []string{
		fmt.Sprintf("Recovery instance %s (%s) launched from %s on the secondary server.", id, state, e.cfg.RecoveryTemplate),
		fmt.Sprintf("Old primary %s: %s.", r.primary.id, r.tl.FenceResult),
		fmt.Sprintf("The workload is DEGRADED: nothing stands by, the alarm %s still watches the old primary %s, and the lock stays until failback, which re-arms protection.",
			e.cfg.StatusAlarm, r.primary.id),
	}
	return e.finish(ctx, r, Notification{
		Kind:    KindFailedOver,
		Summary: fmt.Sprintf("failed over to %s; degraded until failback", id),
		Details: details,
	}, lockErr)
}

// failed records and reports a failure, and returns it.
func (e *Engine) failed(ctx context.Context, r *run, cause error) (Result, error) {
	if r.tl.Workload == "" {
		if err := e.startTimeline(ctx, r); err != nil {
			cause = errors.Join(cause, err)
		}
		r.tl.PrimaryInstance = r.primary.id
	}
	r.tl.Error = clip(cause.Error(), 1000)
	r.res.NextCommand = FailoverCommand(e.cfg.Workload)
	r.res.Outcome, r.res.Reason = OutcomeFailed, cause.Error()
	r.tl.add(e.now(), "error", cause.Error())
	details := []string{"Error: " + cause.Error()}
	if !r.manual {
		details = append(details, "Lambda retries this alarm automatically (about 1 and 2 minutes later); a retry of the same failover launches at most one instance. If every attempt fails the event goes to the dead-letter queue.")
	}
	details = append(details, "To retry by hand once the cause is fixed:")
	return e.finish(ctx, r, Notification{
		Kind:    KindFailoverFailed,
		Summary: "failover FAILED: " + clip(cause.Error(), 60),
		Details: details,
	}, cause)
}

// finish writes the timeline and publishes the notification; it returns the
// run's error joined with any error of these two steps.
func (e *Engine) finish(ctx context.Context, r *run, n Notification, runErr error) (Result, error) {
	r.tl.Outcome = r.res.Outcome
	r.tl.NextCommand = r.res.NextCommand
	if runErr != nil && r.tl.Error == "" {
		r.tl.Error = clip(runErr.Error(), 1000)
	}
	tlErr := e.writeTimeline(ctx, &r.tl)
	n.NextCommand = r.res.NextCommand
	n.Timeline = r.tl
	if r.tl.Drill {
		n.Summary = "[drill] " + n.Summary
	}
	nErr := e.notify(ctx, n)
	err := errors.Join(runErr, tlErr, nErr)
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelError
	}
	e.log.Log(ctx, lvl, "failover evaluation finished", "workload", e.cfg.Workload, "outcome", r.res.Outcome,
		"token", r.res.Token, "primary", r.primary.id, "recovery", r.res.RecoveryInstance, "error", err)
	return r.res, err
}
