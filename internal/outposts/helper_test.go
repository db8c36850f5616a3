package outposts

// Unit tests of the helper launch on a scripted fake EC2 and a fake clock; no
// AWS, no real waiting.

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- now
	return ch
}

// fakeEC2 plays instance states and status checks from scripts.
type fakeEC2 struct {
	existing  []ec2types.Instance // what DescribeInstances filters find
	byToken   bool                // existing are found by the client-token filter
	states    []string            // state per DescribeInstances poll (last repeats)
	status    []string            // instance status per DescribeInstanceStatus (last repeats)
	console   string
	runs      []*ec2.RunInstancesInput
	polls     int
	statusN   int
	filterLog [][]ec2types.Filter
}

func (f *fakeEC2) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, _ ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	f.runs = append(f.runs, in)
	return &ec2.RunInstancesOutput{Instances: []ec2types.Instance{{InstanceId: aws.String("i-0123456789abcdef0")}}}, nil
}

func (f *fakeEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if len(in.Filters) > 0 {
		f.filterLog = append(f.filterLog, in.Filters)
		isToken := aws.ToString(in.Filters[0].Name) == "client-token"
		if len(f.existing) > 0 && isToken == f.byToken {
			return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: f.existing}}}, nil
		}
		return &ec2.DescribeInstancesOutput{}, nil
	}
	st := f.states[min(f.polls, len(f.states)-1)]
	f.polls++
	if st == "" {
		return &ec2.DescribeInstancesOutput{}, nil
	}
	i := ec2types.Instance{InstanceId: aws.String(in.InstanceIds[0]), State: &ec2types.InstanceState{Name: ec2types.InstanceStateName(st)}}
	if st == "terminated" {
		i.StateReason = &ec2types.StateReason{Message: aws.String("Client.InstanceInitiatedShutdown")}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{i}}}}, nil
}

func (f *fakeEC2) DescribeInstanceStatus(ctx context.Context, in *ec2.DescribeInstanceStatusInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstanceStatusOutput, error) {
	if len(f.status) == 0 {
		return &ec2.DescribeInstanceStatusOutput{}, nil
	}
	s := f.status[min(f.statusN, len(f.status)-1)]
	f.statusN++
	return &ec2.DescribeInstanceStatusOutput{InstanceStatuses: []ec2types.InstanceStatus{{
		InstanceId:     aws.String(in.InstanceIds[0]),
		InstanceStatus: &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatus(s)},
		SystemStatus:   &ec2types.InstanceStatusSummary{Status: ec2types.SummaryStatusOk},
	}}}, nil
}

func (f *fakeEC2) GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, _ ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error) {
	return &ec2.GetConsoleOutputOutput{InstanceId: in.InstanceId, Output: aws.String(base64.StdEncoding.EncodeToString([]byte(f.console)))}, nil
}

func input(clock Clock) HelperInput {
	return HelperInput{Workload: "web01", ClientToken: HelperClientToken("web01", "run-1"), Tags: map[string]string{"team": "ops"},
		Timeout: 10 * time.Minute, Poll: 15 * time.Second, Clock: clock}
}

