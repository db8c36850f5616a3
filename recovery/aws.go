package recovery

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The interfaces below declare exactly the AWS calls the engine makes; the SDK
// clients satisfy them, and tests wrap the real clients (talking to moto) in
// small decorators where an emulator cannot produce a failure.

// EC2 is what the engine calls on EC2. Two calls go beyond the recovery
// contract's IAM list: DescribeInstanceStatus (is the primary healthy now?) and
// DescribeLaunchTemplateVersions (dry-run drills check the recovery template);
// neither supports resource-level permissions.
type EC2 interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, o ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, o ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
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

// CloudWatch re-reads the alarms and, for ConnectedStatusHealth, reads the
// Outpost's ConnectedStatus metric.
type CloudWatch interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, o ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
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
