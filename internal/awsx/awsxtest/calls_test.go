// Unit test of the call recorder: a real SSM client against an httptest
// server on loopback that answers like Parameter Store.
package awsxtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallsRecordsOperationsAndErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") == "AmazonSSM.PutParameter" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ParameterAlreadyExists","message":"exists"}`))
			return
		}
		_, _ = w.Write([]byte(`{"Parameter":{"Name":"/a","Value":"v","Version":1}}`))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1}
	var calls Calls
	calls.Instrument(&cfg)
	c := ssm.NewFromConfig(cfg)

	_, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/a")})
	require.NoError(t, err)
	_, err = c.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String("/a"), Value: aws.String("v")})
	require.Error(t, err)

	assert.Equal(t, []Call{
		{Service: "SSM", Operation: "GetParameter"},
		{Service: "SSM", Operation: "PutParameter", ErrCode: "ParameterAlreadyExists"},
	}, calls.List())
	assert.Equal(t, []string{"SSM.PutParameter"}, calls.Mutating())
	assert.Equal(t, 1, calls.Count("PutParameter"))
	assert.Equal(t, []string{"SSM.GetParameter x1", "SSM.PutParameter x1"}, calls.Summary())
	calls.Reset()
	assert.Zero(t, calls.Len())
}

func TestDryRunDetection(t *testing.T) {
	assert.True(t, dryRun(&ec2.RunInstancesInput{DryRun: aws.Bool(true)}))
	assert.False(t, dryRun(&ec2.RunInstancesInput{DryRun: aws.Bool(false)}))
	assert.False(t, dryRun(&ec2.RunInstancesInput{}))
	assert.False(t, dryRun(&ssm.GetParameterInput{}))
	assert.False(t, dryRun(nil))
	assert.True(t, Call{Operation: "RunInstances", DryRun: true}.ReadOnly())
	assert.False(t, Call{Operation: "StopInstances"}.ReadOnly())
	assert.True(t, Call{Operation: "DescribeInstances"}.ReadOnly())
}
