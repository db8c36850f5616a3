package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/assets"
	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// CloudFormation is the part of the CloudFormation API the stack calls.
type CloudFormation interface {
	CreateStack(ctx context.Context, in *cloudformation.CreateStackInput, o ...func(*cloudformation.Options)) (*cloudformation.CreateStackOutput, error)
	UpdateStack(ctx context.Context, in *cloudformation.UpdateStackInput, o ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error)
	DeleteStack(ctx context.Context, in *cloudformation.DeleteStackInput, o ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, o ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	DescribeStackEvents(ctx context.Context, in *cloudformation.DescribeStackEventsInput, o ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error)
}

// STS finds the account, which names the bundle bucket.
type STS interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Wait bounds the CloudFormation waiters. Zero fields take the defaults.
type Wait struct {
	MinDelay time.Duration // first poll interval (default 5s)
	MaxDelay time.Duration // backoff ceiling (default 30s)
	Timeout  time.Duration // whole create/update/delete (default 30m)
}

func (w Wait) withDefaults() Wait {
	if w.MinDelay <= 0 {
		w.MinDelay = 5 * time.Second
	}
	if w.MaxDelay <= 0 {
		w.MaxDelay = 30 * time.Second
	}
	if w.MaxDelay < w.MinDelay {
		w.MaxDelay = w.MinDelay
	}
	if w.Timeout <= 0 {
		w.Timeout = 30 * time.Minute
	}
	return w
}

// Deps are the clients and knobs Deploy and Delete use. S3 must be built for
// the workload's Region (with UsePathStyle when an endpoint is overridden).
type Deps struct {
	CFN    CloudFormation
	S3     S3
	STS    STS
	Bundle func() ([]byte, error) // nil: assets.LambdaBundle
	Token  func() string          // ClientRequestToken source; nil: a random UUID
	Wait   Wait
	Log    *slog.Logger // nil: discard
	// Sleep waits d or until ctx ends; nil: a timer. Tests pass a fake so
	// no test waits on the wall clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (d Deps) sleep(ctx context.Context, dur time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dur)
	}
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d Deps) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return d.Log
}

func (d Deps) token() string {
	if d.Token != nil {
		return d.Token()
	}
	return uuid.NewString()
}

// Outputs describes the deployed stack.
type Outputs struct {
	StackName          string
	StackID            string
	Status             string // final stack status, e.g. CREATE_COMPLETE
	Changed            bool   // false when CloudFormation had no updates to perform
	BundleBucket       string
	BundleKey          string
	TopicArn           string
	FunctionName       string
	FunctionArn        string
	StatusAlarmName    string
	ConnectedAlarmName string
	DeadLetterQueueURL string
	DeadLetterQueueArn string
	KeyArn             string
	RoleArn            string
	Notes              []string // things the operator should be told, e.g. a failed first create was replaced
}

