package outposts

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Consumer-side interfaces: each names only the calls this package makes, so
// the SDK clients satisfy them and unit tests give small fakes.

// SubnetAPI lists subnets (DescribeSubnets).
type SubnetAPI interface {
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, o ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
}

// ImageAPI lists AMIs (DescribeImages).
type ImageAPI interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, o ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// SecurityGroupAPI lists security groups.
type SecurityGroupAPI interface {
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, o ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// KeyPairAPI lists key pairs (DescribeKeyPairs has no pagination).
type KeyPairAPI interface {
	DescribeKeyPairs(ctx context.Context, in *ec2.DescribeKeyPairsInput, o ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error)
}

// InstanceProfileAPI lists IAM instance profiles.
type InstanceProfileAPI interface {
	ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput, o ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error)
}

// SecretListAPI lists Secrets Manager secrets (names only; no value is read).
type SecretListAPI interface {
	ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, o ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
}

// MetricAPI reads CloudWatch metrics (GetMetricData).
type MetricAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// SubnetAttributeAPI reads and changes a subnet's LNI setting.
type SubnetAttributeAPI interface {
	SubnetAPI
	ModifySubnetAttribute(ctx context.Context, in *ec2.ModifySubnetAttributeInput, o ...func(*ec2.Options)) (*ec2.ModifySubnetAttributeOutput, error)
}

// HelperAPI launches and watches the helper instance.
type HelperAPI interface {
	RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, o ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error)
	GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, o ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error)
}
