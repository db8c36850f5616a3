//go:build integration

package wizard_test

// Integration tests of setup's apply half (`setup ANSWERS.yaml --yes`,
// `setup --abort`):
//   - the REAL AWS SDK, with awsxtest's strict contract check on every
//     client, against moto (scripts/with-moto.sh): SSM, EC2, IAM, STS, S3,
//     CloudFormation (moto's CloudFormation skips some resource types, see
//     recovery/stack/deploy_integration_test.go; the stack is checked by its
//     status, tags and parameters here);
//   - in front of moto's EC2, the inventory helper's TEST-TIER PROXY
//     (outpoststest.Proxy, AWS_ENDPOINT_URL_EC2): moto has no Outpost
//     subnets, no EnableLniAtDeviceIndex and no RunInstances client-token
//     replay; the proxy adds them;
//   - a FAKE ARRAY: the real pure client against a MODEL of the FlashArray
//     REST 2.x API over HTTPS (setup_puremodel_test.go, copied from
//     internal/storage/pure/model_test.go), assigning LUNs from 7 up so the
//     LUN the user data carries is provably the array's, not the typed 0.
// Clocks are injected (helper wait, runner heartbeat, stack sleep); the
// CloudFormation waiter polls moto every few ms, bounded by its Timeout.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/outposts/outpoststest"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/internal/storage/pure"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/recovery/stack"
	"github.com/outposts-ha/outposts-ha/wizard"
)

// fakeClock is the injected clock: After fires at once and moves time on.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	t := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- t
	return ch
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// callCounter counts the AWS calls made through the world's config, by
// "Service.Operation".
type callCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *callCounter) option(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("setupCallCount",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[awsmiddleware.GetServiceID(ctx)+"."+awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// take returns the counts so far and starts again.
func (c *callCounter) take() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, total := c.n, 0
	for _, v := range out {
		total += v
	}
	c.n = map[string]int{}
	return out, total
}

type setupWorld struct {
	calls     *callCounter
	t         testing.TB
	cfg       aws.Config
	clients   wizard.SetupClients
	ec2       *ec2.Client
	ssm       *ssm.Client
	cfn       *cloudformation.Client
	iam       *iam.Client
	proxy     *outpoststest.Proxy
	model     *pmModel
	arrayURL  string
	arrayCA   string
	arrayAddr string // 127.0.0.1:port of the model
	subA      string // on Outpost A, LNI at 1 already
	subB      string // on Outpost B, no LNI: setup enables it
	opA, opB  string
	sg, ami   string
	profile   string
	clock     *fakeClock
}

func newSetupWorld(t testing.TB) *setupWorld {
	t.Helper()
	moto := testenv.NeedEmulator(t)
	ctx := context.Background()
	w := &setupWorld{t: t, clock: &fakeClock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}}
	w.proxy = outpoststest.NewProxy(t, moto)
	t.Setenv("AWS_ENDPOINT_URL_EC2", w.proxy.URL)
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	w.cfg = cfg
	w.calls = &callCounter{n: map[string]int{}}
	counted := cfg.Copy()
	counted.APIOptions = append(slices.Clip(counted.APIOptions), w.calls.option)
	w.clients = wizard.ClientsFromConfig(counted)
	w.ec2, w.ssm, w.cfn, w.iam = ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg), cloudformation.NewFromConfig(cfg), iam.NewFromConfig(cfg)

	tag := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	w.opA, w.opB = "op-0a"+tag+"0000000", "op-0b"+tag+"0000000"
	arn := func(op string) string { return "arn:aws:outposts:" + cfg.Region + ":123456789012:outpost/" + op }
	vpc, err := w.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.40.0.0/16")})
	require.NoError(t, err)
	mk := func(cidr, op string) string {
		out, err := w.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String(cfg.Region + "a"), OutpostArn: aws.String(arn(op))})
		require.NoError(t, err)
		return aws.ToString(out.Subnet.SubnetId)
	}
	w.subA, w.subB = mk("10.40.1.0/24", w.opA), mk("10.40.2.0/24", w.opB)
	one := int32(1)
	w.proxy.SetOutpostSubnet(w.subA, arn(w.opA), &one)
	w.proxy.SetOutpostSubnet(w.subB, arn(w.opB), nil)
	sg, err := w.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("san-" + tag), Description: aws.String("SAN"), VpcId: vpc.Vpc.VpcId})
	require.NoError(t, err)
	w.sg = aws.ToString(sg.GroupId)
	img, err := w.ec2.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("outposts-iPXE-" + tag)})
	require.NoError(t, err)
	w.ami = aws.ToString(img.ImageId)
	w.profile = "oha-" + tag
	_, err = w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(w.profile), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	_, err = w.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(w.profile)})
	require.NoError(t, err)
	_, err = w.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(w.profile), RoleName: aws.String(w.profile)})
	require.NoError(t, err)

	w.model = pmNewModel()
	w.model.firstLUN = 7
	srv, ca := w.model.start(t)
	w.arrayURL, w.arrayCA = strings.Replace(srv.URL, "127.0.0.1", "example.com", 1), ca
	w.arrayAddr = strings.TrimPrefix(srv.URL, "https://")
	return w
}