func TestLaunchHelperLaunchesOnceAndWaitsForChecks(t *testing.T) {
	f := &fakeEC2{states: []string{"", "pending", "running"}, status: []string{"initializing", "initializing", "ok"}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	res, err := LaunchHelper(context.Background(), f, input(clock))
	require.NoError(t, err)
	assert.Equal(t, HelperResult{InstanceID: "i-0123456789abcdef0", State: "running"}, res)
	require.Len(t, f.runs, 1)
	in := f.runs[0]
	assert.Equal(t, "lt-web01-primary", aws.ToString(in.LaunchTemplate.LaunchTemplateName))
	assert.Equal(t, "oha-web01-run-1", aws.ToString(in.ClientToken))
	assert.Equal(t, "$Default", aws.ToString(in.LaunchTemplate.Version))
	assert.EqualValues(t, 1, aws.ToInt32(in.MinCount))
	assert.EqualValues(t, 1, aws.ToInt32(in.MaxCount))
	tags := map[string]string{}
	for _, tg := range in.TagSpecifications[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	assert.Equal(t, map[string]string{naming.TagWorkload: "web01", naming.TagRole: "primary", naming.TagManaged: "outposts-ha", "Name": "web01-primary", "team": "ops"}, tags)
	// Looked for an earlier helper first: by client token, then by tags.
	require.Len(t, f.filterLog, 2)
	assert.Equal(t, "client-token", aws.ToString(f.filterLog[0][0].Name))
	assert.Equal(t, "tag:"+naming.TagWorkload, aws.ToString(f.filterLog[1][0].Name))
	assert.Equal(t, time.Unix(0, 0).Add(4*15*time.Second), clock.Now(), "four polls waited, on the injected clock")
}

func TestLaunchHelperFindsAnEarlierLaunch(t *testing.T) {
	for _, byToken := range []bool{true, false} {
		f := &fakeEC2{byToken: byToken, existing: []ec2types.Instance{{InstanceId: aws.String("i-00000000000000001")}},
			states: []string{"running"}, status: []string{"ok"}}
		res, err := LaunchHelper(context.Background(), f, input(&fakeClock{}))
		require.NoError(t, err)
		by := map[bool]string{true: "client-token", false: "tags"}[byToken]
		assert.Equal(t, HelperResult{InstanceID: "i-00000000000000001", Found: true, FoundBy: by, State: "running"}, res)
		assert.Empty(t, f.runs, "resumed: no second RunInstances (found by token: %v)", byToken)
	}
}

// Setup journals the instance ID between the launch and the wait.
func TestStartThenWaitHelper(t *testing.T) {
	f := &fakeEC2{states: []string{"running"}, status: []string{"ok"}}
	in := input(&fakeClock{})
	res, err := StartHelper(context.Background(), f, in)
	require.NoError(t, err)
	assert.Equal(t, "i-0123456789abcdef0", res.InstanceID)
	assert.Zero(t, f.polls, "StartHelper does not wait")
	state, err := WaitHelper(context.Background(), f, res.InstanceID, in)
	require.NoError(t, err)
	assert.Equal(t, "running", state)
	assert.Len(t, f.runs, 1)
}

func TestLaunchHelperRefusesTwoLivePrimaries(t *testing.T) {
	f := &fakeEC2{existing: []ec2types.Instance{{InstanceId: aws.String("i-00000000000000001")}, {InstanceId: aws.String("i-00000000000000002")}}}
	_, err := LaunchHelper(context.Background(), f, input(&fakeClock{}))
	var p *Problem
	require.ErrorAs(t, err, &p)
	assert.Contains(t, p.What, "2 live primary instances: i-00000000000000001, i-00000000000000002")
	assert.Empty(t, f.runs)
}

const bootLog = "\x1b[0miPXE 1.21.1+ -- Open Source Network Boot Firmware\r\n" +
	"net1: 02:00:00:00:00:01 using virtio-net\r\n" +
	"Could not boot image: Connection refused (https://ipxe.org/0f0c6139)\r\n" +
	"OUTPOSTS-HA-SANBOOT-FAILED error 0f0c6139 target iqn.1992-08.com.netapp:sn.1\r\n" +
	"See https://ipxe.org/0f0c6139 and check the LUN map, initiator ACL and portals.\r\n\r\n"

func TestLaunchHelperShowsTheConsoleTailOnFailure(t *testing.T) {
	f := &fakeEC2{states: []string{"pending", "running"}, status: []string{"initializing", "impaired"}, console: bootLog}
	_, err := LaunchHelper(context.Background(), f, input(&fakeClock{}))
	var he *HelperError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "i-0123456789abcdef0", he.InstanceID)
	assert.Contains(t, he.Reason, "instance status check failed")
	assert.Equal(t, "OUTPOSTS-HA-SANBOOT-FAILED error 0f0c6139 target iqn.1992-08.com.netapp:sn.1", he.FailureLine)
	assert.NotContains(t, he.Console, "\r")
	assert.NotContains(t, he.Console, "\x1b")
	assert.Contains(t, err.Error(), "boot failure: OUTPOSTS-HA-SANBOOT-FAILED")
}

func TestLaunchHelperTerminatedInstance(t *testing.T) {
	f := &fakeEC2{states: []string{"pending", "terminated"}, console: "boot\n"}
	_, err := LaunchHelper(context.Background(), f, input(&fakeClock{}))
	var he *HelperError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Reason, "state terminated")
	assert.Contains(t, he.Reason, "Client.InstanceInitiatedShutdown")
}

