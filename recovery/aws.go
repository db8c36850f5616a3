package recovery

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The interfaces below declare exactly the AWS calls the engine makes; the SDK
// clients satisfy them, and tests wrap the real clients (talking to moto) in
// small decorators where an emulator cannot produce a failure.

// EC2 is what the engine calls on EC2. DescribeInstanceStatus (is the primary
// healthy now? has the recovery instance passed its checks?),
// DescribeLaunchTemplateVersions and DescribeSubnets (dry-run drills check the
// recovery template and its LNI subnet) support no resource-level
// permissions. TerminateInstances (the fenced primary once the recovery
// instance passed its checks; a recovery instance that died before it ran) and
// CreateTags (naming.TagFenced on the primary) are scoped to the workload's
// instances by the stack.
type EC2 interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, o ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, o ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, o ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, o ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, o ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
}

// SSMReader reads Parameter Store; ReadTimeline and ReadLock need nothing more.
type SSMReader interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, o ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SSM is what the engine calls on Parameter Store (lock, timeline, markers).
type SSM interface {
	SSMReader
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// SNS publishes the engine's notifications; dry-run drills also list the
// topic's subscriptions to check that the operator confirmed the email one
// (sns:ListSubscriptionsByTopic on the topic).
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, o ...func(*sns.Options)) (*sns.PublishOutput, error)
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, o ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
}

// CloudWatch re-reads the alarms, re-arms one (SetAlarmState OK) that is still
// in ALARM when a run ends with no action, and reads the AWS/Outposts metrics
// (ConnectedStatus; AvailableInstanceType_Count for the drill).
type CloudWatch interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, o ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, o ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
}

// SQS is what dry-run drills call on SQS: the dead-letter queue must exist
// (SQS may delete a queue unused for 30 days).
type SQS interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, o ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// OutpostHealth reports an Outpost's service-link connectivity: one sample per
// minute, value 1 connected, 0 disconnected (the AWS/Outposts ConnectedStatus
// metric, Maximum per minute). Minutes with no data are simply absent.
// ConnectedStatusHealth is the production implementation; no emulator speaks
// the Outposts API, so tests may also use a fake.
type OutpostHealth interface {
	ConnectedStatus(ctx context.Context, outpostID string, start, end time.Time) ([]Sample, error)
}

// Sample is one per-minute metric value.
type Sample struct {
	At    time.Time
	Value float64
}
