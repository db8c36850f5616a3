package outposts

// Unit-test fakes (no AWS, no moto): in-memory EC2, IAM, Secrets Manager,
// CloudWatch and Outposts behind the package's consumer-side interfaces.
// Every list pages two items at a time so pagination is always exercised.

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

const fakePage = 2

type fakeAWS struct {
	mu       sync.Mutex
	outposts []OutpostInfo
	types    map[string][]string
	subnets  []ec2types.Subnet
	images   []ec2types.Image
	groups   []ec2types.SecurityGroup
	keys     []ec2types.KeyPairInfo
	profiles []iamtypes.InstanceProfile
	secrets  []smtypes.SecretListEntry
	capacity map[string]float64 // outpost/type -> free
	capAt    time.Time

	fail   map[string]error // op -> error
	calls  map[string]int
	gate   func(op string) // called at the start of every call
	modify int
}

func newFake() *fakeAWS {
	return &fakeAWS{types: map[string][]string{}, capacity: map[string]float64{}, fail: map[string]error{}, calls: map[string]int{}}
}

func (f *fakeAWS) enter(op string) error {
	if f.gate != nil {
		f.gate(op)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.fail[op]
}

func pageOf(token string, n int) (lo, hi int, next string) {
	lo, _ = strconv.Atoi(token)
	lo = min(lo, n)
	hi = min(lo+fakePage, n)
	if hi < n {
		next = strconv.Itoa(hi)
	}
	return
}

func denied(op string) error {
	return &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: " + op}
}

func (f *fakeAWS) ListOutposts(ctx context.Context, max int32, tok string) (*ListOutpostsPage, error) {
	if err := f.enter("ListOutposts"); err != nil {
		return nil, err
	}
	lo, hi, next := pageOf(tok, len(f.outposts))
	out := append([]OutpostInfo{}, f.outposts[lo:hi]...)
	for i := range out {
		if out[i].Description == "hide-hw" {
			out[i].SupportedHardwareType = ""
		}
	}
	return &ListOutpostsPage{Outposts: out, NextToken: next}, nil
}

func (f *fakeAWS) GetOutpost(ctx context.Context, id string) (*OutpostInfo, error) {
	if err := f.enter("GetOutpost"); err != nil {
		return nil, err
	}
	for _, o := range f.outposts {
		if o.OutpostId == id {
			return &o, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "NotFoundException", Message: id}
}

func (f *fakeAWS) GetOutpostInstanceTypes(ctx context.Context, id string, max int32, tok string) (*InstanceTypesPage, error) {
	if err := f.enter("GetOutpostInstanceTypes"); err != nil {
		return nil, err
	}
	all := f.types[id]
	lo, hi, next := pageOf(tok, len(all))
	p := &InstanceTypesPage{NextToken: next, OutpostId: id}
	for _, t := range all[lo:hi] {
		v := int32(4)
		p.InstanceTypes = append(p.InstanceTypes, InstanceTypeItem{InstanceType: t, VCPUs: &v})
	}
	return p, nil
}

func (f *fakeAWS) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	if err := f.enter("DescribeSubnets"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(in.SubnetIds) > 0 {
		out := &ec2.DescribeSubnetsOutput{}
		for _, s := range f.subnets {
			for _, id := range in.SubnetIds {
				if aws.ToString(s.SubnetId) == id {
					out.Subnets = append(out.Subnets, s)
				}
			}
		}
		return out, nil
	}
	lo, hi, next := pageOf(aws.ToString(in.NextToken), len(f.subnets))
	out := &ec2.DescribeSubnetsOutput{Subnets: append([]ec2types.Subnet{}, f.subnets[lo:hi]...)}
	if next != "" {
		out.NextToken = aws.String(next)
	}
	return out, nil
}

func (f *fakeAWS) ModifySubnetAttribute(ctx context.Context, in *ec2.ModifySubnetAttributeInput, _ ...func(*ec2.Options)) (*ec2.ModifySubnetAttributeOutput, error) {
	if err := f.enter("ModifySubnetAttribute"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modify++
	for i := range f.subnets {
		if aws.ToString(f.subnets[i].SubnetId) == aws.ToString(in.SubnetId) {
			f.subnets[i].EnableLniAtDeviceIndex = in.EnableLniAtDeviceIndex
			return &ec2.ModifySubnetAttributeOutput{}, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "InvalidSubnetID.NotFound"}
}

func (f *fakeAWS) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	if err := f.enter("DescribeImages"); err != nil {
		return nil, err
	}
	// The name filter, as EC2 applies it.
	var names []string
	for _, fl := range in.Filters {
		if aws.ToString(fl.Name) == "name" {
			names = fl.Values
		}
	}
	var match []ec2types.Image
	for _, im := range f.images {
		for _, p := range names {
			if matchGlob(p, aws.ToString(im.Name)) {
				match = append(match, im)
				break
			}
		}
	}
	lo, hi, next := pageOf(aws.ToString(in.NextToken), len(match))
	out := &ec2.DescribeImagesOutput{Images: match[lo:hi]}
	if next != "" {
		out.NextToken = aws.String(next)
	}
	return out, nil
}

func (f *fakeAWS) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	if err := f.enter("DescribeSecurityGroups"); err != nil {
		return nil, err
	}
	lo, hi, next := pageOf(aws.ToString(in.NextToken), len(f.groups))
	out := &ec2.DescribeSecurityGroupsOutput{SecurityGroups: f.groups[lo:hi]}
	if next != "" {
		out.NextToken = aws.String(next)
	}
	return out, nil
}

func (f *fakeAWS) DescribeKeyPairs(ctx context.Context, in *ec2.DescribeKeyPairsInput, _ ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error) {
	if err := f.enter("DescribeKeyPairs"); err != nil {
		return nil, err
	}
	return &ec2.DescribeKeyPairsOutput{KeyPairs: f.keys}, nil
}

func (f *fakeAWS) ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput, _ ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error) {
	if err := f.enter("ListInstanceProfiles"); err != nil {
		return nil, err
	}
	lo, hi, next := pageOf(aws.ToString(in.Marker), len(f.profiles))
	out := &iam.ListInstanceProfilesOutput{InstanceProfiles: f.profiles[lo:hi], IsTruncated: next != ""}
	if next != "" {
		out.Marker = aws.String(next)
	}
	return out, nil
}

func (f *fakeAWS) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	if err := f.enter("ListSecrets"); err != nil {
		return nil, err
	}
	lo, hi, next := pageOf(aws.ToString(in.NextToken), len(f.secrets))
	out := &secretsmanager.ListSecretsOutput{SecretList: f.secrets[lo:hi]}
	if next != "" {
		out.NextToken = aws.String(next)
	}
	return out, nil
}

