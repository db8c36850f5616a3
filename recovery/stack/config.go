// Package stack renders, deploys, updates and deletes a workload's recovery
// stack, autorestart-<workload>: the alarms that detect a failed primary, the
// KMS-encrypted topic that carries them to the operator and to the failover
// function, the function itself with its dead-letter queue, and the
// least-privilege role it runs as. See DESIGN.md "Detection and failover" and
// notes/recovery-contract.md for what the function expects of the stack.
//
// Render is pure. The template depends on the workload name alone; every
// other per-workload value (email, instance, Outposts, policy, detection
// window, role, bundle location) is a CloudFormation parameter, so nothing the
// operator types is ever spliced into the template text, and failback can
// change the monitored instance with a parameter-only update.
package stack

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// Config is everything that decides a workload's recovery stack.
type Config struct {
	Workload            string          // validated by naming.ValidateWorkload
	Region              string          // e.g. us-west-2
	Partition           string          // "" derives it from Region ("aws" for commercial Regions)
	Policy              recovery.Policy // "" means recovery.PolicyConfirmed; notify deploys the same stack
	AlarmPeriods        int             // N one-minute evaluation periods; 0 means 3
	AlarmDatapoints     int             // M breaching periods of N that raise the alarm; 0 means N
	NotificationEmail   string          // the operator's address, subscribed to the alerts topic
	InstanceProfileRole string          // role name (optionally path/name) inside the instance profile; the only role the function may pass
	PrimaryOutpostID    string          // optional; adds the ConnectedStatus alarm
	SecondaryOutpostID  string          // optional
	PrimaryInstanceID   string          // "" at plan time: rendered as Placeholder
	BundleBucket        string          // "" at plan time: rendered as Placeholder; Deploy fills it
	BundleKey           string          // "" at plan time: rendered as Placeholder; Deploy fills it
}

// Placeholder is the parameter value Render emits for values only setup can
// know (the primary instance ID, the bundle's bucket and key). Each such
// parameter has an AllowedPattern that rejects it, so a plan's parameters
// file cannot be deployed by hand before the placeholders are replaced.
const Placeholder = "<set-by-setup>"

// Defaults and bounds.
const (
	DefaultAlarmPeriods        = 3
	MaxAlarmPeriods            = 60 // a one-hour detection window; longer is not failover
	DefaultFenceTimeoutSeconds = 180
	MinFenceTimeoutSeconds     = 30
	MaxFenceTimeoutSeconds     = 600 // well inside the function's 900 s
	FunctionTimeoutSeconds     = 900
	LogRetentionDays           = 90
	DLQRetentionSeconds        = 14 * 24 * 3600

	// ReservedConcurrency is the failover function's reserved concurrency.
	// A reservation both guarantees and caps: during a site-wide event other
	// functions in the account cannot take these executions away, and no
	// more than this many copies run. Three covers both detection alarms and
	// a drill or DLQ notification arriving together; a fourth concurrent
	// delivery is throttled and retried by Lambda's asynchronous invocation
	// (the SSM lock makes every copy after the first a no-op anyway).
	// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
	// Lambda refuses a reservation that would leave the account fewer than
	// 100 unreserved executions, so accounts still at a low default quota
	// must raise it first; Deploy's error then names the function.
	ReservedConcurrency = 3

	// KeepAliveHours is how often EventBridge Scheduler reads the
	// dead-letter queue's attributes, keeping it "active" (see resources.go).
	KeepAliveHours = 12
)

// Validation patterns. The same strings are the template parameters'
// AllowedPattern, so Go and CloudFormation agree on what is valid.
const (
	emailPattern       = `^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`
	rolePattern        = `^(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$`
	instancePattern    = `^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$`
	outpostPattern     = `^(?:op-[0-9a-f]{17})?$`
	bucketPattern      = `^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`
	bundleKeyPattern   = `^lambda/[0-9a-f]{64}\.zip$`
	regionPattern      = `^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$`
	periodsPattern     = `^(?:[1-9]|[1-5][0-9]|60)$`            // 1..MaxAlarmPeriods
	fencePattern       = `^(?:[3-9][0-9]|[1-5][0-9][0-9]|600)$` // MinFenceTimeoutSeconds..MaxFenceTimeoutSeconds
	maxEmailLen        = 254
	maxRolePathNameLen = 512
)

