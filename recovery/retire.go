package recovery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// Never two writers, after the launch (issue 8 §3):
//   - right before RunInstances the primary is tagged naming.TagFenced=true;
//     the stack denies ec2:StartInstances on instances with that tag (function
//     role and operator policy), so nobody starts it beside the recovery
//     instance, even while EC2 cannot act on it (Outpost disconnected);
//   - once the recovery instance runs and passes its status checks, the
//     fenced primary is terminated (it holds nothing: its volumes are on the
//     array). When that wait does not fit the invocation, the launched lock
//     says RetirePending and ErrRetirePending makes Lambda retry the event;
//     the retry finishes it (see finishRetire);
//   - a recovery instance that stopped or terminated before it ran is
//     terminated, not left stopped.

// ErrRetirePending means the failover launched, but the fenced primary is not
// terminated yet: the recovery instance has not passed its status checks
// within this invocation, or the terminate failed. It is returned so that
// Lambda retries the event; the retry terminates the primary once the checks
// pass. Until then the primary is stopped (or unreachable) and tagged fenced.
var ErrRetirePending = errors.New("failover launched; the fenced primary is not terminated yet")

// Retire states of a launched lock (Lock.Retire).
const (
	RetirePending = "pending" // the fenced primary is still to be terminated
	RetireDone    = "done"    // terminated, or nothing to terminate
)

// reach is what is known of the primary Outpost's service link right before
// a stop.
type reach struct {
	connected bool
	detail    string
}

// primaryReach reads the primary Outpost's ConnectedStatus just before a
// stop. During a service-link outage the instances keep running but EC2
// cannot reach them: a stop sent then is not a fence, and the instance may
// still be serving. Connected needs the newest sample of the last few minutes
// to read 1; no data (the metric goes missing with the link) or a read error
// count as not connected. Without a configured Outpost ID there is no
// evidence either way, and the stop is sent as before.
func (e *Engine) primaryReach(ctx context.Context) reach {
	id := e.cfg.PrimaryOutpostID
	if id == "" {
		return reach{connected: true, detail: "Outpost connectivity not checked (no primary Outpost ID configured)"}
	}
	now := e.now().UTC()
	start := now.Truncate(time.Minute).Add(-time.Duration(e.cfg.DetectionPeriods+2) * time.Minute)
	samples, err := e.health.ConnectedStatus(ctx, id, start, now.Truncate(time.Minute).Add(time.Minute))
	if err != nil {
		return reach{detail: fmt.Sprintf("Outpost %s connectivity unknown (%v)", id, err)}
	}
	var latest *Sample
	for i := range samples {
		if latest == nil || samples[i].At.After(latest.At) {
			latest = &samples[i]
		}
	}
	switch {
	case latest == nil:
		return reach{detail: fmt.Sprintf("Outpost %s sent no ConnectedStatus data since %s (the service link may be down)", id, start.Format(time.RFC3339))}
	case latest.Value >= 1:
		return reach{connected: true, detail: fmt.Sprintf("Outpost %s connected (ConnectedStatus %g at %s)", id, latest.Value, latest.At.UTC().Format(time.RFC3339))}
	}
	return reach{detail: fmt.Sprintf("Outpost %s disconnected (ConnectedStatus %g at %s)", id, latest.Value, latest.At.UTC().Format(time.RFC3339))}
}

// markFenced tags the primary naming.TagFenced=true, right before the launch.
// A failure does not stop the launch (the fence decision stands on its own);
// it is recorded and notified.
func (e *Engine) markFenced(ctx context.Context, r *run) {
	p := r.primary
	if p.id == "" || p.state == stateAbsent || p.state == string(ec2types.InstanceStateNameTerminated) {
		return
	}
	_, err := e.ec2.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{p.id},
		Tags:      []ec2types.Tag{{Key: aws.String(naming.TagFenced), Value: aws.String("true")}},
	})
	if err != nil {
		r.fenceTag = fmt.Sprintf("could not tag %s %s=true (%v): nothing denies starting it again", p.id, naming.TagFenced, err)
	} else {
		r.fenceTag = fmt.Sprintf("tagged %s %s=true: starting it is denied (explicit Deny of ec2:StartInstances in the function role and the operator policy)", p.id, naming.TagFenced)
	}
	r.tl.add(e.now(), "fence", r.fenceTag)
}

