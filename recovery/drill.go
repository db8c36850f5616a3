package recovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// DrillRequest is the direct invocation {"kind":"drill","dryRun":true,"requestedBy":"..."}.
type DrillRequest struct {
	Kind        string `json:"kind"`
	DryRun      bool   `json:"dryRun"`
	RequestedBy string `json:"requestedBy,omitempty"`
}

// Check is one fact a dry-run drill verified.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is a dry-run drill's answer: what the function would do if the alarm
// fired now, and whether everything it needs is in place.
type Report struct {
	Workload        string    `json:"workload"`
	Policy          Policy    `json:"policy"`
	At              time.Time `json:"at"`
	RequestedBy     string    `json:"requestedBy,omitempty"`
	DryRun          bool      `json:"dryRun"`
	Ready           bool      `json:"ready"` // every check passed
	Decision        string    `json:"decision"`
	PrimaryInstance string    `json:"primaryInstance,omitempty"`
	Checks          []Check   `json:"checks"`
	LastTimeline    *Timeline `json:"lastTimeline,omitempty"`
}

// ErrFullDrill refuses a drill that is not a dry run: the full drill fences
// the primary and fires the alarm from `outposts-ha drill`, not from inside
// the function.
var ErrFullDrill = errors.New("only dry-run drills run in the failover function; run the full drill with outposts-ha drill")

