// Unit tests of Deploy/Delete decisions with fakes behind the package's small
// CloudFormation/S3/STS interfaces. They cover the states moto cannot be
// driven into on demand (ROLLBACK_COMPLETE, a stack busy with another
// operation, a failed create with events, a bucket owned by someone else,
// errors that are not "does not exist"). The real SDK paths run against moto
// in deploy_integration_test.go. Fakes embed the interface, so any call a test
// did not expect panics.
package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/assets"
	"github.com/outposts-ha/outposts-ha/recovery"
)

const testStackID = "arn:aws:cloudformation:us-west-2:123456789012:stack/autorestart-web01/0000"

func absentErr(name string) error {
	return &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + name + " does not exist"}
}

// fakeCFN is a tiny CloudFormation: one stack whose status each call moves
// along a script.
type fakeCFN struct {
	CloudFormation
	status       cfntypes.StackStatus // "" = no stack
	afterCreate  []cfntypes.StackStatus
	createRuns   [][]cfntypes.StackStatus // when set, each CreateStack takes the next script (else afterCreate)
	createInputs []*cloudformation.CreateStackInput
	afterUpdate  []cfntypes.StackStatus
	afterDelete  []cfntypes.StackStatus
	pending      []cfntypes.StackStatus // statuses the next DescribeStacks calls report, in order
	describeErr  error
	updateErr    error
	events       []cfntypes.StackEvent
	calls        []string
	createInput  *cloudformation.CreateStackInput
	updateInput  *cloudformation.UpdateStackInput
	describeSeen int
}

func (f *fakeCFN) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.calls = append(f.calls, "DescribeStacks")
	f.describeSeen++
	if f.describeErr != nil {
		return nil, f.describeErr
	}
	if len(f.pending) > 0 {
		f.status, f.pending = f.pending[0], f.pending[1:]
	}
	if f.status == "" || (f.status == cfntypes.StackStatusDeleteComplete && aws.ToString(in.StackName) != testStackID) {
		return nil, absentErr(aws.ToString(in.StackName))
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{
		StackName:   aws.String("autorestart-web01"),
		StackId:     aws.String(testStackID),
		StackStatus: f.status,
		Outputs: []cfntypes.Output{
			{OutputKey: aws.String("TopicArn"), OutputValue: aws.String("arn:aws:sns:us-west-2:123456789012:oha-web01-alerts")},
			{OutputKey: aws.String("ConnectedAlarmName"), OutputValue: aws.String("")},
		},
	}}}, nil
}

func (f *fakeCFN) CreateStack(_ context.Context, in *cloudformation.CreateStackInput, _ ...func(*cloudformation.Options)) (*cloudformation.CreateStackOutput, error) {
	f.calls = append(f.calls, "CreateStack")
	f.createInput = in
	f.createInputs = append(f.createInputs, in)
	f.status, f.pending = cfntypes.StackStatusCreateInProgress, f.afterCreate
	if len(f.createRuns) > 0 {
		f.pending, f.createRuns = f.createRuns[0], f.createRuns[1:]
	}
	return &cloudformation.CreateStackOutput{StackId: aws.String(testStackID)}, nil
}

func (f *fakeCFN) UpdateStack(_ context.Context, in *cloudformation.UpdateStackInput, _ ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error) {
	f.calls = append(f.calls, "UpdateStack")
	f.updateInput = in
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	f.status, f.pending = cfntypes.StackStatusUpdateInProgress, f.afterUpdate
	return &cloudformation.UpdateStackOutput{StackId: aws.String(testStackID)}, nil
}

func (f *fakeCFN) DeleteStack(_ context.Context, in *cloudformation.DeleteStackInput, _ ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error) {
	f.calls = append(f.calls, "DeleteStack")
	f.status, f.pending = cfntypes.StackStatusDeleteInProgress, f.afterDelete
	return &cloudformation.DeleteStackOutput{}, nil
}

func (f *fakeCFN) DescribeStackEvents(_ context.Context, _ *cloudformation.DescribeStackEventsInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStackEventsOutput, error) {
	f.calls = append(f.calls, "DescribeStackEvents")
	return &cloudformation.DescribeStackEventsOutput{StackEvents: f.events}, nil
}

func (f *fakeCFN) called(name string) int {
	n := 0
	for _, c := range f.calls {
		if c == name {
			n++
		}
	}
	return n
}

type fakeS3 struct {
	S3
	headBucketErr error
	headObjectErr error
	putObjectErr  error
	calls         []string
	createInput   *s3.CreateBucketInput
	putInput      *s3.PutObjectInput
}

