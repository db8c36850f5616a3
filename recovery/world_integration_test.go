//go:build integration

// Integration tests: the real AWS SDK against moto (scripts/with-moto.sh). Each
// test builds its own "world" in moto under a unique workload name: a VPC with
// a primary and a secondary subnet, the recovery launch template, a tagged
// primary instance, the status alarm, the SNS topic with an SQS subscription
// that reads notifications back. Small decorators around the real EC2 client
// stand in only for what no emulator can do: fail status checks, hang in
// "stopping", or refuse one RunInstances.
//
// Moto findings (checked with these tests and a boto3 probe, moto 5.2.5):
//   - RunInstances ignores ClientToken (two calls with one token give two
//     instances), so exactly-once rests on the SSM lock and the tag check;
//   - DescribeAlarms returns the alarm's dimensions; SetAlarmState does not run
//     alarm actions, so alarm notifications are built in the documented shape;
//   - StopInstances reports "stopping" and the instance is "stopped" at once;
//     running instances always pass status checks;
//   - DryRun is honoured for RunInstances and StopInstances;
//   - the SDK's CloudWatch client speaks RPCv2 CBOR, which moto does not
//     serve: the tests switch it to awsQuery (awsxtest.CloudWatchQuery);
//   - GetParameter accepts name:version, PutMetricData accepts AWS/Outposts,
//     and SNS delivers to SQS synchronously within Publish.
package recovery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// clients is one set of SDK clients.
type clients struct {
	ec2 *ec2.Client
	ssm *ssm.Client
	sns *sns.Client
	sqs *sqs.Client
	cw  *cloudwatch.Client
}

func newClients(cfg aws.Config) clients {
	return clients{ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg), sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg),
		cloudwatch.NewFromConfig(cfg, awsxtest.CloudWatchQuery)}
}

type world struct {
	admin            clients // builds the world and checks it; not counted
	eng              clients // what the engine uses; every call is counted
	calls            *awsxtest.Calls
	workload         string
	primary          string
	secondary        string // secondary subnet
	templateID       string
	topic            string
	queue            string
	outpost          string
	secondaryOutpost string
	emailSub         string // ARN of the operator's email subscription
	dlq              string // URL of the function's dead-letter queue
	lniSubnet        string // the recovery template's LNI subnet (device index 1)
}

var (
	imageOnce sync.Once
	imageID   string
	imageErr  error
)

func newWorld(t testing.TB) *world {
	t.Helper()
	testenv.NeedEmulator(t)
	ctx := context.Background()
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	w := &world{calls: &awsxtest.Calls{}, workload: "it" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10]}
	w.outpost = "op-" + w.workload
	w.admin = newClients(cfg)
	engCfg := cfg.Copy()
	w.calls.Instrument(&engCfg)
	w.eng = newClients(engCfg)
	a := w.admin

	imageOnce.Do(func() {
		out, err := a.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
		if err == nil && len(out.Images) == 0 {
			err = fmt.Errorf("moto lists no images")
		}
		if err == nil {
			imageID = aws.ToString(out.Images[0].ImageId)
		}
		imageErr = err
	})
	require.NoError(t, imageErr)

	vpc, err := a.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	require.NoError(t, err)
	subnet := func(cidr string) string {
		out, err := a.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String(cidr)})
		require.NoError(t, err)
		return aws.ToString(out.Subnet.SubnetId)
	}
	primarySubnet, secondary := subnet("10.20.1.0/24"), subnet("10.20.2.0/24")
	w.secondary = secondary

	sg, err := a.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("oha-" + w.workload), Description: aws.String("integration test"), VpcId: vpc.Vpc.VpcId,
	})
	require.NoError(t, err)
	// The recovery template as setup writes it (two interfaces, index 1 the
	// LNI, instance profile, tags). Moto stores all of it but launches into a
	// default subnet, ignoring the template's interfaces and profile.
	lt, err := outposts.NewLaunchTemplate(outposts.TemplateInput{
		Workload: w.workload, Role: naming.RoleRecovery, SubnetID: secondary, ImageID: imageID, InstanceType: "t3.micro",
		SecurityGroup: aws.ToString(sg.GroupId), InstanceProfile: "oha-" + w.workload + "-instance", UserData: []byte("#!ipxe\n"),
	})
	require.NoError(t, err)
	created, err := a.ec2.CreateLaunchTemplate(ctx, lt.CreateInput())
	require.NoError(t, err)
	w.templateID = aws.ToString(created.LaunchTemplate.LaunchTemplateId)

	run, err := a.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT3Micro, SubnetId: aws.String(primarySubnet),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String(naming.TagWorkload), Value: aws.String(w.workload)},
			{Key: aws.String(naming.TagRole), Value: aws.String(naming.RolePrimary)},
		}}},
	})
	require.NoError(t, err)
	w.primary = aws.ToString(run.Instances[0].InstanceId)

	topic, err := a.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("oha-" + w.workload)})
	require.NoError(t, err)
	w.topic = aws.ToString(topic.TopicArn)
	q, err := a.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("oha-" + w.workload + "-mail")})
	require.NoError(t, err)
	w.queue = aws.ToString(q.QueueUrl)
	qa, err := a.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	_, err = a.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"])})
	require.NoError(t, err)
	// The operator's email subscription; moto confirms it at once.
	mail, err := a.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com")})
	require.NoError(t, err)
	w.emailSub = aws.ToString(mail.SubscriptionArn)

	dlq, err := a.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("oha-" + w.workload + "-dlq")})
	require.NoError(t, err)
	w.dlq = aws.ToString(dlq.QueueUrl)
	w.lniSubnet = secondary
	w.secondaryOutpost = "op-2" + w.workload

	w.putAlarm(t, "breaching")
	// A deployed stack's alarm reads OK once its metric arrives; a new
	// alarm is INSUFFICIENT_DATA (which the dry-run drill refuses).
	w.setAlarm(t, cwtypes.StateValueOk)
	return w
}

