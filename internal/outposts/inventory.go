package outposts

// The live inventory setup picks from: the account's Outposts servers, their
// subnets with the LNI setting, the instance types each server offers and its
// free capacity, the helper AMIs, security groups, key pairs, instance
// profiles and the names of Secrets Manager secrets. Every list is fetched
// concurrently, every call is paginated with a page bound, and a failed list
// does not hide the others: Load returns what it got plus a LoadError naming
// each failed call and its fix.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
)

// Helper AMI families. AWS names the images (launch wizard's verified list,
// reference/domain.md §2: "iPXE AMI name contains `iPXE-`; LocalBoot AMI name
// contains `localboot-ami-`"; AWS marks those names as temporary, hence the
// configurable ImageFilter).
const (
	FamilyIPXE      = "ipxe"      // iSCSI SAN boot
	FamilyLocalBoot = "localboot" // NVMe/TCP (or iSCSI) LocalBoot
)

// Default name patterns of the helper AMI families (EC2 DescribeImages name
// filter wildcards: * and ?).
var (
	DefaultIPXEPatterns      = []string{"*iPXE-*"}
	DefaultLocalBootPatterns = []string{"*localboot-ami-*"}
)

// ImageFilter selects the helper AMIs.
type ImageFilter struct {
	IPXE      []string // name patterns of the iPXE family; nil = DefaultIPXEPatterns
	LocalBoot []string // name patterns of the LocalBoot family; nil = DefaultLocalBootPatterns
	// Owners restricts DescribeImages to these owners (account IDs, "self",
	// "amazon"). Empty: every image the account can launch that matches a
	// name pattern.
	Owners []string
}

// Sources are the clients the inventory reads. Metrics may be nil (capacity
// is then unknown); every other source is required.
type Sources struct {
	Outposts       OutpostsAPI
	Subnets        SubnetAPI
	Images         ImageAPI
	SecurityGroups SecurityGroupAPI
	KeyPairs       KeyPairAPI
	Profiles       InstanceProfileAPI
	Secrets        SecretListAPI
	Metrics        MetricAPI
}

// Options tunes Load.
type Options struct {
	Images ImageFilter
	// MaxPages bounds the pages read from any one list (default 50). A list
	// longer than that fails with a message asking for a filter.
	MaxPages int
	// PageSize is the MaxResults asked for (default 100; each call's own
	// range applies: Secrets Manager at most 100, EC2 at least 5).
	PageSize int32
	// CapacityWindow is how far back capacity samples are read (default 3h).
	CapacityWindow time.Duration
	// Now is the clock for the capacity window (default time.Now).
	Now func() time.Time
	// Progress, when set, is called once per list as it finishes (err nil
	// on success), so a screen can stop that list's spinner. Lists: the
	// List names of SourceError ("outposts", "subnets", "instance types of
	// op-...", "capacity", "images", "security groups", "key pairs",
	// "instance profiles", "secrets"). It is called from several goroutines
	// at once and must be safe for that.
	Progress func(list string, err error)
}