func (f *fakeS3) rec(name string) { f.calls = append(f.calls, name) }

func (f *fakeS3) HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	f.rec("HeadBucket")
	return &s3.HeadBucketOutput{}, f.headBucketErr
}

func (f *fakeS3) CreateBucket(_ context.Context, in *s3.CreateBucketInput, _ ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	f.rec("CreateBucket")
	f.createInput = in
	return &s3.CreateBucketOutput{}, nil
}

func (f *fakeS3) PutPublicAccessBlock(context.Context, *s3.PutPublicAccessBlockInput, ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	f.rec("PutPublicAccessBlock")
	return &s3.PutPublicAccessBlockOutput{}, nil
}

func (f *fakeS3) PutBucketOwnershipControls(context.Context, *s3.PutBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error) {
	f.rec("PutBucketOwnershipControls")
	return &s3.PutBucketOwnershipControlsOutput{}, nil
}

func (f *fakeS3) PutBucketEncryption(context.Context, *s3.PutBucketEncryptionInput, ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	f.rec("PutBucketEncryption")
	return &s3.PutBucketEncryptionOutput{}, nil
}

func (f *fakeS3) PutBucketTagging(context.Context, *s3.PutBucketTaggingInput, ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error) {
	f.rec("PutBucketTagging")
	return &s3.PutBucketTaggingOutput{}, nil
}

func (f *fakeS3) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	f.rec("HeadObject")
	return &s3.HeadObjectOutput{}, f.headObjectErr
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.rec("PutObject")
	f.putInput = in
	return &s3.PutObjectOutput{}, f.putObjectErr
}

type fakeSTS struct{ STS }

func (fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Account: aws.String("123456789012")}, nil
}

var notFound = &smithy.GenericAPIError{Code: "NotFound", Message: "Not Found"}

func deployConfig() Config {
	return Config{
		Workload: "web01", Region: "us-west-2", Policy: recovery.PolicyConfirmed,
		NotificationEmail: "ops@example.com", InstanceProfileRole: "web01-instance",
		PrimaryInstanceID: "i-0123456789abcdef0",
	}
}

func testDeps(cfn *fakeCFN, s *fakeS3) Deps {
	n := 0
	return Deps{
		CFN: cfn, S3: s, STS: fakeSTS{},
		Bundle: func() ([]byte, error) { return []byte("zip bytes"), nil },
		Token:  func() string { n++; return fmt.Sprintf("tok-%d", n) },
		Wait:   Wait{MinDelay: time.Millisecond, MaxDelay: time.Millisecond, Timeout: time.Minute},
	}
}

func TestIsStackAbsent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"does not exist", absentErr("autorestart-web01"), true},
		{"by id", absentErr(testStackID), true},
		{"other validation error", &smithy.GenericAPIError{Code: "ValidationError", Message: "1 validation error detected: Value 'x y' at 'stackName'"}, false},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDenied", Message: "Stack with id x does not exist"}, false},
		{"throttled", &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}, false},
		{"plain error", errors.New("Stack with id x does not exist"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, isStackAbsent(tt.err))
			assert.Equal(t, tt.want, isStackAbsent(fmt.Errorf("wrapped: %w", tt.err)) && tt.err != nil)
		})
	}
}

func TestDeployCreatesWhenAbsent(t *testing.T) {
	cfn := &fakeCFN{afterCreate: []cfntypes.StackStatus{cfntypes.StackStatusCreateInProgress, cfntypes.StackStatusCreateComplete}}
	s := &fakeS3{headBucketErr: notFound, headObjectErr: notFound}
	out, err := Deploy(context.Background(), testDeps(cfn, s), deployConfig())
	require.NoError(t, err)
	assert.True(t, out.Changed)
	assert.Equal(t, "CREATE_COMPLETE", out.Status)
	assert.Equal(t, "arn:aws:sns:us-west-2:123456789012:oha-web01-alerts", out.TopicArn)
	assert.Equal(t, "outposts-ha-123456789012-us-west-2", out.BundleBucket)
	assert.Equal(t, BundleKey([]byte("zip bytes")), out.BundleKey)

	in := cfn.createInput
	require.NotNil(t, in)
	assert.Equal(t, "autorestart-web01", aws.ToString(in.StackName))
	assert.Equal(t, []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam}, in.Capabilities)
	assert.Equal(t, "tok-1", aws.ToString(in.ClientRequestToken))
	assert.Equal(t, "arn:aws:iam::123456789012:role/oha-web01-us-west-2-cfn", aws.ToString(in.RoleARN), "deployed through the service role")
	assert.Equal(t, stackTags("web01"), in.Tags)
	params := map[string]string{}
	for _, p := range in.Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	assert.Equal(t, out.BundleBucket, params[pBucket])
	assert.Equal(t, out.BundleKey, params[pKey])
	assert.Equal(t, "i-0123456789abcdef0", params[pInstance])
	assert.NotContains(t, params, Placeholder)

	assert.Equal(t, []string{"HeadBucket", "CreateBucket", "PutPublicAccessBlock", "PutBucketOwnershipControls",
		"PutBucketEncryption", "PutBucketTagging", "HeadObject", "PutObject"}, s.calls)
	assert.Equal(t, s3types.ObjectOwnershipBucketOwnerEnforced, s.createInput.ObjectOwnership)
	assert.Equal(t, s3types.BucketLocationConstraint("us-west-2"), s.createInput.CreateBucketConfiguration.LocationConstraint)
	assert.Equal(t, "*", aws.ToString(s.putInput.IfNoneMatch))
	assert.NotEmpty(t, aws.ToString(s.putInput.ChecksumSHA256))
	assert.Equal(t, "lambda/", out.BundleKey[:7])
}

