//go:build integration

// Integration tests: the real AWS SDK against a private moto server
// (scripts/with-moto.sh), through Deploy and Delete exactly as setup and
// cleanup call them. moto's CloudFormation does not model every resource type
// the template uses (see unmodeledTypes); those are covered by cfn-lint and by
// the template tests in render_test.go, and are reported, not dropped.
package stack

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/recovery"
)

// Resource types moto 5.2.5's CloudFormation skips with a warning (it still
// reaches CREATE_COMPLETE). Checked against moto's model list, not assumed.
var unmodeledTypes = map[string]bool{
	"AWS::CloudWatch::Alarm":         true,
	"AWS::SNS::Subscription":         true,
	"AWS::Lambda::EventInvokeConfig": true,
	// moto has no CloudFormation model for Scheduler schedules, and treats
	// wait-condition handles as null models.
	"AWS::Scheduler::Schedule":                 true,
	"AWS::CloudFormation::WaitConditionHandle": true,
}

type clients struct {
	d   Deps
	s3  *s3.Client
	cfn *cloudformation.Client
	lam *lambda.Client
	sqs *sqs.Client
	sns *sns.Client
	iam *iam.Client
}

func newClients(t *testing.T, bundle []byte) clients {
	t.Helper()
	testenv.NeedEmulator(t)
	ctx := context.Background()
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	c := clients{
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = true // emulators serve path-style only
			o.DisableLogOutputChecksumValidationSkipped = true
		}),
		cfn: cloudformation.NewFromConfig(cfg),
		lam: lambda.NewFromConfig(cfg),
		sqs: sqs.NewFromConfig(cfg),
		sns: sns.NewFromConfig(cfg),
		iam: iam.NewFromConfig(cfg),
	}
	c.d = Deps{
		CFN:    c.cfn,
		S3:     c.s3,
		STS:    sts.NewFromConfig(cfg),
		Bundle: func() ([]byte, error) { return bundle, nil },
		Wait:   Wait{MinDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, Timeout: 2 * time.Minute},
	}
	return c
}