// waitChecks waits, within budget, for an instance's instance and system
// status checks to both read ok.
func (e *Engine) waitChecks(ctx context.Context, id string, budget time.Duration) (bool, string, error) {
	deadline := e.now().Add(budget)
	maxPolls := int(budget/e.cfg.LaunchPoll) + 1
	for poll := 0; ; poll++ {
		out, err := e.ec2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}, IncludeAllInstances: aws.Bool(true)})
		if err != nil {
			return false, "", fmt.Errorf("read status checks of %s: %w", id, err)
		}
		why := "no status checks reported for " + id
		for _, s := range out.InstanceStatuses {
			if aws.ToString(s.InstanceId) != id {
				continue
			}
			inst, sys := summary(s.InstanceStatus), summary(s.SystemStatus)
			why = fmt.Sprintf("%s instance status %s, system status %s", id, inst, sys)
			if inst == ec2types.SummaryStatusOk && sys == ec2types.SummaryStatusOk {
				return true, why, nil
			}
		}
		if poll >= maxPolls || !e.now().Before(deadline) {
			return false, why, nil
		}
		if err := e.sleep(ctx, min(e.cfg.LaunchPoll, deadline.Sub(e.now()))); err != nil {
			return false, why, fmt.Errorf("wait for the status checks of %s: %w", id, err)
		}
	}
}

// retire terminates the fenced primary r.primary once the recovery instance
// l.Instance passes its status checks (waiting within RetireTimeout, cut to
// ctx's deadline), and records the result in the timeline and in l.Retire
// (written to the lock). It returns what happened, for the notification, and
// ErrRetirePending when the primary is still to be terminated.
func (e *Engine) retire(ctx context.Context, r *run, l *Lock, running bool) (string, error) {
	p := r.primary.id
	cur, err := e.describeInstance(ctx, p)
	if err == nil && (cur.state == stateAbsent || cur.state == string(ec2types.InstanceStateNameTerminated)) {
		l.Retire = RetireDone
		detail := fmt.Sprintf("old primary %s is %s: nothing to terminate", p, cur.state)
		r.tl.add(e.now(), "terminate", detail)
		return detail, e.saveRetire(ctx, r, *l)
	}
	pending := func(why string, cause error) (string, error) {
		// The caller ends the lease once the record is written, so that
		// Lambda's retry of ErrRetirePending finishes the terminate
		// (onLaunchedLock -> finishRetire).
		l.Retire = RetirePending
		if cause != nil {
			why += " (" + clip(cause.Error(), 200) + ")"
		}
		detail := fmt.Sprintf("old primary %s not terminated yet: %s; it stays fenced (tag %s) and a retry of this event terminates it", p, why, naming.TagFenced)
		r.tl.add(e.now(), "terminate", detail)
		return detail, errors.Join(fmt.Errorf("%w: %s", ErrRetirePending, why), cause, e.saveRetire(ctx, r, *l))
	}
	if err != nil {
		return pending("could not read it", err)
	}
	if !running {
		return pending(fmt.Sprintf("the recovery instance %s is not running yet", l.Instance), nil)
	}
	budget := e.waitBudget(ctx, e.cfg.RetireTimeout, 0)
	ok, why, err := e.waitChecks(ctx, l.Instance, budget)
	if err != nil || !ok {
		return pending(fmt.Sprintf("the recovery instance has not passed its status checks within %s (%s)", budget.Round(time.Second), why), err)
	}
	if r.fenceTag == "" {
		e.markFenced(ctx, r)
	}
	out, err := e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{p}})
	if err != nil {
		return pending("the terminate failed", fmt.Errorf("terminate the old primary %s: %w", p, err))
	}
	state := "unknown"
	for _, t := range out.TerminatingInstances {
		if aws.ToString(t.InstanceId) == p && t.CurrentState != nil {
			state = string(t.CurrentState.Name)
		}
	}
	l.Retire = RetireDone
	detail := fmt.Sprintf("terminated the old primary %s (was %s, EC2 now reports %s) after the recovery instance %s passed its status checks", p, cur.state, state, l.Instance)
	if r.res.Fence != nil && r.res.Fence.Unreachable {
		detail += "; its Outpost was unreachable, so EC2 may carry the terminate out only when it reconnects (the fenced tag denies starting it meanwhile)"
	}
	r.tl.add(e.now(), "terminate", detail)
	return detail, e.saveRetire(ctx, r, *l)
}

// saveRetire writes the lock with its Retire state.
func (e *Engine) saveRetire(ctx context.Context, r *run, l Lock) error {
	if _, err := e.putRecord(ctx, r, l); err != nil {
		return fmt.Errorf("record the terminate state in the lock: %w", err)
	}
	return nil
}

