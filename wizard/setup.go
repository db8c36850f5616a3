package wizard

// setup's apply half: `setup ANSWERS.yaml --yes` runs the ordered,
// idempotent, journaled steps of steps.go through internal/apply's runner;
// `setup --abort <w>` undoes, in reverse, exactly what the journal lists.
// The guided inventory flow (wizard/tui) is not here.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
	"github.com/outposts-ha/outposts-ha/recovery/stack"
)

// ErrNotConfirmed is returned when setup was not confirmed: nothing is
// created before the plan is confirmed (--yes counts as confirmation).
var ErrNotConfirmed = errors.New("setup not confirmed: review the plan (outposts-ha plan ANSWERS.yaml) and run setup ANSWERS.yaml --yes; this run changed nothing")

// PreflightError is a refusal before anything was created (bad input, a
// missing prerequisite): the CLI exits 2 on it.
type PreflightError struct{ Err error }

func (e *PreflightError) Error() string { return e.Err.Error() }
func (e *PreflightError) Unwrap() error { return e.Err }

// RoleGetter is the IAM call setup makes itself (the service role check).
type RoleGetter interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// SetupClients are the AWS clients setup uses.
type SetupClients struct {
	EC2 SetupEC2
	SSM record.SSM
	CFN stack.CloudFormation
	S3  stack.S3
	STS stack.STS
	IAM RoleGetter
}

// ClientsFromConfig builds the clients from an SDK config (S3 path-style
// when an endpoint is overridden, as emulators need).
func ClientsFromConfig(cfg aws.Config) SetupClients {
	pathStyle := cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return SetupClients{
		EC2: ec2.NewFromConfig(cfg),
		SSM: ssm.NewFromConfig(cfg),
		CFN: cloudformation.NewFromConfig(cfg),
		S3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.UsePathStyle || pathStyle }),
		STS: sts.NewFromConfig(cfg),
		IAM: iam.NewFromConfig(cfg),
	}
}

// SetupOptions is one setup (or abort) run.
type SetupOptions struct {
	Spec     *spec.Spec
	Answers  []byte // the answers file as given: stored in the record
	Identity Identity
	// Yes is the confirmation (--yes, or the review screen's confirm).
	Yes bool
	// EnableLNI lets setup set EnableLniAtDeviceIndex=1 on a subnet that
	// lacks it; without it such a subnet stops setup before anything is made.
	EnableLNI bool
	Clients   SetupClients
	// Array is the vendor client (OpenArray). Abort needs it only when the
	// journal lists array objects setup created.
	Array storage.Array
	// PlanDir, when set, receives journal.json and record.json mirrors.
	PlanDir string
	// RunID names this process's run; Owner is user@host (defaults).
	RunID, Owner string
	BreakLease   string
	// Out receives one plain line per progress event (accessible mode,
	// logs); OnEvent, when set, receives the events instead (the TUI).
	Out     io.Writer
	OnEvent func(apply.Event)

	// Clocks and bounds; zero values take the production defaults. Tests
	// inject them so nothing waits on the wall clock.
	Now                       func() time.Time
	After                     func(time.Duration) <-chan time.Time
	NewToken                  func() string
	HelperClock               outposts.Clock
	HelperTimeout, HelperPoll time.Duration
	StackWait                 stack.Wait
	StackSleep                func(context.Context, time.Duration) error
	Bundle                    func() ([]byte, error) // nil: the embedded assets.LambdaBundle

	wrap func(apply.Step) apply.Step // tests: fault injection
}

func (o *SetupOptions) workload() string { return o.Spec.Workload }

func (o *SetupOptions) store() *record.Store {
	st := &record.Store{SSM: o.Clients.SSM, Workload: o.workload(), Now: o.Now}
	if o.PlanDir != "" {
		st.RecordMirror = filepath.Join(o.PlanDir, "record.json")
		st.JournalMirror = filepath.Join(o.PlanDir, "journal.json")
	}
	return st
}

// Steps builds the ordered steps of one workload's setup.
func (o *SetupOptions) steps(st *record.Store) []apply.Step {
	s := o.Spec
	steps := []apply.Step{
		&lniStep{ec2: o.Clients.EC2, region: s.Region, subnets: []string{s.Outposts.PrimarySubnet, s.Outposts.SecondarySubnet}, enable: o.EnableLNI, workload: s.Workload},
		&arrayHostStep{arr: o.Array, spec: s, identity: o.Identity},
		&arrayStep{arr: o.Array, spec: s, identity: o.Identity},
		&renderStep{spec: s, identity: o.Identity},
		&templatesStep{ec2: o.Clients.EC2, spec: s, identity: o.Identity},
		&helperStep{ec2: o.Clients.EC2, spec: s, clock: o.HelperClock, timeout: o.HelperTimeout, poll: o.HelperPoll},
		&stackStep{spec: s, deps: stack.Deps{CFN: o.Clients.CFN, S3: o.Clients.S3, STS: o.Clients.STS, Bundle: o.Bundle, Wait: o.StackWait, Sleep: o.StackSleep}},
		&apply.RecordStep{Store: st, Region: s.Region, Answers: string(o.Answers), RunID: o.RunID, Now: o.Now},
	}
	if o.wrap != nil {
		for i := range steps {
			steps[i] = o.wrap(steps[i])
		}
	}
	return steps
}

func (o *SetupOptions) runner() *apply.Runner {
	st := o.store()
	if o.RunID == "" {
		o.RunID = newRunID()
	}
	on := o.OnEvent
	if on == nil && o.Out != nil {
		out := o.Out
		on = func(e apply.Event) {
			line := e.String()
			if e.Err != nil && !strings.Contains(line, e.Err.Error()) {
				line += ": " + e.Err.Error()
			}
			fmt.Fprintln(out, line)
		}
	}
	return &apply.Runner{Store: st, Steps: o.steps(st), RunID: o.RunID, Owner: o.Owner, BreakLease: o.BreakLease,
		AnswersSHA256: record.HashAnswers(string(o.Answers)), Now: o.Now, After: o.After, OnEvent: on, NewToken: o.NewToken}
}