func testBundle(t *testing.T, payload string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	require.NoError(t, err)
	_, err = io.WriteString(w, payload)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestDeployUpdateDeleteOnMoto(t *testing.T) {
	bundle := testBundle(t, "test bytes, not a real function "+uuid.NewString())
	c := newClients(t, bundle)
	ctx := context.Background()
	w := "it-" + uuid.NewString()[:8]
	cfg := Config{
		Workload:            w,
		Region:              "us-west-2",
		Policy:              recovery.PolicyConfirmed,
		NotificationEmail:   "ops@example.com",
		InstanceProfileRole: "oha-" + w + "-instance",
		PrimaryOutpostID:    "op-0123456789abcdef0",
		SecondaryOutpostID:  "op-0fedcba9876543210",
		PrimaryInstanceID:   "i-0123456789abcdef0",
	}
	t.Cleanup(func() { _ = Delete(context.Background(), c.d, w) })

	// Create: bucket, upload, stack, waiter.
	out, err := Deploy(ctx, c.d, cfg)
	require.NoError(t, err)
	assert.Equal(t, "CREATE_COMPLETE", out.Status)
	assert.True(t, out.Changed)
	assert.Equal(t, StackName(w), out.StackName)
	assert.Equal(t, BundleKey(bundle), out.BundleKey)
	assert.Equal(t, "outposts-ha-123456789012-us-west-2", out.BundleBucket)
	assert.Equal(t, StatusAlarmName(w), out.StatusAlarmName)
	assert.Equal(t, ConnectedAlarmName(w), out.ConnectedAlarmName)
	assert.Contains(t, out.TopicArn, ":"+TopicName(w))
	assert.Contains(t, out.DeadLetterQueueURL, DLQName(w))
	assert.NotEmpty(t, out.KeyArn)
	assert.Contains(t, out.RoleArn, "oha-"+w+"-us-west-2-failover")

	t.Run("bucket is private, encrypted, owner-enforced, tagged", func(t *testing.T) {
		b := aws.String(out.BundleBucket)
		pab, err := c.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
		require.NoError(t, err)
		p := pab.PublicAccessBlockConfiguration
		assert.True(t, aws.ToBool(p.BlockPublicAcls))
		assert.True(t, aws.ToBool(p.IgnorePublicAcls))
		assert.True(t, aws.ToBool(p.BlockPublicPolicy))
		assert.True(t, aws.ToBool(p.RestrictPublicBuckets))

		enc, err := c.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
		require.NoError(t, err)
		require.NotEmpty(t, enc.ServerSideEncryptionConfiguration.Rules)
		assert.Equal(t, s3types.ServerSideEncryptionAes256, enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)

		own, err := c.s3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
		require.NoError(t, err)
		require.Len(t, own.OwnershipControls.Rules, 1)
		assert.Equal(t, s3types.ObjectOwnershipBucketOwnerEnforced, own.OwnershipControls.Rules[0].ObjectOwnership)

		tg, err := c.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
		require.NoError(t, err)
		assert.Contains(t, tg.TagSet, s3types.Tag{Key: aws.String(naming.TagManaged), Value: aws.String(naming.ManagedBy)})

		obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String(out.BundleKey)})
		require.NoError(t, err)
		got, err := io.ReadAll(obj.Body)
		require.NoError(t, err)
		require.NoError(t, obj.Body.Close())
		assert.Equal(t, bundle, got)
	})

	t.Run("stack is tagged and holds the modeled resources", func(t *testing.T) {
		ds, err := c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(out.StackID)})
		require.NoError(t, err)
		tags := map[string]string{}
		for _, tg := range ds.Stacks[0].Tags {
			tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		assert.Equal(t, w, tags[naming.TagWorkload])

		res, err := c.cfn.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(out.StackID)})
		require.NoError(t, err)
		got := map[string]string{}
		for _, r := range res.StackResources {
			got[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.ResourceType)
		}
		tmpl := parseTemplate(t, mustRender(t, withBundle(cfg, out)).Template)
		for id, r := range tmpl.Resources {
			if unmodeledTypes[r.Type] {
				t.Logf("moto does not model %s (%s): not checked here", id, r.Type)
				continue
			}
			assert.Contains(t, got, id, "moto should have created %s (%s)", id, r.Type)
		}
	})

	t.Run("function as the contract wants it", func(t *testing.T) {
		fn, err := c.lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(FunctionName(w))})
		require.NoError(t, err)
		fc := fn.Configuration
		assert.Equal(t, "provided.al2023", string(fc.Runtime))
		assert.Equal(t, "bootstrap", aws.ToString(fc.Handler))
		// moto's AWS::Lambda::Function drops Architectures, Tags and
		// LoggingConfig (it passes only Description, MemorySize, Publish,
		// Timeout, VpcConfig, Environment, ReservedConcurrentExecutions):
		// render_test.go checks those in the template instead.
		assert.Equal(t, int32(FunctionTimeoutSeconds), aws.ToInt32(fc.Timeout))
		if fc.VpcConfig != nil {
			assert.Empty(t, fc.VpcConfig.SubnetIds, "the function must not run in a VPC")
		}
		env := fc.Environment.Variables
		assert.Equal(t, w, env["OHA_WORKLOAD"])
		assert.Equal(t, "confirmed", env["OHA_POLICY"])
		assert.Equal(t, out.TopicArn, env["OHA_TOPIC_ARN"])
		assert.Equal(t, StatusAlarmName(w), env["OHA_STATUS_ALARM"])
		assert.Equal(t, ConnectedAlarmName(w), env["OHA_CONNECTED_ALARM"])
		assert.Equal(t, cfg.PrimaryOutpostID, env["OHA_PRIMARY_OUTPOST_ID"])
		assert.Equal(t, naming.LaunchTemplate(w, naming.RoleRecovery), env["OHA_RECOVERY_TEMPLATE"])
		assert.Equal(t, "3", env["OHA_DETECTION_PERIODS"])
		assert.Equal(t, "180", env["OHA_FENCE_TIMEOUT_SECONDS"])
		assert.Equal(t, out.DeadLetterQueueURL, env["OHA_DLQ_URL"], "Ref of the queue is its URL")
		assert.Equal(t, cfg.SecondaryOutpostID, env["OHA_SECONDARY_OUTPOST_ID"])
		if fn.Concurrency != nil { // moto passes ReservedConcurrentExecutions through
			assert.Equal(t, int32(ReservedConcurrency), aws.ToInt32(fn.Concurrency.ReservedConcurrentExecutions))
		}
	})

	t.Run("deployed through the service role; roles carry the boundary", func(t *testing.T) {
		ds, err := c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(out.StackID)})
		require.NoError(t, err)
		assert.Equal(t, ServiceRoleArn("aws", "123456789012", w, "us-west-2"), aws.ToString(ds.Stacks[0].RoleARN))
		for _, role := range []string{FunctionRoleName(w, "us-west-2"), KeepAliveRoleName(w, "us-west-2")} {
			r, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
			require.NoError(t, err, role)
			require.NotNil(t, r.Role.PermissionsBoundary, role)
			assert.Equal(t, "arn:aws:iam::123456789012:policy/"+BoundaryPolicyName(w, "us-west-2"), aws.ToString(r.Role.PermissionsBoundary.PermissionsBoundaryArn), role)
		}
	})

	t.Run("topic and queue are KMS-encrypted and tagged", func(t *testing.T) {
		ta, err := c.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(out.TopicArn)})
		require.NoError(t, err)
		assert.NotEmpty(t, ta.Attributes["KmsMasterKeyId"])

		qa, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(out.DeadLetterQueueURL),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
		})
		require.NoError(t, err)
		assert.NotEmpty(t, qa.Attributes["KmsMasterKeyId"])
		assert.Equal(t, "1209600", qa.Attributes["MessageRetentionPeriod"])
		qt, err := c.sqs.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(out.DeadLetterQueueURL)})
		require.NoError(t, err)
		assert.Equal(t, w, qt.Tags[naming.TagWorkload])
	})

	t.Run("role policies are the rendered ones", func(t *testing.T) {
		role := "oha-" + w + "-us-west-2-failover"
		pols, err := c.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
		require.NoError(t, err)
		assert.Contains(t, pols.PolicyNames, "failover")
		p, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("failover")})
		require.NoError(t, err)
		// moto returns a CloudFormation-created inline policy as a Python
		// repr, not JSON (real IAM returns URL-encoded JSON): compare text.
		doc := aws.ToString(p.PolicyDocument)
		if u, err := url.QueryUnescape(doc); err == nil {
			doc = u
		}
		assert.Contains(t, doc, "arn:aws:ssm:us-west-2:123456789012:parameter/outposts-ha/"+w+"/*")
		assert.NotContains(t, doc, "iam:PassRole", "PassRole lives in the conditional launch policy")
		assert.NotContains(t, doc, "ec2:StopInstances", "fencing lives in the conditional launch policy: notify never stops")

		lp, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("launch-recovery")})
		require.NoError(t, err, "confirmed may launch: the launch policy must be attached")
		ldoc, err := url.QueryUnescape(aws.ToString(lp.PolicyDocument))
		require.NoError(t, err)
		assert.Contains(t, ldoc, "arn:aws:iam::123456789012:role/oha-"+w+"-instance")
		assert.Contains(t, ldoc, "ec2:StopInstances")
		assert.Contains(t, ldoc, "aws:ResourceTag/outposts-ha:workload", "stops and launches are tied to the workload tag")
	})

	// An update with no changes is a success that changes nothing.
	again, err := Deploy(ctx, c.d, cfg)
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Equal(t, out.StackID, again.StackID)
	assert.Equal(t, "CREATE_COMPLETE", again.Status)

	// A changed parameter updates the stack.
	changed := cfg
	changed.AlarmPeriods, changed.AlarmDatapoints = 5, 4
	changed.PrimaryInstanceID = "i-0aaaaaaaaaaaaaaaa"
	upd, err := Deploy(ctx, c.d, changed)
	require.NoError(t, err)
	assert.True(t, upd.Changed)
	assert.Equal(t, "UPDATE_COMPLETE", upd.Status)
	assert.Equal(t, out.StackID, upd.StackID)
	ds, err := c.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(upd.StackID)})
	require.NoError(t, err)
	params := map[string]string{}
	for _, p := range ds.Stacks[0].Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	assert.Equal(t, "5", params[pPeriods])
	assert.Equal(t, "4", params[pDatapoints])
	assert.Equal(t, "i-0aaaaaaaaaaaaaaaa", params[pInstance])
	fn, err := c.lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(FunctionName(w))})
	require.NoError(t, err)
	assert.Equal(t, "5", fn.Configuration.Environment.Variables["OHA_DETECTION_PERIODS"])

	// Delete removes it; deleting again is a success.
	require.NoError(t, Delete(ctx, c.d, w))
	st, err := describe(ctx, c.cfn, StackName(w))
	require.NoError(t, err)
	assert.Nil(t, st)
	_, err = c.lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(FunctionName(w))})
	assert.True(t, awsx.IsNotFound(err), "function should be gone, got %v", err)
	require.NoError(t, Delete(ctx, c.d, w))
}