// answers is one workload's answers file (Pure over iSCSI; the typed LUN 0
// and target/portals are what plan would use, setup must replace them).
func (w *setupWorld) answers(name string) []byte {
	return []byte(fmt.Sprintf(`workload: %s
region: %s
guest_os: linux
storage:
  vendor: pure
  protocol: iscsi
  management:
    endpoint: %s
    credentials:
      env: OHA_TEST_PURE_TOKEN
    ca_file: %s
  boot:
    volume: web01-boot
    target: iqn.2010-06.com.example:typed-not-real
    portals: ["192.0.2.10"]
    lun: 2
  data:
    - volume: web01-data
      target: iqn.2010-06.com.example:typed-not-real
      portals: ["192.0.2.10"]
      lun: 1
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
  instance_profile: %s
  instance_profile_role: %s
failover:
  policy: confirmed
  notification_email: ops@example.com
`, name, w.cfg.Region, w.arrayURL, w.arrayCA, uuid.NewSHA1(uuid.NameSpaceOID, []byte(name)), w.subA, w.subB, w.opA, w.opB, w.ami, w.sg, w.profile, w.profile))
}

// workload makes a new workload name and, as the administrator would once,
// its CloudFormation service role.
func (w *setupWorld) workload() string {
	name := "st" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	sr := stack.Config{Workload: name, Region: w.cfg.Region, NotificationEmail: "ops@example.com", InstanceProfileRole: w.profile,
		PrimaryOutpostID: w.opA, SecondaryOutpostID: w.opB, PrimaryInstanceID: "i-0123456789abcdef0"}
	_, err := stack.EnsureServiceRole(context.Background(), w.iam, sr, "123456789012", nil)
	require.NoError(w.t, err)
	return name
}

func (w *setupWorld) options(name string, out *strings.Builder) wizard.SetupOptions {
	t := w.t
	data := w.answers(name)
	s, err := spec.Parse(data)
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	u, err := uuid.Parse(s.Identity.UUID)
	require.NoError(t, err)
	id, err := wizard.DeriveIdentity(s, u)
	require.NoError(t, err)
	creds, err := wizard.ResolveCredentials(context.Background(), s, wizard.CredentialSources{Getenv: func(k string) string {
		if k == "OHA_TEST_PURE_TOKEN" {
			return w.model.token
		}
		return ""
	}})
	require.NoError(t, err)
	// The answers refuse a loopback array endpoint, so they name
	// example.com (which the model's test certificate covers) and the
	// client's dialer goes to the model on 127.0.0.1.
	arr, err := pure.New(pure.Config{Endpoint: s.Storage.Management.Endpoint, Credentials: creds, HTTP: w.arrayHTTP(t)})
	require.NoError(t, err)
	return wizard.SetupOptions{
		Spec: s, Answers: data, Identity: id, Yes: true, EnableLNI: true, Clients: w.clients, Array: arr,
		PlanDir: t.TempDir(), RunID: "run-" + uuid.NewString()[:8], Owner: "it@test", Out: out,
		Now: w.clock.Now, After: func(time.Duration) <-chan time.Time { return nil },
		HelperClock: w.clock, HelperTimeout: 10 * time.Minute, HelperPoll: 15 * time.Second,
		StackWait:  stack.Wait{MinDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, Timeout: 2 * time.Minute},
		StackSleep: func(context.Context, time.Duration) error { return nil },
	}
}

