package recovery

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// stateAbsent stands for an instance EC2 does not know: never launched, mistyped,
// or terminated so long ago that EC2 forgot it. It is NOT confirmed down: the
// engine cannot tell a stale instance ID from a live writer it is not watching.
const stateAbsent = "absent"

// Fence is what the engine did to keep the primary from writing, and what EC2
// confirmed.
type Fence struct {
	Instance      string `json:"instance"`
	Confirmed     bool   `json:"confirmed"`
	State         string `json:"state"` // last state EC2 reported, or "absent"
	StopRequested bool   `json:"stopRequested"`
	Detail        string `json:"detail"`
	StopError     string `json:"stopError,omitempty"`
	// Unreachable: the primary's Outpost was not connected, so no stop was
	// sent (an instance cut off from the Region may still be serving).
	Unreachable bool `json:"unreachable,omitempty"`
	// Connectivity is what was known of the primary Outpost's service link
	// before the stop.
	Connectivity string `json:"connectivity,omitempty"`
	stopErr      error
}

// instance is what the engine knows about an instance at one moment.
type instance struct {
	id       string
	state    string
	workload string // value of the workload tag
	role     string // value of the role tag
	lock     string // value of TagLock: the failover that launched it
}

// down reports whether EC2 confirms the instance cannot write: stopped or
// terminated. An absent instance is not confirmed down.
func (i instance) down() bool {
	switch i.state {
	case string(ec2types.InstanceStateNameStopped), string(ec2types.InstanceStateNameTerminated):
		return true
	}
	return false
}

// live reports whether the instance may be running an operating system that
// writes to the SAN: pending, running, stopping or shutting-down.
func (i instance) live() bool {
	return slices.Contains(liveStates, i.state)
}

var liveStates = []string{"pending", "running", "stopping", "shutting-down"}

func (i instance) describe() string {
	s := i.id + " (" + i.state
	if i.role != "" {
		s += ", role " + i.role
	}
	if i.lock != "" {
		s += ", failover " + i.lock
	}
	return s + ")"
}

func (e *Engine) describeInstance(ctx context.Context, id string) (instance, error) {
	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if awsx.IsNotFound(err) {
		return instance{id: id, state: stateAbsent}, nil
	}
	if err != nil {
		return instance{}, fmt.Errorf("describe instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) == id {
				return fromEC2(in), nil
			}
		}
	}
	return instance{id: id, state: stateAbsent}, nil
}

func fromEC2(in ec2types.Instance) instance {
	i := instance{id: aws.ToString(in.InstanceId)}
	if in.State != nil {
		i.state = string(in.State.Name)
	}
	for _, t := range in.Tags {
		switch aws.ToString(t.Key) {
		case naming.TagWorkload:
			i.workload = aws.ToString(t.Value)
		case naming.TagRole:
			i.role = aws.ToString(t.Value)
		case TagLock:
			i.lock = aws.ToString(t.Value)
		}
	}
	return i
}

// maxInstancePages bounds the listing of a workload's instances (a handful).
const maxInstancePages = 10

// workloadInstances lists every instance tagged for the workload that is not
// terminated: the live ones (possible writers) and the stopped ones.
func (e *Engine) workloadInstances(ctx context.Context) ([]instance, error) {
	p := ec2.NewDescribeInstancesPaginator(e.ec2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + naming.TagWorkload), Values: []string{e.cfg.Workload}},
		{Name: aws.String("instance-state-name"), Values: append(slices.Clone(liveStates), "stopped")},
	}})
	var list []instance
	for page := 0; p.HasMorePages(); page++ {
		if page == maxInstancePages {
			return nil, fmt.Errorf("list instances of workload %s: more than %d pages", e.cfg.Workload, maxInstancePages)
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list instances of workload %s: %w", e.cfg.Workload, err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				list = append(list, fromEC2(in))
			}
		}
	}
	return list, nil
}

// otherWriters picks the live instances that are not the primary and were
// not launched under one of the given failover tokens.
func otherWriters(list []instance, primary string, tokens ...string) []instance {
	var out []instance
	for _, in := range list {
		if in.id == primary || !in.live() || (in.lock != "" && slices.Contains(tokens, in.lock)) {
			continue
		}
		out = append(out, in)
	}
	return out
}

func othersError(list []instance) *OtherInstancesError {
	oe := &OtherInstancesError{}
	for _, in := range list {
		oe.Instances = append(oe.Instances, in.id)
		oe.Details = append(oe.Details, in.describe())
	}
	return oe
}

// health is what the status checks say about a running primary.
type health int

const (
	healthFailing      health = iota // not running, or failing its checks: act
	healthOK                         // running and passing: the alarm lags, nothing to do
	healthInitializing               // running, checks still initializing: it just (re)started
)

