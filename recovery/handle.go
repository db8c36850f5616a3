package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// run is the state of one evaluation.
type run struct {
	ev      AlarmEvent
	token   string
	manual  bool
	approve bool // manual failover approved: launch even if the fence is unconfirmed
	// primaryDown: the launch rests on a confirmed fence, so the primary must
	// still be down in the listing right before RunInstances.
	primaryDown bool
	by          string
	drill       bool
	primary     instance
	tl          Timeline
	res         Result
	// recorded: finish wrote the timeline and published the notification.
	recorded bool
	// rec is the invocation's own context: records and notifications use it,
	// while actions run under a context that ends DeadlineMargin earlier.
	rec context.Context
	// notes are events found before the timeline was started.
	notes []Event
	// fenceTag says how tagging the primary naming.TagFenced went ("" not
	// tried).
	fenceTag string
}

// actionContext cuts ctx's deadline by DeadlineMargin for the run's actions,
// so that one hanging AWS call cannot eat the time reserved to record the
// outcome, mark the lock and notify (those use r.rec, the context as given).
func (e *Engine) actionContext(ctx context.Context, r *run) (context.Context, context.CancelFunc) {
	r.rec = ctx
	if dl, ok := ctx.Deadline(); ok {
		return e.clock.WithDeadline(ctx, dl.Add(-e.cfg.DeadlineMargin))
	}
	return context.WithCancel(ctx)
}

// recordContext is the context for one record or notification call: the
// invocation's context (which keeps the reserved margin even when the
// actions' context is over), each call bounded to a third of the margin so
// that one hanging call leaves time for the others.
func (e *Engine) recordContext(ctx context.Context, r *run) (context.Context, context.CancelFunc) {
	base := r.rec
	if base == nil {
		base = ctx
	}
	return e.withTimeout(base, e.cfg.DeadlineMargin/3)
}

// HandleAlarm evaluates one alarm notification (DESIGN.md "Detection and
// failover"):
//  0. a failover that launched holds the lock until failback: this run ends
//     (duplicate / already failed over), or finishes that failover's record
//     if its run died; a run that died after RunInstances but before the lock
//     said launched is found by the instance tagged with the lock's token
//     (pending or running) and recorded the same way, before any check below
//     could end this run saying nothing was launched;
//  1. only a transition to ALARM of this workload's status or connected alarm
//     counts; the alarm and the primary are re-read now, and a flap (alarm no
//     longer in ALARM) or a recovered primary (running, status checks ok) ends
//     the run with nothing changed;
//  2. an active maintenance marker skips the failover and says so; a primary
//     that just restarted (running, instance status initializing; not
//     insufficient-data, which a hung primary shows too) is left alone and
//     ErrAwaitingConfirmation makes Lambda's retries re-check; a drill marker
//     that does not parse is recorded and treated as off;
//  3. any other live instance of the workload (by its tag) that no failover
//     lock accounts for stops everything, before the fence: an approval
//     request naming it and an *OtherInstancesError;
//  4. the primary is fenced (force-stop, wait for stopped/terminated; an
//     instance EC2 does not know is not confirmed down);
//  5. the policy decides: notify never stops or launches; confirmed launches
//     only on a confirmed fence, else requests approval and returns
//     ErrAwaitingConfirmation; automatic also launches when the primary Outpost
//     was disconnected through the whole detection window (not for a primary
//     EC2 does not know);
//  6. the SSM lock makes exactly one delivery launch, from the recovery launch
//     template with a ClientToken derived from the lock, after listing the
//     workload's instances once more (and, when the launch rests on a
//     confirmed fence, requiring the primary still stopped, terminated or
//     gone there);
//  7. the timeline is recorded and the operator notified. A run that fenced
//     and then stood down for another failover notes its stop in that
//     failover's timeline.
//
// Never two writers (retire.go): before any stop the primary Outpost's
// ConnectedStatus is read, and an unreachable primary is not stopped (the
// policy decides: confirmed asks for approval, automatic launches saying
// "primary unreachable, not confirmed stopped"); right before RunInstances
// the primary is tagged naming.TagFenced (the stack denies starting it); once
// the recovery instance runs and passes its status checks the primary is
// terminated, or ErrRetirePending makes a retry do it; a recovery instance
// that stopped before it ran is terminated. A run that ends without acting
// (primary recovered, maintenance) sets the alarm back to OK, so that a later
// failure is a new transition that reaches the function.
//
// Actions run under ctx's deadline minus DeadlineMargin, so one hanging call
// cannot eat the time reserved for the records: the lock's failed or
// launched state, the timeline and the notification are written under ctx
// itself. Every wait is cut further to leave DeadlineMargin free. Errors are
// returned with the step that failed; a returned error makes Lambda retry the
// event, which the lock makes safe (ErrRecordPending: a launched failover's
// record is not complete yet).
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
	ctx, cancel := e.actionContext(ctx, r)
	defer cancel()
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
	// A failover that launched holds the lock until failback: nothing to do,
	// unless the run that launched died before it recorded and notified.
	if done, err := e.launchedLock(ctx, r); done || err != nil {
		return r.res, err
	}
	drill, drillOn, err := e.activeMarker(ctx, naming.DrillParam(e.cfg.Workload))
	if err != nil {
		// A drill marker only relaxes the flap check for a drill; one that
		// does not parse must not block a real failover.
		e.log.Warn("drill marker ignored", "error", err)
		r.notes = append(r.notes, Event{At: e.now().UTC(), Step: "drill", Detail: clip("drill marker ignored (treated as off): "+err.Error(), 300)})
		drill, drillOn = Marker{}, false
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
	h, why, err := e.primaryHealth(ctx, r.primary)
	if err != nil {
		return r.res, err
	}
	if h == healthOK {
		e.end(r, OutcomePrimaryRecovered, why)
		return r.res, e.rearm(ctx, r, alarms, why)
	}

	if maintOn {
		return e.skipForMaintenance(ctx, r, maint, alarms)
	}
	if h == healthInitializing {
		return e.awaitInitializing(ctx, r, why)
	}
	return e.act(ctx, r)
}