// Error is a stack operation that CloudFormation did not complete, with the
// reasons its events give.
type Error struct {
	Op      string // create, update, delete
	Stack   string
	Status  string   // last known stack status, when known
	Reasons []string // "LogicalId (Type) STATUS: reason", oldest first
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s stack %s", e.Op, e.Stack)
	if e.Status != "" {
		fmt.Fprintf(&b, " (%s)", e.Status)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if len(e.Reasons) > 0 {
		b.WriteString("; CloudFormation says: ")
		b.WriteString(strings.Join(e.Reasons, "; "))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// BundleKey returns the content-addressed S3 key of a bundle.
func BundleKey(bundle []byte) string {
	sum := sha256.Sum256(bundle)
	return "lambda/" + hex.EncodeToString(sum[:]) + ".zip"
}

// BundleBucketName is the bucket the tool keeps its function bundles in.
func BundleBucketName(account, region string) string {
	return "outposts-ha-" + account + "-" + region
}

// Deploy uploads the function bundle and creates or updates the workload's
// recovery stack, waiting until CloudFormation finishes. c.BundleBucket and
// c.BundleKey are set by Deploy; c.PrimaryInstanceID is required.
func Deploy(ctx context.Context, d Deps, c Config) (Outputs, error) {
	if c.PrimaryInstanceID == "" {
		return Outputs{}, errors.New("recovery stack: primary instance id is empty: deploy after the primary is running")
	}
	c.BundleBucket, c.BundleKey = "", ""
	c, err := c.normalized() // fail on bad input before any AWS call
	if err != nil {
		return Outputs{}, fmt.Errorf("recovery stack: %w", err)
	}
	bundleFn := d.Bundle
	if bundleFn == nil {
		bundleFn = assets.LambdaBundle
	}
	bundle, err := bundleFn()
	if err != nil {
		return Outputs{}, fmt.Errorf("recovery stack: %w", err)
	}

	id, err := d.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Outputs{}, fmt.Errorf("find AWS account: %w", err)
	}
	account := aws.ToString(id.Account)
	c.BundleBucket = BundleBucketName(account, c.Region)
	c.BundleKey = BundleKey(bundle)
	if err := ensureBucket(ctx, d.S3, c.BundleBucket, account, c.Region); err != nil {
		return Outputs{}, err
	}
	if err := uploadBundle(ctx, d.S3, c.BundleBucket, account, c.BundleKey, bundle, d.log()); err != nil {
		return Outputs{}, err
	}

	r, err := Render(c)
	if err != nil {
		return Outputs{}, err
	}
	if unset := r.Unset(); len(unset) > 0 {
		return Outputs{}, fmt.Errorf("recovery stack: parameters %s still hold %s", strings.Join(unset, ", "), Placeholder)
	}
	roleArn := ServiceRoleArn(c.Partition, account, c.Workload, c.Region)
	out, err := apply(ctx, d, c.Workload, roleArn, r)
	out.BundleBucket, out.BundleKey = c.BundleBucket, c.BundleKey
	return out, explainRole(err, roleArn)
}

// explainRole adds what to do when CloudFormation cannot use the service role.
func explainRole(err error, roleArn string) error {
	if err == nil || !strings.Contains(err.Error(), roleArn) && !strings.Contains(err.Error(), "cannot be assumed") {
		return err
	}
	return fmt.Errorf("%w (the stack is deployed through the CloudFormation service role %s: an administrator creates it once per workload and Region, with its permissions boundary, from the documents plan writes or with stack.EnsureServiceRole)", err, roleArn)
}

// SQS refuses to create a queue within 60 seconds of deleting one with the
// same name: CreateQueue fails with QueueDeletedRecently, "You must wait 60
// seconds after deleting a queue before you can create another with the same
// name." (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html,
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html).
// It happens when setup follows cleanup, or a first create is retried after
// ROLLBACK_COMPLETE. Deploy keeps the queue's fixed name (the operator is
// told to read oha-<w>-dlq, and the policies name it) and, bounded, waits
// and creates the stack again; a generated name would avoid the wait but
// leave every reader guessing which queue is the workload's.
const (
	queueReuseDelay      = 65 * time.Second // 60 s documented, plus a margin
	maxQueueCreateTrials = 3                // the first create and two retries
)

// isQueueDeletedRecently reports a create that failed on the DLQ's name.
func isQueueDeletedRecently(err error) bool {
	var se *Error
	if !errors.As(err, &se) {
		return false
	}
	for _, r := range se.Reasons {
		if strings.Contains(r, "QueueDeletedRecently") || strings.Contains(r, "wait 60 seconds after deleting a queue") {
			return true
		}
	}
	return false
}

func stackTags(w string) []cfntypes.Tag {
	return []cfntypes.Tag{
		{Key: aws.String(naming.TagWorkload), Value: aws.String(w)},
		{Key: aws.String(naming.TagManaged), Value: aws.String(naming.ManagedBy)},
	}
}

func cfnParams(ps []Parameter) []cfntypes.Parameter {
	out := make([]cfntypes.Parameter, len(ps))
	for i, p := range ps {
		out[i] = cfntypes.Parameter{ParameterKey: aws.String(p.Key), ParameterValue: aws.String(p.Value)}
	}
	return out
}

// maxTemplateBody is CloudFormation's limit for an inline TemplateBody.
const maxTemplateBody = 51200

func apply(ctx context.Context, d Deps, w, roleArn string, r Rendered) (Outputs, error) {
	if len(r.Template) > maxTemplateBody {
		return Outputs{}, fmt.Errorf("recovery stack template is %d bytes: CloudFormation takes at most %d inline", len(r.Template), maxTemplateBody)
	}
	log := d.log().With("stack", r.Name)
	var notes []string
	st, err := describe(ctx, d.CFN, r.Name)
	if err != nil {
		return Outputs{}, err
	}
	if st != nil && isInProgress(st.StackStatus) {
		log.Info("waiting for an operation already in progress", "status", st.StackStatus)
		notes = append(notes, fmt.Sprintf("stack %s was busy (%s): waited for it to finish", r.Name, st.StackStatus))
		if st, err = waitSettled(ctx, d, r.Name, aws.ToString(st.StackId)); err != nil {
			return Outputs{StackName: r.Name, Notes: notes}, err
		}
	}
	if st != nil && st.StackStatus == cfntypes.StackStatusRollbackComplete {
		msg := fmt.Sprintf("stack %s is in ROLLBACK_COMPLETE (its first create failed and it cannot be updated): deleting it and creating it again", r.Name)
		log.Warn(msg)
		notes = append(notes, msg)
		if err := deleteAndWait(ctx, d, r.Name, aws.ToString(st.StackId)); err != nil {
			return Outputs{StackName: r.Name, Notes: notes}, err
		}
		st = nil
	}

	var out Outputs
	if st == nil {
		for trial := 1; ; trial++ {
			out, err = create(ctx, d, w, roleArn, r)
			if !isQueueDeletedRecently(err) || trial == maxQueueCreateTrials {
				break
			}
			msg := fmt.Sprintf("the dead-letter queue %s was deleted less than 60 s ago and SQS refuses its name until then (QueueDeletedRecently): removing the rolled-back stack, waiting %s, then creating it again (attempt %d of %d)",
				DLQName(w), queueReuseDelay, trial+1, maxQueueCreateTrials)
			log.Warn(msg)
			notes = append(notes, msg)
			if err := deleteAndWait(ctx, d, r.Name, out.StackID); err != nil {
				return Outputs{StackName: r.Name, Notes: notes}, err
			}
			if err := d.sleep(ctx, queueReuseDelay); err != nil {
				return Outputs{StackName: r.Name, Notes: notes}, fmt.Errorf("waiting for SQS to release the queue name %s: %w", DLQName(w), err)
			}
		}
	} else {
		switch st.StackStatus {
		case cfntypes.StackStatusCreateComplete, cfntypes.StackStatusUpdateComplete,
			cfntypes.StackStatusUpdateRollbackComplete, cfntypes.StackStatusImportComplete,
			cfntypes.StackStatusImportRollbackComplete:
			out, err = update(ctx, d, w, roleArn, r, aws.ToString(st.StackId))
		default:
			return Outputs{StackName: r.Name, Notes: notes}, &Error{Op: "update", Stack: r.Name, Status: string(st.StackStatus),
				Err: fmt.Errorf("the stack cannot be updated in this state: fix it in the CloudFormation console (continue the rollback, or delete it with outposts-ha cleanup) and run setup again")}
		}
	}
	out.Notes = append(notes, out.Notes...)
	return out, err
}

func create(ctx context.Context, d Deps, w, roleArn string, r Rendered) (Outputs, error) {
	tok := d.token()
	res, err := d.CFN.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:          aws.String(r.Name),
		RoleARN:            aws.String(roleArn),
		TemplateBody:       aws.String(string(r.Template)),
		Parameters:         cfnParams(r.Parameters),
		Capabilities:       []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		ClientRequestToken: aws.String(tok),
		Tags:               stackTags(w),
		OnFailure:          cfntypes.OnFailureRollback, // keep the events; the next Deploy replaces it
	})
	if err != nil {
		return Outputs{StackName: r.Name}, fmt.Errorf("create stack %s: %w", r.Name, err)
	}
	id := aws.ToString(res.StackId)
	wt := d.Wait.withDefaults()
	wtr := cloudformation.NewStackCreateCompleteWaiter(d.CFN, func(o *cloudformation.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = wt.MinDelay, wt.MaxDelay
		o.Retryable = retryUntil(cfntypes.StackStatusCreateComplete)
	})
	ds, err := wtr.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, wt.Timeout)
	if err != nil {
		return Outputs{StackName: r.Name, StackID: id}, failure(ctx, d.CFN, "create", r.Name, id, err)
	}
	out := outputsOf(ds)
	out.Changed = true
	return out, nil
}