// Drill answers a dry-run drill. It only reads, apart from two EC2 requests
// sent with DryRun=true (StopInstances on the primary and RunInstances from
// the recovery template), which change nothing and prove that the function's
// role may fence and launch (template present, iam:PassRole, tag conditions),
// and one "[drill]" notification it publishes to prove the notification path.
// It fails on any alarm state but OK, and checks the LNI subnet
// (EnableLniAtDeviceIndex=1), the secondary Outpost's capacity for the
// template's instance type, and that the dead-letter queue exists.
// It also lists the workload's instances (another live one would stop a
// failover) and the topic's subscriptions (an unconfirmed email subscription
// means nobody is told anything). Problems are reported as failed checks, not
// errors.
func (e *Engine) Drill(ctx context.Context, req DrillRequest) (Report, error) {
	if !req.DryRun {
		return Report{}, ErrFullDrill
	}
	rep := Report{Workload: e.cfg.Workload, Policy: e.cfg.Policy, At: e.now().UTC(), RequestedBy: req.RequestedBy, DryRun: true, Ready: true}
	add := func(name string, ok bool, format string, a ...any) {
		rep.Checks = append(rep.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
		rep.Ready = rep.Ready && ok
	}
	var blockers []string

	lock, err := ReadLock(ctx, e.ssm, e.cfg.Workload)
	switch {
	case errors.Is(err, ErrNoLock):
		add("lock", true, "free")
	case err != nil:
		add("lock", false, "%v", err)
	case lock.State == LockLaunched:
		pending := ""
		if lock.Retire == RetirePending {
			pending = fmt.Sprintf("; the fenced old primary %s is not terminated yet (tag %s)", lock.Primary, naming.TagFenced)
		}
		add("lock", false, "held: failed over to %s (token %s)%s; run %s first", lock.Instance, lock.Token, pending, FailbackCommand(e.cfg.Workload))
		blockers = append(blockers, fmt.Sprintf("nothing: the workload already failed over to %s and stays degraded until failback", lock.Instance))
	default:
		add("lock", false, "held in state %s (attempt %d, token %s): a failover is in progress or failed", lock.State, lock.Attempt, lock.Token)
	}
	if tl, err := ReadTimeline(ctx, e.ssm, e.cfg.Workload); err == nil {
		rep.LastTimeline = &tl
	} else if !errors.Is(err, ErrNoTimeline) {
		add("timeline", false, "%v", err)
	}

	for _, m := range []struct{ check, param string }{
		{"maintenance", naming.MaintenanceParam(e.cfg.Workload)},
		{"drill marker", naming.DrillParam(e.cfg.Workload)},
	} {
		mk, found, err := ReadMarker(ctx, e.ssm, m.param)
		switch {
		case err != nil:
			add(m.check, false, "%v", err)
		case !found:
			add(m.check, true, "off")
		case mk.Active(e.now()):
			add(m.check, m.check != "maintenance", "on until %s by %s (%s)", mk.Until.UTC().Format(time.RFC3339), mk.By, mk.Reason)
			if m.check == "maintenance" {
				blockers = append(blockers, "skip the failover and notify: maintenance is on until "+mk.Until.UTC().Format(time.RFC3339))
			}
		default:
			add(m.check, true, "expired at %s", mk.Until.UTC().Format(time.RFC3339))
		}
	}

	primary := e.drillAlarms(ctx, add)
	rep.PrimaryInstance = primary
	healthy := false
	// ignoredDryRun: the endpoint really stopped the primary in answer to a
	// DryRun request; the drill sends nothing more that could change
	// anything (no RunInstances probe).
	ignoredDryRun := false
	if primary != "" {
		p, err := e.describeInstance(ctx, primary)
		switch {
		case err != nil:
			add("primary", false, "%v", err)
		case p.state == stateAbsent:
			add("primary", false, "%s does not exist: the alarm watches a missing instance (stale or mistyped PrimaryInstanceId); a failover would only ask for approval", primary)
		case p.workload != e.cfg.Workload:
			add("primary", false, "%s is not tagged %s=%s; the function would refuse to stop it", primary, naming.TagWorkload, e.cfg.Workload)
		default:
			h, why, err := e.primaryHealth(ctx, p)
			if err != nil {
				add("primary", false, "%v", err)
			} else {
				healthy = h == healthOK
				add("primary", true, "%s", why)
			}
			if !p.down() && e.cfg.Policy != PolicyNotify {
				_, err := e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{primary}, Force: aws.Bool(true), DryRun: aws.Bool(true)})
				ok, detail := dryRunResult(err)
				add("fence permission", ok, "StopInstances %s: %s", primary, detail)
				ignoredDryRun = err == nil
			}
		}
	}
	if primary != "" {
		if others := e.drillOthers(ctx, primary, lock, add); others != "" {
			blockers = append(blockers, "nothing but ask for approval: other live instances of the workload ("+others+") could be writing to the SAN volumes")
		}
	}
	tmpl := e.drillTemplate(ctx, add)
	e.drillSubnet(ctx, tmpl, add)
	e.drillCapacity(ctx, tmpl, add)
	e.drillDLQ(ctx, add)
	e.drillSubscription(ctx, add)
	switch {
	case ignoredDryRun:
		add("launch permission", false, "not probed: StopInstances with DryRun really ran against %s, so the drill sends no RunInstances; check the primary and the EC2 endpoint", primary)
	case e.cfg.Policy != PolicyNotify:
		// Under notify the function has no stop or launch permission at all:
		// the operator's own `failover` does both.
		tok := "drill-" + e.newID()
		_, err = e.ec2.RunInstances(ctx, e.runInput(tok, clientToken(tok, 0), true))
		ok, detail := dryRunResult(err)
		add("launch permission", ok, "RunInstances from %s ($Default): %s", e.cfg.RecoveryTemplate, detail)
	}

	if e.cfg.Policy == PolicyAutomatic {
		if e.cfg.PrimaryOutpostID == "" {
			add("outpost connectivity", false, "no primary Outpost ID: automatic behaves like confirmed")
		} else {
			now := e.now().UTC()
			_, err := e.health.ConnectedStatus(ctx, e.cfg.PrimaryOutpostID, now.Add(-time.Duration(e.cfg.DetectionPeriods+2)*time.Minute), now)
			if err != nil {
				add("outpost connectivity", false, "%v", err)
			} else {
				add("outpost connectivity", true, "ConnectedStatus of %s readable", e.cfg.PrimaryOutpostID)
			}
		}
	}

	rep.Decision = e.drillDecision(primary, healthy, blockers)
	if ignoredDryRun {
		rep.Decision = fmt.Sprintf("Drill stopped before the launch probe: the EC2 endpoint ignored DryRun and really ran StopInstances on the primary %s. Check it now (start it again if it should run) and the endpoint the function uses.", primary)
	}
	e.drillNotify(ctx, &rep, add)
	return rep, nil
}

