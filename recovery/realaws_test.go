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