// inventory is what the test compares: everything setup may touch, in moto
// (live instances, launch templates and stacks naming the workload in a tag
// or name; both subnets; the SSM parameters) and on the array (all of it).
type inventory struct {
	Instances []string // id + sorted tags
	Templates []string // name + tags
	Subnets   []string // id, LNI, tags
	Stacks    []string // name status
	Params    []string
	Hosts     []string // array host name + initiators
	Conns     []string // host vol lun
}

func (w *setupWorld) inventory(name string) inventory {
	t, ctx := w.t, context.Background()
	var inv inventory
	tagStr := func(ts []ec2types.Tag) string {
		var s []string
		for _, x := range ts {
			s = append(s, aws.ToString(x.Key)+"="+aws.ToString(x.Value))
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}
	// Other packages' integration tests share this moto (make integration
	// runs packages in parallel): keep what names this workload in any tag
	// or name. An instance launched from lt-<w>-* carries the workload tag
	// from the template, so a duplicate launch is still seen.
	ours := func(ts []ec2types.Tag) bool {
		for _, x := range ts {
			if strings.Contains(aws.ToString(x.Value), name) {
				return true
			}
		}
		return false
	}
	// Every page: under make test other packages share this moto, and one page
	// may not hold this workload's instances.
	var reservations []ec2types.Reservation
	for pages := ec2.NewDescribeInstancesPaginator(w.ec2, &ec2.DescribeInstancesInput{}); pages.HasMorePages(); {
		di, err := pages.NextPage(ctx)
		require.NoError(t, err)
		reservations = append(reservations, di.Reservations...)
	}
	for _, r := range reservations {
		for _, x := range r.Instances {
			if x.State != nil && (x.State.Name == ec2types.InstanceStateNameTerminated || x.State.Name == ec2types.InstanceStateNameShuttingDown) {
				continue
			}
			if ours(x.Tags) {
				inv.Instances = append(inv.Instances, aws.ToString(x.InstanceId)+" "+tagStr(x.Tags))
			}
		}
	}
	// By name: moto's DescribeLaunchTemplates pages unreliably once other
	// packages sharing it hold many templates, and setup writes only these two.
	var templates []ec2types.LaunchTemplate
	for _, role := range []string{naming.RolePrimary, naming.RoleRecovery} {
		lt, err := w.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{naming.LaunchTemplate(name, role)}})
		if err != nil && strings.Contains(awsx.Code(err), "NotFound") {
			continue
		}
		require.NoError(t, err)
		templates = append(templates, lt.LaunchTemplates...)
	}
	for _, x := range templates {
		if ours(x.Tags) || strings.Contains(aws.ToString(x.LaunchTemplateName), name) {
			inv.Templates = append(inv.Templates, aws.ToString(x.LaunchTemplateName)+" "+tagStr(x.Tags))
		}
	}
	sn, err := w.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{w.subA, w.subB}})
	require.NoError(t, err)
	for _, x := range sn.Subnets {
		inv.Subnets = append(inv.Subnets, fmt.Sprintf("%s lni=%d %s", aws.ToString(x.SubnetId), aws.ToInt32(x.EnableLniAtDeviceIndex), tagStr(x.Tags)))
	}
	var stacks []cftypes.Stack
	for pages := cloudformation.NewDescribeStacksPaginator(w.cfn, &cloudformation.DescribeStacksInput{}); pages.HasMorePages(); {
		ds, err := pages.NextPage(ctx)
		require.NoError(t, err)
		stacks = append(stacks, ds.Stacks...)
	}
	for _, x := range stacks {
		if x.StackStatus != "DELETE_COMPLETE" && strings.Contains(aws.ToString(x.StackName), name) {
			inv.Stacks = append(inv.Stacks, aws.ToString(x.StackName)+" "+string(x.StackStatus))
		}
	}
	for _, p := range []string{naming.RecordParam(name), record.JournalParam(name), record.LeaseParam(name)} {
		_, err := w.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(p)})
		if err == nil {
			inv.Params = append(inv.Params, p)
		} else {
			require.True(t, awsx.IsNotFound(err), "%s: %v", p, err)
		}
	}
	w.model.mu.Lock()
	for _, h := range w.model.hosts {
		inv.Hosts = append(inv.Hosts, h.name+" "+strings.Join(h.iqns, ",")+strings.Join(h.nqns, ","))
	}
	for _, c := range w.model.conns {
		inv.Conns = append(inv.Conns, fmt.Sprintf("%s %s %d", c.host, c.vol, c.lun))
	}
	w.model.mu.Unlock()
	for _, l := range [][]string{inv.Instances, inv.Templates, inv.Subnets, inv.Stacks, inv.Params, inv.Hosts, inv.Conns} {
		sort.Strings(l)
	}
	return inv
}

