package outposts

// The three AWS Outposts API calls the setup inventory makes, through the
// AWS SDK's Outposts client (github.com/aws/aws-sdk-go-v2/service/outposts):
// the SDK signs (SigV4, signing name "outposts"), retries (standard retryer:
// throttling and 5xx, 3 attempts), resolves the endpoint (AWS_ENDPOINT_URL_
// OUTPOSTS or the services section of the shared config, then
// AWS_ENDPOINT_URL, then https://outposts.<region>.<dns suffix>;
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS honoured), and its middleware stack
// carries the config's APIOptions (so awsxtest's contract check sees these
// requests in the test tier).
//
//   ListOutposts             https://docs.aws.amazon.com/outposts/latest/APIReference/API_ListOutposts.html
//   GetOutpost               https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpost.html
//   GetOutpostInstanceTypes  https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpostInstanceTypes.html
//
// MaxResults: "Valid Range: Minimum value of 1. Maximum value of 1000." The
// hardware type is the Outpost's SupportedHardwareType, "RACK | SERVER"
// (https://docs.aws.amazon.com/outposts/latest/APIReference/API_Outpost.html).
//
// OutpostsClient adapts the SDK client to OutpostsAPI, the small
// consumer-side interface the inventory uses (unit tests fake that
// interface). The SDK package is imported under its own name, "outposts",
// which in this file means the SDK, not this package (a package's own name
// is not in scope in its files); awsxtest's coverage scan matches
// "outposts.<Op>Input" that way.

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/outposts"
	outpoststypes "github.com/aws/aws-sdk-go-v2/service/outposts/types"
)

// OutpostsSDKID is the service's SDK ID, which names its configured-endpoint
// variable (AWS_ENDPOINT_URL_OUTPOSTS).
const (
	OutpostsSDKID = outposts.ServiceID
	// MaxPageSize is the largest MaxResults the Outposts API accepts.
	MaxPageSize = 1000
)

// Hardware types of an Outpost (SupportedHardwareType).
const (
	HardwareServer = string(outpoststypes.SupportedHardwareTypeServer)
	HardwareRack   = string(outpoststypes.SupportedHardwareTypeRack)
)

// OutpostInfo is the part of the Outposts API's Outpost shape setup reads.
// The JSON names are the wire names (the outpoststest fake serves them).
type OutpostInfo struct {
	OutpostId             string `json:"OutpostId"`
	OutpostArn            string `json:"OutpostArn"`
	OwnerId               string `json:"OwnerId"`
	SiteId                string `json:"SiteId"`
	Name                  string `json:"Name"`
	Description           string `json:"Description,omitempty"`
	LifeCycleStatus       string `json:"LifeCycleStatus"`
	AvailabilityZone      string `json:"AvailabilityZone"`
	AvailabilityZoneId    string `json:"AvailabilityZoneId"`
	SupportedHardwareType string `json:"SupportedHardwareType"`
}

// InstanceTypeItem is one entry of GetOutpostInstanceTypes.
type InstanceTypeItem struct {
	InstanceType string `json:"InstanceType"`
	VCPUs        *int32 `json:"VCPUs,omitempty"`
}

// ListOutpostsPage is one page of ListOutposts.
type ListOutpostsPage struct {
	Outposts  []OutpostInfo `json:"Outposts"`
	NextToken string        `json:"NextToken,omitempty"`
}

// InstanceTypesPage is one page of GetOutpostInstanceTypes.
type InstanceTypesPage struct {
	InstanceTypes []InstanceTypeItem `json:"InstanceTypes"`
	NextToken     string             `json:"NextToken,omitempty"`
	OutpostId     string             `json:"OutpostId,omitempty"`
	OutpostArn    string             `json:"OutpostArn,omitempty"`
}

// OutpostsAPI is what the inventory needs from the Outposts API. The
// OutpostsClient implements it with the SDK; unit tests give a fake.
type OutpostsAPI interface {
	ListOutposts(ctx context.Context, maxResults int32, nextToken string) (*ListOutpostsPage, error)
	GetOutpost(ctx context.Context, outpostID string) (*OutpostInfo, error)
	GetOutpostInstanceTypes(ctx context.Context, outpostID string, maxResults int32, nextToken string) (*InstanceTypesPage, error)
}

// OutpostsSDK is the part of the SDK's Outposts client (*outposts.Client)
// that OutpostsClient calls.
type OutpostsSDK interface {
	ListOutposts(ctx context.Context, in *outposts.ListOutpostsInput, o ...func(*outposts.Options)) (*outposts.ListOutpostsOutput, error)
	GetOutpost(ctx context.Context, in *outposts.GetOutpostInput, o ...func(*outposts.Options)) (*outposts.GetOutpostOutput, error)
	GetOutpostInstanceTypes(ctx context.Context, in *outposts.GetOutpostInstanceTypesInput, o ...func(*outposts.Options)) (*outposts.GetOutpostInstanceTypesOutput, error)
}