// lniSubnets reports EnableLniAtDeviceIndex for subnets, which moto 5.2.5
// neither stores nor returns: a fake on DescribeSubnets only (everything else
// is moto). index 1 is what setup configures.
type lniSubnets struct {
	recovery.EC2
	index int32
}

func (d lniSubnets) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, o ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	out, err := d.EC2.DescribeSubnets(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for i := range out.Subnets {
		out.Subnets[i].EnableLniAtDeviceIndex = aws.Int32(d.index)
	}
	return out, nil
}

func (w *world) statusAlarm() string { return "oha-" + w.workload + "-status" }

func (w *world) putAlarm(t testing.TB, treatMissing string) {
	t.Helper()
	_, err := w.admin.cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(w.statusAlarm()), Namespace: aws.String("AWS/EC2"), MetricName: aws.String("StatusCheckFailed_Instance"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(w.primary)}},
		Statistic:  cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(3),
		Threshold: aws.Float64(0), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String(treatMissing), AlarmActions: []string{w.topic},
	})
	require.NoError(t, err)
}

// putConnectedAlarm creates the ConnectedStatus alarm in ALARM and returns its name.
func (w *world) putConnectedAlarm(t testing.TB) string {
	t.Helper()
	name := "oha-" + w.workload + "-connected"
	_, err := w.admin.cw.PutMetricAlarm(context.Background(), &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(name), Namespace: aws.String("AWS/Outposts"), MetricName: aws.String("ConnectedStatus"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("OutpostId"), Value: aws.String(w.outpost)}},
		Statistic:  cwtypes.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(3),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold,
		TreatMissingData: aws.String("breaching"), AlarmActions: []string{w.topic},
	})
	require.NoError(t, err)
	_, err = w.admin.cw.SetAlarmState(context.Background(), &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: cwtypes.StateValueAlarm, StateReason: aws.String("integration test"),
	})
	require.NoError(t, err)
	return name
}

// setAlarm puts the status alarm into a state, as CloudWatch would.
func (w *world) setAlarm(t testing.TB, state cwtypes.StateValue) {
	t.Helper()
	_, err := w.admin.cw.SetAlarmState(context.Background(), &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(w.statusAlarm()), StateValue: state, StateReason: aws.String("integration test"),
	})
	require.NoError(t, err)
}

