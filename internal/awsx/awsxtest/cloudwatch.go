package awsxtest

import (
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// CloudWatchQuery makes a CloudWatch client speak awsQuery. The SDK's default
// for CloudWatch is Smithy RPCv2 CBOR, which moto 5.2.5 does not serve (every
// call fails with a 404); the service itself accepts both.
//
//	cloudwatch.NewFromConfig(cfg, awsxtest.CloudWatchQuery)
func CloudWatchQuery(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
}
