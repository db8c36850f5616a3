//go:build integration

package outposts_test

// Integration tests: the real AWS SDK, with the awsxtest contract check on
// every client, against moto (scripts/with-moto.sh) plus two test-tier
// stand-ins from outpoststest, started here:
//   - a FAKE Outposts API server (moto has no Outposts API), reached through
//     AWS_ENDPOINT_URL_OUTPOSTS;
//   - a thin REVERSE PROXY in front of moto's EC2 endpoint
//     (AWS_ENDPOINT_URL_EC2) that adds OutpostArn and EnableLniAtDeviceIndex
//     to DescribeSubnets, implements ModifySubnetAttribute
//     EnableLniAtDeviceIndex and RunInstances client-token replay (moto lacks
//     all three), and injects latency and faults.
// Everything else (IAM, Secrets Manager, CloudWatch, the rest of EC2) is moto.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/outposts/outpoststest"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

// world is one test's account: moto behind the proxy, the Outposts fake, and
// what was seeded, with a unique suffix so tests sharing a moto do not meet.
type world struct {
	proxy    *outpoststest.Proxy
	fake     *outpoststest.OutpostsServer
	cfg      aws.Config
	ec2      *ec2.Client
	iam      *iam.Client
	sm       *secretsmanager.Client
	cw       *cloudwatch.Client
	opc      *outposts.OutpostsClient
	tag      string
	a, b     string // server Outpost IDs
	vpc      string
	subA1    string // on a, LNI at 1
	subA2    string // on a, no LNI
	subB1    string // on b, no LNI
	sg       string
	profile  string
	ipxeAMI  string
	localAMI string
}

func (w *world) sources() outposts.Sources {
	return outposts.Sources{Outposts: w.opc, Subnets: w.ec2, Images: w.ec2, SecurityGroups: w.ec2, KeyPairs: w.ec2,
		Profiles: w.iam, Secrets: w.sm, Metrics: w.cw}
}

// newWorld starts the stand-ins and seeds moto. allThroughProxy routes every
// service through the proxy (for latency), not only EC2.
func newWorld(t testing.TB, allThroughProxy bool) *world {
	t.Helper()
	moto := testenv.NeedEmulator(t)
	ctx := context.Background()
	w := &world{tag: strings.ReplaceAll(uuid.NewString()[:8], "-", "")}
	w.proxy = outpoststest.NewProxy(t, moto)
	w.fake = outpoststest.NewOutpostsServer(t)
	t.Setenv("AWS_ENDPOINT_URL_EC2", w.proxy.URL)
	t.Setenv("AWS_ENDPOINT_URL_OUTPOSTS", w.fake.URL)
	if allThroughProxy {
		t.Setenv("AWS_ENDPOINT_URL", w.proxy.URL)
	}
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	w.cfg = cfg
	w.ec2 = ec2.NewFromConfig(cfg)
	w.iam = iam.NewFromConfig(cfg)
	w.sm = secretsmanager.NewFromConfig(cfg)
	w.cw = cloudwatch.NewFromConfig(cfg, awsxtest.CloudWatchQuery)
	w.opc = outposts.NewOutpostsClient(cfg)

	region, account := cfg.Region, "123456789012"
	a := outpoststest.Outpost("srv-a-"+w.tag, region, account, outposts.HardwareServer)
	b := outpoststest.Outpost("srv-b-"+w.tag, region, account, outposts.HardwareServer)
	rack := outpoststest.Outpost("rack-"+w.tag, region, account, outposts.HardwareRack)
	w.fake.Add(a, "c6id.2xlarge", "c6id.xlarge", "m6id.large")
	w.fake.Add(b, "c6id.xlarge", "c6id.2xlarge", "r6id.large")
	w.fake.Add(rack, "m5.large")
	w.a, w.b = a.OutpostId, b.OutpostId

	vpc, err := w.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	require.NoError(t, err)
	w.vpc = aws.ToString(vpc.Vpc.VpcId)
	mk := func(cidr, outpostARN string) string {
		in := &ec2.CreateSubnetInput{VpcId: aws.String(w.vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(region + "a")}
		if outpostARN != "" {
			in.OutpostArn = aws.String(outpostARN) // recorded by the proxy; moto drops it
		}
		out, err := w.ec2.CreateSubnet(ctx, in)
		require.NoError(t, err)
		return aws.ToString(out.Subnet.SubnetId)
	}
	w.subA1, w.subA2, w.subB1 = mk("10.20.1.0/24", a.OutpostArn), mk("10.20.2.0/24", a.OutpostArn), mk("10.20.3.0/24", b.OutpostArn)
	mk("10.20.9.0/24", "") // a Region subnet: not listed
	one := int32(1)
	w.proxy.SetOutpostSubnet(w.subA1, a.OutpostArn, &one)

	sg, err := w.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("san-" + w.tag), Description: aws.String("SAN"), VpcId: aws.String(w.vpc)})
	require.NoError(t, err)
	w.sg = aws.ToString(sg.GroupId)
	_, err = w.ec2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ops-" + w.tag)})
	require.NoError(t, err)
	img := func(name string) string {
		out, err := w.ec2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String(name)})
		require.NoError(t, err)
		return aws.ToString(out.ImageId)
	}
	w.ipxeAMI = img("outposts-iPXE-" + w.tag)
	w.localAMI = img("outposts-localboot-ami-" + w.tag)

	w.profile = "oha-" + w.tag
	_, err = w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(w.profile), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	_, err = w.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(w.profile)})
	require.NoError(t, err)
	_, err = w.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(w.profile), RoleName: aws.String(w.profile)})
	require.NoError(t, err)
	_, err = w.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("chap/" + w.tag), SecretString: aws.String(`{"username":"u","password":"p4ssw0rd-p4ssw0rd"}`)})
	require.NoError(t, err)

	// Free capacity of the secondary, as AWS/Outposts publishes it.
	_, err = w.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(outposts.CapacityNamespace),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String(outposts.CapacityMetric), Value: aws.Float64(2),
			Timestamp:  aws.Time(time.Now().Add(-time.Minute)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("OutpostId"), Value: aws.String(w.b)}, {Name: aws.String("InstanceType"), Value: aws.String("c6id.2xlarge")}}}}})
	require.NoError(t, err)
	w.proxy.ResetCalls()
	return w
}