// OutpostsClient is OutpostsAPI over the SDK's Outposts client.
type OutpostsClient struct {
	api OutpostsSDK
}

// NewOutpostsClient builds the SDK's Outposts client from cfg (optFns as for
// outposts.NewFromConfig) and wraps it.
func NewOutpostsClient(cfg aws.Config, optFns ...func(*outposts.Options)) *OutpostsClient {
	return &OutpostsClient{api: outposts.NewFromConfig(cfg, optFns...)}
}

// NewOutpostsClientFrom wraps an existing SDK client (or a stand-in).
func NewOutpostsClientFrom(api OutpostsSDK) *OutpostsClient {
	return &OutpostsClient{api: api}
}

// checkPageSize refuses a MaxResults outside 0 (the service default) to 1000
// before anything is sent.
func checkPageSize(op string, maxResults int32) error {
	if maxResults < 0 || maxResults > MaxPageSize {
		return fmt.Errorf("outposts %s: MaxResults %d, allowed 1 to %d", op, maxResults, MaxPageSize)
	}
	return nil
}

func pageArgs(maxResults int32, nextToken string) (*int32, *string) {
	var m *int32
	if maxResults > 0 {
		m = aws.Int32(maxResults)
	}
	var t *string
	if nextToken != "" {
		t = aws.String(nextToken)
	}
	return m, t
}

func outpostInfo(o *outpoststypes.Outpost) OutpostInfo {
	if o == nil {
		return OutpostInfo{}
	}
	return OutpostInfo{
		OutpostId:             aws.ToString(o.OutpostId),
		OutpostArn:            aws.ToString(o.OutpostArn),
		OwnerId:               aws.ToString(o.OwnerId),
		SiteId:                aws.ToString(o.SiteId),
		Name:                  aws.ToString(o.Name),
		Description:           aws.ToString(o.Description),
		LifeCycleStatus:       aws.ToString(o.LifeCycleStatus),
		AvailabilityZone:      aws.ToString(o.AvailabilityZone),
		AvailabilityZoneId:    aws.ToString(o.AvailabilityZoneId),
		SupportedHardwareType: string(o.SupportedHardwareType),
	}
}

// ListOutposts is one page of ListOutposts (maxResults 0 = the service default).
func (c *OutpostsClient) ListOutposts(ctx context.Context, maxResults int32, nextToken string) (*ListOutpostsPage, error) {
	if err := checkPageSize("ListOutposts", maxResults); err != nil {
		return nil, err
	}
	in := &outposts.ListOutpostsInput{}
	in.MaxResults, in.NextToken = pageArgs(maxResults, nextToken)
	out, err := c.api.ListOutposts(ctx, in)
	if err != nil {
		return nil, err
	}
	p := &ListOutpostsPage{NextToken: aws.ToString(out.NextToken)}
	for i := range out.Outposts {
		p.Outposts = append(p.Outposts, outpostInfo(&out.Outposts[i]))
	}
	return p, nil
}

// GetOutpost describes one Outpost (by ID or ARN).
func (c *OutpostsClient) GetOutpost(ctx context.Context, outpostID string) (*OutpostInfo, error) {
	if outpostID == "" {
		return nil, errors.New("outposts GetOutpost: empty Outpost ID")
	}
	out, err := c.api.GetOutpost(ctx, &outposts.GetOutpostInput{OutpostId: aws.String(outpostID)})
	if err != nil {
		return nil, err
	}
	if out.Outpost == nil {
		return nil, fmt.Errorf("outposts GetOutpost %s: the answer has no Outpost", outpostID)
	}
	info := outpostInfo(out.Outpost)
	return &info, nil
}

// GetOutpostInstanceTypes is one page of the instance types an Outpost offers.
func (c *OutpostsClient) GetOutpostInstanceTypes(ctx context.Context, outpostID string, maxResults int32, nextToken string) (*InstanceTypesPage, error) {
	if outpostID == "" {
		return nil, errors.New("outposts GetOutpostInstanceTypes: empty Outpost ID")
	}
	if err := checkPageSize("GetOutpostInstanceTypes", maxResults); err != nil {
		return nil, err
	}
	in := &outposts.GetOutpostInstanceTypesInput{OutpostId: aws.String(outpostID)}
	in.MaxResults, in.NextToken = pageArgs(maxResults, nextToken)
	out, err := c.api.GetOutpostInstanceTypes(ctx, in)
	if err != nil {
		return nil, err
	}
	p := &InstanceTypesPage{NextToken: aws.ToString(out.NextToken), OutpostId: aws.ToString(out.OutpostId), OutpostArn: aws.ToString(out.OutpostArn)}
	for _, it := range out.InstanceTypes {
		p.InstanceTypes = append(p.InstanceTypes, InstanceTypeItem{InstanceType: aws.ToString(it.InstanceType), VCPUs: it.VCPUs})
	}
	return p, nil
}