func (o Options) withDefaults() Options {
	if o.MaxPages <= 0 {
		o.MaxPages = 50
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.CapacityWindow <= 0 {
		o.CapacityWindow = 3 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Images.IPXE == nil {
		o.Images.IPXE = DefaultIPXEPatterns
	}
	if o.Images.LocalBoot == nil {
		o.Images.LocalBoot = DefaultLocalBootPatterns
	}
	return o
}

// Server is an Outpost whose hardware type is SERVER.
type Server struct {
	ID, ARN, Name, OwnerID, SiteID string
	AvailabilityZone, LifeCycle    string
}

// Subnet is a subnet of an Outpost.
type Subnet struct {
	ID, VPCID, Name, CIDR, AvailabilityZone string
	OutpostID, OutpostARN                   string
	// LNIIndex is EnableLniAtDeviceIndex; nil when the subnet has no LNI.
	LNIIndex     *int32
	AvailableIPs int32
}

// LNIReady reports whether the subnet puts the LNI at device index 1.
func (s Subnet) LNIReady() bool { return s.LNIIndex != nil && *s.LNIIndex == LNIDeviceIndex }

// InstanceType is one type an Outpost offers.
type InstanceType struct {
	Type  string
	VCPUs int32 // 0 when not given
}

// Capacity is the newest AWS/Outposts AvailableInstanceType_Count sample.
type Capacity struct {
	Free int
	At   time.Time
}

// Image is a helper AMI.
type Image struct {
	ID, Name, Family, Architecture, OwnerID, CreationDate string
}

// SecurityGroup is a security group.
type SecurityGroup struct{ ID, Name, VPCID string }

// KeyPair is an EC2 key pair.
type KeyPair struct{ Name, ID, Type string }

// InstanceProfile is an IAM instance profile and its roles.
type InstanceProfile struct {
	Name, ARN string
	Roles     []string
}

// Secret is a Secrets Manager secret, by name; the inventory never reads a
// value.
type Secret struct{ Name, ARN string }

// Call is one API request the inventory made (one page).
type Call struct {
	Op       string // e.g. "ec2:DescribeSubnets"
	Start    time.Time
	Duration time.Duration
	Err      error
}

// Inventory is what Load found.
type Inventory struct {
	Servers []Server
	// NotServers counts the Outposts left out because they are racks (or
	// report no hardware type).
	NotServers       int
	Subnets          map[string][]Subnet       // by Outpost ID
	InstanceTypes    map[string][]InstanceType // by Outpost ID
	Capacity         map[string]map[string]Capacity
	Images           []Image
	SecurityGroups   []SecurityGroup
	KeyPairs         []KeyPair
	InstanceProfiles []InstanceProfile
	Secrets          []Secret
	Calls            []Call
}

// Server returns the server with this Outpost ID.
func (inv *Inventory) Server(id string) (Server, bool) {
	for _, s := range inv.Servers {
		if s.ID == id {
			return s, true
		}
	}
	return Server{}, false
}

// Subnet returns the subnet with this ID, on any Outpost.
func (inv *Inventory) Subnet(id string) (Subnet, bool) {
	for _, l := range inv.Subnets {
		for _, s := range l {
			if s.ID == id {
				return s, true
			}
		}
	}
	return Subnet{}, false
}

// CommonInstanceTypes lists the types offered on both Outposts, sorted.
func (inv *Inventory) CommonInstanceTypes(a, b string) []string {
	in := map[string]bool{}
	for _, t := range inv.InstanceTypes[a] {
		in[t.Type] = true
	}
	var out []string
	for _, t := range inv.InstanceTypes[b] {
		if in[t.Type] {
			out = append(out, t.Type)
			in[t.Type] = false
		}
	}
	sort.Strings(out)
	return out
}

// Offer is an instance type offered on both servers of a pair, with the free
// capacity of each where CloudWatch has a sample (nil: unknown).
type Offer struct {
	Type                       string
	VCPUs                      int32
	PrimaryFree, SecondaryFree *Capacity
}

// Offers lists the instance types both Outposts offer, sorted, with capacity:
// what the instance step shows.
func (inv *Inventory) Offers(primary, secondary string) []Offer {
	vcpus := map[string]int32{}
	for _, t := range inv.InstanceTypes[primary] {
		vcpus[t.Type] = t.VCPUs
	}
	var out []Offer
	for _, it := range inv.CommonInstanceTypes(primary, secondary) {
		o := Offer{Type: it, VCPUs: vcpus[it]}
		if c, ok := inv.Capacity[primary][it]; ok {
			o.PrimaryFree = &c
		}
		if c, ok := inv.Capacity[secondary][it]; ok {
			o.SecondaryFree = &c
		}
		out = append(out, o)
	}
	return out
}

// ImagesOf lists the AMIs of one family, newest first.
func (inv *Inventory) ImagesOf(family string) []Image {
	var out []Image
	for _, im := range inv.Images {
		if im.Family == family {
			out = append(out, im)
		}
	}
	return out
}

// SecurityGroupsIn lists the security groups of one VPC.
func (inv *Inventory) SecurityGroupsIn(vpc string) []SecurityGroup {
	var out []SecurityGroup
	for _, g := range inv.SecurityGroups {
		if g.VPCID == vpc {
			out = append(out, g)
		}
	}
	return out
}

// SourceError is one list that could not be read.
type SourceError struct {
	List string // "subnets", "secrets", ...
	Op   string // "ec2:DescribeSubnets"
	Err  error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("%s (%s): %v. Fix: %s", e.List, e.Op, e.Err, e.Fix())
}

func (e *SourceError) Unwrap() error { return e.Err }

// Fix says what the operator can do.
func (e *SourceError) Fix() string {
	code := awsx.Code(e.Err)
	var pe *PageLimitError
	switch {
	case errors.As(e.Err, &pe):
		return "narrow the list (an AMI owner filter, fewer resources in the Region) or raise the page bound"
	case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" || code == "AuthorizationError":
		return "allow " + e.Op + " for the caller (the operator policy `plan` writes lists it), or type the value instead of picking it"
	case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "InvalidClientTokenId" || code == "UnrecognizedClientException":
		return "refresh the credentials (aws sso login, or a new session) and run setup again"
	case code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded" || code == "TooManyRequestsException":
		return "the API throttled the call; run setup again in a minute"
	default:
		return "check the Region, network access to the endpoint, and credentials, then run setup again"
	}
}

// LoadError lists every list that failed; the inventory still holds the rest.
type LoadError struct{ Failed []*SourceError }

func (e *LoadError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = f.Error()
	}
	return "inventory incomplete: " + strings.Join(parts, "; ")
}

// Unwrap exposes the failures to errors.Is/As.
func (e *LoadError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}

// PageLimitError is a list longer than the page bound.
type PageLimitError struct {
	Op    string
	Pages int
}

func (e *PageLimitError) Error() string {
	return fmt.Sprintf("%s still had more results after %d pages", e.Op, e.Pages)
}

// loader runs one Load.
type loader struct {
	src Sources
	o   Options
	mu  sync.Mutex
	inv *Inventory
	bad []*SourceError
}

func (l *loader) call(ctx context.Context, op string, f func(context.Context) error) error {
	start := time.Now()
	err := f(ctx)
	l.mu.Lock()
	l.inv.Calls = append(l.inv.Calls, Call{Op: op, Start: start, Duration: time.Since(start), Err: err})
	l.mu.Unlock()
	return err
}

func (l *loader) fail(list, op string, err error) {
	se := &SourceError{List: list, Op: op, Err: err}
	l.mu.Lock()
	l.bad = append(l.bad, se)
	l.mu.Unlock()
	if l.o.Progress != nil {
		l.o.Progress(list, se)
	}
}

func (l *loader) ok(list string) {
	if l.o.Progress != nil {
		l.o.Progress(list, nil)
	}
}

// pages runs fetch until it returns an empty next token, at most MaxPages times.
func (l *loader) pages(ctx context.Context, op string, fetch func(ctx context.Context, token string) (next string, err error)) error {
	token := ""
	for n := 0; n < l.o.MaxPages; n++ {
		var next string
		err := l.call(ctx, op, func(ctx context.Context) error {
			var err error
			next, err = fetch(ctx, token)
			return err
		})
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if next == token {
			return fmt.Errorf("%s returned the same NextToken twice", op)
		}
		token = next
	}
	return &PageLimitError{Op: op, Pages: l.o.MaxPages}
}

func clamp(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Load reads every list concurrently. The instance types of each server are
// read as soon as the Outposts list is in, and capacity as soon as the
// instance types are; everything else starts at once.
func Load(ctx context.Context, src Sources, o Options) (*Inventory, error) {
	if src.Outposts == nil || src.Subnets == nil || src.Images == nil || src.SecurityGroups == nil ||
		src.KeyPairs == nil || src.Profiles == nil || src.Secrets == nil {
		return nil, errors.New("outposts.Load: a required client is missing")
	}
	l := &loader{src: src, o: o.withDefaults(), inv: &Inventory{
		Subnets: map[string][]Subnet{}, InstanceTypes: map[string][]InstanceType{}, Capacity: map[string]map[string]Capacity{},
	}}
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	run(l.outpostsChain)
	run(l.subnets)
	run(l.images)
	run(l.securityGroups)
	run(l.keyPairs)
	run(l.profiles)
	run(l.secrets)
	wg.Wait()
	inv := l.inv
	sort.Slice(inv.Calls, func(i, j int) bool { return inv.Calls[i].Start.Before(inv.Calls[j].Start) })
	if len(l.bad) > 0 {
		sort.Slice(l.bad, func(i, j int) bool { return l.bad[i].List < l.bad[j].List })
		return inv, &LoadError{Failed: l.bad}
	}
	return inv, nil
}

// outpostsChain: ListOutposts -> GetOutpostInstanceTypes per server (in
// parallel) -> capacity.
func (l *loader) outpostsChain(ctx context.Context) {
	const op = "outposts:ListOutposts"
	var all []OutpostInfo
	err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
		p, err := l.src.Outposts.ListOutposts(ctx, clamp(l.o.PageSize, 1, MaxPageSize), tok)
		if err != nil {
			return "", err
		}
		all = append(all, p.Outposts...)
		return p.NextToken, nil
	})
	if err != nil {
		l.fail("outposts", op, err)
		return
	}
	var servers []Server
	notServers := 0
	for _, op := range all {
		hw := op.SupportedHardwareType
		if hw == "" && op.OutpostId != "" {
			// ListOutposts returns the Outpost shape, hardware type included;
			// ask GetOutpost when a page leaves it out.
			var got *OutpostInfo
			err := l.call(ctx, "outposts:GetOutpost", func(ctx context.Context) error {
				var err error
				got, err = l.src.Outposts.GetOutpost(ctx, op.OutpostId)
				return err
			})
			if err == nil && got != nil {
				hw = got.SupportedHardwareType
			}
		}
		if hw != HardwareServer {
			notServers++
			continue
		}
		servers = append(servers, Server{ID: op.OutpostId, ARN: op.OutpostArn, Name: op.Name, OwnerID: op.OwnerId,
			SiteID: op.SiteId, AvailabilityZone: op.AvailabilityZone, LifeCycle: op.LifeCycleStatus})
	}
	sort.Slice(servers, func(i, j int) bool {
		if servers[i].Name != servers[j].Name {
			return servers[i].Name < servers[j].Name
		}
		return servers[i].ID < servers[j].ID
	})
	l.mu.Lock()
	l.inv.Servers, l.inv.NotServers = servers, notServers
	l.mu.Unlock()
	l.ok("outposts")

	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			l.instanceTypes(ctx, id)
		}(s.ID)
	}
	wg.Wait()
	if l.src.Metrics != nil {
		l.capacity(ctx)
	}
}

