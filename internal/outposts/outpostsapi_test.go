package outposts_test

// The Outposts REST client against the outpoststest FAKE of the Outposts API
// (a local HTTP server on 127.0.0.1, not AWS), reached the way setup reaches
// it: an SDK config from the default chain with AWS_ENDPOINT_URL_OUTPOSTS.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
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
	c, err := outposts.NewOutpostsClient(context.Background(), cfg)
	require.NoError(t, err)
	c.Backoff = func(int) time.Duration { return 0 }
	return c
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
	assert.Equal(t, 3, n, "at most Attempts (3) tries")

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

func TestOutpostsEndpointPrecedence(t *testing.T) {
	ctx := context.Background()
	load := func() aws.Config {
		cfg, err := config.LoadDefaultConfig(ctx)
		require.NoError(t, err)
		return cfg
	}
	isolate(t)
	ep, err := outposts.OutpostsEndpoint(ctx, load())
	require.NoError(t, err)
	assert.Equal(t, "https://outposts.us-west-2.amazonaws.com", ep)

	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	ep, _ = outposts.OutpostsEndpoint(ctx, load())
	assert.Equal(t, "http://127.0.0.1:4566", ep)

	t.Setenv("AWS_ENDPOINT_URL_OUTPOSTS", "http://127.0.0.1:9999")
	ep, _ = outposts.OutpostsEndpoint(ctx, load())
	assert.Equal(t, "http://127.0.0.1:9999", ep)

	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	ep, _ = outposts.OutpostsEndpoint(ctx, load())
	assert.Equal(t, "https://outposts.us-west-2.amazonaws.com", ep)

	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
	t.Setenv("AWS_REGION", "cn-north-1")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_OUTPOSTS", "")
	ep, _ = outposts.OutpostsEndpoint(ctx, load())
	assert.Equal(t, "https://outposts.cn-north-1.amazonaws.com.cn", ep)
}
