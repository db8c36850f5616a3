package outposts

// A small client for the three AWS Outposts API calls the setup inventory
// needs. The module has no dependency on github.com/aws/aws-sdk-go-v2/service/
// outposts (and go.mod may not grow one), so this speaks the service's
// REST-JSON protocol itself, with the SDK's own pieces for everything that is
// not Outposts-specific: credentials from aws.Config, SigV4 signing
// (aws/signer/v4), the HTTP client of the config, and the endpoint precedence
// of the SDK's configured-endpoints feature (AWS_ENDPOINT_URL_OUTPOSTS, then
// AWS_ENDPOINT_URL, then the Regional endpoint).
//
// Request shapes, from the AWS Outposts API reference and the generated
// aws-sdk-go-v2 serializers (service/outposts/serializers.go):
//   ListOutposts             GET /outposts?MaxResults=&NextToken=
//                            https://docs.aws.amazon.com/outposts/latest/APIReference/API_ListOutposts.html
//   GetOutpost               GET /outposts/{OutpostId}
//                            https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpost.html
//   GetOutpostInstanceTypes  GET /outposts/{OutpostId}/instanceTypes?MaxResults=&NextToken=
//                            https://docs.aws.amazon.com/outposts/latest/APIReference/API_GetOutpostInstanceTypes.html
// MaxResults: "Valid Range: Minimum value of 1. Maximum value of 1000." The
// hardware type is the Outpost's SupportedHardwareType, "RACK | SERVER"
// (https://docs.aws.amazon.com/outposts/latest/APIReference/API_Outpost.html).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// OutpostsSDKID is the service's SDK ID, which names its configured-endpoint
// variable (AWS_ENDPOINT_URL_OUTPOSTS) and its SigV4 signing name.
const (
	OutpostsSDKID       = "Outposts"
	outpostsSigningName = "outposts"
	// MaxPageSize is the largest MaxResults the Outposts API accepts.
	MaxPageSize = 1000
)

// Hardware types of an Outpost (SupportedHardwareType).
const (
	HardwareServer = "SERVER"
	HardwareRack   = "RACK"
)

// OutpostInfo is the part of the Outposts API's Outpost shape setup reads.
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
// OutpostsClient implements it against AWS (or AWS_ENDPOINT_URL_OUTPOSTS);
// unit tests give a fake.
type OutpostsAPI interface {
	ListOutposts(ctx context.Context, maxResults int32, nextToken string) (*ListOutpostsPage, error)
	GetOutpost(ctx context.Context, outpostID string) (*OutpostInfo, error)
	GetOutpostInstanceTypes(ctx context.Context, outpostID string, maxResults int32, nextToken string) (*InstanceTypesPage, error)
}

// OutpostsClient calls the Outposts API over HTTPS with SigV4.
type OutpostsClient struct {
	endpoint *url.URL
	region   string
	creds    aws.CredentialsProvider
	http     interface {
		Do(*http.Request) (*http.Response, error)
	}
	signer *v4.Signer
	now    func() time.Time
	// Attempts bounds retries of throttling and 5xx answers (default 3).
	Attempts int
	// Backoff is the wait before the n-th retry (default 100ms * 2^n).
	Backoff func(n int) time.Duration
}

// serviceEndpointSource is what the SDK's config sources (environment and
// shared config) implement for configured endpoints.
type serviceEndpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

type ignoreEndpointsSource interface {
	GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
}

// OutpostsEndpoint resolves the Outposts endpoint with the SDK's precedence:
// a service-specific configured endpoint (AWS_ENDPOINT_URL_OUTPOSTS or the
// services section of the shared config), then the global one
// (AWS_ENDPOINT_URL, cfg.BaseEndpoint), then https://outposts.<region>.<dns
// suffix>. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips the first two.
func OutpostsEndpoint(ctx context.Context, cfg aws.Config) (string, error) {
	ignore := false
	for _, s := range cfg.ConfigSources {
		if p, ok := s.(ignoreEndpointsSource); ok {
			if v, found, err := p.GetIgnoreConfiguredEndpoints(ctx); err == nil && found {
				ignore = v
				break
			}
		}
	}
	if !ignore {
		for _, s := range cfg.ConfigSources {
			if p, ok := s.(serviceEndpointSource); ok {
				v, found, err := p.GetServiceBaseEndpoint(ctx, OutpostsSDKID)
				if err != nil {
					return "", fmt.Errorf("outposts endpoint: %w", err)
				}
				if found && v != "" {
					return v, nil
				}
			}
		}
		if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
			return *cfg.BaseEndpoint, nil
		}
	}
	if cfg.Region == "" {
		return "", errors.New("outposts endpoint: no AWS Region")
	}
	suffix := "amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://outposts." + cfg.Region + "." + suffix, nil
}

// NewOutpostsClient builds the client from an SDK config.
func NewOutpostsClient(ctx context.Context, cfg aws.Config) (*OutpostsClient, error) {
	ep, err := OutpostsEndpoint(ctx, cfg)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("outposts endpoint %q is not an absolute URL", ep)
	}
	c := &OutpostsClient{endpoint: u, region: cfg.Region, creds: cfg.Credentials, http: cfg.HTTPClient,
		signer: v4.NewSigner(), now: time.Now, Attempts: 3}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	return c, nil
}

// emptySHA256 is the SHA-256 of an empty body (every call here is a GET).
var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

