//go:build integration

package main

// Integration test of the setup command wiring: the CLI, in process, with the
// real AWS SDK against moto (scripts/with-moto.sh) and the inventory
// helper's TEST-TIER PROXY in front of moto's EC2 (AWS_ENDPOINT_URL_EC2; moto
// has no Outpost subnets or EnableLniAtDeviceIndex). The array is the
// generic vendor (no array API: nothing to fake; the answers' target and LUN
// are used as typed). The embedded function bundle is the real one. The
// CLI's default clocks are used: moto answers at once, so no wait happens.
// wizard/setup_integration_test.go covers a managed array (Pure model),
// fault injection and abort exactness in depth.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/outposts/outpoststest"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/recovery/stack"
)

func TestSetupCommandAppliesAndAborts(t *testing.T) {
	moto := testenv.NeedEmulator(t)
	proxy := outpoststest.NewProxy(t, moto)
	t.Setenv("AWS_ENDPOINT_URL_EC2", proxy.URL)
	ctx := context.Background()
	cfg, err := awsx.LoadConfig(ctx, awsx.Options{})
	require.NoError(t, err)
	ec, im, cfn := ec2.NewFromConfig(cfg), iam.NewFromConfig(cfg), cloudformation.NewFromConfig(cfg)
	tag := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	w := "cli" + tag
	opA, opB := "op-0a"+tag+"0000000", "op-0b"+tag+"0000000"
	arn := func(op string) string { return "arn:aws:outposts:" + cfg.Region + ":123456789012:outpost/" + op }
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.60.0.0/16")})
	require.NoError(t, err)
	mk := func(cidr, op string) string {
		out, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(cfg.Region + "a"), OutpostArn: aws.String(arn(op))})
		require.NoError(t, err)
		return aws.ToString(out.Subnet.SubnetId)
	}
	subA, subB := mk("10.60.1.0/24", opA), mk("10.60.2.0/24", opB)
	proxy.SetOutpostSubnet(subA, arn(opA), nil)
	proxy.SetOutpostSubnet(subB, arn(opB), nil)
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("san-" + tag), Description: aws.String("SAN"), VpcId: vpc.Vpc.VpcId})
	require.NoError(t, err)
	img, err := ec.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("outposts-iPXE-" + tag)})
	require.NoError(t, err)
	_, err = im.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("oha-" + tag)})
	require.NoError(t, err)
	// The administrator's one-time step.
	_, err = stack.EnsureServiceRole(ctx, im, stack.Config{Workload: w, Region: cfg.Region, NotificationEmail: "ops@example.com",
		InstanceProfileRole: "oha-" + tag, PrimaryInstanceID: "i-0123456789abcdef0"}, "123456789012", nil)
	require.NoError(t, err)

	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(answers, []byte(fmt.Sprintf(`workload: %s
region: %s
storage:
  vendor: generic
  protocol: iscsi
  boot:
    target: iqn.2003-01.org.linux-iscsi.san2:boot-%s
    portals: ["10.50.0.10:3260"]
    lun: 3
identity:
  uuid: %s
outposts:
  primary_subnet: %s
  secondary_subnet: %s
  primary_outpost: %s
  secondary_outpost: %s
instance:
  type: c5.large
  helper_ami: %s
  security_group: %s
  instance_profile: oha-%s
failover:
  policy: confirmed
  notification_email: ops@example.com
`, w, cfg.Region, w, uuid.NewString(), subA, subB, opA, opB, aws.ToString(img.ImageId), aws.ToString(sg.GroupId), tag)), 0o600))
	out := filepath.Join(dir, "plan")

	// Not confirmed, then LNI off and not allowed: refused, exit 2, nothing made.
	_, stderr, code := runCLI(t, "setup", answers, "--out", out)
	assert.Equal(t, exitInvalid, code, stderr)
	_, stderr, code = runCLI(t, "setup", answers, "--yes", "--out", out)
	assert.Equal(t, exitInvalid, code, stderr)
	assert.Contains(t, stderr, "--enable-lni")
	assert.Nil(t, proxy.LNI(subB))

	stdout, stderr, code := runCLI(t, "setup", answers, "--yes", "--enable-lni", "--out", out)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "8/8 record done")
	assert.FileExists(t, filepath.Join(out, "journal.json"))
	assert.FileExists(t, filepath.Join(out, "record.json"))
	require.NotNil(t, proxy.LNI(subB))
	assert.EqualValues(t, 1, *proxy.LNI(subB))
	st, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack.StackName(w))})
	require.NoError(t, err)
	var primary string
	for _, p := range st.Stacks[0].Parameters {
		if aws.ToString(p.ParameterKey) == "PrimaryInstanceId" {
			primary = aws.ToString(p.ParameterValue)
		}
	}
	assert.Regexp(t, `^i-[0-9a-f]+$`, primary)
	assert.Contains(t, stdout, primary, "the progress names the launched instance")

	// Abort without the answers file (the generic array has nothing to undo).
	stdout, stderr, code = runCLI(t, "setup", "--abort", w, "--out", out)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "aborted")
	_, err = cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack.StackName(w))})
	if err == nil {
		st, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack.StackName(w))})
		require.NoError(t, err)
		assert.Equal(t, "DELETE_COMPLETE", string(st.Stacks[0].StackStatus))
	}
	di, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{primary}})
	require.NoError(t, err)
	assert.Equal(t, "terminated", string(di.Reservations[0].Instances[0].State.Name))
	assert.EqualValues(t, 0, aws.ToInt32(proxy.LNI(subB)), "abort undid the LNI change")
}