// A second workload in the same account reuses the bucket and, for the same
// bundle, the uploaded object.
func TestDeploySharesBucketAndBundle(t *testing.T) {
	bundle := testBundle(t, "shared "+uuid.NewString())
	c := newClients(t, bundle)
	ctx := context.Background()
	var outs []Outputs
	for i := 0; i < 2; i++ {
		w := "sh-" + uuid.NewString()[:8]
		t.Cleanup(func() { _ = Delete(context.Background(), c.d, w) })
		out, err := Deploy(ctx, c.d, Config{
			Workload: w, Region: "us-west-2", Policy: recovery.PolicyNotify,
			NotificationEmail: "ops@example.com", InstanceProfileRole: "shared-role",
			PrimaryInstanceID: "i-0123456789abcdef0",
		})
		require.NoError(t, err)
		assert.Equal(t, "", out.ConnectedAlarmName)
		outs = append(outs, out)
	}
	assert.Equal(t, outs[0].BundleBucket, outs[1].BundleBucket)
	assert.Equal(t, outs[0].BundleKey, outs[1].BundleKey)
	list, err := c.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(outs[0].BundleBucket), Prefix: aws.String(outs[0].BundleKey)})
	require.NoError(t, err)
	assert.Len(t, list.Contents, 1)
}

func TestDeleteAbsentStackOnMoto(t *testing.T) {
	c := newClients(t, nil)
	require.NoError(t, Delete(context.Background(), c.d, "absent-"+uuid.NewString()[:8]))
}

func withBundle(c Config, o Outputs) Config {
	c.BundleBucket, c.BundleKey = o.BundleBucket, o.BundleKey
	return c
}
