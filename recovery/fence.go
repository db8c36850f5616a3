package recovery

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// stateAbsent stands for an instance EC2 no longer knows.
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
	stopErr       error
}

// instance is what the engine knows about an instance at one moment.
type instance struct {
	id       string
	state    string
	workload string // value of the workload tag
}

func (i instance) down() bool {
	switch i.state {
	case stateAbsent, string(ec2types.InstanceStateNameStopped), string(ec2types.InstanceStateNameTerminated):
		return true
	}
	return false
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
		if aws.ToString(t.Key) == naming.TagWorkload {
			i.workload = aws.ToString(t.Value)
		}
	}
	return i
}

// recovered reports whether a running primary passes its status checks now,
// which is fresher than the alarm (the alarm lags by its evaluation periods).
func (e *Engine) recovered(ctx context.Context, p instance) (bool, string, error) {
	if p.state != string(ec2types.InstanceStateNameRunning) {
		return false, "primary is " + p.state, nil
	}
	out, err := e.ec2.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{
		InstanceIds: []string{p.id}, IncludeAllInstances: aws.Bool(true),
	})
	if err != nil {
		return false, "", fmt.Errorf("read status checks of %s: %w", p.id, err)
	}
	for _, s := range out.InstanceStatuses {
		if aws.ToString(s.InstanceId) != p.id {
			continue
		}
		inst, sys := summary(s.InstanceStatus), summary(s.SystemStatus)
		why := fmt.Sprintf("primary %s is running, instance status %s, system status %s", p.id, inst, sys)
		return inst == ec2types.SummaryStatusOk && sys != ec2types.SummaryStatusImpaired, why, nil
	}
	return false, "no status checks reported for " + p.id, nil
}

func summary(s *ec2types.InstanceStatusSummary) ec2types.SummaryStatus {
	if s == nil {
		return "unknown"
	}
	return s.Status
}

// fence force-stops the primary and waits, within FenceTimeout, for EC2 to
// report it stopped or terminated. An instance already stopped, terminated or
// gone counts as confirmed. A refused stop makes the fence unconfirmed (the
// policy decides what follows) and is reported, not hidden; only a failure to
// read the instance's state is returned as an error.
func (e *Engine) fence(ctx context.Context, p instance) (Fence, error) {
	f := Fence{Instance: p.id, State: p.state}
	if p.down() {
		f.Confirmed = true
		f.Detail = fmt.Sprintf("primary %s already %s", p.id, p.state)
		return f, nil
	}
	if p.state != string(ec2types.InstanceStateNameShuttingDown) {
		f.StopRequested = true
		_, err := e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{p.id}, Force: aws.Bool(true)})
		if err != nil && awsx.Code(err) != "IncorrectInstanceState" {
			f.stopErr = fmt.Errorf("force-stop %s: %w", p.id, err)
			f.StopError = f.stopErr.Error()
			f.Detail = fmt.Sprintf("force-stop of %s refused; not confirmed down", p.id)
			return f, nil
		}
	}
	start := e.now()
	deadline := start.Add(e.cfg.FenceTimeout)
	maxPolls := int(e.cfg.FenceTimeout/e.cfg.FencePoll) + 1
	for poll := 0; ; poll++ {
		cur, err := e.describeInstance(ctx, p.id)
		if err != nil {
			return f, fmt.Errorf("fence: %w", err)
		}
		f.State = cur.state
		if cur.down() {
			f.Confirmed = true
			f.Detail = fmt.Sprintf("primary %s %s after force-stop (%s)", p.id, cur.state, e.now().Sub(start).Round(time.Millisecond))
			return f, nil
		}
		if poll >= maxPolls || !e.now().Before(deadline) {
			f.Detail = fmt.Sprintf("primary %s still %s %s after force-stop; not confirmed down", p.id, cur.state, e.cfg.FenceTimeout)
			return f, nil
		}
		if err := sleep(ctx, e.cfg.FencePoll); err != nil {
			return f, fmt.Errorf("fence: %w", err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
