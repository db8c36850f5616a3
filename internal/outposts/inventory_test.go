package outposts

// Unit tests of Load with in-memory fakes (fakes_test.go); no AWS.

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadKeepsServersOnlyAndGroupsSubnets(t *testing.T) {
	f := world()
	inv, err := Load(context.Background(), f.sources(), Options{})
	require.NoError(t, err)

	var ids []string
	for _, s := range inv.Servers {
		ids = append(ids, s.ID)
	}
	// The rack is left out; srv-d's hardware type came from GetOutpost.
	assert.Equal(t, []string{"op-0000000000000000a", "op-0000000000000000b", "op-0000000000000000d"}, ids)
	assert.Equal(t, 1, inv.NotServers)
	assert.Equal(t, 1, f.calls["GetOutpost"], "GetOutpost only for the Outpost whose page left out the hardware type")

	require.Len(t, inv.Subnets["op-0000000000000000a"], 2)
	a1, ok := inv.Subnet("subnet-a1")
	require.True(t, ok)
	assert.True(t, a1.LNIReady())
	assert.Equal(t, "name-subnet-a1", a1.Name)
	b1, _ := inv.Subnet("subnet-b1")
	assert.False(t, b1.LNIReady())
	_, regional := inv.Subnet("subnet-region")
	assert.False(t, regional, "a Region subnet (no OutpostArn) is not listed")

	assert.Equal(t, []string{"c6id.2xlarge", "c6id.xlarge"}, inv.CommonInstanceTypes("op-0000000000000000a", "op-0000000000000000b"))
	assert.Equal(t, Capacity{Free: 3, At: f.capAt}, inv.Capacity["op-0000000000000000b"]["c6id.2xlarge"], "the newest sample wins")
	_, known := inv.Capacity["op-0000000000000000a"]["m6id.large"]
	assert.False(t, known, "no sample, no capacity")

	offers := inv.Offers("op-0000000000000000a", "op-0000000000000000b")
	require.Len(t, offers, 2)
	assert.Equal(t, "c6id.2xlarge", offers[0].Type)
	assert.EqualValues(t, 4, offers[0].VCPUs)
	assert.Nil(t, offers[0].PrimaryFree)
	require.NotNil(t, offers[0].SecondaryFree)
	assert.Equal(t, 3, offers[0].SecondaryFree.Free)
	require.NotNil(t, offers[1].SecondaryFree)
	assert.Equal(t, 0, offers[1].SecondaryFree.Free, "a zero sample is known and zero, not unknown")

	ipxe := inv.ImagesOf(FamilyIPXE)
	require.Len(t, ipxe, 2)
	assert.Equal(t, "ami-ipxe2", ipxe[0].ID, "newest first")
	lb := inv.ImagesOf(FamilyLocalBoot)
	require.Len(t, lb, 1)
	assert.Equal(t, "ami-lb1", lb[0].ID)

	assert.Len(t, inv.SecurityGroupsIn("vpc-1"), 2)
	assert.Equal(t, []KeyPair{{Name: "ops", ID: "key-1", Type: "ed25519"}}, inv.KeyPairs)
	require.Len(t, inv.InstanceProfiles, 3)
	assert.Equal(t, []string{"r1"}, inv.InstanceProfiles[0].Roles)
	assert.Equal(t, []Secret{
		{Name: "array/admin", ARN: "arn:aws:secretsmanager:us-west-2:111122223333:secret:array/admin-AbCdEf"},
		{Name: "chap/web01", ARN: "arn:aws:secretsmanager:us-west-2:111122223333:secret:chap/web01-AbCdEf"},
		{Name: "z", ARN: "arn:aws:secretsmanager:us-west-2:111122223333:secret:z-AbCdEf"},
	}, inv.Secrets)
	// Every paged list took more than one page (the fakes page by two).
	for _, op := range []string{"ListOutposts", "DescribeSubnets", "DescribeSecurityGroups", "ListInstanceProfiles", "ListSecrets"} {
		assert.Greater(t, f.calls[op], 1, op)
	}
	assert.Equal(t, len(inv.Calls), sum(f.calls), "every request is timed")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestLoadImageFilterIsConfigurable(t *testing.T) {
	f := world()
	inv, err := Load(context.Background(), f.sources(), Options{Images: ImageFilter{IPXE: []string{"site-ipxe-*"}, LocalBoot: []string{}}})
	require.NoError(t, err)
	require.Len(t, inv.Images, 1)
	assert.Equal(t, Image{ID: "ami-custom", Name: "site-ipxe-build-7", Family: FamilyIPXE, CreationDate: "2025-07-01T00:00:00Z"}, inv.Images[0])
}

// The seven independent lists must all be in flight at once: each call of
// the first wave waits at a barrier until all seven have arrived. Run one
// after the other, the first call would wait for ever; the barrier's bounded
// wait turns that into a failure naming the calls that never came.
func TestLoadFetchesIndependentListsConcurrently(t *testing.T) {
	f := world()
	first := map[string]bool{"ListOutposts": true, "DescribeSubnets": true, "DescribeImages": true, "DescribeSecurityGroups": true,
		"DescribeKeyPairs": true, "ListInstanceProfiles": true, "ListSecrets": true}
	var mu sync.Mutex
	arrived := map[string]bool{}
	all := make(chan struct{})
	f.gate = func(op string) {
		mu.Lock()
		if !first[op] || arrived[op] {
			mu.Unlock()
			return
		}
		arrived[op] = true
		if len(arrived) == len(first) {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(time.Minute): // a bound, not a speed budget: sequential code never gets past here
			mu.Lock()
			defer mu.Unlock()
			var missing []string
			for op := range first {
				if !arrived[op] {
					missing = append(missing, op)
				}
			}
			t.Errorf("not concurrent: %s waited while %v had not started", op, missing)
		}
	}
	_, err := Load(context.Background(), f.sources(), Options{})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, arrived, len(first))
}

