// Unit tests, with fakes (no moto), of the requests real AWS would refuse
// although moto takes them (issue 8 §1): SNS message attribute names and the
// Subject length, the recovery launch's tag specifications, and SSM's
// TooManyUpdates. The fakes record the exact request the engine sends.
package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// capSNS records every Publish.
type capSNS struct {
	SNS
	mu   sync.Mutex
	pubs []*sns.PublishInput
}

func (c *capSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pubs = append(c.pubs, in)
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

func unitEngine(t *testing.T, d Deps) *Engine {
	t.Helper()
	if d.Config.Workload == "" {
		d.Config = DefaultConfig("web01")
		d.Config.TopicARN = "arn:aws:sns:us-west-2:123456789012:oha-web01"
	}
	if d.Clock == nil {
		d.Clock = NewFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	}
	d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := New(d)
	require.NoError(t, err)
	return e
}

type nilEC2 struct{ EC2 }
type nilCW struct{ CloudWatch }
type nilSSM struct{ SSM }
type nilSNS struct{ SNS }

// SNS: attribute names only [A-Za-z0-9_.-], and none at all with
// MessageStructure=json (they would not be delivered); Subject shorter than
// 100 characters. Fails on the code that sent outposts-ha:source.
func TestPublishIsValidForRealSNS(t *testing.T) {
	fake := &capSNS{}
	e := unitEngine(t, Deps{EC2: nilEC2{}, SSM: nilSSM{}, SNS: fake, CloudWatch: nilCW{}})
	n := Notification{Kind: KindFailedOver, Summary: "failed over to i-0123456789abcdef0; degraded until failback " + strings.Repeat("x", 200),
		Timeline: Timeline{Policy: PolicyConfirmed, Outcome: OutcomeLaunched}}
	require.NoError(t, e.notify(context.Background(), n))
	require.Len(t, fake.pubs, 1)
	in := fake.pubs[0]
	nameRE := regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	for name := range in.MessageAttributes {
		assert.Regexp(t, nameRE, name, "SNS attribute names allow only A-Z a-z 0-9 _ - .")
	}
	assert.Equal(t, "json", aws.ToString(in.MessageStructure))
	assert.Empty(t, in.MessageAttributes, "SNS does not deliver attributes with MessageStructure=json; own messages are recognised by body")
	assert.Less(t, len(aws.ToString(in.Subject)), 100)

	var bodies map[string]string
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(in.Message)), &bodies))
	for _, proto := range []string{"default", "email", "lambda", "sqs"} {
		require.Contains(t, bodies, proto)
		assert.True(t, IsNotification(bodies[proto]), "%s body must be recognisable as ours", proto)
		_, err := ParseAlarm([]byte(bodies[proto]))
		assert.ErrorIs(t, err, ErrNotAlarm, proto)
	}
}

// The Subject limit at its boundary: 99 characters pass unchanged, 100 are
// clipped to 99. Fails on the code that clipped to 100.
func TestSubjectBoundary(t *testing.T) {
	prefix := "outposts-ha web01: "
	at99 := strings.Repeat("s", 99-len(prefix))
	assert.Equal(t, prefix+at99, subject("web01", at99))
	assert.Len(t, subject("web01", at99), 99)
	got := subject("web01", at99+"t")
	assert.Len(t, got, 99, "100 characters are one too many")
	assert.True(t, strings.HasSuffix(got, "..."))
	assert.Len(t, subject("web01", strings.Repeat("é", 120)), 99, "non-ASCII is replaced, then clipped")
}

// The recovery launch tags only what it creates: the instance and the
// template's network interfaces, never volumes. Fails on the code that
// tagged volume.
func TestRecoveryLaunchTagsOnlyWhatItCreates(t *testing.T) {
	e := unitEngine(t, Deps{EC2: nilEC2{}, SSM: nilSSM{}, SNS: nilSNS{}, CloudWatch: nilCW{}})
	for _, dry := range []bool{false, true} {
		in := e.runInput("tok", clientToken("tok", 0), dry)
		var types []ec2types.ResourceType
		for _, ts := range in.TagSpecifications {
			types = append(types, ts.ResourceType)
			assert.NotEmpty(t, ts.Tags)
		}
		assert.Equal(t, []ec2types.ResourceType{ec2types.ResourceTypeInstance, ec2types.ResourceTypeNetworkInterface}, types)
	}
}

