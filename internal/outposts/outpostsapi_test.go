package outposts_test

// The Outposts client (the REAL aws-sdk-go-v2 Outposts client behind
// OutpostsClient) against the outpoststest FAKE of the Outposts API (a local
// HTTP server on 127.0.0.1, not AWS), reached the way setup reaches it: an
// SDK config from the default chain with AWS_ENDPOINT_URL_OUTPOSTS. The fake
// refuses malformed requests and fails the test at cleanup, so these tests
// also check that the fake accepts exactly what the SDK sends.

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	sdkoutposts "github.com/aws/aws-sdk-go-v2/service/outposts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/outposts/outpoststest"
)

// isolate keeps the developer's AWS files and variables out of the test.
func isolate(t *testing.T) {
	for _, k := range []string{"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OUTPOSTS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTESTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-west-2")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func client(t *testing.T, fake *outpoststest.OutpostsServer) *outposts.OutpostsClient {
	t.Helper()
	isolate(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // must lose to the service-specific variable
	t.Setenv("AWS_ENDPOINT_URL_OUTPOSTS", fake.URL)
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(t, err)
	// The SDK's standard retryer as setup gets it, without the waits.
	return outposts.NewOutpostsClient(cfg, func(o *sdkoutposts.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
}

func TestOutpostsClientPagesAndShapes(t *testing.T) {
	fake := outpoststest.NewOutpostsServer(t)
	srv := outpoststest.Outpost("srv-a", "us-west-2", "111122223333", outposts.HardwareServer)
	rack := outpoststest.Outpost("rack-b", "us-west-2", "111122223333", outposts.HardwareRack)
	srv2 := outpoststest.Outpost("srv-c", "us-west-2", "111122223333", outposts.HardwareServer)
	fake.Add(srv, "c6id.2xlarge", "c6id.xlarge", "m6id.large")
	fake.Add(rack, "m5.large")
	fake.Add(srv2)
	c := client(t, fake)
	ctx := context.Background()

	p1, err := c.ListOutposts(ctx, 100, "")
	require.NoError(t, err)
	require.Len(t, p1.Outposts, 2, "the fake pages by two")
	require.NotEmpty(t, p1.NextToken)
	p2, err := c.ListOutposts(ctx, 100, p1.NextToken)
	require.NoError(t, err)
	require.Len(t, p2.Outposts, 1)
	assert.Empty(t, p2.NextToken)
	assert.Equal(t, srv, p1.Outposts[0], "every field survives the JSON round trip")
	assert.Equal(t, "SERVER", p1.Outposts[0].SupportedHardwareType)

	got, err := c.GetOutpost(ctx, srv.OutpostArn) // by ARN: "/" travels escaped
	require.NoError(t, err)
	assert.Equal(t, srv, *got)

	var types []string
	tok := ""
	for range 5 {
		p, err := c.GetOutpostInstanceTypes(ctx, srv.OutpostId, 1000, tok)
		require.NoError(t, err)
		assert.Equal(t, srv.OutpostArn, p.OutpostArn)
		for _, it := range p.InstanceTypes {
			types = append(types, it.InstanceType)
		}
		if tok = p.NextToken; tok == "" {
			break
		}
	}
	assert.Equal(t, []string{"c6id.2xlarge", "c6id.xlarge", "m6id.large"}, types)

	calls := fake.Calls()
	require.NotEmpty(t, calls)
	assert.Equal(t, "ListOutposts", calls[0].Action)
}

func TestOutpostsClientErrorsCarryAWSCodes(t *testing.T) {
	fake := outpoststest.NewOutpostsServer(t)
	c := client(t, fake)
	ctx := context.Background()
	_, err := c.GetOutpost(ctx, "op-0123456789abcdef0")
	require.Error(t, err)
	assert.Equal(t, "NotFoundException", awsx.Code(err))
	assert.True(t, awsx.IsNotFound(err))
	assert.Contains(t, err.Error(), "operation error Outposts: GetOutpost")

	fake.Deny("ListOutposts")
	_, err = c.ListOutposts(ctx, 10, "")
	assert.Equal(t, "AccessDeniedException", awsx.Code(err))

	_, err = c.ListOutposts(ctx, 1001, "")
	require.Error(t, err, "MaxResults above 1000 is refused before sending")
	assert.Empty(t, fake.Refused())
}

func TestOutpostsClientRetriesThrottlingBounded(t *testing.T) {
	fake := outpoststest.NewOutpostsServer(t)
	fake.Add(outpoststest.Outpost("srv-a", "us-west-2", "111122223333", outposts.HardwareServer))
	c := client(t, fake)
	fake.InjectFault("ListOutposts", "ThrottlingException", 429, 2)
	p, err := c.ListOutposts(context.Background(), 10, "")
	require.NoError(t, err, "two throttles, third attempt answers")
	assert.Len(t, p.Outposts, 1)

	fake.InjectFault("ListOutposts", "InternalServerException", 500, 10)
	_, err = c.ListOutposts(context.Background(), 10, "")
	assert.Equal(t, "InternalServerException", awsx.Code(err))
	n := 0
	for _, call := range fake.Calls() {
		if call.Status == 500 {
			n++
		}
	}
	assert.Equal(t, 3, n, "at most the SDK's 3 attempts")

	fake.InjectFault("GetOutpost", "ValidationException", 400, 1)
	_, err = c.GetOutpost(context.Background(), "op-0123456789abcdef0")
	assert.Equal(t, "ValidationException", awsx.Code(err), "a 4xx is not retried")
}

// The fake refuses what AWS refuses: unsigned requests, bad IDs, foreign
// tokens and unknown parameters.
func TestOutpostsFakeRefusesMalformedRequests(t *testing.T) {
	fake := outpoststest.NewOutpostsServer(t)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/outposts", 403},           // unsigned
		{"/outposts/not-an-id", 403}, // unsigned
		{"/nothing", 404},
	} {
		resp, err := http.Get(fake.URL + c.path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, c.status, resp.StatusCode, c.path)
	}
	c := client(t, fake)
	_, err := c.GetOutpost(context.Background(), "op-XYZ")
	assert.Equal(t, "ValidationException", awsx.Code(err))
	_, err = c.ListOutposts(context.Background(), 10, "5##GetOutpostInstanceTypes.op-0123456789abcdef0")
	assert.Equal(t, "ValidationException", awsx.Code(err))
	refused := fake.Refused()
	assert.Len(t, refused, 4, "%v", refused)
}

// urlRecorder is an HTTP client that records the URL it was asked for and
// answers with an error: nothing leaves the machine.
type urlRecorder struct{ hosts []string }

func (r *urlRecorder) Do(req *http.Request) (*http.Response, error) {
	r.hosts = append(r.hosts, req.URL.Scheme+"://"+req.URL.Host)
	return nil, errors.New("urlRecorder: not sent")
}

// The SDK resolves the Outposts endpoint with the configured-endpoints
// precedence (service variable, then AWS_ENDPOINT_URL, then the Regional
// endpoint; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS skips the first two). The
// HTTP client is a recorder, so no request is sent.
func TestOutpostsEndpointPrecedence(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	endpoint := func() string {
		t.Helper()
		rec := &urlRecorder{}
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(1))
		require.NoError(t, err)
		cfg.HTTPClient = rec
		_, err = outposts.NewOutpostsClient(cfg).GetOutpost(ctx, "op-0123456789abcdef0")
		require.Error(t, err)
		require.Len(t, rec.hosts, 1, "one attempt")
		return rec.hosts[0]
	}
	assert.Equal(t, "https://outposts.us-west-2.amazonaws.com", endpoint())

	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	assert.Equal(t, "http://127.0.0.1:4566", endpoint())

	t.Setenv("AWS_ENDPOINT_URL_OUTPOSTS", "http://127.0.0.1:9999")
	assert.Equal(t, "http://127.0.0.1:9999", endpoint())

	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	assert.Equal(t, "https://outposts.us-west-2.amazonaws.com", endpoint())

	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_REGION", "cn-north-1")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_OUTPOSTS", "")
	assert.Equal(t, "https://outposts.cn-north-1.amazonaws.com.cn", endpoint())
}

// The adapter refuses what it can before sending (empty ID, MaxResults out
// of range) and reports an answer without an Outpost. A stand-in SDK client
// counts the calls.
func TestOutpostsClientRefusesBeforeSending(t *testing.T) {
	sdk := &countingSDK{}
	c := outposts.NewOutpostsClientFrom(sdk)
	ctx := context.Background()
	_, err := c.GetOutpost(ctx, "")
	assert.ErrorContains(t, err, "empty Outpost ID")
	_, err = c.GetOutpostInstanceTypes(ctx, "", 10, "")
	assert.ErrorContains(t, err, "empty Outpost ID")
	_, err = c.GetOutpostInstanceTypes(ctx, "op-0123456789abcdef0", 1001, "")
	assert.ErrorContains(t, err, "MaxResults 1001, allowed 1 to 1000")
	_, err = c.ListOutposts(ctx, -1, "")
	assert.ErrorContains(t, err, "MaxResults -1")
	assert.Zero(t, sdk.n, "nothing sent")
	_, err = c.GetOutpost(ctx, "op-0123456789abcdef0")
	assert.ErrorContains(t, err, "the answer has no Outpost")
	p, err := c.ListOutposts(ctx, 0, "")
	require.NoError(t, err)
	assert.Nil(t, sdk.lastList.MaxResults, "0 = the service default: MaxResults not sent")
	assert.Nil(t, sdk.lastList.NextToken)
	assert.Empty(t, p.Outposts)
}

type countingSDK struct {
	n        int
	lastList *sdkoutposts.ListOutpostsInput
}

func (s *countingSDK) ListOutposts(_ context.Context, in *sdkoutposts.ListOutpostsInput, _ ...func(*sdkoutposts.Options)) (*sdkoutposts.ListOutpostsOutput, error) {
	s.n++
	s.lastList = in
	return &sdkoutposts.ListOutpostsOutput{}, nil
}

func (s *countingSDK) GetOutpost(context.Context, *sdkoutposts.GetOutpostInput, ...func(*sdkoutposts.Options)) (*sdkoutposts.GetOutpostOutput, error) {
	s.n++
	return &sdkoutposts.GetOutpostOutput{}, nil
}

func (s *countingSDK) GetOutpostInstanceTypes(context.Context, *sdkoutposts.GetOutpostInstanceTypesInput, ...func(*sdkoutposts.Options)) (*sdkoutposts.GetOutpostInstanceTypesOutput, error) {
	s.n++
	return &sdkoutposts.GetOutpostInstanceTypesOutput{}, nil
}

// The awsxtest contract check (rules_outposts.go) sees the SDK's Outposts
// requests: a malformed one is refused before it is sent, with the code the
// Outposts API answers (ValidationException). Real SDK, FAKE Outposts server.
func TestOutpostsRequestsGoThroughTheContractCheck(t *testing.T) {
	fake := outpoststest.NewOutpostsServer(t)
	isolate(t)
	t.Setenv("AWS_ENDPOINT_URL_OUTPOSTS", fake.URL)
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(t, err)
	awsxtest.Contract(&cfg, t)
	c := outposts.NewOutpostsClient(cfg)
	ctx := awsxtest.AllowViolations(context.Background())
	_, err = c.GetOutpost(ctx, "op-XYZ")
	var ce *awsxtest.ContractError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "ValidationException", awsx.Code(err))
	_, err = c.GetOutpostInstanceTypes(ctx, "op-0123456789abcdef0", 10, "not-a-token")
	require.ErrorAs(t, err, &ce)
	assert.Empty(t, fake.Calls(), "refused requests are not sent")
	assert.Empty(t, fake.Refused())

	// Well-formed requests pass the check and reach the fake.
	_, err = c.ListOutposts(context.Background(), 1000, "")
	require.NoError(t, err)
	assert.Len(t, fake.Calls(), 1)
}