func update(ctx context.Context, d Deps, w, roleArn string, r Rendered, id string) (Outputs, error) {
	tok := d.token()
	_, err := d.CFN.UpdateStack(ctx, &cloudformation.UpdateStackInput{
		StackName:          aws.String(id),
		RoleARN:            aws.String(roleArn),
		TemplateBody:       aws.String(string(r.Template)),
		Parameters:         cfnParams(r.Parameters),
		Capabilities:       []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		ClientRequestToken: aws.String(tok),
		Tags:               stackTags(w),
	})
	if awsx.IsNoUpdates(err) {
		ds, err := d.CFN.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)})
		if err != nil {
			return Outputs{StackName: r.Name, StackID: id}, fmt.Errorf("describe stack %s: %w", r.Name, err)
		}
		return outputsOf(ds), nil
	}
	if err != nil {
		return Outputs{StackName: r.Name, StackID: id}, fmt.Errorf("update stack %s: %w", r.Name, err)
	}
	wt := d.Wait.withDefaults()
	wtr := cloudformation.NewStackUpdateCompleteWaiter(d.CFN, func(o *cloudformation.StackUpdateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = wt.MinDelay, wt.MaxDelay
		o.Retryable = retryUntil(cfntypes.StackStatusUpdateComplete)
	})
	ds, err := wtr.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, wt.Timeout)
	if err != nil {
		return Outputs{StackName: r.Name, StackID: id}, failure(ctx, d.CFN, "update", r.Name, id, err)
	}
	out := outputsOf(ds)
	out.Changed = true
	return out, nil
}