// busySSM answers the first `busy` PutParameter calls with TooManyUpdates
// (as SSM does while another write to the parameter is in progress), then
// stores the value; GetParameter reads it back.
type busySSM struct {
	mu    sync.Mutex
	busy  int
	calls int
	value *string
	ver   int64
}

func (b *busySSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.calls <= b.busy {
		return nil, &smithy.GenericAPIError{Code: "TooManyUpdates", Message: "There are concurrent updates for a resource that supports one update at a time."}
	}
	if b.value != nil && !aws.ToBool(in.Overwrite) {
		return nil, &smithy.GenericAPIError{Code: "ParameterAlreadyExists", Message: "The parameter already exists."}
	}
	b.value, b.ver = in.Value, b.ver+1
	return &ssm.PutParameterOutput{Version: b.ver}, nil
}

func (b *busySSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.value == nil {
		return nil, &ssmtypes.ParameterNotFound{Message: aws.String("not found")}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: b.value, Version: b.ver}}, nil
}

// TooManyUpdates is retried with bounded, jittered backoff (virtual clock);
// a create still refused after the retries is a lost compare-and-swap, not an
// error. Fails on the code that returned the first TooManyUpdates.
func TestTooManyUpdatesIsRetried(t *testing.T) {
	t.Run("retried then written", func(t *testing.T) {
		clk := NewFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
		fake := &busySSM{busy: 3}
		e := unitEngine(t, Deps{EC2: nilEC2{}, SSM: fake, SNS: nilSNS{}, CloudWatch: nilCW{}, Clock: clk})
		created, err := e.putLock(context.Background(), Lock{Token: "t", State: LockLaunching}, false)
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, 4, fake.calls)
		// Three waits of [50,100), [100,200), [200,400) ms.
		assert.GreaterOrEqual(t, clk.Slept(), 350*time.Millisecond)
		assert.Less(t, clk.Slept(), 700*time.Millisecond)
	})
	t.Run("bounded: a lost create", func(t *testing.T) {
		clk := NewFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
		fake := &busySSM{busy: 1000}
		e := unitEngine(t, Deps{EC2: nilEC2{}, SSM: fake, SNS: nilSNS{}, CloudWatch: nilCW{}, Clock: clk})
		created, err := e.putLock(context.Background(), Lock{Token: "t", State: LockLaunching}, false)
		require.NoError(t, err, "a create refused by concurrent writes lost the race; it is not a failure")
		assert.False(t, created)
		assert.Equal(t, maxUpdateTries, fake.calls)
		assert.Less(t, clk.Slept(), 2*time.Second)
	})
	t.Run("bounded: a timeline write fails", func(t *testing.T) {
		fake := &busySSM{busy: 1000}
		e := unitEngine(t, Deps{EC2: nilEC2{}, SSM: fake, SNS: nilSNS{}, CloudWatch: nilCW{}})
		err := e.writeTimeline(context.Background(), &Timeline{Workload: "web01"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "TooManyUpdates")
		assert.Equal(t, maxUpdateTries, fake.calls)
	})
	t.Run("lost swap", func(t *testing.T) {
		fake := &busySSM{}
		e := unitEngine(t, Deps{EC2: nilEC2{}, SSM: fake, SNS: nilSNS{}, CloudWatch: nilCW{}})
		_, err := e.putLock(context.Background(), Lock{Token: "t", State: LockFailed}, false)
		require.NoError(t, err)
		fake.busy = fake.calls + 1000
		next := Lock{Token: "t", State: LockLaunched}
		won, err := e.claim(context.Background(), &next, Lock{Token: "t", State: LockFailed}, 1)
		require.NoError(t, err)
		assert.False(t, won)
	})
}

// healthOf is a fake OutpostHealth: fixed samples, or an error.
type healthOf struct {
	samples []Sample
	err     error
}