func TestInventoryThroughTheSDK(t *testing.T) {
	w := newWorld(t, false)
	ctx := context.Background()
	// Six secrets of ours, pages of five: ListSecrets must follow NextToken
	// through the SDK (moto paginates it; its EC2 lists come in one page).
	// moto is shared with other packages' tests, so the page bound is high.
	for i := range 5 {
		_, err := w.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("chap/%s-%d", w.tag, i)), SecretString: aws.String("x")})
		require.NoError(t, err)
	}
	inv, err := outposts.Load(ctx, w.sources(), outposts.Options{PageSize: 5, MaxPages: 1000})
	require.NoError(t, err)
	secretNames := names(inv.Secrets, func(s outposts.Secret) string { return s.Name })
	for i := range 5 {
		assert.Contains(t, secretNames, fmt.Sprintf("chap/%s-%d", w.tag, i))
	}
	pages := 0
	for _, c := range inv.Calls {
		if c.Op == "secretsmanager:ListSecrets" {
			pages++
		}
	}
	assert.Greater(t, pages, 1, "ListSecrets was paged")

	var servers []string
	for _, s := range inv.Servers {
		servers = append(servers, s.ID)
	}
	assert.ElementsMatch(t, []string{w.a, w.b}, servers, "the rack is left out")
	assert.Equal(t, 1, inv.NotServers)

	a1, ok := inv.Subnet(w.subA1)
	require.True(t, ok)
	assert.Equal(t, w.a, a1.OutpostID)
	assert.True(t, a1.LNIReady(), "EnableLniAtDeviceIndex=1 came through DescribeSubnets (proxy-added)")
	b1, ok := inv.Subnet(w.subB1)
	require.True(t, ok)
	assert.False(t, b1.LNIReady())
	assert.Len(t, inv.Subnets[w.a], 2)

	assert.Equal(t, []string{"c6id.2xlarge", "c6id.xlarge"}, inv.CommonInstanceTypes(w.a, w.b))
	c, ok := inv.Capacity[w.b]["c6id.2xlarge"]
	require.True(t, ok, "capacity read from moto's CloudWatch")
	assert.Equal(t, 2, c.Free)

	var ipxe, local []string
	for _, im := range inv.ImagesOf(outposts.FamilyIPXE) {
		ipxe = append(ipxe, im.ID)
	}
	for _, im := range inv.ImagesOf(outposts.FamilyLocalBoot) {
		local = append(local, im.ID)
	}
	assert.Contains(t, ipxe, w.ipxeAMI)
	assert.NotContains(t, ipxe, w.localAMI)
	assert.Contains(t, local, w.localAMI)
	assert.NotEmpty(t, inv.SecurityGroupsIn(w.vpc))
	assert.Contains(t, names(inv.KeyPairs, func(k outposts.KeyPair) string { return k.Name }), "ops-"+w.tag)
	assert.Contains(t, names(inv.InstanceProfiles, func(p outposts.InstanceProfile) string { return p.Name }), w.profile)
	assert.Contains(t, names(inv.Secrets, func(s outposts.Secret) string { return s.Name }), "chap/"+w.tag)

	// The checks on real answers.
	_, _, err = outposts.CheckPair(inv, w.subA1, w.subA2)
	assert.ErrorContains(t, err, "both on Outpost "+w.a)
	_, _, err = outposts.CheckPair(inv, w.subA1, w.subB1)
	require.NoError(t, err)
	assert.ErrorContains(t, outposts.CheckInstanceType(inv, w.a, w.b, "m6id.large"), "not offered on the secondary")
	_, err = outposts.CheckCapacity(inv, w.b, "c6id.2xlarge", 2)
	assert.ErrorContains(t, err, "has 2 free c6id.2xlarge")

	// The fake saw paginated Outposts calls.
	n := 0
	for _, call := range w.fake.Calls() {
		if call.Action == "ListOutposts" {
			n++
		}
	}
	assert.Equal(t, 2, n, "three Outposts, two per page")
}