// alarmEvent is the SNS message body CloudWatch sends for the status alarm,
// parsed by the same code the function uses.
func (w *world) alarmEvent(t testing.TB, newState string, at time.Time) recovery.AlarmEvent {
	t.Helper()
	body := fmt.Sprintf(`{"AlarmName":%q,"AlarmDescription":null,"AWSAccountId":"123456789012","NewStateValue":%q,`+
		`"NewStateReason":"Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (0.0).",`+
		`"StateChangeTime":%q,"Region":"US West (Oregon)","OldStateValue":"OK",`+
		`"Trigger":{"MetricName":"StatusCheckFailed_Instance","Namespace":"AWS/EC2","StatisticType":"Statistic","Statistic":"MAXIMUM",`+
		`"Dimensions":[{"value":%q,"name":"InstanceId"}],"Period":60,"EvaluationPeriods":3,"ComparisonOperator":"GreaterThanThreshold",`+
		`"Threshold":0.0,"TreatMissingData":"breaching"}}`,
		w.statusAlarm(), newState, at.UTC().Format("2006-01-02T15:04:05.000-0700"), w.primary)
	ev, err := recovery.ParseAlarm([]byte(body))
	require.NoError(t, err)
	return ev
}

// options tune a test's engine.
type options struct {
	policy recovery.Policy
	ec2    func(recovery.EC2) recovery.EC2
	ssm    func(recovery.SSM) recovery.SSM
	sns    func(recovery.SNS) recovery.SNS
	cfg    func(*recovery.Config)
	health recovery.OutpostHealth
	now    func() time.Time
	// clock, when set, is the engine's virtual clock (waits and deadlines).
	clock   *recovery.FakeClock
	newID   func() string
	outpost bool
	// connectedAlarm is the name of the ConnectedStatus alarm, if deployed.
	connectedAlarm string
}

func (w *world) engine(t testing.TB, o options) *recovery.Engine {
	t.Helper()
	if o.policy == "" {
		o.policy = recovery.PolicyConfirmed
	}
	var e2 recovery.EC2 = lniSubnets{EC2: w.eng.ec2, index: 1}
	if o.ec2 != nil {
		e2 = o.ec2(e2)
	}
	var s2 recovery.SSM = w.eng.ssm
	if o.ssm != nil {
		s2 = o.ssm(s2)
	}
	var n2 recovery.SNS = w.eng.sns
	if o.sns != nil {
		n2 = o.sns(n2)
	}
	cfg := recovery.DefaultConfig(w.workload)
	cfg.Policy = o.policy
	cfg.TopicARN = w.topic
	cfg.FenceTimeout, cfg.FencePoll = 200*time.Millisecond, time.Millisecond
	cfg.LaunchTimeout, cfg.LaunchPoll = 5*time.Second, time.Millisecond
	cfg.RetireTimeout = 5 * time.Second
	cfg.DLQURL = w.dlq
	cfg.LockLease, cfg.LockPoll = 30*time.Second, 5*time.Millisecond
	if o.outpost {
		cfg.PrimaryOutpostID = w.outpost
	}
	cfg.ConnectedAlarm = o.connectedAlarm
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	d := recovery.Deps{
		Config: cfg, EC2: e2, SSM: s2, SNS: n2, CloudWatch: w.eng.cw, SQS: w.eng.sqs, Health: o.health, Now: o.now, NewID: o.newID,
	}
	if o.clock != nil {
		d.Clock = o.clock
	}
	e, err := recovery.New(d)
	require.NoError(t, err)
	return e
}

// failingPrimary makes the primary fail its status checks, which no emulator
// can do; everything else goes to moto.
func failingPrimary(w *world) func(recovery.EC2) recovery.EC2 {
	return func(next recovery.EC2) recovery.EC2 { return &impaired{EC2: next, id: w.primary} }
}

type impaired struct {
	recovery.EC2
	id string
}

func (d *impaired) DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, o ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	out, err := d.EC2.DescribeInstanceStatus(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for i, s := range out.InstanceStatuses {
		if aws.ToString(s.InstanceId) == d.id {
			out.InstanceStatuses[i].InstanceStatus = &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusImpaired}
		}
	}
	return out, nil
}

// stuckStopping also reports the primary as "stopping" however often it is
// read: a server that lost power or its service link never confirms the stop.
type stuckStopping struct {
	impaired
}

func stuck(w *world) func(recovery.EC2) recovery.EC2 {
	return func(next recovery.EC2) recovery.EC2 { return &stuckStopping{impaired{EC2: next, id: w.primary}} }
}

