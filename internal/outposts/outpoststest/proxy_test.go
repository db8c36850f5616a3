package outpoststest

// Tests of the PROXY itself, in front of a canned stand-in for moto (an
// httptest server answering fixed EC2 XML), driven by the real SDK clients.
// No moto, no AWS; loopback only.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
)

// cannedMoto answers the few EC2 actions the tests send, and counts them.
type cannedMoto struct {
	mu   sync.Mutex
	seen map[string]int
	runs int
}

func (c *cannedMoto) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	action := r.PostForm.Get("Action")
	c.mu.Lock()
	c.seen[action]++
	c.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch action {
	case "DescribeSubnets":
		if id := r.PostForm.Get("SubnetId.1"); id == "subnet-00000000000000099" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`<Response><Errors><Error><Code>InvalidSubnetID.NotFound</Code><Message>no</Message></Error></Errors><RequestID>1</RequestID></Response>`))
			return
		}
		_, _ = w.Write([]byte(`<DescribeSubnetsResponse xmlns="` + ec2NS + `"><requestId>1</requestId><subnetSet>` +
			`<item><subnetId>subnet-0000000000000000a</subnetId><vpcId>vpc-1</vpcId><tagSet><item><key>Name</key><value>a</value></item></tagSet></item>` +
			`<item><subnetId>subnet-0000000000000000b</subnetId><vpcId>vpc-1</vpcId></item>` +
			`</subnetSet></DescribeSubnetsResponse>`))
	case "RunInstances":
		c.mu.Lock()
		c.runs++
		id := "i-0000000000000000" + string(rune('0'+c.runs))
		c.mu.Unlock()
		_, _ = w.Write([]byte(`<RunInstancesResponse xmlns="` + ec2NS + `"><requestId>1</requestId><reservationId>r-1</reservationId><instancesSet><item><instanceId>` + id + `</instanceId></item></instancesSet></RunInstancesResponse>`))
	case "DescribeInstances":
		ids := []string{}
		for k, v := range r.PostForm {
			if strings.HasPrefix(k, "Filter.") && strings.Contains(k, ".Value.") {
				ids = append(ids, v...)
			}
		}
		body := `<DescribeInstancesResponse xmlns="` + ec2NS + `"><requestId>1</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet>`
		for _, id := range ids {
			body += `<item><instanceId>` + id + `</instanceId></item>`
		}
		_, _ = w.Write([]byte(body + `</instancesSet></item></reservationSet></DescribeInstancesResponse>`))
	default:
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`<Response><Errors><Error><Code>InvalidAction</Code><Message>canned moto: ` + action + `</Message></Error></Errors><RequestID>1</RequestID></Response>`))
	}
}

func setup(t *testing.T) (*Proxy, *cannedMoto, *ec2.Client) {
	moto := &cannedMoto{seen: map[string]int{}}
	up := httptest.NewServer(moto)
	t.Cleanup(up.Close)
	p := NewProxy(t, up.URL)
	cfg := aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), BaseEndpoint: aws.String(p.URL)}
	return p, moto, ec2.NewFromConfig(cfg)
}

func TestProxyAddsOutpostSubnetAttributes(t *testing.T) {
	p, _, c := setup(t)
	one := int32(1)
	p.SetOutpostSubnet("subnet-0000000000000000a", "arn:aws:outposts:us-west-2:111122223333:outpost/op-0123456789abcdef0", &one)
	out, err := c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	require.NoError(t, err)
	require.Len(t, out.Subnets, 2)
	a, b := out.Subnets[0], out.Subnets[1]
	assert.Equal(t, "arn:aws:outposts:us-west-2:111122223333:outpost/op-0123456789abcdef0", aws.ToString(a.OutpostArn))
	assert.EqualValues(t, 1, aws.ToInt32(a.EnableLniAtDeviceIndex))
	require.Len(t, a.Tags, 1, "nested items of the subnet survive")
	assert.Nil(t, b.OutpostArn, "an unregistered subnet is moto's answer unchanged")
	assert.Nil(t, b.EnableLniAtDeviceIndex)
}

func TestProxyAnswersModifySubnetAttributeLNI(t *testing.T) {
	p, moto, c := setup(t)
	ctx := context.Background()
	p.SetOutpostSubnet("subnet-0000000000000000b", "arn:aws:outposts:us-west-2:111122223333:outpost/op-0123456789abcdef0", nil)
	_, err := c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0000000000000000b"), EnableLniAtDeviceIndex: aws.Int32(1)})
	require.NoError(t, err)
	require.NotNil(t, p.LNI("subnet-0000000000000000b"))
	assert.EqualValues(t, 1, *p.LNI("subnet-0000000000000000b"))
	assert.Zero(t, moto.seen["ModifySubnetAttribute"], "moto never sees it (it would silently ignore it)")
	assert.Equal(t, 1, moto.seen["DescribeSubnets"], "the subnet's existence is checked in moto")

	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0000000000000000a"), EnableLniAtDeviceIndex: aws.Int32(1)})
	assert.Equal(t, "InvalidParameterValue", awsx.Code(err), "not an Outpost subnet")
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-00000000000000099"), EnableLniAtDeviceIndex: aws.Int32(1)})
	assert.Equal(t, "InvalidSubnetID.NotFound", awsx.Code(err), "moto's own answer for a missing subnet")
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0000000000000000b"), DisableLniAtDeviceIndex: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	require.NoError(t, err)
	assert.Nil(t, p.LNI("subnet-0000000000000000b"))
}

func TestProxyReplaysRunInstancesByClientToken(t *testing.T) {
	_, moto, c := setup(t)
	ctx := context.Background()
	run := func(tok string) string {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String(tok)})
		require.NoError(t, err)
		return aws.ToString(out.Instances[0].InstanceId)
	}
	first := run("tok-1")
	assert.Equal(t, first, run("tok-1"))
	assert.NotEqual(t, first, run("tok-2"))
	assert.Equal(t, 2, moto.runs)

	byTok := func(tok string) []string {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("client-token"), Values: []string{tok}}}})
		require.NoError(t, err)
		var ids []string
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				ids = append(ids, aws.ToString(i.InstanceId))
			}
		}
		return ids
	}
	assert.Equal(t, []string{first}, byTok("tok-1"))
	assert.Empty(t, byTok("tok-unknown"))
}

func TestProxyFaultsSpeakEachProtocol(t *testing.T) {
	p, moto, c := setup(t)
	var latencyAsked []string
	p.SetLatencyFunc(func(service, action string) time.Duration {
		latencyAsked = append(latencyAsked, service+":"+action)
		return 0
	})
	p.InjectFault("ec2", "DescribeSubnets", "UnauthorizedOperation", 403, 1)
	_, err := c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	assert.Equal(t, "UnauthorizedOperation", awsx.Code(err))
	_, err = c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	require.NoError(t, err, "the fault was for one call")
	assert.Equal(t, 1, moto.seen["DescribeSubnets"])

	sm := secretsmanager.NewFromConfig(aws.Config{Region: "us-west-2", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), BaseEndpoint: aws.String(p.URL)},
		func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	p.InjectFault("secretsmanager", "ListSecrets", "AccessDeniedException", 400, 1)
	_, err = sm.ListSecrets(context.Background(), &secretsmanager.ListSecretsInput{})
	assert.Equal(t, "AccessDeniedException", awsx.Code(err))
	assert.Equal(t, []string{"ec2:DescribeSubnets", "ec2:DescribeSubnets", "secretsmanager:ListSecrets"}, latencyAsked)
	calls := p.Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, 403, calls[0].Status)
}