func (l *loader) instanceTypes(ctx context.Context, outpostID string) {
	const op = "outposts:GetOutpostInstanceTypes"
	var types []InstanceType
	err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
		p, err := l.src.Outposts.GetOutpostInstanceTypes(ctx, outpostID, clamp(l.o.PageSize, 1, MaxPageSize), tok)
		if err != nil {
			return "", err
		}
		for _, it := range p.InstanceTypes {
			t := InstanceType{Type: it.InstanceType}
			if it.VCPUs != nil {
				t.VCPUs = *it.VCPUs
			}
			types = append(types, t)
		}
		return p.NextToken, nil
	})
	if err != nil {
		l.fail("instance types of "+outpostID, op, err)
		return
	}
	sort.Slice(types, func(i, j int) bool { return types[i].Type < types[j].Type })
	l.mu.Lock()
	l.inv.InstanceTypes[outpostID] = types
	l.mu.Unlock()
	l.ok("instance types of " + outpostID)
}

// CapacityMetric is the metric the free capacity comes from: AWS/Outposts
// AvailableInstanceType_Count, dimensions OutpostId and InstanceType (the
// same metric the failover drill reads, recovery/drill.go).
const (
	CapacityNamespace = "AWS/Outposts"
	CapacityMetric    = "AvailableInstanceType_Count"
	// maxQueriesPerCall: GetMetricData "You can include up to 500
	// MetricDataQuery structures in one call."
	maxQueriesPerCall = 500
)

