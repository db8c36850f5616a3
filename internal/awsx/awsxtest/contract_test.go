// Unit tests of the AWS contract check. No emulator: the rules are called on
// SDK input structs directly, and the middleware is exercised with real SDK
// clients against an httptest server on loopback (a fake endpoint that counts
// the requests that reach it).
package awsxtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
)

const topic = "arn:aws:sns:us-west-2:111122223333:oha-db01-alerts"

// rulesOf lists the rule ids of the violations of one input.
func rulesOf(params any) []string {
	var out []string
	for _, v := range Check("us-west-2", params) {
		out = append(out, v.Rule)
	}
	return out
}

// notifyInput is the Publish request recovery/notify.go made before issue 8
// was fixed: attributes named outposts-ha:source / outposts-ha:kind on a
// MessageStructure=json message.
func notifyInput() *sns.PublishInput {
	return &sns.PublishInput{
		TopicArn:         aws.String(topic),
		Subject:          aws.String("[outposts-ha] db01: failed over to i-0abc"),
		Message:          aws.String(`{"default":"[outposts-ha] failed over","email":"[outposts-ha] failed over"}`),
		MessageStructure: aws.String("json"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"outposts-ha:source": {DataType: aws.String("String"), StringValue: aws.String("outposts-ha")},
			"outposts-ha:kind":   {DataType: aws.String("String"), StringValue: aws.String("failed-over")},
		},
	}
}

// TestContractCatchesTheSNSAttributeBug: today's (pre-fix) notification is
// refused twice over: the ':' in the attribute names, and attributes on a
// MessageStructure=json message (which SNS would silently drop).
func TestContractCatchesTheSNSAttributeBug(t *testing.T) {
	v := Check("us-west-2", notifyInput())
	rules := rulesOf(notifyInput())
	assert.Contains(t, rules, "sns.attribute-name")
	assert.Contains(t, rules, "sns.attributes-with-json")
	var names []string
	for _, x := range v {
		if x.Rule == "sns.attribute-name" {
			names = append(names, x.Field)
			assert.Equal(t, docSNSAttributes, x.Doc, "the violation names the page")
			assert.Equal(t, "InvalidParameter", x.Code)
		}
	}
	assert.ElementsMatch(t, []string{`MessageAttributes["outposts-ha:source"]`, `MessageAttributes["outposts-ha:kind"]`}, names)

	// The fixed shape: valid names and no JSON structure, or JSON without
	// attributes, passes.
	ok := notifyInput()
	ok.MessageStructure = nil
	ok.Message = aws.String("[outposts-ha] failed over")
	ok.MessageAttributes = map[string]snstypes.MessageAttributeValue{
		"outposts-ha.source": {DataType: aws.String("String"), StringValue: aws.String("outposts-ha")},
	}
	assert.Empty(t, Check("us-west-2", ok))
	ok2 := notifyInput()
	ok2.MessageAttributes = nil
	assert.Empty(t, Check("us-west-2", ok2))
}

// TestContractRefusesBeforeTheWire: a real SNS client (the fake endpoint
// would accept anything) gets a ContractError carrying SNS's error code, the
// request never reaches the endpoint, and the test is failed through the
// reporter.
func TestContractRefusesBeforeTheWire(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult></PublishResponse>`))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
	var mu sync.Mutex
	var failures []string
	cfg.APIOptions = append(cfg.APIOptions, strictWith(func(m string) { mu.Lock(); failures = append(failures, m); mu.Unlock() }))
	c := sns.NewFromConfig(cfg)

	_, err := c.Publish(context.Background(), notifyInput())
	require.Error(t, err)
	var ce *ContractError
	require.True(t, errors.As(err, &ce), "error is a ContractError: %v", err)
	assert.Equal(t, "InvalidParameter", awsx.Code(err), "awsx.Code sees SNS's own code")
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae))
	assert.Contains(t, ae.ErrorMessage(), "sns.attribute-name")
	assert.Contains(t, ae.ErrorMessage(), docSNSAttributes)
	assert.Zero(t, hits.Load(), "the refused request never reached the endpoint")
	require.Len(t, failures, 1)
	assert.Contains(t, failures[0], `outposts-ha:source`)

	// A valid request goes through untouched.
	_, err = c.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("hello"), Subject: aws.String("hi")})
	require.NoError(t, err)
	assert.EqualValues(t, 1, hits.Load())

	// AllowViolations: still refused, but the test is not failed.
	_, err = c.Publish(AllowViolations(context.Background()), notifyInput())
	require.Error(t, err)
	assert.Len(t, failures, 1)
}

// TestStrictFailsTheTest uses a fake testing.TB to show Strict reports
// through t.Errorf, and stays quiet after the test has ended.
func TestStrictFailsTheTest(t *testing.T) {
	ft := &fakeTB{TB: t}
	opt := Strict(ft)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"Version":1,"Tier":"Standard"}`))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
	cfg.APIOptions = append(cfg.APIOptions, opt)
	c := ssm.NewFromConfig(cfg)
	_, err := c.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/oha/db01/lock"), Value: aws.String("{}"),
		Overwrite: aws.Bool(true), Tags: nil})
	require.NoError(t, err)
	assert.Empty(t, ft.errors)
	_, err = c.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/oha/db01/lock"), Value: aws.String(strings.Repeat("x", 4097))})
	require.Error(t, err)
	assert.Equal(t, "ValidationException", awsx.Code(err))
	require.Len(t, ft.errors, 1)
	assert.Contains(t, ft.errors[0], "ssm.value-size")
	ft.runCleanups()
	_, err = c.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/oha/db01/lock"), Value: aws.String(strings.Repeat("x", 4097))})
	require.Error(t, err)
	assert.Len(t, ft.errors, 1, "no t.Errorf after the test ended")
}

type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errors   []string
	cleanups []func()
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, format)
	if len(args) > 0 {
		f.errors[len(f.errors)-1] = args[0].(string)
	}
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) runCleanups() {
	for _, fn := range f.cleanups {
		fn()
	}
}

// TestDryRunThatSucceedsFailsTheTest: an endpoint that performs a DryRun
// StopInstances (answers 200) is not EC2; real EC2 answers DryRunOperation.
func TestDryRunThatSucceedsFailsTheTest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<StopInstancesResponse><instancesSet/></StopInstancesResponse>`))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
	var failures []string
	cfg.APIOptions = append(cfg.APIOptions, strictWith(func(m string) { failures = append(failures, m) }))
	c := ec2.NewFromConfig(cfg)
	_, err := c.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}, DryRun: aws.Bool(true)})
	require.NoError(t, err)
	require.Len(t, failures, 1)
	assert.Contains(t, failures[0], "ec2.dry-run")
	_, err = c.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	require.NoError(t, err)
	assert.Len(t, failures, 1, "a real stop that succeeds is fine")
}