func TestDeployUsEast1BucketHasNoLocationConstraint(t *testing.T) {
	cfn := &fakeCFN{afterCreate: []cfntypes.StackStatus{cfntypes.StackStatusCreateComplete}}
	s := &fakeS3{headBucketErr: notFound, headObjectErr: nil}
	c := deployConfig()
	c.Region = "us-east-1"
	_, err := Deploy(context.Background(), testDeps(cfn, s), c)
	require.NoError(t, err)
	assert.Nil(t, s.createInput.CreateBucketConfiguration)
	assert.NotContains(t, s.calls, "PutObject", "an uploaded bundle is not uploaded again")
}

func TestDeployRefusesForeignBucket(t *testing.T) {
	cfn := &fakeCFN{}
	s := &fakeS3{headBucketErr: &smithy.GenericAPIError{Code: "Forbidden", Message: "Forbidden"}}
	_, err := Deploy(context.Background(), testDeps(cfn, s), deployConfig())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "belongs to account 123456789012")
	assert.Equal(t, []string{"HeadBucket"}, s.calls, "nothing is created or uploaded")
	assert.Empty(t, cfn.calls)
}

func TestDeployNoUpdatesIsSuccess(t *testing.T) {
	cfn := &fakeCFN{status: cfntypes.StackStatusUpdateComplete,
		updateErr: &smithy.GenericAPIError{Code: "ValidationError", Message: "No updates are to be performed."}}
	out, err := Deploy(context.Background(), testDeps(cfn, &fakeS3{}), deployConfig())
	require.NoError(t, err)
	assert.False(t, out.Changed)
	assert.Equal(t, "UPDATE_COMPLETE", out.Status)
	assert.Equal(t, 1, cfn.called("UpdateStack"))
	assert.Equal(t, 0, cfn.called("CreateStack"))
	assert.Equal(t, testStackID, aws.ToString(cfn.updateInput.StackName), "updates address the stack by ID")
	assert.Equal(t, "arn:aws:iam::123456789012:role/oha-web01-us-west-2-cfn", aws.ToString(cfn.updateInput.RoleARN), "updated through the service role")
}

func TestDeployUpdateOtherValidationErrorFails(t *testing.T) {
	cfn := &fakeCFN{status: cfntypes.StackStatusCreateComplete,
		updateErr: &smithy.GenericAPIError{Code: "ValidationError", Message: "Template format error"}}
	_, err := Deploy(context.Background(), testDeps(cfn, &fakeS3{}), deployConfig())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Template format error")
}

func TestDeployDescribeErrorIsNotAbsence(t *testing.T) {
	for _, e := range []error{
		&smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform cloudformation:DescribeStacks"},
		&smithy.GenericAPIError{Code: "ValidationError", Message: "Rate exceeded"},
	} {
		cfn := &fakeCFN{describeErr: e}
		_, err := Deploy(context.Background(), testDeps(cfn, &fakeS3{}), deployConfig())
		require.Error(t, err)
		assert.ErrorIs(t, err, e)
		assert.Equal(t, 0, cfn.called("CreateStack"), "an unreadable stack is never treated as absent")
	}
}

