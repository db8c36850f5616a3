package stack

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// TestCountFreeMatchersMatchPatterns checks that emailRE, roleRE and bucketRE
// accept exactly what emailPattern, rolePattern and bucketPattern (the
// template's AllowedPattern strings) accept, on a deterministic corpus around
// every length bound (local part 64, label 63, last role segment 64, bucket
// 3..63), with now and then a character outside the pattern ('@', '/', '.',
// upper case, a newline, non-ASCII). Real regexps on both sides, no fakes.
func TestCountFreeMatchersMatchPatterns(t *testing.T) {
	lens := []int{0, 1, 2, 3, 4, 61, 62, 63, 64, 65, 66, 100}
	cases := []struct {
		name, pattern string
		m             matchFunc
		gen           func(r *rand.Rand) string
	}{
		{"email", emailPattern, emailRE(), func(r *rand.Rand) string {
			labels := make([]string, 1+r.Intn(3))
			for i := range labels {
				labels[i] = someOf(r, lens[r.Intn(len(lens))], "aZ9-")
			}
			return someOf(r, lens[r.Intn(len(lens))], "aZ9._%+-") + "@" + strings.Join(labels, ".")
		}},
		{"role", rolePattern, roleRE(), func(r *rand.Rand) string {
			segs := make([]string, 1+r.Intn(3))
			for i := range segs {
				segs[i] = someOf(r, lens[r.Intn(len(lens))], "aZ9+=,.@_-")
			}
			return strings.Join(segs, "/")
		}},
		{"bucket", bucketPattern, bucketRE(), func(r *rand.Rand) string {
			return someOf(r, lens[r.Intn(len(lens))], "az9.-")
		}},
	}
	rng := rand.New(rand.NewSource(17))
	for _, tc := range cases {
		old := regexp.MustCompile(tc.pattern)
		checked, accepted := 0, 0
		check := func(s string) {
			checked++
			want := old.MatchString(s)
			if want {
				accepted++
			}
			if got := tc.m.MatchString(s); got != want {
				t.Errorf("%s: %q (len %d): new check says %v, the pattern says %v", tc.name, s, len(s), got, want)
			}
		}
		for i := 0; i < 20000; i++ {
			check(tc.gen(rng))
		}
		for _, s := range []string{"", "@", "a@b", "a@b.c", "a@b.c\n", "a@@b.c", "a@b..c", "a@-b.c", "/", "a/", "/a", "a//b", "abc", "a.b", "ab", "é@b.c", "a@b.é"} {
			check(s)
		}
		if accepted < 100 || checked-accepted < 100 {
			t.Fatalf("%s: corpus of %d strings has %d accepted; it must have plenty of both kinds", tc.name, checked, accepted)
		}
	}
}

// someOf returns n characters, mostly from class, now and then one outside it.
func someOf(r *rand.Rand, n int, class string) string {
	outside := []string{"@", "/", ".", "A", "a", "-", "\n", "é", "_"}
	var b strings.Builder
	for i := 0; i < n; i++ {
		if r.Intn(80) == 0 {
			b.WriteString(outside[r.Intn(len(outside))])
		} else {
			b.WriteByte(class[r.Intn(len(class))])
		}
	}
	return b.String()
}