// ManualRequest is an operator's `outposts-ha failover`.
type ManualRequest struct {
	By string
	// Approve launches even when the fence cannot be confirmed (or EC2 does
	// not know the primary): the operator asserts the primary is down or cut
	// off from the SAN. It does not override another live instance of the
	// workload: that must be stopped first.
	Approve bool
}

// Failover runs an operator-requested failover: the same fence, lock, launch,
// timeline and notification as HandleAlarm, without the flap, recovered and
// maintenance gates (the operator asked), and with the operator's approval in
// place of the policy when the fence is unconfirmed. Without Approve it
// launches only on a confirmed fence; with it, never while another live
// instance of the workload exists.
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
	ctx, cancel := e.actionContext(ctx, r)
	defer cancel()
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

// launchedLock ends the run when a failover has launched already (see
// onLaunchedLock).
func (e *Engine) launchedLock(ctx context.Context, r *run) (bool, error) {
	l, ver, err := readLock(ctx, e.ssm, naming.LockParam(e.cfg.Workload))
	if errors.Is(err, ErrNoLock) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch {
	case l.State == LockLaunched:
		_, err = e.onLaunchedLock(ctx, r, l, ver)
		return true, err
	case l.State == LockFailed, l.State == LockLaunching && !e.now().Before(l.LeaseUntil):
		return e.orphanedLaunch(ctx, r, l, ver)
	}
	return false, nil
}

// orphanedLaunch finishes the record of a failover whose run died between
// RunInstances and marking the lock launched (the lock still says launching,
// lease over, or failed) when an instance tagged with the lock's token is
// pending or running: before any flap, recovered, maintenance or restart
// check could end this run saying nothing was launched. It claims the lock
// as launched (compare-and-swap), waits for the instance, records and
// notifies once. done is false when there is no such instance.
func (e *Engine) orphanedLaunch(ctx context.Context, r *run, l Lock, ver int64) (done bool, err error) {
	list, err := e.workloadInstances(ctx)
	if err != nil {
		return false, err
	}
	var found *instance
	for _, in := range list {
		if in.lock == l.Token && in.lock != "" && adoptable(in.state) {
			found = &in
			break
		}
	}
	if found == nil {
		return false, nil
	}
	next := l
	next.State, next.Instance, next.Error, next.Owner, next.Retire = LockLaunched, found.id, "", e.newID(), RetirePending
	next.LeaseUntil = e.now().UTC().Add(e.waitBudget(ctx, e.cfg.LaunchTimeout+e.cfg.RetireTimeout, 0) + e.cfg.DeadlineMargin)
	won, err := e.claim(ctx, &next, l, ver)
	if err != nil || !won {
		r.res.Outcome, r.res.Reason = OutcomeDuplicate, "another delivery is recording the launch of "+found.id
		if err == nil {
			err = fmt.Errorf("%w: another delivery claimed failover %s (instance %s)", ErrRecordPending, l.Token, found.id)
		}
		return true, fmt.Errorf("claim the record of failover %s: %w", l.Token, err)
	}
	how := fmt.Sprintf("%s (%s) launched for this failover (attempt %d) while the lock still said %s; the run that launched it ended before recording it, so a later delivery records it now",
		found.id, found.state, l.Attempt, l.State)
	_, err = e.recordOrphan(ctx, r, next, how)
	return true, err
}