func (f *fakeAWS) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	if err := f.enter("GetMetricData"); err != nil {
		return nil, err
	}
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		var op, it string
		for _, d := range q.MetricStat.Metric.Dimensions {
			switch aws.ToString(d.Name) {
			case "OutpostId":
				op = aws.ToString(d.Value)
			case "InstanceType":
				it = aws.ToString(d.Value)
			}
		}
		r := cwtypes.MetricDataResult{Id: q.Id}
		if v, ok := f.capacity[op+"/"+it]; ok {
			// An older, higher sample first: the newest must win.
			r.Timestamps = []time.Time{f.capAt.Add(-time.Hour), f.capAt}
			r.Values = []float64{v + 10, v}
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

func (f *fakeAWS) sources() Sources {
	return Sources{Outposts: f, Subnets: f, Images: f, SecurityGroups: f, KeyPairs: f, Profiles: f, Secrets: f, Metrics: f}
}

func subnet(id, vpc, outpostID string, lni *int32) ec2types.Subnet {
	s := ec2types.Subnet{SubnetId: aws.String(id), VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.0.0/24"), EnableLniAtDeviceIndex: lni,
		Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("name-" + id)}}}
	if outpostID != "" {
		s.OutpostArn = aws.String(fmt.Sprintf("arn:aws:outposts:us-west-2:111122223333:outpost/%s", outpostID))
	}
	return s
}