// checkSetUp asserts what one completed setup of name must leave: exactly
// one helper, two templates, one stack naming the helper, the record, the
// array host with two maps, the LNI enabled on B; and the recovery
// template's user data carries the array's LUN and target.
func (w *setupWorld) checkSetUp(name string, before inventory, res apply.Results) {
	t, ctx := w.t, context.Background()
	after := w.inventory(name)
	instance := res.Output(wizard.StepHelper, "instance-id")
	require.NotEmpty(t, instance)

	var mine []string
	for _, x := range after.Instances {
		if !slices.Contains(before.Instances, x) {
			mine = append(mine, x)
		}
	}
	require.Len(t, mine, 1, "exactly one new instance: %v", mine)
	assert.True(t, strings.HasPrefix(mine[0], instance+" "))
	assert.Contains(t, mine[0], naming.TagWorkload+"="+name)
	assert.Contains(t, mine[0], apply.TagSetup+"=")

	var tpl []string
	for _, x := range after.Templates {
		if !slices.Contains(before.Templates, x) {
			tpl = append(tpl, strings.Fields(x)[0])
			assert.Contains(t, x, naming.TagWorkload+"="+name, "every template is tagged")
		}
	}
	assert.ElementsMatch(t, []string{naming.LaunchTemplate(name, naming.RolePrimary), naming.LaunchTemplate(name, naming.RoleRecovery)}, tpl)

	st, err := w.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack.StackName(name))})
	require.NoError(t, err)
	require.Len(t, st.Stacks, 1)
	params, tags := map[string]string{}, map[string]string{}
	for _, p := range st.Stacks[0].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	for _, x := range st.Stacks[0].Tags {
		tags[aws.ToString(x.Key)] = aws.ToString(x.Value)
	}
	assert.Equal(t, instance, params["PrimaryInstanceId"], "the stack names the launched instance")
	assert.Equal(t, name, tags[naming.TagWorkload], "the stack is tagged")
	assert.Equal(t, stack.ServiceRoleArn("aws", "123456789012", name, w.cfg.Region), aws.ToString(st.Stacks[0].RoleARN), "deployed through the service role")
	assert.Equal(t, strings.Count(strings.Join(after.Stacks, "\n"), stack.StackName(name)+" "), 1)

	assert.ElementsMatch(t, []string{naming.RecordParam(name), record.JournalParam(name), record.LeaseParam(name)}, after.Params)

	var hosts, conns []string
	for _, h := range after.Hosts {
		if strings.HasPrefix(h, naming.ArrayHost(name)+" ") {
			hosts = append(hosts, h)
		}
	}
	for _, c := range after.Conns {
		if strings.HasPrefix(c, naming.ArrayHost(name)+" ") {
			conns = append(conns, c)
		}
	}
	require.Len(t, hosts, 1, "one array host: %v", after.Hosts)
	assert.Len(t, conns, 2, "boot and data mapped once each: %v", conns)
	assert.Contains(t, after.Subnets, fmt.Sprintf("%s lni=1 %s=%s", w.subB, wizard.TagSetupLNI, lniTag(t, after, w.subB)))

	// The user data stored in lt-<w>-recovery carries the array's LUN and
	// target (the model assigns from 7 up; the answers typed 2 and a
	// made-up target).
	lun := res.Output(wizard.StepArray, "boot.lun")
	require.NotEqual(t, "2", lun, "the typed LUN is replaced by the one the array assigned")
	v, err := w.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String(naming.LaunchTemplate(name, naming.RoleRecovery))})
	require.NoError(t, err)
	require.NotEmpty(t, v.LaunchTemplateVersions)
	ud, err := base64.StdEncoding.DecodeString(aws.ToString(v.LaunchTemplateVersions[0].LaunchTemplateData.UserData))
	require.NoError(t, err)
	assert.Contains(t, string(ud), ":"+lun+":iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60", "the SAN URI has the array's LUN and target")
	assert.NotContains(t, string(ud), "typed-not-real")
	// The model reports more iSCSI ports than a BIOS iBFT can hand the OS:
	// the boot keeps the first that fit (sanboot.TrimBootPaths), never all.
	reported := strings.Split(res.Output(wizard.StepArray, "portals"), ",")
	require.Greater(t, len(reported), 2, "the model reports more ports than a BIOS boot can use")
	uris := strings.Count(string(ud), ":"+lun+":iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60")
	assert.GreaterOrEqual(t, uris, 1)
	assert.Less(t, uris, len(reported), "boot portals trimmed to what the iBFT holds")

	rec, err := (&record.Store{SSM: w.ssm, Workload: name}).GetRecord(ctx)
	require.NoError(t, err)
	var ids []string
	for _, x := range rec.Resources {
		ids = append(ids, x.ID)
	}
	assert.Contains(t, ids, instance)
	assert.Contains(t, ids, res.Output(wizard.StepStack, "stack-id"))
}

