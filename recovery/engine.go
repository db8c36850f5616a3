package recovery

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// Errors callers branch on.
var (
	// ErrAwaitingConfirmation means the primary could not be confirmed down, so
	// nothing was launched and an approval request was published. The failover
	// function returns it as a function error on purpose: Lambda's asynchronous
	// retries (MaximumRetryAttempts 2, about 1 and 2 minutes apart) run the
	// whole evaluation again, each time waiting up to FenceTimeout (cut to the
	// invocation's deadline) for EC2 to confirm the stop, and launch as soon
	// as it does. After the last retry the
	// event lands in the dead-letter queue, whose alarm notifies the operator.
	// That is the bounded "scheduled re-evaluation" of DESIGN.md.
	ErrAwaitingConfirmation = errors.New("awaiting confirmation that the primary is down")
	// ErrNotAlarm means a message is not a CloudWatch alarm notification (for
	// example one of the engine's own notifications coming back on the topic).
	ErrNotAlarm = errors.New("not a CloudWatch alarm notification")
	// ErrRecordPending means a failover launched and its record (timeline and
	// notification) is not complete yet: its run still holds the lock, or
	// another delivery claimed the record. It is returned, not swallowed, so
	// Lambda retries the event and a retry finishes the record if that run
	// died.
	ErrRecordPending = errors.New("failover launched; its record is not complete yet")
	// ErrNoTimeline means the workload has no failover timeline yet.
	ErrNoTimeline = errors.New("no failover timeline")
	// ErrNoLock means the workload's failover lock is not taken.
	ErrNoLock = errors.New("failover lock not taken")
	// ErrNotManaged means the instance the alarm watches does not carry the
	// workload's tag, so the engine refuses to stop it.
	ErrNotManaged = errors.New("instance is not tagged for this workload")
	// ErrOtherInstances means EC2 shows a live instance of the workload other
	// than the primary the alarm watches (a stale or mistyped
	// PrimaryInstanceId, or an instance an operator launched), so nothing was
	// launched: it could be a second writer on the SAN volumes. The error is an
	// *OtherInstancesError naming the instances, and it also matches
	// ErrAwaitingConfirmation (Lambda's retries re-check).
	ErrOtherInstances = errors.New("other live instances of the workload")
)

// OtherInstancesError names the live instances that stopped a launch.
type OtherInstancesError struct {
	Instances []string // instance IDs
	Details   []string // "i-0abc (running, role primary)"
}

func (e *OtherInstancesError) Error() string {
	return fmt.Sprintf("%v: %s; nothing launched", ErrOtherInstances, strings.Join(e.Details, ", "))
}

// Is matches ErrOtherInstances and ErrAwaitingConfirmation.
func (e *OtherInstancesError) Is(target error) bool {
	return target == ErrOtherInstances || target == ErrAwaitingConfirmation
}

// Config is one workload's failover settings; cmd/recovery-lambda fills it from
// the environment the recovery stack sets.
type Config struct {
	Workload         string
	Policy           Policy
	TopicARN         string
	StatusAlarm      string // oha-<w>-status
	ConnectedAlarm   string // oha-<w>-connected, or ""
	PrimaryOutpostID string // op-..., or "": no Outpost connectivity evidence
	RecoveryTemplate string // lt-<w>-recovery, launched at version $Default
	DetectionPeriods int    // N one-minute evaluation periods of the alarms
	// DLQURL is the failover function's dead-letter queue; dry-run drills
	// check that it exists.
	DLQURL string
	// SecondaryOutpostID is the Outpost the recovery instance runs on; dry-run
	// drills check its capacity for the template's instance type ("" skips
	// that check).
	SecondaryOutpostID string

	// FenceTimeout bounds the wait for EC2 to confirm the primary stopped
	// (default 180 s); FencePoll is the interval between checks (default 5 s).
	FenceTimeout time.Duration
	FencePoll    time.Duration
	// LaunchTimeout bounds the wait for the recovery instance to reach running
	// (default 5 min); LaunchPoll is the interval (default 5 s).
	LaunchTimeout time.Duration
	LaunchPoll    time.Duration
	// RetireTimeout bounds the wait, once the recovery instance runs, for its
	// status checks to pass before the fenced primary is terminated (default
	// 10 min, cut to the invocation's deadline; a retry finishes it).
	RetireTimeout time.Duration
	// LockLease is how long a delivery that holds the lock may take to launch
	// before another delivery of the same failover may take over (default 2
	// min); LockPoll is how often a waiting delivery re-reads it (default 2 s).
	LockLease time.Duration
	LockPoll  time.Duration
	// DeadlineMargin is the time reserved before the context's deadline (the
	// function's 900 s timeout) to mark the lock, record the timeline and
	// notify (default 30 s): every AWS action runs under a context that ends
	// DeadlineMargin early, and each record call gets a third of it. Waits
	// leave DeadlineMargin free before that earlier end too; the fence and
	// the lock wait leave twice as much, so that the launch fits. Without a
	// deadline the waits above apply as they are.
	DeadlineMargin time.Duration
}

// DefaultConfig returns the conventional names for a workload, the confirmed
// policy, 3 detection periods and default waits.
func DefaultConfig(workload string) Config {
	return Config{
		Workload:         workload,
		Policy:           PolicyConfirmed,
		StatusAlarm:      "oha-" + workload + "-status",
		RecoveryTemplate: naming.LaunchTemplate(workload, naming.RoleRecovery),
		DetectionPeriods: 3,
	}.withDefaults()
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.FenceTimeout, 180*time.Second)
	def(&c.FencePoll, 5*time.Second)
	def(&c.LaunchTimeout, 5*time.Minute)
	def(&c.LaunchPoll, 5*time.Second)
	def(&c.RetireTimeout, 10*time.Minute)
	def(&c.LockLease, 2*time.Minute)
	def(&c.LockPoll, 2*time.Second)
	def(&c.DeadlineMargin, 30*time.Second)
	if c.DetectionPeriods <= 0 {
		c.DetectionPeriods = 3
	}
	return c
}