func TestLaunchHelperTimesOutOnTheInjectedClock(t *testing.T) {
	f := &fakeEC2{states: []string{"running"}, status: []string{"initializing"}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	in := input(clock)
	_, err := LaunchHelper(context.Background(), f, in)
	var he *HelperError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, he.Reason, "after 10m0s")
	assert.Contains(t, err.Error(), "no console output yet")
	assert.Equal(t, 41, f.polls, "10 minutes of 15-second polls, then give up")
}

// A clock that never moves must not make the wait endless.
type frozenClock struct{}

func (frozenClock) Now() time.Time { return time.Unix(0, 0) }
func (frozenClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Unix(0, 0)
	return ch
}

func TestLaunchHelperWaitIsBoundedEvenWithAFrozenClock(t *testing.T) {
	f := &fakeEC2{states: []string{"pending"}}
	_, err := LaunchHelper(context.Background(), f, input(frozenClock{}))
	require.Error(t, err)
	assert.LessOrEqual(t, f.polls, 10*60/15+3)
}

func TestLaunchHelperRefusesBadTokens(t *testing.T) {
	for _, tok := range []string{"", strings.Repeat("x", 65), "has space", "é"} {
		in := input(&fakeClock{})
		in.ClientToken = tok
		_, err := LaunchHelper(context.Background(), &fakeEC2{}, in)
		require.Error(t, err, "%q", tok)
	}
}

func TestHelperClientToken(t *testing.T) {
	assert.Equal(t, "oha-web01-run-1", HelperClientToken("web01", "run-1"))
	// The longest workload name (32) keeps its name in the token.
	w32 := strings.Repeat("w", 32)
	long := HelperClientToken(w32, strings.Repeat("r", 40))
	assert.Len(t, long, len("oha-")+32+1+24)
	assert.True(t, strings.HasPrefix(long, "oha-"+w32+"-"))
	assert.Equal(t, long, HelperClientToken(w32, strings.Repeat("r", 40)), "stable")
	assert.NotEqual(t, long, HelperClientToken(w32, strings.Repeat("r", 39)+"s"))
	odd := HelperClientToken("web01", "run with spaces")
	assert.True(t, printableASCII(odd))
	assert.LessOrEqual(t, len(HelperClientToken(strings.Repeat("w", 63), "x")), MaxClientTokenLen)
}

func TestConsoleTail(t *testing.T) {
	tail, fail := ConsoleTail("a\nb\r\n\nc\nd\n", 2)
	assert.Equal(t, "c\nd", tail)
	assert.Empty(t, fail)
	// The failure line is found even when it scrolled out of the tail.
	_, fail = ConsoleTail("x OUTPOSTS-HA-SANBOOT-FAILED y\n1\n2\n3\n", 2)
	assert.Equal(t, "x OUTPOSTS-HA-SANBOOT-FAILED y", fail)
}

// FuzzHelperClientToken: for any valid workload and any run ID the token is
// 1 to 64 printable ASCII characters and stable.
func FuzzHelperClientToken(f *testing.F) {
	f.Add("web01", "run-1")
	f.Add(strings.Repeat("w", 32), strings.Repeat("é", 40))
	f.Add("a", "")
	f.Fuzz(func(t *testing.T, workload, runID string) {
		if naming.ValidateWorkload(workload) != nil {
			return
		}
		tok := HelperClientToken(workload, runID)
		assert.True(t, printableASCII(tok), "%q", tok)
		assert.LessOrEqual(t, len(tok), MaxClientTokenLen)
		assert.Equal(t, tok, HelperClientToken(workload, runID))
	})
}

// FuzzConsoleTail: no panic; at most n lines; no control characters but
// tab; the failure line, when found, carries the marker.
func FuzzConsoleTail(f *testing.F) {
	f.Add(bootLog, 3)
	f.Add("\x00\x1b[2J\r\n\n", 1)
	f.Fuzz(func(t *testing.T, out string, n int) {
		if n < 1 || n > 100 {
			return
		}
		tail, fail := ConsoleTail(out, n)
		if tail != "" {
			assert.LessOrEqual(t, len(strings.Split(tail, "\n")), n)
		}
		for _, r := range tail {
			assert.False(t, r < 0x20 && r != '\n' && r != '\t' || r == 0x7f, "control %U in tail", r)
		}
		if fail != "" {
			assert.Contains(t, fail, IPXEFailureMarker)
		}
	})
}
