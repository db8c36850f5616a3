package outposts

// The helper launch: the primary instance is launched from lt-<w>-primary, so
// the template is proven by the launch. Find-or-create: an instance already
// made by an earlier (interrupted) run is found by its client token and tags
// and waited for, never launched twice. The wait is bounded; on failure the
// tail of the console output is returned, where the iPXE script's failure
// line (sanboot.FailureMarker) names the cause.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// MaxClientTokenLen is RunInstances' limit: "Maximum 64 ASCII characters".
const MaxClientTokenLen = 64

// HelperClientToken derives the RunInstances client token of a setup run:
// "oha-<w>-<runID>" when that fits in 64 printable ASCII characters, else a
// prefix and a hash of the run ID. The same (workload, runID) always gives
// the same token, so a resumed run cannot launch a second instance.
func HelperClientToken(workload, runID string) string {
	t := "oha-" + workload + "-" + runID
	if len(t) <= MaxClientTokenLen && printableASCII(t) {
		return t
	}
	sum := sha256.Sum256([]byte(workload + "\x00" + runID))
	h := hex.EncodeToString(sum[:])[:24]
	prefix := "oha-" + workload
	if !printableASCII(prefix) || len(prefix) > MaxClientTokenLen-25 {
		prefix = "oha"
	}
	return prefix + "-" + h
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// Clock is the wait's time source; tests inject a fake.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// HelperInput is one helper launch.
type HelperInput struct {
	Workload    string
	ClientToken string            // HelperClientToken(workload, runID)
	Tags        map[string]string // added to the workload, role and managed-by tags
	// Version of lt-<w>-primary to launch (default "$Default"; setup passes
	// the version number its write step journaled, so a resumed run launches
	// the template it wrote, not whichever is default now).
	Version string
	// Timeout bounds the wait for running and passed status checks (default
	// 15 minutes); Poll is the interval (default 15 s).
	Timeout, Poll time.Duration
	Clock         Clock
	// ConsoleLines is how many console lines a failure shows (default 25).
	ConsoleLines int
}

// HelperResult is the launched (or found) instance.
type HelperResult struct {
	InstanceID string
	Found      bool // an earlier run had launched it
	// FoundBy is how: "client-token" (this run's own launch, resumed) or
	// "tags" (a live primary of the workload launched under another token,
	// adopted; setup should say so, since it may come from another
	// template version).
	FoundBy string
	State   string
}

// HelperError is a launch that did not reach running with passed checks.
type HelperError struct {
	InstanceID string
	Reason     string
	// Console is the tail of GetConsoleOutput, decoded; empty when EC2 had
	// none yet.
	Console string
	// FailureLine is the iPXE script's failure line, when the console has it.
	FailureLine string
}

func (e *HelperError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "helper instance %s: %s", e.InstanceID, e.Reason)
	if e.FailureLine != "" {
		fmt.Fprintf(&b, "\nboot failure: %s", e.FailureLine)
	}
	if e.Console != "" {
		fmt.Fprintf(&b, "\nconsole output (tail):\n%s", e.Console)
	} else {
		b.WriteString("\nno console output yet (EC2 publishes it a few minutes after boot): aws ec2 get-console-output --latest --instance-id " + e.InstanceID)
	}
	return b.String()
}

// IPXEFailureMarker is what the generated iPXE script prints before it stops.
const IPXEFailureMarker = sanboot.FailureMarker

func (in *HelperInput) defaults() {
	if in.Timeout <= 0 {
		in.Timeout = 15 * time.Minute
	}
	if in.Poll <= 0 {
		in.Poll = 15 * time.Second
	}
	if in.Clock == nil {
		in.Clock = realClock{}
	}
	if in.ConsoleLines <= 0 {
		in.ConsoleLines = 25
	}
	if in.Version == "" {
		in.Version = "$Default"
	}
}