// Preflight checks, without changing anything, what would stop setup part
// way: the confirmation, the answers, both subnets' LNI (or the choice to
// enable it), the stack's CloudFormation service role, and the array (login,
// the volumes named). An error here means this run changed nothing (an
// earlier, interrupted run may have: its journal says what).
func Preflight(ctx context.Context, o *SetupOptions) error {
	if !o.Yes {
		return ErrNotConfirmed
	}
	if o.Spec == nil {
		return errors.New("setup: no answers")
	}
	if err := o.Spec.Validate(); err != nil {
		return err
	}
	var probs []string
	for _, id := range []string{o.Spec.Outposts.PrimarySubnet, o.Spec.Outposts.SecondarySubnet} {
		out, err := o.Clients.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
		if err != nil {
			return fmt.Errorf("read subnet %s (ec2:DescribeSubnets): %w; this run changed nothing", id, err)
		}
		if len(out.Subnets) != 1 {
			probs = append(probs, fmt.Sprintf("subnet %s: not found; fix outposts.*_subnet", id))
			continue
		}
		sn := out.Subnets[0]
		if aws.ToString(sn.OutpostArn) == "" {
			probs = append(probs, fmt.Sprintf("subnet %s: not an Outpost subnet; pick a subnet created on an Outposts server", id))
		} else if aws.ToInt32(sn.EnableLniAtDeviceIndex) != outposts.LNIDeviceIndex && !o.EnableLNI {
			probs = append(probs, fmt.Sprintf("subnet %s: its local network interface is not at device index 1; run setup with --enable-lni, or: aws ec2 modify-subnet-attribute --subnet-id %s --enable-lni-at-device-index 1", id, id))
		}
	}
	account := ""
	if id, err := o.Clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return fmt.Errorf("find the AWS account (sts:GetCallerIdentity): %w; this run changed nothing", err)
	} else {
		account = aws.ToString(id.Account)
	}
	role := stack.ServiceRoleName(o.Spec.Workload, o.Spec.Region)
	if _, err := o.Clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); awsx.IsNotFound(err) {
		probs = append(probs, fmt.Sprintf("the recovery stack's CloudFormation service role %s (account %s) does not exist; an administrator creates it once from the plan's iam/stack-service-role-*.json and iam/stack-boundary-policy.json (the operator policy cannot create roles)", role, account))
	} else if err != nil {
		return fmt.Errorf("check the service role %s (iam:GetRole): %w; this run changed nothing", role, err)
	}
	if o.Array == nil {
		probs = append(probs, "no array client: setup needs the array's credentials")
	} else {
		if err := o.Array.Login(ctx); err != nil {
			class, fix := ClassifyArrayError(err, "")
			return &PreflightError{Err: fmt.Errorf("array login (%s): %w; %s; this run changed nothing", class, err, fix)}
		}
		vols, err := o.Array.Volumes(ctx)
		if err != nil {
			return fmt.Errorf("list the array's volumes: %w; this run changed nothing", err)
		}
		if o.Spec.Storage.Vendor != "generic" {
			for i, v := range append([]spec.Volume{o.Spec.Storage.Boot}, o.Spec.Storage.Data...) {
				if _, ok := volumeByName(vols, v.Volume); !ok {
					field := "storage.boot.volume"
					if i > 0 {
						field = fmt.Sprintf("storage.data[%d].volume", i-1)
					}
					probs = append(probs, fmt.Sprintf("%s: the array has no volume %q; pick one it lists", field, v.Volume))
				}
			}
		}
	}
	if len(probs) > 0 {
		return &PreflightError{Err: fmt.Errorf("setup cannot start; this run changed nothing:\n  - %s", strings.Join(probs, "\n  - "))}
	}
	return nil
}

// Setup checks (Preflight), then applies or resumes the workload's setup.
// It returns the steps' results (the launched instance, the stack...).
func Setup(ctx context.Context, o SetupOptions) (apply.Results, error) {
	if err := Preflight(ctx, &o); err != nil {
		var pe *PreflightError
		if errors.Is(err, ErrNotConfirmed) || IsInputError(err) || !errors.As(err, &pe) && isProblems(err) {
			return nil, &PreflightError{Err: err}
		}
		return nil, err
	}
	if err := o.mkPlanDir(); err != nil {
		return nil, err
	}
	return o.runner().Run(ctx)
}

// mkPlanDir makes the plan folder the journal and record are copied into
// (plan normally made it already).
func (o *SetupOptions) mkPlanDir() error {
	if o.PlanDir == "" {
		return nil
	}
	if err := os.MkdirAll(o.PlanDir, 0o750); err != nil {
		return fmt.Errorf("plan folder %s: %w", o.PlanDir, err)
	}
	return nil
}

// Abort undoes, in reverse, exactly what the workload's setup journal lists
// as created by it, then removes the journal, record and lease. It needs
// o.Spec (the workload, and the array to reach) and the clients; it checks
// no confirmation (the CLI asks).
func Abort(ctx context.Context, o SetupOptions) error {
	if o.Spec == nil {
		return errors.New("abort: no answers")
	}
	if err := o.mkPlanDir(); err != nil {
		return err
	}
	return o.runner().Abort(ctx)
}

func isProblems(err error) bool {
	var ps spec.Problems
	return errors.As(err, &ps)
}

func newRunID() string {
	return fmt.Sprintf("run-%d", time.Now().UnixNano())
}