func lniTag(t testing.TB, inv inventory, subnet string) string {
	for _, s := range inv.Subnets {
		if strings.HasPrefix(s, subnet+" ") {
			i := strings.Index(s, wizard.TagSetupLNI+"=")
			require.GreaterOrEqual(t, i, 0, "subnet %s carries the setup's LNI mark: %s", subnet, s)
			return strings.Fields(s[i+len(wizard.TagSetupLNI)+1:])[0]
		}
	}
	t.Fatalf("subnet %s not listed", subnet)
	return ""
}

// TestSetupAppliesAndAborts: one unattended setup end to end, a re-run that
// changes nothing, then an abort back to exactly the inventory before.
func TestSetupAppliesAndAborts(t *testing.T) {
	w := newSetupWorld(t)
	ctx := context.Background()
	name := w.workload()
	before := w.inventory(name)
	var out strings.Builder
	o := w.options(name, &out)

	w.calls.take()
	res, err := wizard.Setup(ctx, o)
	require.NoError(t, err, out.String())
	calls, total := w.calls.take()
	t.Logf("progress:\n%s\nAWS calls of one unattended setup: %d %v", out.String(), total, calls)
	w.checkSetUp(name, before, res)
	assert.Contains(t, out.String(), "8/8 record done")
	afterFirst := w.inventory(name)

	// A second run resumes nothing and creates nothing.
	var out2 strings.Builder
	o2 := w.options(name, &out2)
	_, err = wizard.Setup(ctx, o2)
	require.NoError(t, err, out2.String())
	assert.Equal(t, afterFirst, w.inventory(name), "a re-run after success changes nothing")
	calls, _ = w.calls.take()
	for op := range calls {
		if strings.HasPrefix(op, "SSM.") {
			continue // the apply lease is taken and released
		}
		_, action, _ := strings.Cut(op, ".")
		for _, verb := range []string{"Create", "Run", "Modify", "Delete", "Update", "Put", "Terminate"} {
			assert.False(t, strings.HasPrefix(action, verb), "the re-run called %s", op)
		}
	}

	require.NoError(t, wizard.Abort(ctx, w.options(name, &out)))
	assert.Equal(t, before, w.inventory(name), "abort leaves moto and the array exactly as before")
}

// errInjected is the failure injected after a step.
var errInjected = errors.New("injected failure after the step")

// failAfter makes one step fail right after its Do succeeded. With drop the
// step's result is lost too (a crash: the journal never hears what was
// made, only Find can tell); without, it is returned with the error (an API
// error after the work, journaled as failed with its resources).
type failAfter struct {
	apply.Step
	drop  bool
	fired *bool
}

func (f failAfter) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	res, err := f.Step.Do(ctx, env)
	if err != nil || *f.fired {
		return res, err
	}
	*f.fired = true
	if f.drop {
		return apply.Result{}, errInjected
	}
	return res, errInjected
}