func (in HelperInput) tags() []ec2types.Tag {
	m := map[string]string{}
	for k, v := range in.Tags {
		m[k] = v
	}
	m[naming.TagWorkload] = in.Workload
	m[naming.TagRole] = naming.RolePrimary
	m[naming.TagManaged] = naming.ManagedBy
	if _, ok := m["Name"]; !ok {
		m["Name"] = in.Workload + "-" + naming.RolePrimary
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ec2types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// liveStates are the states of an instance that may still run.
var liveStates = []string{"pending", "running", "stopping", "stopped"}

// FindHelper looks for the helper an earlier run launched: first by client
// token, then by the workload's primary tags. More than one live primary is
// an error (never two writers).
func FindHelper(ctx context.Context, api HelperAPI, workload, token string) (*ec2types.Instance, error) {
	i, _, err := findHelper(ctx, api, workload, token)
	return i, err
}

func findHelper(ctx context.Context, api HelperAPI, workload, token string) (*ec2types.Instance, string, error) {
	filters := [][]ec2types.Filter{
		{{Name: aws.String("client-token"), Values: []string{token}}, {Name: aws.String("instance-state-name"), Values: liveStates}},
		{{Name: aws.String("tag:" + naming.TagWorkload), Values: []string{workload}},
			{Name: aws.String("tag:" + naming.TagRole), Values: []string{naming.RolePrimary}},
			{Name: aws.String("instance-state-name"), Values: liveStates}},
	}
	for n, f := range filters {
		by := [...]string{"client-token", "tags"}[n]
		var found []ec2types.Instance
		p := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: f, MaxResults: aws.Int32(50)})
		for pages := 0; p.HasMorePages() && pages < 20; pages++ {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, "", fmt.Errorf("look for an existing helper of %s (ec2:DescribeInstances): %w", workload, err)
			}
			for _, r := range out.Reservations {
				found = append(found, r.Instances...)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return &found[0], by, nil
		default:
			ids := make([]string, len(found))
			for i, x := range found {
				ids[i] = aws.ToString(x.InstanceId)
			}
			return nil, "", &Problem{Field: "helper instance", What: fmt.Sprintf("workload %s already has %d live primary instances: %s", workload, len(found), strings.Join(ids, ", ")),
				Fix: "terminate the ones that should not run (only one may use the initiator identity), then resume setup"}
		}
	}
	return nil, "", nil
}

// LaunchHelper finds or launches the helper from lt-<w>-primary and waits,
// bounded, for running and passed status checks: StartHelper then
// WaitHelper. Setup that journals the instance ID before the wait calls the
// two itself.
func LaunchHelper(ctx context.Context, api HelperAPI, in HelperInput) (HelperResult, error) {
	res, err := StartHelper(ctx, api, in)
	if err != nil {
		return res, err
	}
	res.State, err = WaitHelper(ctx, api, res.InstanceID, in)
	return res, err
}

// StartHelper finds the helper an earlier run launched (by client token,
// then by tags) or launches it, and returns at once.
func StartHelper(ctx context.Context, api HelperAPI, in HelperInput) (HelperResult, error) {
	in.defaults()
	if err := naming.ValidateWorkload(in.Workload); err != nil {
		return HelperResult{}, err
	}
	if len(in.ClientToken) == 0 || len(in.ClientToken) > MaxClientTokenLen || !printableASCII(in.ClientToken) {
		return HelperResult{}, fmt.Errorf("helper client token %q: 1 to %d printable ASCII characters (use HelperClientToken)", in.ClientToken, MaxClientTokenLen)
	}
	var res HelperResult
	inst, by, err := findHelper(ctx, api, in.Workload, in.ClientToken)
	if err != nil {
		return res, err
	}
	if inst != nil {
		res.InstanceID, res.Found, res.FoundBy = aws.ToString(inst.InstanceId), true, by
		if inst.State != nil {
			res.State = string(inst.State.Name)
		}
		return res, nil
	}
	out, err := api.RunInstances(ctx, &ec2.RunInstancesInput{
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{
			LaunchTemplateName: aws.String(naming.LaunchTemplate(in.Workload, naming.RolePrimary)), Version: aws.String(in.Version)},
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String(in.ClientToken),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: in.tags()}},
	})
	if err != nil {
		return res, fmt.Errorf("launch the helper from %s (ec2:RunInstances): %w", naming.LaunchTemplate(in.Workload, naming.RolePrimary), err)
	}
	if len(out.Instances) != 1 {
		return res, fmt.Errorf("RunInstances returned %d instances, want 1", len(out.Instances))
	}
	res.InstanceID = aws.ToString(out.Instances[0].InstanceId)
	if st := out.Instances[0].State; st != nil {
		res.State = string(st.Name)
	}
	return res, nil
}