var (
	// emailRE, roleRE and bucketRE match what emailPattern, rolePattern and
	// bucketPattern match, as the pattern with `*`/`+` for each counted
	// repetition plus length checks: a counted repetition compiles to a
	// program that grows with the count (143, 45 and 42 KB here). The patterns
	// match only ASCII, so bytes count as characters; '@', '/' and '.' cannot
	// occur inside the parts they delimit. TestCountFreeMatchersMatchPatterns
	// checks each against its pattern.
	emailRE = sync.OnceValue(func() matchFunc {
		re := regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
		return func(s string) bool {
			if !re.MatchString(s) || strings.IndexByte(s, '@') > 64 {
				return false
			}
			for _, label := range strings.Split(s[strings.IndexByte(s, '@')+1:], ".") {
				if len(label) > 63 {
					return false
				}
			}
			return true
		}
	})
	roleRE = sync.OnceValue(func() matchFunc {
		re := regexp.MustCompile(`^(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$`)
		return func(s string) bool { return re.MatchString(s) && len(s)-strings.LastIndexByte(s, '/')-1 <= 64 }
	})
	instanceRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(instancePattern) })
	outpostRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(outpostPattern) })
	bucketRE   = sync.OnceValue(func() matchFunc {
		re := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
		return func(s string) bool { return len(s) >= 3 && len(s) <= 63 && re.MatchString(s) }
	})
	bundleKeyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(bundleKeyPattern) })
	regionRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(regionPattern) })
)

// matchFunc lets a check stand where a *regexp.Regexp was used.
type matchFunc func(string) bool

func (f matchFunc) MatchString(s string) bool { return f(s) }

// Names of the stack's resources, derived from the workload name only.
func StackName(w string) string           { return naming.Stack(w) }
func StatusAlarmName(w string) string     { return "oha-" + w + "-status" }
func ConnectedAlarmName(w string) string  { return "oha-" + w + "-connected" }
func DLQName(w string) string             { return "oha-" + w + "-dlq" }
func DLQAlarmName(w string) string        { return "oha-" + w + "-dlq-not-empty" }
func DLQMissingAlarmName(w string) string { return "oha-" + w + "-dlq-missing" }
func KeepAliveName(w string) string       { return "oha-" + w + "-dlq-keepalive" }
func TopicName(w string) string           { return "oha-" + w + "-alerts" }
func FunctionName(w string) string        { return "oha-" + w + "-failover" }
func LogGroupName(w string) string        { return "/aws/lambda/" + FunctionName(w) }
func KeyAliasName(w string) string        { return "alias/oha-" + w + "-recovery" }

// roleNameSub is the function role's name as an Fn::Sub string. IAM names are
// global to the account, so the Region is part of it: the same workload name
// may be protected in two Regions.
func roleNameSub(w string) string { return "oha-" + w + "-${AWS::Region}-failover" }

// keepAliveRoleNameSub is the role EventBridge Scheduler uses to touch the
// dead-letter queue; at most 4+32+1+14+8 = 59 characters (IAM allows 64).
func keepAliveRoleNameSub(w string) string { return "oha-" + w + "-${AWS::Region}-dlqping" }

// FunctionRoleName and KeepAliveRoleName are the two roles' names in a Region.
func FunctionRoleName(w, region string) string  { return "oha-" + w + "-" + region + "-failover" }
func KeepAliveRoleName(w, region string) string { return "oha-" + w + "-" + region + "-dlqping" }

// ServiceRoleName is the CloudFormation service role the stack is deployed
// through (see servicerole.go); an administrator creates it once per workload
// and Region. BoundaryPolicyName is the managed policy every role the stack
// creates must carry as its permissions boundary.
func ServiceRoleName(w, region string) string    { return "oha-" + w + "-" + region + "-cfn" }
func BoundaryPolicyName(w, region string) string { return "oha-" + w + "-" + region + "-boundary" }

// boundaryArnSub is BoundaryPolicyName's ARN as an Fn::Sub string.
func boundaryArnSub(w string) string {
	return "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/oha-" + w + "-${AWS::Region}-boundary"
}

// partitionFor returns the partition a Region belongs to.
func partitionFor(region string) string { return naming.Partition(region) }