// drillNotify proves the notification path end to end: it publishes the
// drill's report as a "[drill]" notification on the topic (the only write a
// dry-run drill makes) and records whether SNS took it.
func (e *Engine) drillNotify(ctx context.Context, rep *Report, add func(string, bool, string, ...any)) {
	var failed []string
	for _, c := range rep.Checks {
		if !c.OK {
			failed = append(failed, c.Name+": "+c.Detail)
		}
	}
	summary := "[drill] dry-run drill: ready"
	if len(failed) > 0 {
		summary = fmt.Sprintf("[drill] dry-run drill: %d check(s) failed", len(failed))
	}
	details := []string{"Requested by " + orUnknown2(rep.RequestedBy) + ". Nothing was stopped or launched.", rep.Decision}
	details = append(details, failed...)
	err := e.notify(ctx, Notification{Kind: KindDrill, Summary: summary, Details: details,
		Timeline: Timeline{Workload: e.cfg.Workload, Drill: true, Policy: e.cfg.Policy}})
	if err != nil {
		add("notification", false, "publish the [drill] notification: %v", err)
		return
	}
	add("notification", true, "published %q to %s; check that it arrived", summary, e.cfg.TopicARN)
}

func orUnknown2(s string) string {
	if s == "" {
		return "an unnamed caller"
	}
	return s
}

// drillSubnet checks that the subnet of the recovery template's interface at
// device index 1 has EnableLniAtDeviceIndex=1: otherwise that interface is
// not the local network interface to the SAN and the recovered instance
// cannot boot from the array.
func (e *Engine) drillSubnet(ctx context.Context, d *ec2types.ResponseLaunchTemplateData, add func(string, bool, string, ...any)) {
	const check = "LNI subnet"
	if d == nil {
		add(check, false, "not checked: no recovery template data")
		return
	}
	subnet := ""
	for _, n := range d.NetworkInterfaces {
		if aws.ToInt32(n.DeviceIndex) == 1 {
			subnet = aws.ToString(n.SubnetId)
		}
	}
	if subnet == "" {
		add(check, false, "the recovery template's interface at device index 1 names no subnet")
		return
	}
	out, err := e.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil {
		add(check, false, "describe subnet %s: %v", subnet, err)
		return
	}
	if len(out.Subnets) != 1 {
		add(check, false, "subnet %s not found", subnet)
		return
	}
	if got := aws.ToInt32(out.Subnets[0].EnableLniAtDeviceIndex); got != 1 {
		add(check, false, "subnet %s has EnableLniAtDeviceIndex=%d, want 1 (aws ec2 modify-subnet-attribute --subnet-id %s --enable-lni-at-device-index 1)", subnet, got, subnet)
		return
	}
	add(check, true, "subnet %s has EnableLniAtDeviceIndex=1", subnet)
}

// drillCapacity reads the secondary Outpost's AvailableInstanceType_Count for
// the template's instance type (AWS/Outposts, dimensions OutpostId and
// InstanceType, the newest sample of the last 3 hours).
func (e *Engine) drillCapacity(ctx context.Context, d *ec2types.ResponseLaunchTemplateData, add func(string, bool, string, ...any)) {
	const check = "secondary capacity"
	if e.cfg.SecondaryOutpostID == "" {
		add(check, true, "skipped: no secondary Outpost ID")
		return
	}
	if d == nil || d.InstanceType == "" {
		add(check, false, "not checked: the recovery template names no instance type")
		return
	}
	it := string(d.InstanceType)
	now := e.now().UTC()
	out, err := e.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-3 * time.Hour)), EndTime: aws.Time(now.Add(time.Minute)),
		ScanBy: cwtypes.ScanByTimestampDescending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("capacity"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{
					Namespace: aws.String("AWS/Outposts"), MetricName: aws.String("AvailableInstanceType_Count"),
					Dimensions: []cwtypes.Dimension{
						{Name: aws.String("OutpostId"), Value: aws.String(e.cfg.SecondaryOutpostID)},
						{Name: aws.String("InstanceType"), Value: aws.String(it)},
					},
				},
				Period: aws.Int32(300), Stat: aws.String("Minimum"),
			},
			ReturnData: aws.Bool(true),
		}},
	})
	if err != nil {
		add(check, false, "read AvailableInstanceType_Count of %s (%s): %v", e.cfg.SecondaryOutpostID, it, err)
		return
	}
	var at time.Time
	val, found := 0.0, false
	for _, r := range out.MetricDataResults {
		for i := range r.Timestamps {
			if i < len(r.Values) && (!found || r.Timestamps[i].After(at)) {
				at, val, found = r.Timestamps[i], r.Values[i], true
			}
		}
	}
	switch {
	case !found:
		add(check, false, "no AvailableInstanceType_Count data for %s on Outpost %s in the last 3 hours", it, e.cfg.SecondaryOutpostID)
	case val < 1:
		add(check, false, "Outpost %s has no free %s (AvailableInstanceType_Count %g at %s): the recovery launch would fail", e.cfg.SecondaryOutpostID, it, val, at.UTC().Format(time.RFC3339))
	default:
		add(check, true, "Outpost %s can launch %g more %s (at %s)", e.cfg.SecondaryOutpostID, val, it, at.UTC().Format(time.RFC3339))
	}
}