type capQuery struct{ outpost, itype string }

func (l *loader) capacity(ctx context.Context) {
	const op = "cloudwatch:GetMetricData"
	l.mu.Lock()
	var qs []capQuery
	for _, s := range l.inv.Servers {
		for _, t := range l.inv.InstanceTypes[s.ID] {
			qs = append(qs, capQuery{s.ID, t.Type})
		}
	}
	l.mu.Unlock()
	now := l.o.Now().UTC()
	found := map[capQuery]Capacity{}
	for start := 0; start < len(qs); start += maxQueriesPerCall {
		chunk := qs[start:min(start+maxQueriesPerCall, len(qs))]
		in := &cloudwatch.GetMetricDataInput{
			StartTime: aws.Time(now.Add(-l.o.CapacityWindow)), EndTime: aws.Time(now.Add(time.Minute)),
			ScanBy: cwtypes.ScanByTimestampDescending,
		}
		for i, q := range chunk {
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("c%d", i)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String(CapacityNamespace), MetricName: aws.String(CapacityMetric),
						Dimensions: []cwtypes.Dimension{
							{Name: aws.String("OutpostId"), Value: aws.String(q.outpost)},
							{Name: aws.String("InstanceType"), Value: aws.String(q.itype)},
						}},
					Period: aws.Int32(300), Stat: aws.String("Minimum"),
				},
				ReturnData: aws.Bool(true),
			})
		}
		err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
			if tok != "" {
				in.NextToken = aws.String(tok)
			}
			out, err := l.src.Metrics.GetMetricData(ctx, in)
			if err != nil {
				return "", err
			}
			for _, r := range out.MetricDataResults {
				var idx int
				if _, err := fmt.Sscanf(aws.ToString(r.Id), "c%d", &idx); err != nil || idx < 0 || idx >= len(chunk) {
					continue
				}
				q := chunk[idx]
				for i := range r.Timestamps {
					if i >= len(r.Values) {
						break
					}
					if c, ok := found[q]; !ok || r.Timestamps[i].After(c.At) {
						found[q] = Capacity{Free: int(r.Values[i]), At: r.Timestamps[i]}
					}
				}
			}
			return aws.ToString(out.NextToken), nil
		})
		if err != nil {
			l.fail("capacity", op, err)
			return
		}
	}
	l.mu.Lock()
	for q, c := range found {
		if l.inv.Capacity[q.outpost] == nil {
			l.inv.Capacity[q.outpost] = map[string]Capacity{}
		}
		l.inv.Capacity[q.outpost][q.itype] = c
	}
	l.mu.Unlock()
	l.ok("capacity")
}