func (c *OutpostsClient) get(ctx context.Context, op, path string, q url.Values, out any) error {
	u := *c.endpoint
	// path is already escaped (an ARN's "/" travels as %2F).
	raw := strings.TrimSuffix(u.EscapedPath(), "/") + path
	unescaped, err := url.PathUnescape(raw)
	if err != nil {
		return fmt.Errorf("outposts %s: path %q: %w", op, raw, err)
	}
	u.Path, u.RawPath = unescaped, raw
	u.RawQuery = q.Encode()
	attempts := c.Attempts
	if attempts < 1 {
		attempts = 1
	}
	var last error
	for n := 0; n < attempts; n++ {
		if n > 0 {
			d := 100 * time.Millisecond << (n - 1)
			if c.Backoff != nil {
				d = c.Backoff(n)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		retry, err := c.once(ctx, op, u.String(), out)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return last
}

func (c *OutpostsClient) once(ctx context.Context, op, target string, out any) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "application/json")
	if c.creds == nil {
		return false, fmt.Errorf("outposts %s: no AWS credentials", op)
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return false, fmt.Errorf("outposts %s: credentials: %w", op, err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, emptySHA256, outpostsSigningName, c.region, c.now()); err != nil {
		return false, fmt.Errorf("outposts %s: sign: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return true, fmt.Errorf("outposts %s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return true, fmt.Errorf("outposts %s: read answer: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		e := restJSONError(resp, body)
		return resp.StatusCode == 429 || resp.StatusCode >= 500, &OperationError{Op: op, Err: e}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return false, fmt.Errorf("outposts %s: answer is not the expected JSON: %w", op, err)
	}
	return false, nil
}

// OperationError wraps an Outposts API error with its operation name, the way
// SDK errors read ("operation error Outposts: GetOutpost, ...").
type OperationError struct {
	Op  string
	Err error
}

func (e *OperationError) Error() string {
	return "operation error Outposts: " + e.Op + ", " + e.Err.Error()
}

func (e *OperationError) Unwrap() error { return e.Err }

// restJSONError reads an AWS REST-JSON error: the code is in the
// X-Amzn-ErrorType header (possibly "Code:namespace"), else in the body's
// "__type" or "code"; the message in "message" or "Message".
func restJSONError(resp *http.Response, body []byte) error {
	var b struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &b)
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = b.Type
	}
	if code == "" {
		code = b.Code
	}
	if i := strings.IndexAny(code, ":"); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = "HTTP" + strconv.Itoa(resp.StatusCode)
	}
	msg := b.Message
	if msg == "" {
		msg = b.Message2
	}
	if msg == "" {
		msg = strings.TrimSpace(string(bytes.TrimSpace(body)))
		if len(msg) > 200 {
			msg = msg[:200]
		}
	}
	fault := smithy.FaultClient
	if resp.StatusCode >= 500 {
		fault = smithy.FaultServer
	}
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf("https response error StatusCode: %d, %s", resp.StatusCode, msg), Fault: fault}
}

func pageQuery(maxResults int32, nextToken string) url.Values {
	q := url.Values{}
	if maxResults > 0 {
		q.Set("MaxResults", strconv.Itoa(int(maxResults)))
	}
	if nextToken != "" {
		q.Set("NextToken", nextToken)
	}
	return q
}

func checkPageSize(op string, maxResults int32) error {
	if maxResults < 0 || maxResults > MaxPageSize {
		return fmt.Errorf("outposts %s: MaxResults %d, allowed 1 to %d", op, maxResults, MaxPageSize)
	}
	return nil
}

// ListOutposts is one page of ListOutposts (maxResults 0 = the service default).
func (c *OutpostsClient) ListOutposts(ctx context.Context, maxResults int32, nextToken string) (*ListOutpostsPage, error) {
	if err := checkPageSize("ListOutposts", maxResults); err != nil {
		return nil, err
	}
	var out ListOutpostsPage
	if err := c.get(ctx, "ListOutposts", "/outposts", pageQuery(maxResults, nextToken), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetOutpost describes one Outpost (by ID or ARN).
func (c *OutpostsClient) GetOutpost(ctx context.Context, outpostID string) (*OutpostInfo, error) {
	if outpostID == "" {
		return nil, errors.New("outposts GetOutpost: empty Outpost ID")
	}
	var out struct {
		Outpost OutpostInfo `json:"Outpost"`
	}
	if err := c.get(ctx, "GetOutpost", "/outposts/"+url.PathEscape(outpostID), nil, &out); err != nil {
		return nil, err
	}
	return &out.Outpost, nil
}

// GetOutpostInstanceTypes is one page of the instance types an Outpost offers.
func (c *OutpostsClient) GetOutpostInstanceTypes(ctx context.Context, outpostID string, maxResults int32, nextToken string) (*InstanceTypesPage, error) {
	if outpostID == "" {
		return nil, errors.New("outposts GetOutpostInstanceTypes: empty Outpost ID")
	}
	if err := checkPageSize("GetOutpostInstanceTypes", maxResults); err != nil {
		return nil, err
	}
	var out InstanceTypesPage
	if err := c.get(ctx, "GetOutpostInstanceTypes", "/outposts/"+url.PathEscape(outpostID)+"/instanceTypes", pageQuery(maxResults, nextToken), &out); err != nil {
		return nil, err
	}
	return &out, nil
}