// WaitHelper waits, bounded by in.Timeout on in.Clock, until the instance
// runs with both status checks ok; it returns the last state seen. On
// failure the error is a *HelperError with the console tail.
func WaitHelper(ctx context.Context, api HelperAPI, instanceID string, in HelperInput) (string, error) {
	in.defaults()
	return waitHelper(ctx, api, instanceID, in)
}

// waitHelper polls until the instance runs with both status checks ok, the
// instance dies, a check is impaired, or the timeout passes.
func waitHelper(ctx context.Context, api HelperAPI, id string, in HelperInput) (string, error) {
	deadline := in.Clock.Now().Add(in.Timeout)
	maxPolls := int(in.Timeout/in.Poll) + 2 // a bound that holds even if the clock does not move
	state := ""
	for poll := 0; ; poll++ {
		out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		switch {
		case err != nil:
			return state, fmt.Errorf("watch helper %s (ec2:DescribeInstances): %w", id, err)
		case len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0:
			// Eventual consistency right after RunInstances: try again.
		default:
			i := out.Reservations[0].Instances[0]
			if i.State != nil {
				state = string(i.State.Name)
			}
			switch state {
			case "shutting-down", "terminated", "stopping", "stopped":
				reason := "stopped before it passed its status checks (state " + state + ")"
				if i.StateReason != nil && aws.ToString(i.StateReason.Message) != "" {
					reason += ": " + aws.ToString(i.StateReason.Message)
				}
				return state, consoleError(ctx, api, id, reason, in.ConsoleLines)
			case "running":
				ok, impaired, err := statusChecks(ctx, api, id)
				if err != nil {
					return state, err
				}
				if ok {
					return state, nil
				}
				if impaired != "" {
					return state, consoleError(ctx, api, id, impaired, in.ConsoleLines)
				}
			}
		}
		if !in.Clock.Now().Before(deadline) || poll >= maxPolls {
			return state, consoleError(ctx, api, id, fmt.Sprintf("not running with passed status checks after %s (state %q)", in.Timeout, state), in.ConsoleLines)
		}
		select {
		case <-ctx.Done():
			return state, ctx.Err()
		case <-in.Clock.After(in.Poll):
		}
	}
}

// statusChecks: ok when both the instance and the system check are "ok";
// impaired names a failed check.
func statusChecks(ctx context.Context, api HelperAPI, id string) (ok bool, impaired string, err error) {
	out, err := api.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	if err != nil {
		return false, "", fmt.Errorf("watch helper %s (ec2:DescribeInstanceStatus): %w", id, err)
	}
	if len(out.InstanceStatuses) == 0 {
		return false, "", nil
	}
	st := out.InstanceStatuses[0]
	var inst, sys ec2types.SummaryStatus
	if st.InstanceStatus != nil {
		inst = st.InstanceStatus.Status
	}
	if st.SystemStatus != nil {
		sys = st.SystemStatus.Status
	}
	if inst == ec2types.SummaryStatusImpaired {
		return false, "the instance status check failed (impaired): the guest did not boot", nil
	}
	if sys == ec2types.SummaryStatusImpaired {
		return false, "the system status check failed (impaired)", nil
	}
	return inst == ec2types.SummaryStatusOk && sys == ec2types.SummaryStatusOk, "", nil
}

func consoleError(ctx context.Context, api HelperAPI, id, reason string, lines int) error {
	e := &HelperError{InstanceID: id, Reason: reason}
	out, err := api.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(true)})
	if err != nil {
		e.Reason += fmt.Sprintf(" (console output unavailable: %v)", err)
		return e
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		e.Reason += " (console output is not base64)"
		return e
	}
	e.Console, e.FailureLine = ConsoleTail(string(raw), lines)
	return e
}

// ConsoleTail keeps the last n non-empty lines (carriage returns and other
// control characters but tab removed) and picks the last line carrying the
// iPXE failure marker, if any line of the whole output does.
func ConsoleTail(out string, n int) (tail, failure string) {
	clean := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || (r >= 0x20 && r != 0x7f) {
			return r
		}
		return -1
	}, out)
	var kept []string
	for _, l := range strings.Split(clean, "\n") {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			continue
		}
		if strings.Contains(l, IPXEFailureMarker) {
			failure = l
		}
		kept = append(kept, l)
	}
	if len(kept) > n {
		kept = kept[len(kept)-n:]
	}
	return strings.Join(kept, "\n"), failure
}