// Delete removes the workload's recovery stack and waits until it is gone. A
// stack that does not exist is already deleted. The bundle bucket is shared by
// every workload in the account and Region and stays.
func Delete(ctx context.Context, d Deps, workload string) error {
	if err := naming.ValidateWorkload(workload); err != nil {
		return fmt.Errorf("recovery stack: workload name %w", err)
	}
	name := StackName(workload)
	st, err := describe(ctx, d.CFN, name)
	if err != nil {
		return err
	}
	if st == nil {
		d.log().Info("recovery stack already absent", "stack", name)
		return nil
	}
	id := aws.ToString(st.StackId)
	if isInProgress(st.StackStatus) && st.StackStatus != cfntypes.StackStatusDeleteInProgress {
		if st, err = waitSettled(ctx, d, name, id); err != nil {
			return err
		}
		if st == nil {
			return nil
		}
	}
	return deleteAndWait(ctx, d, name, id)
}

func deleteAndWait(ctx context.Context, d Deps, name, id string) error {
	if _, err := d.CFN.DeleteStack(ctx, &cloudformation.DeleteStackInput{
		StackName:          aws.String(id),
		ClientRequestToken: aws.String(d.token()),
	}); err != nil {
		return fmt.Errorf("delete stack %s: %w", name, err)
	}
	wt := d.Wait.withDefaults()
	// The SDK's default delete waiter takes any ValidationError as "deleted";
	// this one accepts only DELETE_COMPLETE or CloudFormation's exact
	// "does not exist".
	wtr := cloudformation.NewStackDeleteCompleteWaiter(d.CFN, func(o *cloudformation.StackDeleteCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = wt.MinDelay, wt.MaxDelay
		o.Retryable = func(ctx context.Context, in *cloudformation.DescribeStacksInput, out *cloudformation.DescribeStacksOutput, err error) (bool, error) {
			if err != nil && isStackAbsent(err) {
				return false, nil
			}
			return retryUntil(cfntypes.StackStatusDeleteComplete)(ctx, in, out, err)
		}
	})
	if err := wtr.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, wt.Timeout); err != nil {
		return failure(ctx, d.CFN, "delete", name, id, err)
	}
	d.log().Info("recovery stack deleted", "stack", name)
	return nil
}