// A list that never ends stops at the page bound with an error naming it.
type endless struct{ *fakeAWS }

func (e endless) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, o ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	e.mu.Lock()
	e.calls["ListSecrets"]++
	e.mu.Unlock()
	return &secretsmanager.ListSecretsOutput{NextToken: aws.String("again-" + aws.ToString(in.NextToken))}, nil
}

func TestLoadStopsAtThePageBound(t *testing.T) {
	f := world()
	src := f.sources()
	src.Secrets = endless{f}
	inv, err := Load(context.Background(), src, Options{MaxPages: 4})
	var le *LoadError
	require.ErrorAs(t, err, &le)
	require.Len(t, le.Failed, 1)
	assert.Equal(t, "secrets", le.Failed[0].List)
	var pe *PageLimitError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 4, f.calls["ListSecrets"], "exactly MaxPages requests")
	assert.Contains(t, err.Error(), "narrow the list")
	assert.Len(t, inv.Servers, 3, "the other lists are still there")
}

func TestLoadPartialFailureNamesCallAndFix(t *testing.T) {
	f := world()
	f.fail["ListSecrets"] = denied("secretsmanager:ListSecrets")
	f.fail["GetOutpostInstanceTypes"] = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	inv, err := Load(context.Background(), f.sources(), Options{})
	var le *LoadError
	require.ErrorAs(t, err, &le)
	msg := err.Error()
	assert.Contains(t, msg, "secrets (secretsmanager:ListSecrets)")
	assert.Contains(t, msg, "allow secretsmanager:ListSecrets for the caller")
	assert.Contains(t, msg, "instance types of op-0000000000000000a (outposts:GetOutpostInstanceTypes)")
	assert.Contains(t, msg, "throttled")
	assert.Empty(t, inv.Secrets)
	assert.NotEmpty(t, inv.Subnets)
	assert.NotEmpty(t, inv.KeyPairs)
	// Every failure is reachable with errors.As.
	var se *SourceError
	assert.True(t, errors.As(err, &se))
}

func TestLoadRefusesARepeatedNextToken(t *testing.T) {
	f := world()
	src := f.sources()
	src.Secrets = stuck{f}
	_, err := Load(context.Background(), src, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "same NextToken twice")
}

