package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// TagLock is the instance tag that carries the lock token of the failover that
// launched it.
const TagLock = "outposts-ha:lock"

// errRecoveryDied is a recovery instance that stopped or terminated before it
// reached running.
var errRecoveryDied = errors.New("recovery instance did not reach running")

func (e *Engine) recoveryTags(token string) []ec2types.Tag {
	return []ec2types.Tag{
		{Key: aws.String(naming.TagWorkload), Value: aws.String(e.cfg.Workload)},
		{Key: aws.String(naming.TagRole), Value: aws.String(naming.RoleRecovery)},
		{Key: aws.String(TagLock), Value: aws.String(token)},
		{Key: aws.String(naming.TagManaged), Value: aws.String(naming.ManagedBy)},
	}
}

func (e *Engine) runInput(token, client string, dryRun bool) *ec2.RunInstancesInput {
	tags := e.recoveryTags(token)
	return &ec2.RunInstancesInput{
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{
			LaunchTemplateName: aws.String(e.cfg.RecoveryTemplate),
			Version:            aws.String("$Default"),
		},
		MinCount:    aws.Int32(1),
		MaxCount:    aws.Int32(1),
		ClientToken: aws.String(client),
		DryRun:      aws.Bool(dryRun),
		// Only what this launch creates: the instance and the two network
		// interfaces the recovery template defines by subnet (index 0 and
		// the LNI at index 1). Not volumes: an Outposts server instance may
		// have no EBS volume, and a tag specification for a resource type
		// the launch does not create fails the launch
		// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchTemplateTagSpecificationRequest.html:
		// "If the instance does not include the resource type that you
		// specify, the instance launch fails").
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: tags},
			{ResourceType: ec2types.ResourceTypeNetworkInterface, Tags: tags},
		},
	}
}

// errPrimaryLive is a primary that was confirmed down by the fence but is
// live again (or still listed live) right before RunInstances: the fence's
// result is older than the launch (the lock wait alone may take minutes).
var errPrimaryLive = errors.New("primary is live again at launch time")

// launch starts the recovery instance for a lock. Right before RunInstances
// it lists the workload's instances once more: a live one other than the
// primary that this failover did not launch stops the launch with an
// *OtherInstancesError (never two writers); when the launch rests on a
// confirmed fence (primaryDown), the primary must still be stopped,
// terminated or gone, else errPrimaryLive; one tagged with the lock's token
// that is pending or running (an earlier attempt that launched but could not
// record it; EC2 honours the ClientToken too, emulators may not) is adopted
// instead of launching again. A stopped or terminated one is never adopted.
func (e *Engine) launch(ctx context.Context, l Lock, primary string, primaryDown bool) (id string, adopted bool, err error) {
	list, err := e.workloadInstances(ctx)
	if err != nil {
		return "", false, err
	}
	if others := otherWriters(list, primary, l.Token); len(others) > 0 {
		return "", false, othersError(others)
	}
	if primaryDown {
		for _, in := range list {
			if in.id == primary && !in.down() {
				return "", false, fmt.Errorf("%w: %s is %s", errPrimaryLive, primary, in.state)
			}
		}
	}
	for _, in := range list {
		if in.id != primary && in.lock == l.Token && adoptable(in.state) {
			return in.id, true, nil
		}
	}
	out, err := e.ec2.RunInstances(ctx, e.runInput(l.Token, clientToken(l.Token, l.TokenGen), false))
	if err != nil {
		return "", false, fmt.Errorf("run instance from %s: %w", e.cfg.RecoveryTemplate, err)
	}
	if len(out.Instances) != 1 {
		return "", false, fmt.Errorf("run instance from %s: got %d instances, want 1", e.cfg.RecoveryTemplate, len(out.Instances))
	}
	return aws.ToString(out.Instances[0].InstanceId), false, nil
}

// adoptable reports whether an instance a failover launched may still become
// its recovery instance: pending or running.
func adoptable(state string) bool {
	return state == string(ec2types.InstanceStateNamePending) || state == string(ec2types.InstanceStateNameRunning)
}

// waitRunning waits, within budget, for the recovery instance to run. It
// returns the last state; an instance that stops or terminates is an error.
func (e *Engine) waitRunning(ctx context.Context, id string, budget time.Duration) (string, error) {
	deadline := e.now().Add(budget)
	maxPolls := int(budget/e.cfg.LaunchPoll) + 1
	for poll := 0; ; poll++ {
		in, err := e.describeInstance(ctx, id)
		if err != nil {
			return "", fmt.Errorf("wait for %s: %w", id, err)
		}
		switch in.state {
		case string(ec2types.InstanceStateNameRunning):
			return in.state, nil
		case string(ec2types.InstanceStateNamePending), stateAbsent: // absent: not yet visible
		default:
			return in.state, fmt.Errorf("%w: %s is %s", errRecoveryDied, id, in.state)
		}
		if poll >= maxPolls || !e.now().Before(deadline) {
			return in.state, nil
		}
		if err := e.sleep(ctx, min(e.cfg.LaunchPoll, deadline.Sub(e.now()))); err != nil {
			return in.state, fmt.Errorf("wait for %s: %w", id, err)
		}
	}
}