// The Outposts rules, on inputs (no network): what the API reference pages
// allow passes, what they refuse is reported with the page.
func TestOutpostsContractRules(t *testing.T) {
	id, arn := "op-0123456789abcdef0", "arn:aws:outposts:us-west-2:111122223333:outpost/op-0123456789abcdef0"
	for _, in := range []any{
		&sdkoutposts.ListOutpostsInput{},
		&sdkoutposts.ListOutpostsInput{MaxResults: aws.Int32(1000), NextToken: aws.String("2##ListOutposts."), LifeCycleStatusFilter: []string{"ACTIVE"}},
		&sdkoutposts.GetOutpostInput{OutpostId: aws.String(id)},
		&sdkoutposts.GetOutpostInput{OutpostId: aws.String(arn)},
		&sdkoutposts.GetOutpostInstanceTypesInput{OutpostId: aws.String(arn), MaxResults: aws.Int32(1), NextToken: aws.String("4##x")},
	} {
		assert.Empty(t, awsxtest.Check("us-west-2", in), "%#v", in)
	}
	for _, c := range []struct {
		in   any
		rule string
		doc  string
	}{
		{&sdkoutposts.ListOutpostsInput{MaxResults: aws.Int32(0)}, "outposts.max-results", "API_ListOutposts.html"},
		{&sdkoutposts.ListOutpostsInput{MaxResults: aws.Int32(1001)}, "outposts.max-results", "API_ListOutposts.html"},
		{&sdkoutposts.ListOutpostsInput{NextToken: aws.String("")}, "outposts.next-token", "API_ListOutposts.html"},
		{&sdkoutposts.ListOutpostsInput{AvailabilityZoneIdFilter: []string{"us-west-2a"}}, "outposts.filter", "API_ListOutposts.html"},
		{&sdkoutposts.ListOutpostsInput{LifeCycleStatusFilter: []string{"A", "B", "C", "D", "E", "F"}}, "outposts.filter", "API_ListOutposts.html"},
		{&sdkoutposts.GetOutpostInput{}, "outposts.outpost-id", "API_GetOutpost.html"},
		{&sdkoutposts.GetOutpostInput{OutpostId: aws.String("op-0123456789ABCDEF0")}, "outposts.outpost-id", "API_GetOutpost.html"},
		{&sdkoutposts.GetOutpostInstanceTypesInput{OutpostId: aws.String(id), NextToken: aws.String("abc")}, "outposts.next-token", "API_GetOutpostInstanceTypes.html"},
		{&sdkoutposts.GetOutpostInstanceTypesInput{OutpostId: aws.String("arn:aws:ec2:us-west-2:111122223333:outpost/" + id[3:])}, "outposts.outpost-id", "API_GetOutpostInstanceTypes.html"},
	} {
		vs := awsxtest.Check("us-west-2", c.in)
		require.NotEmpty(t, vs, "%#v", c.in)
		assert.Equal(t, c.rule, vs[0].Rule, "%#v", c.in)
		assert.Equal(t, "https://docs.aws.amazon.com/outposts/latest/APIReference/"+c.doc, vs[0].Doc)
		assert.Equal(t, "ValidationException", vs[0].Code)
	}
}