// onLaunchedLock handles a launched lock this run found. Normally the run
// that launched records the timeline and notifies, and this run is a duplicate
// delivery or a later alarm: it changes nothing. But Lambda may have ended
// that run (its timeout) after the lock said launched and before the record
// and the notification; its lease on the lock then runs out. The first run to
// find that lease over and the timeline without the launch's notification
// claims the lock (compare-and-swap) and finishes the record, once.
func (e *Engine) onLaunchedLock(ctx context.Context, r *run, l Lock, ver int64) (Result, error) {
	// While the launching run's lease lasts, wait (bounded) for its record.
	// A complete record ends this run as a duplicate; an incomplete one at
	// the end of the wait is a retryable error, never a quiet nil: if the
	// launching run died, Lambda's retry must come back to finish it.
	maxPolls := int(e.cfg.LockLease/e.cfg.LockPoll) + 5
	waitUntil := e.now().Add(e.waitBudget(ctx, e.cfg.LockLease, e.cfg.DeadlineMargin))
	for poll := 0; ; poll++ {
		tl, err := ReadTimeline(ctx, e.ssm, e.cfg.Workload)
		if err != nil && !errors.Is(err, ErrNoTimeline) {
			e.lockedResult(r, l) // an outcome, so the stored timeline is not overwritten with a failure
			return r.res, fmt.Errorf("read the timeline of failover %s: %w", l.Token, err)
		}
		if err == nil && recorded(tl, l) {
			e.lockedResult(r, l)
			if l.Retire == RetirePending && !e.now().Before(l.LeaseUntil) {
				// The launching run ended with the fenced primary still to
				// terminate (ErrRetirePending): this retry finishes it.
				return r.res, e.finishRetire(ctx, r, l, ver)
			}
			return r.res, nil
		}
		if !e.now().Before(l.LeaseUntil) {
			break
		}
		if poll >= maxPolls || !e.now().Before(waitUntil) {
			e.lockedResult(r, l)
			return r.res, fmt.Errorf("%w: failover %s launched %s and its run holds the lock until %s",
				ErrRecordPending, l.Token, l.Instance, l.LeaseUntil.Format(time.RFC3339))
		}
		if err := e.sleep(ctx, e.cfg.LockPoll); err != nil {
			e.lockedResult(r, l)
			return r.res, fmt.Errorf("wait for the record of failover %s: %w", l.Token, err)
		}
		cur, cver, err := readLock(ctx, e.ssm, naming.LockParam(e.cfg.Workload))
		if err != nil || cur.State != LockLaunched || cur.Token != l.Token {
			// Failback removed it, or the launch was found dead: let a retry
			// look again.
			e.lockedResult(r, l)
			return r.res, fmt.Errorf("%w: the lock of failover %s changed while waiting for its record (%v)", ErrRecordPending, l.Token, err)
		}
		l, ver = cur, cver
	}
	next := l
	next.Owner = e.newID()
	next.LeaseUntil = e.now().UTC().Add(e.waitBudget(ctx, e.cfg.LaunchTimeout+e.cfg.RetireTimeout, 0) + e.cfg.DeadlineMargin)
	won, err := e.claim(ctx, &next, l, ver)
	if err != nil || !won {
		e.lockedResult(r, l)
		if err == nil {
			err = fmt.Errorf("%w: another delivery claimed it", ErrRecordPending)
		}
		return r.res, fmt.Errorf("claim the record of failover %s: %w", l.Token, err)
	}
	how := fmt.Sprintf("%s launched for this failover (attempt %d); the run that launched it ended before recording it, so a later delivery records it now",
		l.Instance, l.Attempt)
	return e.recordOrphan(ctx, r, next, how)
}