// primaryHealth reads the primary's status checks now, which is fresher than
// the alarm (the alarm lags by its evaluation periods). A primary that just
// rebooted is running with its instance check initializing: it is neither
// healthy nor failed. insufficient-data is not taken for a restart: a hung
// instance, or one on a server cut off from its Outpost, reports it too.
func (e *Engine) primaryHealth(ctx context.Context, p instance) (health, string, error) {
	if p.state != string(ec2types.InstanceStateNameRunning) {
		return healthFailing, "primary is " + p.state, nil
	}
	out, err := e.ec2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{
		InstanceIds: []string{p.id}, IncludeAllInstances: aws.Bool(true),
	})
	if err != nil {
		return healthFailing, "", fmt.Errorf("read status checks of %s: %w", p.id, err)
	}
	for _, s := range out.InstanceStatuses {
		if aws.ToString(s.InstanceId) != p.id {
			continue
		}
		inst, sys := summary(s.InstanceStatus), summary(s.SystemStatus)
		why := fmt.Sprintf("primary %s is running, instance status %s, system status %s", p.id, inst, sys)
		switch {
		case sys == ec2types.SummaryStatusImpaired:
			return healthFailing, why, nil
		case inst == ec2types.SummaryStatusOk:
			return healthOK, why, nil
		case inst == ec2types.SummaryStatusInitializing:
			// Only initializing means a restart. insufficient-data is what a
			// hung or cut-off instance shows too: it counts as failing.
			return healthInitializing, why, nil
		}
		return healthFailing, why, nil
	}
	return healthFailing, "no status checks reported for " + p.id, nil
}

func summary(s *ec2types.InstanceStatusSummary) ec2types.SummaryStatus {
	if s == nil {
		return "unknown"
	}
	return s.Status
}

// waitBudget is how long a wait that wants d may last: d, cut so that reserve
// plus DeadlineMargin stay free before ctx's deadline; never negative.
func (e *Engine) waitBudget(ctx context.Context, d, reserve time.Duration) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return d
	}
	return max(0, min(d, e.until(dl)-reserve-e.cfg.DeadlineMargin))
}

// fence force-stops the primary and waits, within FenceTimeout (cut to leave
// time for the launch and the records before ctx's deadline), for EC2 to
// report it stopped or terminated. An instance already stopped or terminated
// counts as confirmed; one EC2 does not know is not confirmed and is not
// stopped. A refused stop makes the fence unconfirmed (the policy decides what
// follows) and is reported, not hidden; only a failure to read the instance's
// state is returned as an error.
func (e *Engine) fence(ctx context.Context, p instance) (Fence, error) {
	f := Fence{Instance: p.id, State: p.state}
	if p.down() {
		f.Confirmed = true
		f.Detail = fmt.Sprintf("primary %s already %s", p.id, p.state)
		return f, nil
	}
	if p.state == stateAbsent {
		f.Detail = fmt.Sprintf("primary %s not found by EC2 (the status alarm may watch a stale or mistyped instance ID); not confirmed down", p.id)
		return f, nil
	}
	notAccepted := ""
	if p.state != string(ec2types.InstanceStateNameShuttingDown) {
		// Disconnected is not dead: during a service-link outage the
		// instance keeps running and EC2 cannot reach it. Never send the
		// stop then; the policy decides (confirmed asks for approval).
		rc := e.primaryReach(ctx)
		f.Connectivity = rc.detail
		if !rc.connected {
			f.Unreachable = true
			f.Detail = fmt.Sprintf("primary %s unreachable, not confirmed stopped: %s; the stop was not sent (EC2 reports it %s; cut off from the Region it may still be running)",
				p.id, rc.detail, p.state)
			return f, nil
		}
		f.StopRequested = true
		_, err := e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{p.id}, Force: aws.Bool(true)})
		if awsx.Code(err) == "IncorrectInstanceState" {
			// The instance changed state since it was read (it is stopping,
			// shutting down, or gone): EC2 did not take the stop, so the
			// result below is not the stop's.
			notAccepted = "; EC2 did not accept the force-stop (IncorrectInstanceState: the instance changed state)"
			f.StopError = "force-stop not accepted: " + err.Error()
		} else if err != nil {
			f.stopErr = fmt.Errorf("force-stop %s: %w", p.id, err)
			f.StopError = f.stopErr.Error()
			f.Detail = fmt.Sprintf("force-stop of %s refused; not confirmed down", p.id)
			return f, nil
		}
	}
	budget := e.waitBudget(ctx, e.cfg.FenceTimeout, e.cfg.DeadlineMargin)
	start := e.now()
	deadline := start.Add(budget)
	maxPolls := int(budget/e.cfg.FencePoll) + 1
	for poll := 0; ; poll++ {
		cur, err := e.describeInstance(ctx, p.id)
		if err != nil {
			return f, fmt.Errorf("fence: %w", err)
		}
		f.State = cur.state
		if cur.down() {
			f.Confirmed = true
			after := "after force-stop "
			if notAccepted != "" {
				after = ""
			}
			f.Detail = fmt.Sprintf("primary %s %s %s(%s)%s", p.id, cur.state, after, e.now().Sub(start).Round(time.Millisecond), notAccepted)
			return f, nil
		}
		if poll >= maxPolls || !e.now().Before(deadline) {
			f.Detail = fmt.Sprintf("primary %s still %s %s after force-stop; not confirmed down%s", p.id, cur.state, budget.Round(time.Millisecond), notAccepted)
			if budget < e.cfg.FenceTimeout {
				f.Detail += fmt.Sprintf(" (wait cut from %s to finish before the invocation's deadline)", e.cfg.FenceTimeout)
			}
			return f, nil
		}
		if err := e.sleep(ctx, min(e.cfg.FencePoll, deadline.Sub(e.now()))); err != nil {
			return f, fmt.Errorf("fence: %w", err)
		}
	}
}