// world is a typical account: two servers, a rack, an Outpost whose
// hardware type only GetOutpost tells, subnets on each, AMIs of both
// families and noise.
func world() *fakeAWS {
	f := newFake()
	one := int32(1)
	f.outposts = []OutpostInfo{
		{OutpostId: "op-0000000000000000a", OutpostArn: "arn:aws:outposts:us-west-2:111122223333:outpost/op-0000000000000000a", Name: "srv-a", SupportedHardwareType: HardwareServer},
		{OutpostId: "op-0000000000000000b", OutpostArn: "arn:aws:outposts:us-west-2:111122223333:outpost/op-0000000000000000b", Name: "srv-b", SupportedHardwareType: HardwareServer},
		{OutpostId: "op-0000000000000000c", Name: "rack-c", SupportedHardwareType: HardwareRack},
		{OutpostId: "op-0000000000000000d", Name: "srv-d", SupportedHardwareType: HardwareServer, Description: "hide-hw"},
	}
	f.types["op-0000000000000000a"] = []string{"c6id.2xlarge", "m6id.large", "c6id.xlarge"}
	f.types["op-0000000000000000b"] = []string{"c6id.xlarge", "c6id.2xlarge", "r6id.large"}
	f.types["op-0000000000000000d"] = []string{"c6id.xlarge"}
	f.subnets = []ec2types.Subnet{
		subnet("subnet-a1", "vpc-1", "op-0000000000000000a", &one),
		subnet("subnet-b1", "vpc-1", "op-0000000000000000b", nil),
		subnet("subnet-a2", "vpc-1", "op-0000000000000000a", nil),
		subnet("subnet-region", "vpc-1", "", nil),
		subnet("subnet-c1", "vpc-1", "op-0000000000000000c", nil),
	}
	f.images = []ec2types.Image{
		{ImageId: aws.String("ami-ipxe1"), Name: aws.String("outposts-iPXE-2025.01"), CreationDate: aws.String("2025-01-01T00:00:00Z")},
		{ImageId: aws.String("ami-ipxe2"), Name: aws.String("outposts-iPXE-2025.06"), CreationDate: aws.String("2025-06-01T00:00:00Z")},
		{ImageId: aws.String("ami-lb1"), Name: aws.String("localboot-ami-x86"), CreationDate: aws.String("2025-03-01T00:00:00Z")},
		{ImageId: aws.String("ami-other"), Name: aws.String("al2023-ami-2025"), CreationDate: aws.String("2025-03-01T00:00:00Z")},
		{ImageId: aws.String("ami-custom"), Name: aws.String("site-ipxe-build-7"), CreationDate: aws.String("2025-07-01T00:00:00Z")},
	}
	f.groups = []ec2types.SecurityGroup{
		{GroupId: aws.String("sg-1"), GroupName: aws.String("san"), VpcId: aws.String("vpc-1")},
		{GroupId: aws.String("sg-2"), GroupName: aws.String("default"), VpcId: aws.String("vpc-2")},
		{GroupId: aws.String("sg-3"), GroupName: aws.String("app"), VpcId: aws.String("vpc-1")},
	}
	f.keys = []ec2types.KeyPairInfo{{KeyName: aws.String("ops"), KeyPairId: aws.String("key-1"), KeyType: ec2types.KeyTypeEd25519}}
	f.profiles = []iamtypes.InstanceProfile{
		{InstanceProfileName: aws.String("p1"), Arn: aws.String("arn:aws:iam::111122223333:instance-profile/p1"), Roles: []iamtypes.Role{{RoleName: aws.String("r1")}}},
		{InstanceProfileName: aws.String("p2"), Arn: aws.String("arn:aws:iam::111122223333:instance-profile/p2")},
		{InstanceProfileName: aws.String("p3"), Arn: aws.String("arn:aws:iam::111122223333:instance-profile/p3")},
	}
	f.secrets = []smtypes.SecretListEntry{
		{Name: aws.String("chap/web01"), ARN: aws.String("arn:aws:secretsmanager:us-west-2:111122223333:secret:chap/web01-AbCdEf")},
		{Name: aws.String("array/admin"), ARN: aws.String("arn:aws:secretsmanager:us-west-2:111122223333:secret:array/admin-AbCdEf")},
		{Name: aws.String("z"), ARN: aws.String("arn:aws:secretsmanager:us-west-2:111122223333:secret:z-AbCdEf")},
	}
	f.capAt = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	f.capacity["op-0000000000000000b/c6id.2xlarge"] = 3
	f.capacity["op-0000000000000000b/c6id.xlarge"] = 0
	return f
}
