package sanboot

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// TestBoundedPatternsMatchCounted checks that contentTypeRE and filenameRE
// accept exactly what the counted patterns they replaced (issue 17) accept, on
// a deterministic corpus around the length bounds, drawn from the patterns'
// characters plus others (a second '/', a newline, non-ASCII). Real regexps on
// both sides, no fakes.
func TestBoundedPatternsMatchCounted(t *testing.T) {
	cases := []struct {
		name, old string
		m         matchFunc
		gen       func(r *rand.Rand, n int) string
	}{
		{"contentType", `^[a-z]+/[a-z0-9][a-z0-9.+-]{0,126}$`, contentTypeRE(), func(r *rand.Rand, n int) string {
			return randFrom(r, 1+r.Intn(12), "abz") + "/" + randFrom(r, n, "az09.+-")
		}},
		{"filename", `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`, filenameRE(), func(r *rand.Rand, n int) string {
			return randFrom(r, n, "aZ09._-")
		}},
	}
	rng := rand.New(rand.NewSource(17))
	for _, tc := range cases {
		old := regexp.MustCompile(tc.old)
		checked, accepted := 0, 0
		check := func(s string) {
			checked++
			want := old.MatchString(s)
			if want {
				accepted++
			}
			if got := tc.m.MatchString(s); got != want {
				t.Errorf("%s: %q (len %d): new check says %v, %s says %v", tc.name, s, len(s), got, tc.old, want)
			}
		}
		for _, n := range []int{0, 1, 2, 63, 64, 65, 126, 127, 128, 129, 200} {
			for i := 0; i < 60; i++ {
				check(tc.gen(rng, n))
			}
		}
		for _, s := range []string{"", "/", "a/", "/a", "a/b/c", "text/plain\n", "A/b", "a/é", "é", "a", "-a", ".a", "a\n"} {
			check(s)
		}
		if accepted == 0 || accepted == checked {
			t.Fatalf("%s: corpus of %d strings has %d accepted; it must have both kinds", tc.name, checked, accepted)
		}
	}
}

// randFrom returns n characters, mostly from class, now and then one outside
// it ('/', 'A', ' ', '\n', 'é', '_').
func randFrom(r *rand.Rand, n int, class string) string {
	outside := []string{"/", "A", " ", "\n", "é", "_"}
	var b strings.Builder
	for i := 0; i < n; i++ {
		if r.Intn(60) == 0 {
			b.WriteString(outside[r.Intn(len(outside))])
		} else {
			b.WriteByte(class[r.Intn(len(class))])
		}
	}
	return b.String()
}

// TestSecretARNMatchesCountedPattern checks that matchSecretARN returns what
// the counted pattern it replaced (issue 17) returns, partition and Region
// included, on a deterministic corpus of ARNs whose names surround the
// 512-character bound. Real regexps on both sides, no fakes.
func TestSecretARNMatchesCountedPattern(t *testing.T) {
	old := regexp.MustCompile(`^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$`)
	rng := rand.New(rand.NewSource(17))
	heads := []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:",
		"arn:aws:secretsmanager:us-east-1:12345678901:secret:", "arn:aws:secretsmanager::123456789012:secret:", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x:"}
	accepted, checked := 0, 0
	for _, n := range []int{0, 1, 2, 255, 510, 511, 512, 513, 514, 600} {
		for i := 0; i < 30; i++ {
			name := randFrom(rng, n, "aZ9/_+=.@-")
			if i%2 == 0 { // class characters only, so long names can match
				name = strings.Repeat("aZ9/_+=.@-", n/10+1)[:n]
			}
			s := heads[rng.Intn(len(heads))] + name
			want := old.FindStringSubmatch(s)
			got := matchSecretARN(s)
			checked++
			if want != nil {
				accepted++
			}
			if (want == nil) != (got == nil) || (want != nil && (got[1] != want[1] || got[2] != want[2])) {
				t.Errorf("%q (name %d): matchSecretARN gives %q, the counted pattern %q", s, n, got, want)
			}
		}
	}
	if accepted == 0 || accepted == checked {
		t.Fatalf("corpus of %d ARNs has %d accepted; it needs both kinds", checked, accepted)
	}
}
