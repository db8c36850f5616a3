package recovery

import (
	"context"
	"errors"
	"fmt"

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

func (e *Engine) runInput(token string, dryRun bool) *ec2.RunInstancesInput {
	tags := e.recoveryTags(token)
	return &ec2.RunInstancesInput{
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{
			LaunchTemplateName: aws.String(e.cfg.RecoveryTemplate),
			Version:            aws.String("$Default"),
		},
		MinCount:    aws.Int32(1),
		MaxCount:    aws.Int32(1),
		ClientToken: aws.String(clientToken(token)),
		DryRun:      aws.Bool(dryRun),
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: tags},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: tags},
		},
	}
}

// launch starts the recovery instance for a lock, unless one tagged with the
// lock's token exists already (an earlier attempt that launched but could not
// record it; EC2 honours the ClientToken too, emulators may not).
func (e *Engine) launch(ctx context.Context, token string) (id string, adopted bool, err error) {
	id, err = e.findByToken(ctx, token)
	if err != nil || id != "" {
		return id, id != "", err
	}
	out, err := e.ec2.RunInstances(ctx, e.runInput(token, false))
	if err != nil {
		return "", false, fmt.Errorf("run instance from %s: %w", e.cfg.RecoveryTemplate, err)
	}
	if len(out.Instances) != 1 {
		return "", false, fmt.Errorf("run instance from %s: got %d instances, want 1", e.cfg.RecoveryTemplate, len(out.Instances))
	}
	return aws.ToString(out.Instances[0].InstanceId), false, nil
}

// findByToken returns a live instance tagged with the lock token, or "".
func (e *Engine) findByToken(ctx context.Context, token string) (string, error) {
	p := ec2.NewDescribeInstancesPaginator(e.ec2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + TagLock), Values: []string{token}},
		{Name: aws.String("tag:" + naming.TagWorkload), Values: []string{e.cfg.Workload}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	for page := 0; p.HasMorePages() && page < 10; page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("look for an instance of failover %s: %w", token, err)
		}
		for _, r := range out.Reservations {
			if len(r.Instances) > 0 {
				return aws.ToString(r.Instances[0].InstanceId), nil
			}
		}
	}
	return "", nil
}

// waitRunning waits, within LaunchTimeout, for the recovery instance to run.
// It returns the last state; an instance that stops or terminates is an error.
func (e *Engine) waitRunning(ctx context.Context, id string) (string, error) {
	deadline := e.now().Add(e.cfg.LaunchTimeout)
	maxPolls := int(e.cfg.LaunchTimeout/e.cfg.LaunchPoll) + 1
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
		if err := sleep(ctx, e.cfg.LaunchPoll); err != nil {
			return in.state, fmt.Errorf("wait for %s: %w", id, err)
		}
	}
}