func TestDeployRecreatesRollbackComplete(t *testing.T) {
	cfn := &fakeCFN{
		status:      cfntypes.StackStatusRollbackComplete,
		afterDelete: []cfntypes.StackStatus{cfntypes.StackStatusDeleteInProgress, cfntypes.StackStatusDeleteComplete},
		afterCreate: []cfntypes.StackStatus{cfntypes.StackStatusCreateComplete},
	}
	out, err := Deploy(context.Background(), testDeps(cfn, &fakeS3{}), deployConfig())
	require.NoError(t, err)
	assert.Equal(t, "CREATE_COMPLETE", out.Status)
	require.Len(t, out.Notes, 1)
	assert.Contains(t, out.Notes[0], "ROLLBACK_COMPLETE")
	assert.Contains(t, out.Notes[0], "deleting it and creating it again")
	assert.Equal(t, 1, cfn.called("DeleteStack"))
	assert.Equal(t, 1, cfn.called("CreateStack"))
	assert.Equal(t, 0, cfn.called("UpdateStack"))
}

func TestDeployWaitsForBusyStack(t *testing.T) {
	cfn := &fakeCFN{
		status:      cfntypes.StackStatusUpdateInProgress,
		pending:     []cfntypes.StackStatus{cfntypes.StackStatusUpdateInProgress, cfntypes.StackStatusUpdateInProgress, cfntypes.StackStatusUpdateCompleteCleanupInProgress, cfntypes.StackStatusUpdateComplete},
		afterUpdate: []cfntypes.StackStatus{cfntypes.StackStatusUpdateComplete},
	}
	out, err := Deploy(context.Background(), testDeps(cfn, &fakeS3{}), deployConfig())
	require.NoError(t, err)
	assert.Equal(t, "UPDATE_COMPLETE", out.Status)
	assert.True(t, out.Changed)
	require.NotEmpty(t, out.Notes)
	assert.Contains(t, out.Notes[0], "was busy")
	assert.Equal(t, 1, cfn.called("UpdateStack"))
}

func TestDeployRefusesBrokenStates(t *testing.T) {
	for _, st := range []cfntypes.StackStatus{cfntypes.StackStatusUpdateRollbackFailed, cfntypes.StackStatusRollbackFailed, cfntypes.StackStatusDeleteFailed} {
		cfn := &fakeCFN{status: st}
		_, err := Deploy(context.Background(), testDeps(cfn, &fakeS3{}), deployConfig())
		var se *Error
		require.ErrorAs(t, err, &se, st)
		assert.Equal(t, string(st), se.Status)
		assert.Equal(t, 0, cfn.called("UpdateStack")+cfn.called("CreateStack")+cfn.called("DeleteStack"), st)
	}
}

func TestDeployCreateFailureReportsEvents(t *testing.T) {
	ev := func(id, typ string, st cfntypes.ResourceStatus, reason string) cfntypes.StackEvent {
		phys := "phys-" + id
		if typ == "AWS::CloudFormation::Stack" {
			phys = testStackID
		}
		return cfntypes.StackEvent{LogicalResourceId: aws.String(id), ResourceType: aws.String(typ), ResourceStatus: st,
			ResourceStatusReason: aws.String(reason), PhysicalResourceId: aws.String(phys)}
	}
	cfn := &fakeCFN{
		afterCreate: []cfntypes.StackStatus{cfntypes.StackStatusCreateInProgress, cfntypes.StackStatusRollbackInProgress, cfntypes.StackStatusRollbackComplete},
		// Newest first, as CloudFormation returns them; the last two belong to an older operation.
		events: []cfntypes.StackEvent{
			ev("autorestart-web01", "AWS::CloudFormation::Stack", cfntypes.ResourceStatusRollbackComplete, ""),
			ev("FailoverFunction", "AWS::Lambda::Function", cfntypes.ResourceStatusDeleteComplete, ""),
			ev("FunctionRole", "AWS::IAM::Role", cfntypes.ResourceStatusCreateFailed, "Resource creation cancelled"),
			ev("FailoverFunction", "AWS::Lambda::Function", cfntypes.ResourceStatusCreateFailed, "Error occurred while GetObject. S3 Error Code: NoSuchKey"),
			ev("autorestart-web01", "AWS::CloudFormation::Stack", cfntypes.ResourceStatusCreateInProgress, "User Initiated"),
			ev("Old", "AWS::SNS::Topic", cfntypes.ResourceStatusCreateFailed, "an older failure"),
			ev("autorestart-web01", "AWS::CloudFormation::Stack", cfntypes.ResourceStatusCreateInProgress, "User Initiated"),
		},
	}
	_, err := Deploy(context.Background(), testDeps(cfn, &fakeS3{}), deployConfig())
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "create", se.Op)
	assert.Equal(t, "ROLLBACK_COMPLETE", se.Status)
	require.Len(t, se.Reasons, 2)
	assert.True(t, strings.HasPrefix(se.Reasons[0], "FailoverFunction (AWS::Lambda::Function) CREATE_FAILED: Error occurred while GetObject"), se.Reasons[0])
	assert.Contains(t, se.Reasons[1], "Resource creation cancelled")
	assert.NotContains(t, err.Error(), "an older failure")
	assert.ErrorIs(t, err, errWaiterFailure)
}