// waitSettled waits until an in-progress operation ends, whatever its result.
func waitSettled(ctx context.Context, d Deps, name, id string) (*cfntypes.Stack, error) {
	wt := d.Wait.withDefaults()
	wtr := cloudformation.NewStackUpdateCompleteWaiter(d.CFN, func(o *cloudformation.StackUpdateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = wt.MinDelay, wt.MaxDelay
		o.Retryable = func(_ context.Context, _ *cloudformation.DescribeStacksInput, out *cloudformation.DescribeStacksOutput, err error) (bool, error) {
			if err != nil {
				return false, err
			}
			if out == nil || len(out.Stacks) == 0 {
				return false, errors.New("stack vanished from DescribeStacks")
			}
			return isInProgress(out.Stacks[0].StackStatus), nil
		}
	})
	ds, err := wtr.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, wt.Timeout)
	if err != nil {
		return nil, fmt.Errorf("wait for stack %s to settle: %w", name, err)
	}
	st := ds.Stacks[0]
	if st.StackStatus == cfntypes.StackStatusDeleteComplete {
		return nil, nil
	}
	return &st, nil
}

// errWaiterFailure is wrapped when a waiter reaches a terminal status that is
// not the one it waited for.
var errWaiterFailure = errors.New("stack reached a failed state")

// retryUntil is a waiter Retryable: done at want, keep polling while any
// operation is in progress, fail on any other status or error.
func retryUntil(want cfntypes.StackStatus) func(context.Context, *cloudformation.DescribeStacksInput, *cloudformation.DescribeStacksOutput, error) (bool, error) {
	return func(_ context.Context, _ *cloudformation.DescribeStacksInput, out *cloudformation.DescribeStacksOutput, err error) (bool, error) {
		if err != nil {
			return false, err
		}
		if out == nil || len(out.Stacks) == 0 {
			return false, errors.New("stack vanished from DescribeStacks")
		}
		s := out.Stacks[0].StackStatus
		switch {
		case s == want:
			return false, nil
		case isInProgress(s):
			// Also through a rollback, so that the error reports the final
			// state and every failure reason.
			return true, nil
		default:
			return false, fmt.Errorf("%w: %s", errWaiterFailure, s)
		}
	}
}

func isInProgress(s cfntypes.StackStatus) bool { return strings.HasSuffix(string(s), "_IN_PROGRESS") }

// describe returns the stack, or nil when CloudFormation says it does not
// exist. Every other error is an error.
func describe(ctx context.Context, cfn CloudFormation, name string) (*cfntypes.Stack, error) {
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if isStackAbsent(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	st := out.Stacks[0]
	if st.StackStatus == cfntypes.StackStatusDeleteComplete {
		return nil, nil
	}
	return &st, nil
}

// isStackAbsent reports CloudFormation's "stack does not exist". It has no
// error code of its own: it is a ValidationError whose message reads
// "Stack with id NAME does not exist", so both are checked; any other
// ValidationError (bad name, throttling, permissions) is not absence.
func isStackAbsent(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		return false
	}
	msg := ae.ErrorMessage()
	return strings.HasPrefix(msg, "Stack with id ") && strings.HasSuffix(msg, " does not exist")
}