// outpostIDFromARN takes op-... from arn:aws:outposts:<r>:<acct>:outpost/op-...
func outpostIDFromARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return ""
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// subnets lists every subnet once and groups the Outpost subnets by Outpost
// (DescribeSubnets has an outpost-arn filter, but using it would wait for
// ListOutposts; one list of the Region's subnets does not).
func (l *loader) subnets(ctx context.Context) {
	const op = "ec2:DescribeSubnets"
	by := map[string][]Subnet{}
	err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
		in := &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(clamp(l.o.PageSize, 5, 1000))}
		if tok != "" {
			in.NextToken = aws.String(tok)
		}
		out, err := l.src.Subnets.DescribeSubnets(ctx, in)
		if err != nil {
			return "", err
		}
		for _, s := range out.Subnets {
			arn := aws.ToString(s.OutpostArn)
			if arn == "" {
				continue
			}
			id := outpostIDFromARN(arn)
			by[id] = append(by[id], Subnet{ID: aws.ToString(s.SubnetId), VPCID: aws.ToString(s.VpcId), Name: tagValue(s.Tags, "Name"),
				CIDR: aws.ToString(s.CidrBlock), AvailabilityZone: aws.ToString(s.AvailabilityZone), OutpostID: id, OutpostARN: arn,
				LNIIndex: s.EnableLniAtDeviceIndex, AvailableIPs: aws.ToInt32(s.AvailableIpAddressCount)})
		}
		return aws.ToString(out.NextToken), nil
	})
	if err != nil {
		l.fail("subnets", op, err)
		return
	}
	for _, list := range by {
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	}
	l.mu.Lock()
	l.inv.Subnets = by
	l.mu.Unlock()
	l.ok("subnets")
}

// matchGlob matches EC2 filter wildcards: * any run, ? one character. It is
// the iterative matcher (backtrack to the last *), linear in practice and
// never exponential, whatever pattern the operator configures.
func matchGlob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func (l *loader) images(ctx context.Context) {
	const op = "ec2:DescribeImages"
	names := append(append([]string{}, l.o.Images.IPXE...), l.o.Images.LocalBoot...)
	var out []Image
	err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
		in := &ec2.DescribeImagesInput{
			Filters: []ec2types.Filter{
				{Name: aws.String("name"), Values: names},
				{Name: aws.String("state"), Values: []string{"available"}},
			},
			Owners:     l.o.Images.Owners,
			MaxResults: aws.Int32(clamp(l.o.PageSize, 5, 1000)),
		}
		if tok != "" {
			in.NextToken = aws.String(tok)
		}
		res, err := l.src.Images.DescribeImages(ctx, in)
		if err != nil {
			return "", err
		}
		for _, im := range res.Images {
			name := aws.ToString(im.Name)
			fam := ""
			for _, p := range l.o.Images.IPXE {
				if matchGlob(p, name) {
					fam = FamilyIPXE
				}
			}
			for _, p := range l.o.Images.LocalBoot {
				if fam == "" && matchGlob(p, name) {
					fam = FamilyLocalBoot
				}
			}
			if fam == "" {
				continue
			}
			out = append(out, Image{ID: aws.ToString(im.ImageId), Name: name, Family: fam, Architecture: string(im.Architecture),
				OwnerID: aws.ToString(im.OwnerId), CreationDate: aws.ToString(im.CreationDate)})
		}
		return aws.ToString(res.NextToken), nil
	})
	if err != nil {
		l.fail("images", op, err)
		return
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Family != out[j].Family {
			return out[i].Family < out[j].Family
		}
		if out[i].CreationDate != out[j].CreationDate {
			return out[i].CreationDate > out[j].CreationDate
		}
		return out[i].ID < out[j].ID
	})
	l.mu.Lock()
	l.inv.Images = out
	l.mu.Unlock()
	l.ok("images")
}