func names[T any](l []T, f func(T) string) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = f(x)
	}
	return out
}

func TestInventoryReportsAccessDeniedPerList(t *testing.T) {
	w := newWorld(t, true)
	w.proxy.InjectFault("secretsmanager", "ListSecrets", "AccessDeniedException", 400, 1)
	w.proxy.InjectFault("ec2", "DescribeKeyPairs", "UnauthorizedOperation", 403, 1)
	w.fake.Deny("GetOutpostInstanceTypes")
	inv, err := outposts.Load(context.Background(), w.sources(), outposts.Options{})
	var le *outposts.LoadError
	require.ErrorAs(t, err, &le)
	msg := err.Error()
	assert.Contains(t, msg, "allow secretsmanager:ListSecrets")
	assert.Contains(t, msg, "allow ec2:DescribeKeyPairs")
	assert.Contains(t, msg, "allow outposts:GetOutpostInstanceTypes")
	assert.NotEmpty(t, inv.Subnets, "other lists still loaded")
}

// A throttled list is retried by the SDK's own retryer and the Load still
// completes; the proxy shows the retry.
func TestInventorySurvivesAThrottledCall(t *testing.T) {
	w := newWorld(t, false)
	w.proxy.InjectFault("ec2", "DescribeSubnets", "RequestLimitExceeded", 503, 1)
	inv, err := outposts.Load(context.Background(), w.sources(), outposts.Options{})
	require.NoError(t, err)
	assert.Len(t, inv.Subnets[w.a], 2)
	var statuses []int
	for _, c := range w.proxy.Calls() {
		if c.Action == "DescribeSubnets" {
			statuses = append(statuses, c.Status)
		}
	}
	assert.Equal(t, []int{503, 200}, statuses)
}

func TestEnableLNIThroughTheProxy(t *testing.T) {
	w := newWorld(t, false)
	ctx := context.Background()
	changed, err := outposts.EnableLNI(ctx, w.ec2, w.subB1)
	require.NoError(t, err)
	assert.True(t, changed)
	require.NotNil(t, w.proxy.LNI(w.subB1))
	assert.EqualValues(t, 1, *w.proxy.LNI(w.subB1))
	modifies := func() int {
		n := 0
		for _, c := range w.proxy.Calls() {
			if c.Action == "ModifySubnetAttribute" {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, modifies())
	changed, err = outposts.EnableLNI(ctx, w.ec2, w.subB1)
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, 1, modifies(), "idempotent: no second ModifySubnetAttribute")

	// A Region subnet cannot get an LNI; a missing one is moto's NotFound.
	out, err := w.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.vpc}}}})
	require.NoError(t, err)
	var regional string
	for _, s := range out.Subnets {
		if s.OutpostArn == nil {
			regional = aws.ToString(s.SubnetId)
		}
	}
	require.NotEmpty(t, regional)
	_, err = outposts.EnableLNI(ctx, w.ec2, regional)
	assert.ErrorContains(t, err, "not an Outpost subnet")
	_, err = w.ec2.ModifySubnetAttribute(awsxtest.AllowViolations(ctx), &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(w.subB1), EnableLniAtDeviceIndex: aws.Int32(0)})
	assert.ErrorContains(t, err, "cannot be the primary network interface", "the proxy refuses index 0 as EC2 does")
}