// TestSetupFaultAfterEachStep injects a failure after each step in turn;
// the re-run completes with no duplicate anywhere (moto and the array), and
// the abort then leaves everything exactly as before. Steps whose Find has
// proof (LNI tag, template/instance tags and client tokens, the stack's
// instance parameter, the record's token) also get the crash variant.
func TestSetupFaultAfterEachStep(t *testing.T) {
	w := newSetupWorld(t)
	ctx := context.Background()
	steps := []string{wizard.StepLNI, wizard.StepArrayHost, wizard.StepArray, wizard.StepRender, wizard.StepTemplates, wizard.StepHelper, wizard.StepStack, wizard.StepRecord}
	type tc struct {
		step string
		drop bool
	}
	var cases []tc
	for _, s := range steps {
		cases = append(cases, tc{s, false})
		if s != wizard.StepArrayHost { // no host look-up without create: see the notes
			cases = append(cases, tc{s, true})
		}
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/crash=%v", c.step, c.drop), func(t *testing.T) {
			w.t = t
			name := w.workload()
			before := w.inventory(name)
			var out strings.Builder
			o := w.options(name, &out)
			fired := false
			wizard.SetStepWrapper(&o, func(s apply.Step) apply.Step {
				if s.Name() == c.step {
					return failAfter{Step: s, drop: c.drop, fired: &fired}
				}
				return s
			})
			_, err := wizard.Setup(ctx, o)
			require.ErrorIs(t, err, errInjected)

			// Resume from another "machine" (new run ID; the failed run
			// released its lease).
			o2 := w.options(name, &out)
			res, err := wizard.Setup(ctx, o2)
			require.NoError(t, err, out.String())
			w.checkSetUp(name, before, res)

			require.NoError(t, wizard.Abort(ctx, w.options(name, &out)), out.String())
			assert.Equal(t, before, w.inventory(name), "abort leaves moto and the array exactly as before")
		})
	}
}

// TestSetupRefusesBeforeCreatingAnything: no confirmation, LNI off and not
// chosen, a missing service role, a wrong array token: each stops before
// anything exists, with a message naming the fix.
func TestSetupRefusesBeforeCreatingAnything(t *testing.T) {
	w := newSetupWorld(t)
	ctx := context.Background()
	name := w.workload()
	before := w.inventory(name)
	var out strings.Builder

	o := w.options(name, &out)
	o.Yes = false
	_, err := wizard.Setup(ctx, o)
	require.ErrorIs(t, err, wizard.ErrNotConfirmed)

	o = w.options(name, &out)
	o.EnableLNI = false
	_, err = wizard.Setup(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), w.subB)
	assert.Contains(t, err.Error(), "--enable-lni")

	other := "nr" + strings.ReplaceAll(uuid.NewString()[:8], "-", "") // no service role
	o = w.options(other, &out)
	_, err = wizard.Setup(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), stack.ServiceRoleName(other, w.cfg.Region))
	assert.Contains(t, err.Error(), "administrator")

	o = w.options(name, &out)
	bad, err := pure.New(pure.Config{Endpoint: w.arrayURL, Credentials: storage.Credentials{Secret: "not-the-token"}, HTTP: w.arrayHTTP(t)})
	require.NoError(t, err)
	o.Array = bad
	_, err = wizard.Setup(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "array login")
	assert.NotContains(t, err.Error(), "not-the-token")

	assert.Equal(t, before, w.inventory(name), "nothing was created")
	assert.Empty(t, out.String(), "no step started")
}

// arrayHTTP verifies the model's certificate (its CA file) and dials the
// model whatever host the URL names.
func (w *setupWorld) arrayHTTP(t testing.TB) *http.Client {
	t.Helper()
	hc, _, err := storage.NewHTTPClient(storage.TLSOptions{CAFile: w.arrayCA, Timeout: 10 * time.Second})
	require.NoError(t, err)
	tr := hc.Transport.(*http.Transport).Clone()
	addr := w.arrayAddr
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	hc.Transport = tr
	return hc
}

// bootFails is the EC2 client with one test-tier injection: the instance
// RunInstances makes gets an impaired instance status check and an iPXE
// failure on its console (through the proxy), as a helper whose SAN boot
// failed would.
type bootFails struct {
	wizard.SetupEC2
	proxy   *outpoststest.Proxy
	console string
	ids     []string
}

