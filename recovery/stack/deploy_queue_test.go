// Unit tests, with the fakes of deploy_test.go (fake CloudFormation, S3, STS
// and a fake sleep: no test waits on the wall clock), of issue 8 §1: SQS
// refuses a queue name for 60 s after the queue was deleted, so a create
// right after cleanup (or after ROLLBACK_COMPLETE) fails on the DLQ. Deploy
// removes the rolled-back stack, waits, and creates it again, a bounded
// number of times, saying so.
package stack

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What CloudFormation reports when SQS refuses the name (the resource
// handler's message; the older provider reported the QueueDeletedRecently code).
const queueDeletedReason = `Resource handler returned message: "You must wait 60 seconds after deleting a queue before you can create another with the same name. (Service: Sqs, Status Code: 400, Request ID: 0)" (HandlerErrorCode: AlreadyExists)`

func queueRefusedEvents() []cfntypes.StackEvent {
	return []cfntypes.StackEvent{
		{LogicalResourceId: aws.String("autorestart-web01"), ResourceType: aws.String("AWS::CloudFormation::Stack"),
			ResourceStatus: cfntypes.ResourceStatusRollbackComplete, PhysicalResourceId: aws.String(testStackID)},
		{LogicalResourceId: aws.String("DeadLetterQueue"), ResourceType: aws.String("AWS::SQS::Queue"),
			ResourceStatus: cfntypes.ResourceStatusCreateFailed, ResourceStatusReason: aws.String(queueDeletedReason), PhysicalResourceId: aws.String("")},
		{LogicalResourceId: aws.String("autorestart-web01"), ResourceType: aws.String("AWS::CloudFormation::Stack"),
			ResourceStatus: cfntypes.ResourceStatusCreateInProgress, PhysicalResourceId: aws.String(testStackID)},
	}
}

var rolledBack = []cfntypes.StackStatus{cfntypes.StackStatusCreateInProgress, cfntypes.StackStatusRollbackInProgress, cfntypes.StackStatusRollbackComplete}

type fakeSleep struct{ slept []time.Duration }

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.slept = append(f.slept, d)
	return ctx.Err()
}

func TestDeployWaitsOutQueueDeletedRecently(t *testing.T) {
	cfn := &fakeCFN{
		createRuns:  [][]cfntypes.StackStatus{rolledBack, {cfntypes.StackStatusCreateComplete}},
		afterDelete: []cfntypes.StackStatus{cfntypes.StackStatusDeleteInProgress, cfntypes.StackStatusDeleteComplete},
		events:      queueRefusedEvents(),
	}
	sl := &fakeSleep{}
	d := testDeps(cfn, &fakeS3{})
	d.Sleep = sl.sleep
	out, err := Deploy(context.Background(), d, deployConfig())
	require.NoError(t, err)
	assert.Equal(t, "CREATE_COMPLETE", out.Status)
	assert.Equal(t, 2, cfn.called("CreateStack"))
	assert.Equal(t, 1, cfn.called("DeleteStack"), "the rolled-back stack is removed before the retry")
	assert.Equal(t, []time.Duration{65 * time.Second}, sl.slept, "SQS documents 60 s; Deploy waits that plus a margin")
	require.Len(t, out.Notes, 1)
	assert.Contains(t, out.Notes[0], "oha-web01-dlq")
	assert.Contains(t, out.Notes[0], "QueueDeletedRecently")
	assert.Contains(t, out.Notes[0], "attempt 2 of 3")
	for _, in := range cfn.createInputs {
		assert.Equal(t, "arn:aws:iam::123456789012:role/oha-web01-us-west-2-cfn", aws.ToString(in.RoleARN))
	}
}

func TestDeployQueueDeletedRecentlyIsBounded(t *testing.T) {
	cfn := &fakeCFN{
		createRuns:  [][]cfntypes.StackStatus{rolledBack, rolledBack, rolledBack, {cfntypes.StackStatusCreateComplete}},
		afterDelete: []cfntypes.StackStatus{cfntypes.StackStatusDeleteComplete},
		events:      queueRefusedEvents(),
	}
	sl := &fakeSleep{}
	d := testDeps(cfn, &fakeS3{})
	d.Sleep = sl.sleep
	out, err := Deploy(context.Background(), d, deployConfig())
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "wait 60 seconds after deleting a queue", "the final error still names the cause")
	assert.Equal(t, maxQueueCreateTrials, cfn.called("CreateStack"))
	assert.Len(t, sl.slept, maxQueueCreateTrials-1)
	assert.Len(t, out.Notes, maxQueueCreateTrials-1, "each wait was reported")
}

func TestDeployOtherCreateFailureIsNotRetried(t *testing.T) {
	ev := queueRefusedEvents()
	ev[1].ResourceStatusReason = aws.String("Access denied for operation 'CreateQueue'")
	cfn := &fakeCFN{createRuns: [][]cfntypes.StackStatus{rolledBack}, events: ev}
	sl := &fakeSleep{}
	d := testDeps(cfn, &fakeS3{})
	d.Sleep = sl.sleep
	_, err := Deploy(context.Background(), d, deployConfig())
	require.Error(t, err)
	assert.Equal(t, 1, cfn.called("CreateStack"))
	assert.Empty(t, sl.slept)
}

func TestDeployQueueWaitHonoursCancel(t *testing.T) {
	cfn := &fakeCFN{
		createRuns:  [][]cfntypes.StackStatus{rolledBack, {cfntypes.StackStatusCreateComplete}},
		afterDelete: []cfntypes.StackStatus{cfntypes.StackStatusDeleteComplete},
		events:      queueRefusedEvents(),
	}
	d := testDeps(cfn, &fakeS3{})
	d.Sleep = func(context.Context, time.Duration) error { return context.Canceled }
	_, err := Deploy(context.Background(), d, deployConfig())
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "oha-web01-dlq")
	assert.Equal(t, 1, cfn.called("CreateStack"))
}

// The default sleep is a real timer but returns as soon as ctx ends.
func TestDefaultSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Deps{}.sleep(ctx, time.Hour)
	assert.True(t, errors.Is(err, context.Canceled))
}

func TestExplainRoleNamesTheServiceRole(t *testing.T) {
	arn := "arn:aws:iam::123456789012:role/oha-web01-us-west-2-cfn"
	err := explainRole(errors.New("create stack autorestart-web01: ValidationError: Role "+arn+" is invalid or cannot be assumed"), arn)
	assert.Contains(t, err.Error(), "an administrator creates it once")
	assert.NoError(t, explainRole(nil, arn))
	plain := errors.New("throttled")
	assert.Equal(t, plain, explainRole(plain, arn))
}