func outputsOf(ds *cloudformation.DescribeStacksOutput) Outputs {
	if ds == nil || len(ds.Stacks) == 0 {
		return Outputs{}
	}
	st := ds.Stacks[0]
	o := Outputs{
		StackName: aws.ToString(st.StackName),
		StackID:   aws.ToString(st.StackId),
		Status:    string(st.StackStatus),
	}
	for _, kv := range st.Outputs {
		v := aws.ToString(kv.OutputValue)
		switch aws.ToString(kv.OutputKey) {
		case "TopicArn":
			o.TopicArn = v
		case "FunctionName":
			o.FunctionName = v
		case "FunctionArn":
			o.FunctionArn = v
		case "StatusAlarmName":
			o.StatusAlarmName = v
		case "ConnectedAlarmName":
			o.ConnectedAlarmName = v
		case "DeadLetterQueueUrl":
			o.DeadLetterQueueURL = v
		case "DeadLetterQueueArn":
			o.DeadLetterQueueArn = v
		case "KeyArn":
			o.KeyArn = v
		case "RoleArn":
			o.RoleArn = v
		}
	}
	return o
}

// Bounds on reading events after a failure.
const (
	maxEventPages = 10
	maxReasons    = 15
)

// failure builds an *Error from a waiter error and the stack's events since
// the last operation began.
func failure(ctx context.Context, cfn CloudFormation, op, name, id string, waitErr error) error {
	e := &Error{Op: op, Stack: name, Err: waitErr}
	if ds, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}); err == nil && len(ds.Stacks) > 0 {
		e.Status = string(ds.Stacks[0].StackStatus)
		if r := aws.ToString(ds.Stacks[0].StackStatusReason); r != "" && e.Status != "" {
			e.Reasons = append(e.Reasons, "stack "+e.Status+": "+r)
		}
	}
	reasons, err := failureReasons(ctx, cfn, id)
	if err != nil {
		e.Reasons = append(e.Reasons, "(could not read stack events: "+err.Error()+")")
	}
	e.Reasons = append(reasons, e.Reasons...)
	return e
}

// failureReasons returns the FAILED events of the latest operation, oldest
// (the root cause) first, at most maxReasons. Events come newest first; the
// latest operation starts at the newest stack-level
// CREATE/UPDATE/DELETE_IN_PROGRESS event.
func failureReasons(ctx context.Context, cfn CloudFormation, id string) ([]string, error) {
	var newestFirst []string
	var err error
	p := cloudformation.NewDescribeStackEventsPaginator(cfn, &cloudformation.DescribeStackEventsInput{StackName: aws.String(id)})
pages:
	for page := 0; p.HasMorePages() && page < maxEventPages; page++ {
		var out *cloudformation.DescribeStackEventsOutput
		if out, err = p.NextPage(ctx); err != nil {
			break
		}
		for _, ev := range out.StackEvents {
			st := string(ev.ResourceStatus)
			if aws.ToString(ev.ResourceType) == "AWS::CloudFormation::Stack" && aws.ToString(ev.PhysicalResourceId) == id &&
				(st == "CREATE_IN_PROGRESS" || st == "UPDATE_IN_PROGRESS" || st == "DELETE_IN_PROGRESS") {
				break pages
			}
			if reason := aws.ToString(ev.ResourceStatusReason); strings.HasSuffix(st, "_FAILED") && reason != "" {
				newestFirst = append(newestFirst, fmt.Sprintf("%s (%s) %s: %s", aws.ToString(ev.LogicalResourceId), aws.ToString(ev.ResourceType), st, reason))
			}
		}
	}
	oldestFirst := make([]string, 0, len(newestFirst))
	for i := len(newestFirst) - 1; i >= 0 && len(oldestFirst) < maxReasons; i-- {
		oldestFirst = append(oldestFirst, newestFirst[i])
	}
	return oldestFirst, err
}