// finishRetire is a later run (Lambda's retry of ErrRetirePending) that
// finds the failover recorded and its fenced primary not terminated: it
// claims the lock (one run does it), terminates the primary once the
// recovery instance passes its checks, records it in the timeline and
// notifies.
func (e *Engine) finishRetire(ctx context.Context, r *run, l Lock, ver int64) error {
	next := l
	next.Owner = e.newID()
	next.LeaseUntil = e.now().UTC().Add(e.waitBudget(ctx, e.cfg.RetireTimeout, 0) + e.cfg.DeadlineMargin)
	won, err := e.claim(ctx, &next, l, ver)
	if err != nil || !won {
		return errors.Join(fmt.Errorf("%w: another delivery is terminating the old primary %s", ErrRetirePending, l.Primary), err)
	}
	tl, err := ReadTimeline(ctx, e.ssm, e.cfg.Workload)
	if err != nil {
		return errors.Join(ErrRetirePending, err)
	}
	r.tl = tl
	r.primary = instance{id: l.Primary}
	rec, err := e.describeInstance(ctx, l.Instance)
	if err != nil {
		return errors.Join(ErrRetirePending, err)
	}
	detail, rerr := e.retire(ctx, r, &next, rec.state == string(ec2types.InstanceStateNameRunning))
	r.res.Reason += "; " + detail
	if errors.Is(rerr, ErrRetirePending) {
		next.LeaseUntil = e.now().UTC() // the next retry may try again at once
		rerr = errors.Join(rerr, e.saveRetire(ctx, r, next))
	}
	kind, summary := KindPrimaryRetired, fmt.Sprintf("old primary %s terminated; %s serves the workload", l.Primary, l.Instance)
	if rerr != nil {
		kind, summary = KindPrimaryRetirePending, fmt.Sprintf("old primary %s not terminated yet (fenced)", l.Primary)
	}
	n := Notification{Kind: kind, Summary: summary, Details: []string{detail}, NextCommand: FailbackCommand(e.cfg.Workload)}
	n.Timeline = r.tl
	if r.tl.Drill {
		n.Summary = "[drill] " + n.Summary
	}
	nctx, ncancel := e.recordContext(ctx, r)
	nErr := e.notify(nctx, n)
	ncancel()
	tctx, tcancel := e.recordContext(ctx, r)
	tlErr := e.writeTimeline(tctx, &r.tl)
	tcancel()
	return errors.Join(rerr, nErr, tlErr)
}

// terminateDead terminates a recovery instance that stopped or terminated
// before it ran, so that no stopped copy of the workload is left to be
// started, and records it.
func (e *Engine) terminateDead(ctx context.Context, r *run, id string) error {
	_, err := e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		err = fmt.Errorf("terminate the recovery instance %s that died before it ran: %w", id, err)
		r.tl.add(e.now(), "terminate", err.Error())
		return err
	}
	r.tl.add(e.now(), "terminate", fmt.Sprintf("terminated the recovery instance %s, which stopped before it ran (not left stopped)", id))
	return nil
}

// rearm sets every alarm of this run that still reads ALARM back to OK, when
// the run ends without acting (the primary recovered, or maintenance): the
// alarm would otherwise stay in ALARM, and a real failure later would be no
// transition, so nothing would reach the function. CloudWatch re-evaluates
// the alarm at its next period; if the metric still breaches, it goes to
// ALARM again and notifies again.
func (e *Engine) rearm(ctx context.Context, r *run, alarms map[string]cwtypes.MetricAlarm, why string) error {
	var done []string
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(alarms)) {
		if alarms[name].StateValue != cwtypes.StateValueAlarm {
			continue
		}
		_, err := e.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
			AlarmName:   aws.String(name),
			StateValue:  cwtypes.StateValueOk,
			StateReason: aws.String(clip("outposts-ha re-armed the alarm after a run that took no action ("+why+"), so that a later failure notifies again", 1000)),
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("re-arm alarm %s: %w", name, err))
			continue
		}
		done = append(done, name)
	}
	if len(done) > 0 {
		note := "re-armed " + strings.Join(done, ", ") + " (set to OK, so that a later failure is a new transition to ALARM)"
		r.res.Reason += "; " + note
		if r.tl.Workload != "" {
			r.tl.add(e.now(), "rearm", note)
		}
	}
	err := errors.Join(errs...)
	if err != nil {
		r.res.Reason += "; " + err.Error()
	}
	return err
}