func (h healthOf) ConnectedStatus(context.Context, string, time.Time, time.Time) ([]Sample, error) {
	return h.samples, h.err
}

// The connectivity read before a stop (fake OutpostHealth): only a newest
// sample of 1 is connected; 0, no data and a read error are not; without an
// Outpost ID nothing is known and the stop is sent as before.
func TestPrimaryReach(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 30, 0, time.UTC)
	at := func(min int) time.Time { return now.Truncate(time.Minute).Add(time.Duration(min) * time.Minute) }
	for _, tc := range []struct {
		name      string
		outpost   string
		h         healthOf
		connected bool
		detail    string
	}{
		{"no outpost id", "", healthOf{}, true, "not checked"},
		{"connected now", "op-1", healthOf{samples: []Sample{{at(-2), 0}, {at(-1), 1}}}, true, "connected (ConnectedStatus 1"},
		{"disconnected now", "op-1", healthOf{samples: []Sample{{at(-1), 0}, {at(-2), 1}}}, false, "disconnected (ConnectedStatus 0"},
		{"no data", "op-1", healthOf{}, false, "no ConnectedStatus data"},
		{"read error", "op-1", healthOf{err: errors.New("AccessDenied")}, false, "connectivity unknown (AccessDenied)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewFakeClock(now)
			cfg := DefaultConfig("web01")
			cfg.TopicARN, cfg.PrimaryOutpostID = "arn:aws:sns:us-west-2:123456789012:oha-web01", tc.outpost
			e := unitEngine(t, Deps{Config: cfg, EC2: nilEC2{}, SSM: nilSSM{}, SNS: nilSNS{}, CloudWatch: nilCW{}, Health: tc.h, Clock: clk})
			rc := e.primaryReach(context.Background())
			assert.Equal(t, tc.connected, rc.connected)
			assert.Contains(t, rc.detail, tc.detail)
		})
	}
}

// fakeEC2 answers the calls retire makes: instance states, status checks,
// CreateTags and TerminateInstances (which may be refused).
type fakeEC2 struct {
	EC2
	states       map[string]string
	checksOK     bool
	terminateErr error
	terminated   []string
	tagged       []string
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	out := &ec2.DescribeInstancesOutput{}
	for _, id := range in.InstanceIds {
		if st, ok := f.states[id]; ok {
			out.Reservations = append(out.Reservations, ec2types.Reservation{Instances: []ec2types.Instance{{
				InstanceId: aws.String(id), State: &ec2types.InstanceState{Name: ec2types.InstanceStateName(st)},
			}}})
		}
	}
	return out, nil
}

func (f *fakeEC2) DescribeInstanceStatus(_ context.Context, in *ec2.DescribeInstanceStatusInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	st := ec2types.SummaryStatusInitializing
	if f.checksOK {
		st = ec2types.SummaryStatusOk
	}
	out := &ec2.DescribeInstanceStatusOutput{}
	for _, id := range in.InstanceIds {
		out.InstanceStatuses = append(out.InstanceStatuses, ec2types.InstanceStatus{InstanceId: aws.String(id),
			InstanceStatus: &ec2types.InstanceStatusSummary{Status: st}, SystemStatus: &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusOk}})
	}
	return out, nil
}

func (f *fakeEC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.tagged = append(f.tagged, in.Resources...)
	return &ec2.CreateTagsOutput{}, nil
}

func (f *fakeEC2) TerminateInstances(_ context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	if f.terminateErr != nil {
		return nil, f.terminateErr
	}
	f.terminated = append(f.terminated, in.InstanceIds...)
	return &ec2.TerminateInstancesOutput{TerminatingInstances: []ec2types.InstanceStateChange{{
		InstanceId: aws.String(in.InstanceIds[0]), CurrentState: &ec2types.InstanceState{Name: ec2types.InstanceStateNameShuttingDown},
	}}}, nil
}