func (d *stuckStopping) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	out, err := d.EC2.DescribeInstances(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for _, r := range out.Reservations {
		for i, inst := range r.Instances {
			if aws.ToString(inst.InstanceId) == d.id {
				r.Instances[i].State = &ec2types.InstanceState{Name: ec2types.InstanceStateNameStopping, Code: aws.Int32(64)}
			}
		}
	}
	return out, nil
}

// failFirstRun refuses the first RunInstances with a capacity error and
// records every ClientToken it sees.
type failFirstRun struct {
	impaired
	n      atomic.Int32
	mu     sync.Mutex
	tokens []string
}

func (d *failFirstRun) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, o ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	if !aws.ToBool(in.DryRun) {
		d.mu.Lock()
		d.tokens = append(d.tokens, aws.ToString(in.ClientToken))
		d.mu.Unlock()
		if d.n.Add(1) == 1 {
			return nil, &smithy.GenericAPIError{Code: "InsufficientInstanceCapacity", Message: "There is not enough capacity on the Outpost to fulfill your request."}
		}
	}
	return d.EC2.RunInstances(ctx, in, o...)
}

// recoveryInstances lists the workload's recovery instances that are not terminated.
func (w *world) recoveryInstances(t testing.TB) []ec2types.Instance {
	t.Helper()
	out, err := w.admin.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + naming.TagWorkload), Values: []string{w.workload}},
		{Name: aws.String("tag:" + naming.TagRole), Values: []string{naming.RoleRecovery}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	require.NoError(t, err)
	var list []ec2types.Instance
	for _, r := range out.Reservations {
		list = append(list, r.Instances...)
	}
	return list
}

func (w *world) alarmState(t testing.TB) cwtypes.StateValue {
	t.Helper()
	out, err := w.admin.cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{w.statusAlarm()}})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 1)
	return out.MetricAlarms[0].StateValue
}

func (w *world) primaryTags(t testing.TB) map[string]string {
	t.Helper()
	out, err := w.admin.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{w.primary}})
	require.NoError(t, err)
	m := map[string]string{}
	for _, tg := range out.Reservations[0].Instances[0].Tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func (w *world) primaryState(t testing.TB) string {
	t.Helper()
	out, err := w.admin.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{w.primary}})
	require.NoError(t, err)
	return string(out.Reservations[0].Instances[0].State.Name)
}

// notifications drains the subscribed queue. Moto delivers SNS to SQS within
// Publish, so everything the engine published is there when it returns.
func (w *world) notifications(t testing.TB) []recovery.Notification {
	t.Helper()
	var list []recovery.Notification
	for range 20 {
		out, err := w.admin.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(w.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 0,
		})
		require.NoError(t, err)
		if len(out.Messages) == 0 {
			return list
		}
		for _, m := range out.Messages {
			var env struct {
				Message string
				Subject string
			}
			require.NoError(t, json.Unmarshal([]byte(aws.ToString(m.Body)), &env))
			require.True(t, recovery.IsNotification(env.Message), "own notification must be recognisable: %s", env.Message)
			var n recovery.Notification
			require.NoError(t, json.Unmarshal([]byte(env.Message), &n))
			require.Less(t, len(env.Subject), 100)
			list = append(list, n)
			_, err := w.admin.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(w.queue), ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
	}
	t.Fatal("notification queue did not drain")
	return nil
}

func (w *world) putParam(t testing.TB, name, value string) {
	t.Helper()
	_, err := w.admin.ssm.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
	})
	require.NoError(t, err)
}

// putConnected publishes AWS/Outposts ConnectedStatus samples into moto, one
// per minute, for the minutes starting at from.
func (w *world) putConnected(t testing.TB, from time.Time, values ...float64) {
	t.Helper()
	var data []cwtypes.MetricDatum
	for i, v := range values {
		data = append(data, cwtypes.MetricDatum{
			MetricName: aws.String("ConnectedStatus"), Value: aws.Float64(v),
			Timestamp:  aws.Time(from.Add(time.Duration(i)*time.Minute + 20*time.Second)),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("OutpostId"), Value: aws.String(w.outpost)}},
		})
	}
	_, err := w.admin.cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/Outposts"), MetricData: data})
	require.NoError(t, err)
}