// Validate reports the first missing or invalid setting.
func (c Config) Validate() error {
	switch {
	case c.Workload == "":
		return errors.New("config: workload is empty")
	case c.TopicARN == "":
		return errors.New("config: topic ARN is empty")
	case c.StatusAlarm == "":
		return errors.New("config: status alarm name is empty")
	case c.RecoveryTemplate == "":
		return errors.New("config: recovery launch template name is empty")
	}
	if _, err := ParsePolicy(string(c.Policy)); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// Deps is everything the engine needs. Now, NewID and Log are optional.
type Deps struct {
	Config     Config
	EC2        EC2
	SSM        SSM
	SNS        SNS
	CloudWatch CloudWatch
	// SQS is optional: only dry-run drills use it (the DLQ check fails
	// without it).
	SQS SQS
	// Health defaults to ConnectedStatusHealth over CloudWatch. It is consulted
	// before any stop (an unreachable primary is not stopped) and by the
	// automatic policy when the fence is unconfirmed.
	Health OutpostHealth
	// Clock times every wait and deadline (default RealClock). Now, when
	// set, stamps records instead of Clock.Now (tests skew it).
	Clock Clock
	Now   func() time.Time // default Clock.Now
	NewID func() string    // names one run in the lock; default a random UUID
	Log   *slog.Logger     // default discards
}

// Engine runs failover decisions for one workload. It is safe for concurrent use.
type Engine struct {
	cfg    Config
	ec2    EC2
	ssm    SSM
	sns    SNS
	cw     CloudWatch
	sqs    SQS
	health OutpostHealth
	clock  Clock
	now    func() time.Time
	newID  func() string
	log    *slog.Logger
}

// New checks the configuration and dependencies and returns an engine.
func New(d Deps) (*Engine, error) {
	cfg := d.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.EC2 == nil || d.SSM == nil || d.SNS == nil || d.CloudWatch == nil {
		return nil, errors.New("recovery: EC2, SSM, SNS and CloudWatch clients are required")
	}
	e := &Engine{cfg: cfg, ec2: d.EC2, ssm: d.SSM, sns: d.SNS, cw: d.CloudWatch, sqs: d.SQS,
		health: d.Health, clock: d.Clock, now: d.Now, newID: d.NewID, log: d.Log}
	if e.health == nil {
		e.health = ConnectedStatusHealth{CloudWatch: d.CloudWatch}
	}
	if e.clock == nil {
		e.clock = RealClock{}
	}
	if e.now == nil {
		e.now = e.clock.Now
	}
	if e.newID == nil {
		e.newID = uuid.NewString
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return e, nil
}

// Config returns the engine's effective configuration (defaults filled in).
func (e *Engine) Config() Config { return e.cfg }

// Outcome is how one evaluation ended.
type Outcome string

// Outcomes of HandleAlarm and Failover.
const (
	OutcomeIgnored          Outcome = "ignored"           // not a transition to ALARM of this workload's alarms
	OutcomeFlap             Outcome = "flap"              // the alarm is no longer in ALARM
	OutcomePrimaryRecovered Outcome = "primary-recovered" // the primary is running with status checks ok
	// OutcomePrimaryInitializing: the primary is running and its status checks
	// are initializing (it restarted): not stopped; ErrAwaitingConfirmation
	// is returned so that Lambda's retries re-check.
	OutcomePrimaryInitializing Outcome = "primary-initializing"
	OutcomeMaintenance         Outcome = "maintenance"       // a maintenance window is active; nothing done
	OutcomeNotified            Outcome = "notified"          // notify policy: operator told the exact command
	OutcomeAwaitingApproval    Outcome = "awaiting-approval" // fence unconfirmed or other live instances; approval requested
	// OutcomeLaunching is recorded in the timeline just before RunInstances, so
	// a run that dies during the launch leaves a trace the next delivery
	// completes; no evaluation ends with it.
	OutcomeLaunching         Outcome = "launching"
	OutcomeLaunched          Outcome = "launched"            // this run launched, adopted, or finished recording the recovery instance
	OutcomeDuplicate         Outcome = "duplicate"           // another delivery of the same failover launched it
	OutcomeAlreadyFailedOver Outcome = "already-failed-over" // an earlier failover holds the lock
	OutcomeFailed            Outcome = "failed"              // the launch failed; the error is returned too
)

// Result describes one evaluation.
type Result struct {
	Outcome          Outcome `json:"outcome"`
	Reason           string  `json:"reason"`
	Workload         string  `json:"workload"`
	Token            string  `json:"token,omitempty"`
	PrimaryInstance  string  `json:"primaryInstance,omitempty"`
	RecoveryInstance string  `json:"recoveryInstance,omitempty"`
	Fence            *Fence  `json:"fence,omitempty"`
	NextCommand      string  `json:"nextCommand,omitempty"`
}

// FailoverCommand is the exact command that approves a failover by hand.
func FailoverCommand(workload string) string {
	return "outposts-ha failover " + workload + " --approve"
}

// FailbackCommand is the command that ends the degraded state.
func FailbackCommand(workload string) string { return "outposts-ha failback " + workload }