// retire's cases with fakes (EC2, SSM) and a virtual clock: terminated only
// once the recovery instance passes its checks; otherwise pending, with the
// reason (and a refused terminate's error) in the detail, the lock saying
// pending, and ErrRetirePending returned; a primary already gone is done.
func TestRetireCases(t *testing.T) {
	for _, tc := range []struct {
		name       string
		primary    string // state, "" = unknown to EC2
		running    bool
		checksOK   bool
		refuse     error
		want       string
		terminated bool
	}{
		{"checks pass", "stopped", true, true, nil, RetireDone, true},
		{"checks never pass", "stopped", true, false, nil, RetirePending, false},
		{"not running yet", "stopped", false, true, nil, RetirePending, false},
		{"terminate refused", "stopped", true, true, errors.New("UnauthorizedOperation: not allowed"), RetirePending, false},
		{"already terminated", "terminated", true, true, nil, RetireDone, false},
		{"unknown to EC2", "", true, true, nil, RetireDone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			states := map[string]string{"i-rec": "running"}
			if tc.primary != "" {
				states["i-old"] = tc.primary
			}
			fe := &fakeEC2{states: states, checksOK: tc.checksOK, terminateErr: tc.refuse}
			clk := NewFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
			e := unitEngine(t, Deps{EC2: fe, SSM: &busySSM{}, SNS: nilSNS{}, CloudWatch: nilCW{}, Clock: clk})
			r := &run{primary: instance{id: "i-old", state: tc.primary}, tl: Timeline{Workload: "web01"}}
			l := Lock{Token: "t", State: LockLaunched, Instance: "i-rec", Primary: "i-old", Retire: RetirePending}
			detail, err := e.retire(context.Background(), r, &l, tc.running)
			assert.Equal(t, tc.want, l.Retire)
			stored, rerr := ReadLock(context.Background(), e.ssm, "web01")
			require.NoError(t, rerr)
			assert.Equal(t, tc.want, stored.Retire, "the lock records it")
			if tc.terminated {
				require.NoError(t, err)
				assert.Equal(t, []string{"i-old"}, fe.terminated)
				assert.Equal(t, []string{"i-old"}, fe.tagged, "tagged fenced before the terminate")
				assert.Contains(t, detail, "terminated the old primary i-old")
			} else {
				assert.Empty(t, fe.terminated)
			}
			if tc.want == RetirePending {
				require.ErrorIs(t, err, ErrRetirePending)
				assert.Contains(t, detail, "not terminated yet")
				if tc.refuse != nil {
					assert.Contains(t, detail, "UnauthorizedOperation")
				}
				if tc.running && !tc.checksOK {
					assert.Equal(t, e.cfg.RetireTimeout, clk.Slept(), "waited RetireTimeout (virtual) for the checks")
				}
			}
			require.NotEmpty(t, r.tl.Events)
			assert.Equal(t, "terminate", r.tl.Events[len(r.tl.Events)-1].Step)
		})
	}
}

// capCW records SetAlarmState calls.
type capCW struct {
	CloudWatch
	set []string
}

func (c *capCW) SetAlarmState(_ context.Context, in *cloudwatch.SetAlarmStateInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error) {
	c.set = append(c.set, aws.ToString(in.AlarmName)+"="+string(in.StateValue))
	return &cloudwatch.SetAlarmStateOutput{}, nil
}

// Re-arm (fake CloudWatch): only alarms still in ALARM are set to OK, and the
// run's reason says so.
func TestRearmSetsOnlyAlarmsInAlarm(t *testing.T) {
	cw := &capCW{}
	e := unitEngine(t, Deps{EC2: nilEC2{}, SSM: nilSSM{}, SNS: nilSNS{}, CloudWatch: cw})
	r := &run{}
	err := e.rearm(context.Background(), r, map[string]cwtypes.MetricAlarm{
		"oha-web01-status":    {StateValue: cwtypes.StateValueAlarm},
		"oha-web01-connected": {StateValue: cwtypes.StateValueOk},
	}, "primary recovered")
	require.NoError(t, err)
	assert.Equal(t, []string{"oha-web01-status=OK"}, cw.set)
	assert.Contains(t, r.res.Reason, "re-armed oha-web01-status")
}