// drillDLQ checks that the function's dead-letter queue exists: SQS may
// delete a queue unused for 30 days, and then failed events vanish silently.
func (e *Engine) drillDLQ(ctx context.Context, add func(string, bool, string, ...any)) {
	const check = "dead-letter queue"
	switch {
	case e.cfg.DLQURL == "":
		add(check, false, "no DLQ URL configured")
		return
	case e.sqs == nil:
		add(check, false, "no SQS client: cannot check %s", e.cfg.DLQURL)
		return
	}
	out, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(e.cfg.DLQURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		add(check, false, "%s: %v (SQS deletes a queue unused for 30 days; update the recovery stack to re-create it)", e.cfg.DLQURL, err)
		return
	}
	add(check, true, "%s exists", out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])
}

// drillAlarms checks the alarms and returns the primary the status alarm watches.
func (e *Engine) drillAlarms(ctx context.Context, add func(string, bool, string, ...any)) string {
	names := []string{e.cfg.StatusAlarm}
	if e.cfg.ConnectedAlarm != "" {
		names = append(names, e.cfg.ConnectedAlarm)
	}
	out, err := e.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	if err != nil {
		add("alarms", false, "%v", err)
		return ""
	}
	primary := ""
	for _, n := range names {
		i := slices.IndexFunc(out.MetricAlarms, func(a cwtypes.MetricAlarm) bool { return aws.ToString(a.AlarmName) == n })
		if i < 0 {
			add("alarm "+n, false, "missing")
			continue
		}
		a := out.MetricAlarms[i]
		var problems []string
		if tmd := aws.ToString(a.TreatMissingData); tmd != "breaching" {
			problems = append(problems, fmt.Sprintf("TreatMissingData is %q, want breaching (a dead server stops publishing)", tmd))
		}
		if !slices.Contains(a.AlarmActions, e.cfg.TopicARN) {
			problems = append(problems, "alarm actions do not include the topic "+e.cfg.TopicARN)
		}
		if a.ActionsEnabled != nil && !*a.ActionsEnabled {
			problems = append(problems, "alarm actions are disabled")
		}
		// Only OK can transition to ALARM and notify: an alarm already in
		// ALARM stays there through a new failure, and INSUFFICIENT_DATA
		// means the metric is not arriving (new alarm, wrong dimensions).
		if a.StateValue != cwtypes.StateValueOk {
			problems = append(problems, fmt.Sprintf("state %s, want OK: %s", a.StateValue, alarmStateWhy(a.StateValue)))
		}
		if n == e.cfg.StatusAlarm {
			if primary = alarmInstance(a); primary == "" {
				problems = append(problems, "no InstanceId dimension")
			}
		}
		if len(problems) > 0 {
			add("alarm "+n, false, "%s", strings.Join(problems, "; "))
		} else {
			add("alarm "+n, true, "state %s, watching %v", a.StateValue, dims(a.Dimensions))
		}
	}
	return primary
}