func launchTemplate(t *testing.T, w *world, workload, image string) {
	t.Helper()
	lt, err := outposts.NewLaunchTemplate(outposts.TemplateInput{Workload: workload, Role: naming.RolePrimary, SubnetID: w.subA1, ImageID: image,
		InstanceType: "c6id.2xlarge", SecurityGroup: w.sg, InstanceProfile: w.profile, UserData: []byte("#!ipxe\nexit 1\n")})
	require.NoError(t, err)
	_, err = w.ec2.CreateLaunchTemplate(context.Background(), lt.CreateInput())
	require.NoError(t, err)
}

func TestHelperLaunchFindOrCreate(t *testing.T) {
	w := newWorld(t, false)
	ctx := context.Background()
	workload := "h" + w.tag
	launchTemplate(t, w, workload, w.ipxeAMI)
	in := outposts.HelperInput{Workload: workload, ClientToken: outposts.HelperClientToken(workload, "run-"+w.tag),
		Timeout: 2 * time.Minute, Poll: 50 * time.Millisecond}
	res, err := outposts.LaunchHelper(ctx, w.ec2, in)
	require.NoError(t, err)
	assert.False(t, res.Found)
	assert.Equal(t, "running", res.State)

	// Resume: the same run finds it and launches nothing.
	again, err := outposts.LaunchHelper(ctx, w.ec2, in)
	require.NoError(t, err)
	assert.True(t, again.Found)
	assert.Equal(t, "client-token", again.FoundBy)
	assert.Equal(t, res.InstanceID, again.InstanceID)
	out, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:" + naming.TagWorkload), Values: []string{workload}}}})
	require.NoError(t, err)
	n := 0
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			n++
			tags := map[string]string{}
			for _, tg := range i.Tags {
				tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			assert.Equal(t, naming.RolePrimary, tags[naming.TagRole])
		}
	}
	assert.Equal(t, 1, n, "exactly one helper in moto")

	// A repeated RunInstances with the token (a crash between launch and
	// journal write) returns the same instance.
	run, err := w.ec2.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String(in.ClientToken),
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String(naming.LaunchTemplate(workload, naming.RolePrimary))}})
	require.NoError(t, err)
	assert.Equal(t, res.InstanceID, aws.ToString(run.Instances[0].InstanceId))
}

func TestHelperLaunchFailureShowsTheIPXELine(t *testing.T) {
	w := newWorld(t, false)
	ctx := context.Background()
	workload := "f" + w.tag
	launchTemplate(t, w, workload, w.ipxeAMI)
	in := outposts.HelperInput{Workload: workload, ClientToken: outposts.HelperClientToken(workload, "run-"+w.tag),
		Timeout: 2 * time.Minute, Poll: 50 * time.Millisecond}
	// Launch once to learn the ID, then make its boot fail the way a wrong
	// LUN does: the instance check impaired, the iPXE marker on the console.
	res, err := outposts.LaunchHelper(ctx, w.ec2, in)
	require.NoError(t, err)
	w.proxy.ImpairInstance(res.InstanceID)
	w.proxy.SetConsoleOutput(res.InstanceID, "iPXE 1.21.1+\r\nOUTPOSTS-HA-SANBOOT-FAILED error 3c092003 target iqn.2010-10.org.openstack:x\r\n")
	_, err = outposts.LaunchHelper(ctx, w.ec2, in)
	var he *outposts.HelperError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "OUTPOSTS-HA-SANBOOT-FAILED error 3c092003 target iqn.2010-10.org.openstack:x", he.FailureLine)
	assert.Contains(t, he.Reason, "impaired")
}

// TestProxyIsAProxy: with no Outpost subnet registered, DescribeSubnets is
// moto's answer byte for byte in substance (nothing added).
func TestProxyAddsNothingToRegionSubnets(t *testing.T) {
	w := newWorld(t, false)
	out, err := w.ec2.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{w.vpc}}}})
	require.NoError(t, err)
	with := 0
	for _, s := range out.Subnets {
		if s.OutpostArn != nil {
			with++
			assert.True(t, strings.HasSuffix(aws.ToString(s.OutpostArn), "/"+w.a) || strings.HasSuffix(aws.ToString(s.OutpostArn), "/"+w.b))
		}
	}
	assert.Equal(t, 3, with, "three Outpost subnets, the Region one untouched")
}