func (b *bootFails) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	out, err := b.SetupEC2.RunInstances(ctx, in, o...)
	if err == nil {
		for _, x := range out.Instances {
			id := aws.ToString(x.InstanceId)
			b.ids = append(b.ids, id)
			b.proxy.ImpairInstance(id)
			b.proxy.SetConsoleOutput(id, b.console)
		}
	}
	return out, err
}

// TestSetupHelperBootFailure: the helper runs but its checks fail; setup
// stops at the helper step showing the console's iPXE failure line, a re-run
// does not launch a second helper, and abort terminates it and leaves
// everything as before.
func TestSetupHelperBootFailure(t *testing.T) {
	w := newSetupWorld(t)
	ctx := context.Background()
	name := w.workload()
	before := w.inventory(name)
	failure := outposts.IPXEFailureMarker + " sanboot iscsi:192.168.50.20::3260:7:iqn.2010-06.com.purestorage:flasharray.5f3c2a1b9d7e4c60 failed: Connection timed out"
	ec := &bootFails{SetupEC2: w.clients.EC2, proxy: w.proxy, console: "iPXE 1.21.1 -- Open Source Network Boot Firmware\r\nnet1: link up\r\n" + failure + "\r\n"}

	var out strings.Builder
	o := w.options(name, &out)
	o.Clients.EC2 = ec
	_, err := wizard.Setup(ctx, o)
	var he *outposts.HelperError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.FailureLine, "Connection timed out")
	assert.Contains(t, out.String(), "6/8 helper failed")
	assert.Contains(t, out.String(), "boot failure: "+outposts.IPXEFailureMarker, "the progress shows the console's failure line")
	require.Len(t, ec.ids, 1)

	j, err := (&record.Store{SSM: w.ssm, Workload: name}).GetJournal(ctx)
	require.NoError(t, err)
	h := j.Step(wizard.StepHelper)
	assert.Equal(t, record.StepFailed, h.State)
	require.Len(t, h.Resources, 1)
	assert.Equal(t, ec.ids[0], h.Resources[0].ID)
	assert.True(t, h.Resources[0].CreatedByUs, "the failed launch is journaled as setup's")

	o = w.options(name, &out)
	o.Clients.EC2 = ec
	_, err = wizard.Setup(ctx, o)
	require.ErrorAs(t, err, &he, "the re-run finds the same impaired helper")
	assert.Len(t, ec.ids, 1, "no second RunInstances")

	require.NoError(t, wizard.Abort(ctx, w.options(name, &out)))
	assert.Equal(t, before, w.inventory(name))
}

// cancelAfter cancels the run's context once its step is done, as Ctrl-C
// during that step would.
type cancelAfter struct {
	apply.Step
	cancel func()
}

func (c cancelAfter) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	res, err := c.Step.Do(ctx, env)
	c.cancel()
	return res, err
}

// TestSetupInterruptedResumes: Ctrl-C during the array step stops after it
// (journaled done, nothing later started); the next run resumes from the
// journal and completes without a second host or map.
func TestSetupInterruptedResumes(t *testing.T) {
	w := newSetupWorld(t)
	name := w.workload()
	before := w.inventory(name)
	var out strings.Builder
	o := w.options(name, &out)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wizard.SetStepWrapper(&o, func(s apply.Step) apply.Step {
		if s.Name() == wizard.StepArray {
			return cancelAfter{Step: s, cancel: cancel}
		}
		return s
	})
	_, err := wizard.Setup(ctx, o)
	require.ErrorIs(t, err, apply.ErrInterrupted)
	j, err := (&record.Store{SSM: w.ssm, Workload: name}).GetJournal(context.Background())
	require.NoError(t, err)
	assert.Equal(t, record.StepDone, j.Step(wizard.StepArray).State)
	assert.Equal(t, record.StepPending, j.Step(wizard.StepRender).State)

	var out2 strings.Builder
	res, err := wizard.Setup(context.Background(), w.options(name, &out2))
	require.NoError(t, err, out2.String())
	assert.Contains(t, out2.String(), "3/8 array done", out2.String())
	assert.Contains(t, out2.String(), "from an earlier run")
	w.checkSetUp(name, before, res)
	require.NoError(t, wizard.Abort(context.Background(), w.options(name, &out)))
	assert.Equal(t, before, w.inventory(name))
}