func TestDeployRejectsBadInputBeforeAnyCall(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no instance", func(c *Config) { c.PrimaryInstanceID = "" }, "primary instance id is empty"},
		{"bad email", func(c *Config) { c.NotificationEmail = "nope" }, "notification email"},
		{"bad workload", func(c *Config) { c.Workload = "Web 01" }, "workload name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := deployConfig()
			tt.edit(&c)
			d := testDeps(&fakeCFN{}, &fakeS3{})
			d.STS = nil // any AWS call would panic
			_, err := Deploy(context.Background(), d, c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDeployMissingBundle(t *testing.T) {
	d := testDeps(&fakeCFN{}, &fakeS3{})
	d.STS = nil
	d.Bundle = func() ([]byte, error) { return nil, assets.ErrBundleMissing }
	_, err := Deploy(context.Background(), d, deployConfig())
	require.ErrorIs(t, err, assets.ErrBundleMissing)
	assert.Contains(t, err.Error(), "make build")
}

func TestDeleteAbsentIsSuccess(t *testing.T) {
	cfn := &fakeCFN{}
	require.NoError(t, Delete(context.Background(), testDeps(cfn, nil), "web01"))
	assert.Equal(t, 0, cfn.called("DeleteStack"))
}

func TestDeleteWaitsUntilGone(t *testing.T) {
	cfn := &fakeCFN{status: cfntypes.StackStatusUpdateComplete,
		afterDelete: []cfntypes.StackStatus{cfntypes.StackStatusDeleteInProgress, cfntypes.StackStatusDeleteInProgress, cfntypes.StackStatusDeleteComplete}}
	require.NoError(t, Delete(context.Background(), testDeps(cfn, nil), "web01"))
	assert.Equal(t, 1, cfn.called("DeleteStack"))
	assert.Equal(t, cfntypes.StackStatusDeleteComplete, cfn.status)
}

func TestDeleteFailureReportsEvents(t *testing.T) {
	cfn := &fakeCFN{status: cfntypes.StackStatusCreateComplete,
		afterDelete: []cfntypes.StackStatus{cfntypes.StackStatusDeleteFailed},
		events: []cfntypes.StackEvent{
			{LogicalResourceId: aws.String("DeadLetterQueue"), ResourceType: aws.String("AWS::SQS::Queue"), ResourceStatus: cfntypes.ResourceStatusDeleteFailed,
				ResourceStatusReason: aws.String("Access denied"), PhysicalResourceId: aws.String("q")},
			{LogicalResourceId: aws.String("autorestart-web01"), ResourceType: aws.String("AWS::CloudFormation::Stack"), ResourceStatus: cfntypes.ResourceStatusDeleteInProgress,
				PhysicalResourceId: aws.String(testStackID)},
		}}
	err := Delete(context.Background(), testDeps(cfn, nil), "web01")
	var se *Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "delete", se.Op)
	assert.Equal(t, []string{"DeadLetterQueue (AWS::SQS::Queue) DELETE_FAILED: Access denied"}, se.Reasons)
}

func TestDeleteDescribeErrorIsNotAbsence(t *testing.T) {
	e := &smithy.GenericAPIError{Code: "AccessDenied", Message: "denied"}
	cfn := &fakeCFN{describeErr: e}
	err := Delete(context.Background(), testDeps(cfn, nil), "web01")
	assert.ErrorIs(t, err, e)
}

func TestDeleteValidatesWorkload(t *testing.T) {
	err := Delete(context.Background(), Deps{}, "../x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "workload name")
}

func TestWaitDefaults(t *testing.T) {
	w := Wait{}.withDefaults()
	assert.Equal(t, Wait{MinDelay: 5 * time.Second, MaxDelay: 30 * time.Second, Timeout: 30 * time.Minute}, w)
	w = Wait{MinDelay: time.Minute, MaxDelay: time.Second}.withDefaults()
	assert.Equal(t, time.Minute, w.MaxDelay, "max never below min")
}