// normalized returns c with defaults applied, or the first invalid field.
// Empty PrimaryInstanceID, BundleBucket and BundleKey are allowed (plan time).
func (c Config) normalized() (Config, error) {
	if err := naming.ValidateWorkload(c.Workload); err != nil {
		return c, fmt.Errorf("workload name %w", err)
	}
	if c.Region == "" {
		return c, errors.New("region is empty: set the AWS Region the workload runs in, for example us-west-2")
	}
	if !regionRE().MatchString(c.Region) {
		return c, fmt.Errorf("region %q is not an AWS Region name such as us-west-2", c.Region)
	}
	want := partitionFor(c.Region)
	if c.Partition == "" {
		c.Partition = want
	}
	if c.Partition != want {
		return c, fmt.Errorf("partition %q does not match region %s (partition %s): leave partition empty or set %s", c.Partition, c.Region, want, want)
	}
	if c.Policy == "" {
		c.Policy = recovery.PolicyConfirmed
	}
	if _, err := recovery.ParsePolicy(string(c.Policy)); err != nil {
		return c, fmt.Errorf("failover policy: %w", err)
	}
	if c.AlarmPeriods == 0 {
		c.AlarmPeriods = DefaultAlarmPeriods
	}
	if c.AlarmPeriods < 1 || c.AlarmPeriods > MaxAlarmPeriods {
		return c, fmt.Errorf("alarm periods %d: use 1 to %d one-minute periods (default %d)", c.AlarmPeriods, MaxAlarmPeriods, DefaultAlarmPeriods)
	}
	if c.AlarmDatapoints == 0 {
		c.AlarmDatapoints = c.AlarmPeriods
	}
	if c.AlarmDatapoints < 1 || c.AlarmDatapoints > c.AlarmPeriods {
		return c, fmt.Errorf("alarm datapoints %d: use 1 to %d (at most the %d alarm periods)", c.AlarmDatapoints, c.AlarmPeriods, c.AlarmPeriods)
	}
	if err := validateEmail(c.NotificationEmail); err != nil {
		return c, fmt.Errorf("notification email %w", err)
	}
	if c.InstanceProfileRole == "" {
		return c, errors.New("instance profile role is empty: name the IAM role inside the instance profile both launch templates carry")
	}
	if len(c.InstanceProfileRole) > maxRolePathNameLen || !roleRE().MatchString(c.InstanceProfileRole) {
		return c, fmt.Errorf("instance profile role %q is not an IAM role name (letters, digits, +=,.@_- ; at most 64 characters, optionally after a path such as team/)", c.InstanceProfileRole)
	}
	for _, o := range []struct{ field, v string }{{"primary outpost id", c.PrimaryOutpostID}, {"secondary outpost id", c.SecondaryOutpostID}} {
		if !outpostRE().MatchString(o.v) {
			return c, fmt.Errorf("%s %q is not an Outpost ID (op- and 17 hex digits)", o.field, o.v)
		}
	}
	if c.PrimaryOutpostID != "" && c.PrimaryOutpostID == c.SecondaryOutpostID {
		return c, fmt.Errorf("secondary outpost id %s is the primary's: the recovery target must be a second Outposts server", c.SecondaryOutpostID)
	}
	if c.PrimaryInstanceID != "" && !instanceRE().MatchString(c.PrimaryInstanceID) {
		return c, fmt.Errorf("primary instance id %q is not an EC2 instance ID (i- and 8 or 17 hex digits)", c.PrimaryInstanceID)
	}
	if c.BundleBucket != "" && !bucketRE().MatchString(c.BundleBucket) {
		return c, fmt.Errorf("bundle bucket %q is not an S3 bucket name", c.BundleBucket)
	}
	if c.BundleKey != "" && !bundleKeyRE().MatchString(c.BundleKey) {
		return c, fmt.Errorf("bundle key %q is not lambda/<sha256>.zip", c.BundleKey)
	}
	return c, nil
}

func validateEmail(s string) error {
	if s == "" {
		return errors.New("is empty: give the address that receives failover notifications")
	}
	if len(s) > maxEmailLen {
		return fmt.Errorf("is %d characters: use at most %d", len(s), maxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("%q is not a plain address such as ops@example.com", s)
	}
	if !emailRE().MatchString(s) {
		return fmt.Errorf("%q is not a plain address such as ops@example.com", s)
	}
	return nil
}