// BenchmarkSetupAgainstMoto: one unattended setup against moto + the proxy
// + the Pure model (its abort is not timed), with its AWS call count.
func BenchmarkSetupAgainstMoto(b *testing.B) {
	w := newSetupWorld(b)
	ctx := context.Background()
	calls := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := w.workload()
		var out strings.Builder
		o := w.options(name, &out)
		w.calls.take()
		b.StartTimer()
		_, err := wizard.Setup(ctx, o)
		b.StopTimer()
		require.NoError(b, err, out.String())
		_, n := w.calls.take()
		calls += n
		require.NoError(b, wizard.Abort(ctx, w.options(name, &out)))
	}
	b.ReportMetric(float64(calls)/float64(b.N), "aws-calls/op")
}

// TestSetupLeavesAStackItDidNotCreate: autorestart-<w> already existed (an
// earlier deploy by hand); setup updates it to name its helper, crashes
// before journaling that, resumes, and the abort leaves the stack (it can
// only undo what it created) while removing everything else it made.
func TestSetupLeavesAStackItDidNotCreate(t *testing.T) {
	w := newSetupWorld(t)
	ctx := context.Background()
	name := w.workload()
	deps := stack.Deps{CFN: w.clients.CFN, S3: w.clients.S3, STS: w.clients.STS,
		Wait: stack.Wait{MinDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, Timeout: 2 * time.Minute}}
	_, err := stack.Deploy(ctx, deps, stack.Config{Workload: name, Region: w.cfg.Region, NotificationEmail: "ops@example.com",
		InstanceProfileRole: w.profile, PrimaryOutpostID: w.opA, SecondaryOutpostID: w.opB, PrimaryInstanceID: "i-0123456789abcdef0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = stack.Delete(context.Background(), deps, name) })
	before := w.inventory(name)
	require.Len(t, before.Stacks, 1)

	var out strings.Builder
	o := w.options(name, &out)
	fired := false
	wizard.SetStepWrapper(&o, func(s apply.Step) apply.Step {
		if s.Name() == wizard.StepStack {
			return failAfter{Step: s, drop: true, fired: &fired}
		}
		return s
	})
	_, err = wizard.Setup(ctx, o)
	require.ErrorIs(t, err, errInjected)
	res, err := wizard.Setup(ctx, w.options(name, &out))
	require.NoError(t, err, out.String())
	assert.Equal(t, res.Output(wizard.StepHelper, "instance-id"), res.Output(wizard.StepStack, "primary-instance-id"))
	j, err := (&record.Store{SSM: w.ssm, Workload: name}).GetJournal(ctx)
	require.NoError(t, err)
	for _, x := range j.Step(wizard.StepStack).Resources {
		assert.False(t, x.CreatedByUs, "%s %s existed before setup", x.Type, x.ID)
	}

	require.NoError(t, wizard.Abort(ctx, w.options(name, &out)))
	after := w.inventory(name)
	require.Len(t, after.Stacks, 1, "the stack that existed is left")
	after.Stacks, before.Stacks = nil, nil // it was updated: its status differs
	assert.Equal(t, before, after, "everything else setup made is gone")
}

// TestSetupAbortWithoutTheArray: an abort given no array client (setup
// --abort W without the answers file) undoes everything down to the array
// step, stops there naming what it needs, and a second abort with the array
// finishes: exactly as before.
func TestSetupAbortWithoutTheArray(t *testing.T) {
	w := newSetupWorld(t)
	ctx := context.Background()
	name := w.workload()
	before := w.inventory(name)
	var out strings.Builder
	_, err := wizard.Setup(ctx, w.options(name, &out))
	require.NoError(t, err, out.String())

	o := w.options(name, &out)
	o.Array = nil
	err = wizard.Abort(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "answers file")
	mid := w.inventory(name)
	assert.Len(t, mid.Conns, len(before.Conns)+2, "the maps are still there")
	assert.Empty(t, mid.Templates, "the steps after the array step were undone")

	require.NoError(t, wizard.Abort(ctx, w.options(name, &out)))
	assert.Equal(t, before, w.inventory(name))
}