type stuck struct{ *fakeAWS }

func (s stuck) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, o ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	return &secretsmanager.ListSecretsOutput{NextToken: aws.String("same")}, nil
}

func TestLoadReportsProgressPerList(t *testing.T) {
	f := world()
	f.fail["DescribeKeyPairs"] = denied("ec2:DescribeKeyPairs")
	var mu sync.Mutex
	got := map[string]string{}
	_, err := Load(context.Background(), f.sources(), Options{Progress: func(list string, err error) {
		mu.Lock()
		defer mu.Unlock()
		_, dup := got[list]
		assert.False(t, dup, "one report per list: %s", list)
		got[list] = "ok"
		if err != nil {
			got[list] = "failed"
		}
	}})
	require.Error(t, err)
	assert.Equal(t, map[string]string{"outposts": "ok", "subnets": "ok", "images": "ok", "security groups": "ok", "key pairs": "failed",
		"instance profiles": "ok", "secrets": "ok", "capacity": "ok",
		"instance types of op-0000000000000000a": "ok", "instance types of op-0000000000000000b": "ok", "instance types of op-0000000000000000d": "ok"}, got)
}

func TestLoadWithoutMetricsHasNoCapacity(t *testing.T) {
	f := world()
	src := f.sources()
	src.Metrics = nil
	inv, err := Load(context.Background(), src, Options{})
	require.NoError(t, err)
	assert.Empty(t, inv.Capacity)
	assert.Zero(t, f.calls["GetMetricData"])
}

func TestLoadRequiresClients(t *testing.T) {
	_, err := Load(context.Background(), Sources{}, Options{})
	require.Error(t, err)
}

func TestMatchGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"*iPXE-*", "outposts-iPXE-1", true}, {"*iPXE-*", "ipxe-1", false}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"", "", true}, {"*", "", true}, {"x*", "y", false}, {"*a*b", "xaxxb", true}, {"*a*b", "xaxxbc", false},
		{"a*b*c", "abc", true}, {"a*", "a", true}, {"?", "", false}, {"*?", "x", true}, {"*a*", "a*00", true}, // found by FuzzMatchGlob
		// A pathological pattern answers at once (the recursive matcher took exponential time).
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false},
	} {
		assert.Equal(t, c.ok, matchGlob(c.p, c.s), "%q ~ %q", c.p, c.s)
	}
}

func TestSourceErrorFixes(t *testing.T) {
	for code, want := range map[string]string{
		"UnauthorizedOperation": "allow ec2:DescribeSubnets",
		"ExpiredToken":          "refresh the credentials",
		"RequestLimitExceeded":  "throttled",
		"InternalError":         "check the Region",
	} {
		e := &SourceError{List: "subnets", Op: "ec2:DescribeSubnets", Err: &smithy.GenericAPIError{Code: code}}
		assert.True(t, strings.Contains(e.Error(), want), "%s: %s", code, e.Error())
	}
}

// FuzzMatchGlob compares the matcher with a regexp built from the pattern.
func FuzzMatchGlob(f *testing.F) {
	for _, seed := range [][2]string{{"*iPXE-*", "outposts-iPXE-1"}, {"a?c", "abc"}, {"*a*b", "xaxxbc"}, {"**", ""}, {"?*?", "ab"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`^(?s)`)
		for i := 0; i < len(pattern); i++ {
			switch pattern[i] {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(pattern[i])))
			}
		}
		re.WriteString(`$`)
		// Byte-wise semantics: compare on the Latin-1 view so '?' is one byte.
		want := regexp.MustCompile(re.String()).MatchString(latin1(s))
		if pattern != latin1Pattern(pattern) {
			return // non-ASCII pattern bytes: the regexp view differs; skip
		}
		assert.Equal(t, want, matchGlob(pattern, s), "pattern %q on %q", pattern, s)
	})
}

func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

func latin1Pattern(p string) string {
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 {
			return ""
		}
	}
	return p
}