// recordOrphan finishes the record of launched lock l (claimed by this run)
// whose launching run died: it continues the failover's own timeline when it
// has one (it was written just before RunInstances), else rebuilds its start
// from the lock, then waits for the instance, records and notifies.
func (e *Engine) recordOrphan(ctx context.Context, r *run, l Lock, how string) (Result, error) {
	tl, err := ReadTimeline(ctx, e.ssm, e.cfg.Workload)
	if err != nil && !errors.Is(err, ErrNoTimeline) {
		e.log.Warn("could not read the timeline of the failover; rebuilding it from the lock", "token", l.Token, "error", err)
	}
	if err == nil && tl.Token == l.Token && tl.Workload != "" {
		r.tl = tl
		r.tl.Error, r.tl.NotifiedAt = "", time.Time{}
	} else {
		r.tl = Timeline{Workload: e.cfg.Workload, Token: l.Token, Policy: e.cfg.Policy, Alarm: l.Alarm,
			AlarmTime: l.AlarmTime, Manual: l.Manual, PrimaryInstance: l.Primary}
		r.tl.add(l.AlarmTime, "alarm", l.Alarm+" (from the failover lock: the launching run left no timeline)")
	}
	if r.tl.LaunchAt.IsZero() {
		r.tl.LaunchAt = l.Updated
	}
	r.primary = instance{id: l.Primary}
	r.res.Token, r.res.PrimaryInstance = l.Token, l.Primary
	r.res.Outcome, r.tl.Outcome = OutcomeLaunched, OutcomeLaunched
	r.res.Reason = fmt.Sprintf("recorded the launch of %s, which the run that launched it did not finish recording", l.Instance)
	return e.completeLaunch(ctx, r, l, how, nil)
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

func (e *Engine) skipForMaintenance(ctx context.Context, r *run, m Marker, alarms map[string]cwtypes.MetricAlarm) (Result, error) {
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
	reason := r.res.Reason
	rearmErr := e.rearm(ctx, r, alarms, "maintenance")
	r.res.Reason = reason
	return e.finish(ctx, r, Notification{
		Kind:    KindMaintenanceSkipped,
		Summary: fmt.Sprintf("alarm during maintenance, no failover (primary %s)", r.primary.id),
		Details: []string{
			fmt.Sprintf("%s went to ALARM while %s.", r.ev.AlarmName, why),
			"Nothing was stopped or launched. The alarm was set back to OK, so it notifies again if the failure persists. If the primary is really down, fail over by hand:",
		},
	}, rearmErr)
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
	// Never two writers: the alarm names one instance, but a stale or
	// mistyped PrimaryInstanceId, or an instance an operator launched, may be
	// the workload's real writer. No approval overrides this. Checked before
	// the fence, so the primary is not stopped for a failover that cannot
	// launch.
	others, err := e.othersBeforeLock(ctx, r)
	if err != nil {
		return e.failed(ctx, r, err)
	}
	if len(others) > 0 {
		return e.awaitOthers(ctx, r, othersError(others), nil)
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
		r.primaryDown = true // re-checked right before RunInstances
	case r.manual && r.approve:
		launchWhy = "approved by " + r.by + " with the primary not confirmed down"
		if f.State == stateAbsent {
			launchWhy = "approved by " + r.by + " with the primary unknown to EC2 and no other live instance of the workload"
		}
	case e.cfg.Policy == PolicyAutomatic && !r.manual && f.State == stateAbsent:
		r.tl.add(e.now(), "health", "the primary is unknown to EC2, so Outpost connectivity says nothing about it; only an approved manual failover launches")
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
	if f.Unreachable {
		details = append(details, "The primary's Outpost is not connected, so no stop was sent: during a service-link outage the instance keeps running and may still be serving. Primary unreachable, not confirmed stopped.")
	}
	if !r.manual {
		details = append(details, "The function re-evaluates this alarm on its two automatic retries (about 1 and 2 minutes apart): it force-stops the primary once its Outpost is connected again, and launches as soon as EC2 confirms the stop; after that the event goes to the dead-letter queue.")
	}
	details = append(details, "Only once you have verified the primary server is powered off or cut off from the array, approve with:")
	base := fmt.Errorf("%w: %s", ErrAwaitingConfirmation, f.Detail)
	summary := fmt.Sprintf("approval needed to fail over (primary %s not confirmed down)", r.primary.id)
	if f.Unreachable {
		summary = fmt.Sprintf("approval needed: primary %s unreachable, not confirmed stopped", r.primary.id)
	}
	return e.finish(ctx, r, Notification{
		Kind:    KindApprovalRequired,
		Summary: summary,
		Details: details,
	}, errors.Join(base, f.stopErr, healthErr))
}

// othersBeforeLock lists the workload's live instances, other than the
// primary, that no failover lock accounts for. The instances are listed
// before the lock is read: an instance carrying a failover's token was
// launched under that failover's lock, which existed before it and stays
// until failback, so a lock read afterwards names it. Such an instance is
// not a second writer: the lock makes this run wait for, adopt, or stand
// down before that failover's launch.
func (e *Engine) othersBeforeLock(ctx context.Context, r *run) ([]instance, error) {
	list, err := e.workloadInstances(ctx)
	if err != nil {
		return nil, err
	}
	tokens := []string{r.token}
	l, err := ReadLock(ctx, e.ssm, e.cfg.Workload)
	switch {
	case err == nil:
		tokens = append(tokens, l.Token)
	case !errors.Is(err, ErrNoLock):
		return nil, err
	}
	return otherWriters(list, r.primary.id, tokens...), nil
}

// awaitOthers reports live instances that stopped the launch.
func (e *Engine) awaitOthers(ctx context.Context, r *run, oe *OtherInstancesError, extra error) (Result, error) {
	r.res.NextCommand = FailoverCommand(e.cfg.Workload)
	r.tl.add(e.now(), "others", "live: "+strings.Join(oe.Details, ", "))
	e.decide(r, OutcomeAwaitingApproval, fmt.Sprintf("%s policy: not launched, other live instances of %s: %s; approval requested",
		e.cfg.Policy, e.cfg.Workload, strings.Join(oe.Instances, ", ")))
	what := fmt.Sprintf("%s went to ALARM for the primary %s", r.ev.AlarmName, r.primary.id)
	if r.manual {
		what = fmt.Sprintf("%s asked to fail over from the primary %s", r.by, r.primary.id)
	}
	details := []string{
		fmt.Sprintf("%s, but EC2 shows other live instances of workload %s: %s.", what, e.cfg.Workload, strings.Join(oe.Details, ", ")),
		"Any of them may be writing to the SAN volumes, so nothing was launched: a recovery instance could be a second writer.",
		fmt.Sprintf("Primary %s: %s.", r.primary.id, fenceOrNotStopped(r.tl.FenceResult)),
		"If one of them is the real primary, point the recovery stack's PrimaryInstanceId at it. Otherwise stop or terminate them.",
		"Only then, with the failed primary confirmed powered off or cut off from the array, approve with:",
	}
	return e.finish(ctx, r, Notification{
		Kind:    KindApprovalRequired,
		Summary: fmt.Sprintf("approval needed: other live instances of %s (%s)", e.cfg.Workload, strings.Join(oe.Instances, ", ")),
		Details: details,
	}, errors.Join(oe, extra))
}

// awaitInitializing leaves a primary that just restarted alone: running with
// its status checks initializing, it is neither failed nor healthy yet.
func (e *Engine) awaitInitializing(ctx context.Context, r *run, why string) (Result, error) {
	if err := e.startTimeline(ctx, r); err != nil {
		return r.res, err
	}
	r.tl.PrimaryInstance, r.res.PrimaryInstance = r.primary.id, r.primary.id
	r.tl.Drill = r.tl.Drill || r.drill
	r.res.NextCommand = FailoverCommand(e.cfg.Workload)
	e.decide(r, OutcomePrimaryInitializing, why+": it restarted; not stopped, re-checked on the function's retries")
	details := []string{
		fmt.Sprintf("%s went to ALARM, but the primary %s is running again and its status checks are still initializing (%s): it restarted.", r.ev.AlarmName, r.primary.id, why),
		"It was not stopped and nothing was launched.",
	}
	if !r.manual {
		details = append(details, "The function re-checks on its two automatic retries (about 1 and 2 minutes apart): it does nothing if the primary passes its checks, and fences and fails over if they fail. After that the event goes to the dead-letter queue.")
	}
	details = append(details, "If the primary stays unhealthy and you have verified it is powered off or cut off from the array, approve with:")
	return e.finish(ctx, r, Notification{
		Kind:    KindApprovalRequired,
		Summary: fmt.Sprintf("primary %s restarted and is initializing; not stopped, re-checking", r.primary.id),
		Details: details,
	}, fmt.Errorf("%w: %s (restarted; status checks initializing)", ErrAwaitingConfirmation, why))
}

// lockAndLaunch takes the lock and launches the recovery instance.
func (e *Engine) lockAndLaunch(ctx context.Context, r *run) (Result, error) {
	l, ver, owned, err := e.acquire(ctx, r)
	if err != nil {
		return e.failed(ctx, r, err)
	}
	if !owned {
		// Another delivery launched; it records the timeline and notifies
		// (or, if it died, this run does it for it).
		res, err := e.onLaunchedLock(ctx, r, l, ver)
		if res.Outcome != OutcomeLaunched {
			e.recordStandDownFence(ctx, r, l)
		}
		return res, err
	}
	r.res.Token, r.tl.Token = l.Token, l.Token
	// Never two writers: nobody may start the primary beside the recovery
	// instance (the stack denies StartInstances on the tag), also while EC2
	// cannot act on it.
	e.markFenced(ctx, r)
	r.tl.LaunchAt = e.now().UTC()
	// Record the decision before RunInstances: a run that dies after the
	// launch leaves a timeline the next delivery completes.
	r.tl.Outcome = OutcomeLaunching
	if err := e.writeTimeline(ctx, &r.tl); err != nil {
		e.log.Warn("could not record the launch before RunInstances; continuing", "error", err)
	}
	id, adopted, err := e.launch(ctx, l, r.primary.id, r.primaryDown)
	if oe := (*OtherInstancesError)(nil); errors.As(err, &oe) {
		l.State, l.Error = LockFailed, clip(err.Error(), 500)
		_, lerr := e.putRecord(ctx, r, l)
		return e.awaitOthers(ctx, r, oe, lerr)
	}
	if errors.Is(err, errPrimaryLive) {
		// The confirmed fence is stale: the primary runs again (restarted by
		// someone, or EC2 changed its mind). Never launch beside it.
		l.State, l.Error = LockFailed, clip(err.Error(), 500)
		_, lerr := e.putRecord(ctx, r, l)
		f := *r.res.Fence
		f.Confirmed, f.Detail = false, fmt.Sprintf("%s earlier, but %s right before RunInstances", f.Detail, err)
		r.res.Fence, r.tl.FenceResult = &f, f.Detail
		r.tl.add(e.now(), "fence", f.Detail)
		return e.awaitApproval(ctx, r, f, lerr)
	}
	if err != nil {
		l.State, l.Error = LockFailed, clip(err.Error(), 500)
		_, lerr := e.putRecord(ctx, r, l)
		return e.failed(ctx, r, errors.Join(err, lerr))
	}
	l.State, l.Instance, l.Retire = LockLaunched, id, RetirePending
	// The lease now covers this run's wait for running, for the recovery
	// instance's status checks (before the primary is terminated) and its
	// records; a delivery that finds it over without the record finishes it.
	l.LeaseUntil = e.now().UTC().Add(e.waitBudget(ctx, e.cfg.LaunchTimeout+e.cfg.RetireTimeout, 0) + e.cfg.DeadlineMargin)
	_, lockErr := e.putRecord(ctx, r, l)
	how := fmt.Sprintf("RunInstances from %s ($Default) -> %s (attempt %d)", e.cfg.RecoveryTemplate, id, l.Attempt)
	if adopted {
		how = fmt.Sprintf("found %s already launched for this failover (tag %s)", id, TagLock)
	}
	return e.completeLaunch(ctx, r, l, how, lockErr)
}

// completeLaunch waits for the recovery instance l.Instance (cut to the
// invocation's deadline), records the timeline and notifies. When the record
// or the notification fails, it ends its lease on the launched lock l, so the
// next delivery finishes them at once; lockErr says the lock could not be
// marked launched, and then it is left alone.
func (e *Engine) completeLaunch(ctx context.Context, r *run, l Lock, how string, lockErr error) (Result, error) {
	id := l.Instance
	r.res.RecoveryInstance, r.tl.RecoveryInstance = id, id
	r.tl.Degraded = true
	r.tl.add(r.tl.LaunchAt, "launch", how)

	budget := e.waitBudget(ctx, e.cfg.LaunchTimeout, 0)
	state, err := e.waitRunning(ctx, id, budget)
	var res Result
	released := false
	if err != nil {
		if errors.Is(err, errRecoveryDied) && (state == string(ec2types.InstanceStateNameStopped) || state == string(ec2types.InstanceStateNameStopping)) {
			// Never leave a stopped copy of the workload that someone could
			// start beside the next recovery instance.
			if terr := e.terminateDead(ctx, r, id); terr != nil {
				err = errors.Join(err, terr)
			}
		}
		if errors.Is(err, errRecoveryDied) && lockErr == nil {
			// EC2 confirms the recovery instance stopped or terminated
			// before it ran: it cannot write, and it must not hold the
			// workload. The lock goes back to failed, so a retry or an
			// approved manual failover launches again, with a fresh
			// ClientToken (EC2 would otherwise return this dead instance).
			l.State, l.Error, l.TokenGen = LockFailed, clip(err.Error(), 500), l.TokenGen+1
			_, lerr := e.putRecord(ctx, r, l)
			lockErr, released = lerr, lerr == nil
			r.tl.Degraded = false
		}
		res, err = e.failed(ctx, r, errors.Join(err, lockErr))
	} else {
		running := state == string(ec2types.InstanceStateNameRunning)
		if running {
			r.tl.RunningAt = e.now().UTC()
			r.tl.add(r.tl.RunningAt, "running", id+" is running")
		} else {
			r.tl.add(e.now(), "launch", fmt.Sprintf("%s still %s after %s; check `outposts-ha status`", id, state, budget.Round(time.Second)))
		}
		r.res.NextCommand = FailbackCommand(e.cfg.Workload)
		details := []string{
			fmt.Sprintf("Recovery instance %s (%s) launched from %s on the secondary server.", id, state, e.cfg.RecoveryTemplate),
			fmt.Sprintf("Old primary %s: %s.", r.primary.id, orUnknown(r.tl.FenceResult)),
		}
		summary := fmt.Sprintf("failed over to %s; degraded until failback", id)
		if f := r.res.Fence; f != nil && f.Unreachable {
			summary = fmt.Sprintf("failed over to %s; primary unreachable, not confirmed stopped", id)
			details = append(details, fmt.Sprintf("PRIMARY UNREACHABLE, NOT CONFIRMED STOPPED: %s. It may still be running; if it can reach the array, two writers are possible until it is powered off or cut off from the SAN.", f.Connectivity))
		}
		if r.fenceTag != "" {
			details = append(details, "Fence: "+r.fenceTag+".")
		}
		var retireErr error
		if lockErr == nil {
			// The wait for the recovery instance's status checks may take
			// minutes: record the launch first (best effort, not yet
			// notified), so that `status` shows it meanwhile.
			r.tl.Outcome = OutcomeLaunched
			tctx, tcancel := e.recordContext(ctx, r)
			if terr := e.writeTimeline(tctx, &r.tl); terr != nil {
				e.log.Warn("could not record the launch before the terminate step", "error", terr)
			}
			tcancel()
			var detail string
			detail, retireErr = e.retire(ctx, r, &l, running)
			details = append(details, "Terminate: "+detail+".")
		}
		details = append(details, fmt.Sprintf("The workload is DEGRADED: nothing stands by, the alarm %s still watches the old primary %s, and the lock stays until failback, which re-arms protection.",
			e.cfg.StatusAlarm, r.primary.id))
		res, err = e.finish(ctx, r, Notification{
			Kind:    KindFailedOver,
			Summary: summary,
			Details: details,
		}, lockErr)
		err = errors.Join(err, retireErr)
	}
	// The lease ends when the record is incomplete (the next delivery
	// finishes it) or the fenced primary is still to be terminated (Lambda's
	// retry of ErrRetirePending does it), both only once this run is done.
	if lockErr == nil && !released && (!r.recorded || errors.Is(err, ErrRetirePending)) {
		l.LeaseUntil = e.now().UTC()
		if _, lerr := e.putRecord(ctx, r, l); lerr != nil {
			e.log.Warn("could not end the lease on the launched lock", "token", l.Token, "error", lerr)
		}
	}
	return res, err
}

func fenceOrNotStopped(s string) string {
	if s == "" {
		return "not stopped (other live instances are checked before the fence)"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "fence result not recorded"
	}
	return s
}

// failed records and reports a failure, and returns it.
func (e *Engine) failed(ctx context.Context, r *run, cause error) (Result, error) {
	if r.tl.Workload == "" {
		rctx, cancel := e.recordContext(ctx, r)
		defer cancel()
		if err := e.startTimeline(rctx, r); err != nil {
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
//
// It publishes first and then writes the timeline with NotifiedAt, so a
// stored timeline says whether its notification went out (a later delivery
// re-sends a launch's notification that did not).
func (e *Engine) finish(ctx context.Context, r *run, n Notification, runErr error) (Result, error) {
	r.tl.Outcome = r.res.Outcome
	r.tl.NextCommand = r.res.NextCommand
	if runErr != nil && r.tl.Error == "" {
		r.tl.Error = clip(runErr.Error(), 1000)
	}
	r.tl.NotifiedAt = time.Time{}
	n.NextCommand = r.res.NextCommand
	n.Timeline = r.tl
	if r.tl.Drill {
		n.Summary = "[drill] " + n.Summary
	}
	nctx, ncancel := e.recordContext(ctx, r)
	nErr := e.notify(nctx, n)
	ncancel()
	if nErr == nil {
		r.tl.NotifiedAt = e.now().UTC()
	} else {
		r.tl.add(e.now(), "notify", nErr.Error())
	}
	tctx, tcancel := e.recordContext(ctx, r)
	tlErr := e.writeTimeline(tctx, &r.tl)
	tcancel()
	r.recorded = nErr == nil && tlErr == nil
	err := errors.Join(runErr, tlErr, nErr)
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelError
	}
	e.log.Log(ctx, lvl, "failover evaluation finished", "workload", e.cfg.Workload, "outcome", r.res.Outcome,
		"token", r.res.Token, "primary", r.primary.id, "recovery", r.res.RecoveryInstance, "error", err)
	return r.res, err
}

// putRecord writes the lock with a record context (see recordContext): a
// failed or launched state must land even when the actions' time is over.
func (e *Engine) putRecord(ctx context.Context, r *run, l Lock) (bool, error) {
	rctx, cancel := e.recordContext(ctx, r)
	defer cancel()
	return e.putLock(rctx, l, true)
}

// recordStandDownFence notes in the timeline of the failover that holds the
// lock that this run force-stopped the primary before it stood down: a stop
// is a change, and it is never left unrecorded.
func (e *Engine) recordStandDownFence(ctx context.Context, r *run, l Lock) {
	f := r.res.Fence
	if f == nil || !f.StopRequested {
		return
	}
	rctx, cancel := e.recordContext(ctx, r)
	defer cancel()
	who := "a duplicate delivery of this alarm"
	if l.Token != r.token {
		who = fmt.Sprintf("a later alarm (%s at %s)", r.ev.AlarmName, r.ev.StateChangeTime.UTC().Format(time.RFC3339))
	}
	if r.manual {
		who = "a manual failover by " + r.by
	}
	detail := fmt.Sprintf("%s force-stopped the primary %s, then stood down (failover %s holds the lock): %s", who, r.primary.id, l.Token, f.Detail)
	r.res.Reason += "; " + detail
	tl, err := ReadTimeline(rctx, e.ssm, e.cfg.Workload)
	if err != nil || tl.Token != l.Token {
		e.log.Warn("could not record the fence of a run that stood down", "token", l.Token, "fence", f.Detail, "error", err)
		return
	}
	tl.add(e.now(), "fence", detail)
	if err := e.writeTimeline(rctx, &tl); err != nil {
		e.log.Warn("could not record the fence of a run that stood down", "token", l.Token, "fence", f.Detail, "error", err)
	}
}