func alarmStateWhy(st cwtypes.StateValue) string {
	if st == cwtypes.StateValueAlarm {
		return "a new failure would be no transition, so nothing would reach the function"
	}
	return "the alarm has no data (a new alarm, or its metric does not arrive), so it cannot tell a failure"
}

func dims(ds []cwtypes.Dimension) []string {
	var out []string
	for _, d := range ds {
		out = append(out, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
	}
	return out
}

// dryRunResult reads an EC2 DryRun answer: DryRunOperation means permitted.
func dryRunResult(err error) (bool, string) {
	switch {
	case err == nil:
		return false, "the endpoint ignored DryRun and ran the request"
	case awsx.Code(err) == "DryRunOperation":
		return true, "permitted (DryRun)"
	default:
		return false, err.Error()
	}
}

func (e *Engine) drillDecision(primary string, healthy bool, blockers []string) string {
	if len(blockers) > 0 {
		return "If the alarm fired now the function would do " + blockers[0] + "."
	}
	if primary == "" {
		return "If the alarm fired now the function would fail: it cannot tell which instance is the primary."
	}
	var b strings.Builder
	if healthy {
		fmt.Fprintf(&b, "The primary %s is healthy now, so a real alarm would end as %s unless its status checks fail. ", primary, OutcomePrimaryRecovered)
	}
	if e.cfg.Policy == PolicyNotify {
		fmt.Fprintf(&b, "On a real failure the function would leave %s alone and notify the operator to run %q, stopping and launching nothing (policy notify).", primary, FailoverCommand(e.cfg.Workload))
		return b.String()
	}
	if e.cfg.PrimaryOutpostID != "" {
		fmt.Fprintf(&b, "On a real failure the function would check that Outpost %s is connected (if not, it sends no stop: the primary is unreachable, not confirmed stopped), force-stop %s and wait up to %s for EC2 to confirm it stopped; then ",
			e.cfg.PrimaryOutpostID, primary, e.cfg.FenceTimeout)
	} else {
		fmt.Fprintf(&b, "On a real failure the function would force-stop %s and wait up to %s for EC2 to confirm it stopped; then ", primary, e.cfg.FenceTimeout)
	}
	switch e.cfg.Policy {
	case PolicyAutomatic:
		fmt.Fprintf(&b, "launch from %s if the stop is confirmed, or if Outpost %q was disconnected through the whole %d-minute detection window; otherwise request approval (%q) (policy automatic).",
			e.cfg.RecoveryTemplate, e.cfg.PrimaryOutpostID, e.cfg.DetectionPeriods, FailoverCommand(e.cfg.Workload))
	default:
		fmt.Fprintf(&b, "launch from %s if the stop is confirmed; otherwise request approval (%q) and re-evaluate on Lambda's two retries (policy confirmed).",
			e.cfg.RecoveryTemplate, FailoverCommand(e.cfg.Workload))
	}
	fmt.Fprintf(&b, " Before the launch it tags %s %s=true (starting it is denied), and terminates it once the recovery instance passes its status checks.", primary, naming.TagFenced)
	return b.String()
}

// drillTemplate checks the recovery template's default version: it exists, it
// carries an instance profile (without one the relaunched instance cannot read
// its CHAP secret) and a network interface at the LNI's device index 1.
func (e *Engine) drillTemplate(ctx context.Context, add func(string, bool, string, ...any)) *ec2types.ResponseLaunchTemplateData {
	out, err := e.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(e.cfg.RecoveryTemplate), Versions: []string{"$Default"},
	})
	if err != nil {
		add("recovery template", false, "%s: %v", e.cfg.RecoveryTemplate, err)
		return nil
	}
	if len(out.LaunchTemplateVersions) == 0 || out.LaunchTemplateVersions[0].LaunchTemplateData == nil {
		add("recovery template", false, "%s has no default version", e.cfg.RecoveryTemplate)
		return nil
	}
	v := out.LaunchTemplateVersions[0]
	d := v.LaunchTemplateData
	var problems []string
	if d.IamInstanceProfile == nil || (aws.ToString(d.IamInstanceProfile.Name) == "" && aws.ToString(d.IamInstanceProfile.Arn) == "") {
		problems = append(problems, "no instance profile: the recovered instance could not read its boot credentials")
	}
	if !slices.ContainsFunc(d.NetworkInterfaces, func(n ec2types.LaunchTemplateInstanceNetworkInterfaceSpecification) bool {
		return aws.ToInt32(n.DeviceIndex) == 1
	}) {
		problems = append(problems, "no network interface at device index 1 (the local network interface to the SAN)")
	}
	for _, n := range d.NetworkInterfaces {
		if aws.ToString(n.NetworkInterfaceId) != "" {
			// The recovery launch tags the network interfaces it creates; an
			// attached existing interface is not created, and a tag
			// specification for a resource the launch does not create fails
			// the launch.
			problems = append(problems, fmt.Sprintf("interface at device index %d attaches the existing %s: the recovery launch tags only interfaces it creates, so it would fail",
				aws.ToInt32(n.DeviceIndex), aws.ToString(n.NetworkInterfaceId)))
		}
	}
	if len(problems) > 0 {
		add("recovery template", false, "%s version %d: %s", e.cfg.RecoveryTemplate, aws.ToInt64(v.VersionNumber), strings.Join(problems, "; "))
		return d
	}
	add("recovery template", true, "%s version %d: instance profile and LNI at index 1", e.cfg.RecoveryTemplate, aws.ToInt64(v.VersionNumber))
	return d
}