func (l *loader) securityGroups(ctx context.Context) {
	const op = "ec2:DescribeSecurityGroups"
	var out []SecurityGroup
	err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
		in := &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(clamp(l.o.PageSize, 5, 1000))}
		if tok != "" {
			in.NextToken = aws.String(tok)
		}
		res, err := l.src.SecurityGroups.DescribeSecurityGroups(ctx, in)
		if err != nil {
			return "", err
		}
		for _, g := range res.SecurityGroups {
			out = append(out, SecurityGroup{ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName), VPCID: aws.ToString(g.VpcId)})
		}
		return aws.ToString(res.NextToken), nil
	})
	if err != nil {
		l.fail("security groups", op, err)
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name+out[i].ID < out[j].Name+out[j].ID })
	l.mu.Lock()
	l.inv.SecurityGroups = out
	l.mu.Unlock()
	l.ok("security groups")
}

// keyPairs: DescribeKeyPairs returns every key pair in one answer (the call
// has no pagination), so one request is the bound.
func (l *loader) keyPairs(ctx context.Context) {
	const op = "ec2:DescribeKeyPairs"
	var out []KeyPair
	err := l.call(ctx, op, func(ctx context.Context) error {
		res, err := l.src.KeyPairs.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
		if err != nil {
			return err
		}
		for _, k := range res.KeyPairs {
			out = append(out, KeyPair{Name: aws.ToString(k.KeyName), ID: aws.ToString(k.KeyPairId), Type: string(k.KeyType)})
		}
		return nil
	})
	if err != nil {
		l.fail("key pairs", op, err)
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	l.mu.Lock()
	l.inv.KeyPairs = out
	l.mu.Unlock()
	l.ok("key pairs")
}

func (l *loader) profiles(ctx context.Context) {
	const op = "iam:ListInstanceProfiles"
	var out []InstanceProfile
	err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
		in := &iam.ListInstanceProfilesInput{MaxItems: aws.Int32(clamp(l.o.PageSize, 1, 1000))}
		if tok != "" {
			in.Marker = aws.String(tok)
		}
		res, err := l.src.Profiles.ListInstanceProfiles(ctx, in)
		if err != nil {
			return "", err
		}
		for _, p := range res.InstanceProfiles {
			ip := InstanceProfile{Name: aws.ToString(p.InstanceProfileName), ARN: aws.ToString(p.Arn)}
			for _, r := range p.Roles {
				ip.Roles = append(ip.Roles, aws.ToString(r.RoleName))
			}
			out = append(out, ip)
		}
		if !res.IsTruncated {
			return "", nil
		}
		return aws.ToString(res.Marker), nil
	})
	if err != nil {
		l.fail("instance profiles", op, err)
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	l.mu.Lock()
	l.inv.InstanceProfiles = out
	l.mu.Unlock()
	l.ok("instance profiles")
}

func (l *loader) secrets(ctx context.Context) {
	const op = "secretsmanager:ListSecrets"
	var out []Secret
	err := l.pages(ctx, op, func(ctx context.Context, tok string) (string, error) {
		in := &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(clamp(l.o.PageSize, 1, 100))}
		if tok != "" {
			in.NextToken = aws.String(tok)
		}
		res, err := l.src.Secrets.ListSecrets(ctx, in)
		if err != nil {
			return "", err
		}
		for _, s := range res.SecretList {
			out = append(out, Secret{Name: aws.ToString(s.Name), ARN: aws.ToString(s.ARN)})
		}
		return aws.ToString(res.NextToken), nil
	})
	if err != nil {
		l.fail("secrets", op, err)
		return
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	l.mu.Lock()
	l.inv.Secrets = out
	l.mu.Unlock()
	l.ok("secrets")
}