// drillOthers checks that no live instance of the workload other than the
// primary exists (a failover would refuse to launch), and returns their IDs.
func (e *Engine) drillOthers(ctx context.Context, primary string, lock Lock, add func(string, bool, string, ...any)) string {
	list, err := e.workloadInstances(ctx)
	if err != nil {
		add("other instances", false, "%v", err)
		return ""
	}
	others := otherWriters(list, primary, lock.Token)
	if len(others) == 0 {
		add("other instances", true, "no live instance of %s besides the primary %s", e.cfg.Workload, primary)
		return ""
	}
	oe := othersError(others)
	add("other instances", false, "live besides the primary %s: %s; a failover would launch nothing (never two writers). Point PrimaryInstanceId at the real primary, or stop the others",
		primary, strings.Join(oe.Details, ", "))
	return strings.Join(oe.Instances, ", ")
}

// maxSubscriptionPages bounds the listing of the topic's subscriptions.
const maxSubscriptionPages = 10

// drillSubscription checks that the topic has an email subscription the
// operator confirmed: until then every notification, approval requests
// included, reaches nobody. SNS lists an unconfirmed one with the
// SubscriptionArn "PendingConfirmation".
func (e *Engine) drillSubscription(ctx context.Context, add func(string, bool, string, ...any)) {
	const check = "email subscription"
	var confirmed, pending []string
	in := &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(e.cfg.TopicARN)}
	for page := 0; ; page++ {
		if page == maxSubscriptionPages {
			add(check, false, "topic %s: more than %d pages of subscriptions", e.cfg.TopicARN, maxSubscriptionPages)
			return
		}
		out, err := e.sns.ListSubscriptionsByTopic(ctx, in)
		if err != nil {
			add(check, false, "list subscriptions of %s: %v", e.cfg.TopicARN, err)
			return
		}
		for _, sub := range out.Subscriptions {
			if p := aws.ToString(sub.Protocol); p != "email" && p != "email-json" {
				continue
			}
			if arn := aws.ToString(sub.SubscriptionArn); strings.HasPrefix(arn, "arn:") {
				confirmed = append(confirmed, aws.ToString(sub.Endpoint))
			} else {
				pending = append(pending, aws.ToString(sub.Endpoint)+" ("+arn+")")
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	switch {
	case len(confirmed) > 0:
		add(check, true, "confirmed: %s", strings.Join(confirmed, ", "))
	case len(pending) > 0:
		add(check, false, "not confirmed: %s; open the confirmation email AWS sent and follow its link, or no notification (approval requests included) reaches anyone",
			strings.Join(pending, ", "))
	default:
		add(check, false, "topic %s has no email subscription: no notification (approval requests included) reaches an operator", e.cfg.TopicARN)
	}
}
