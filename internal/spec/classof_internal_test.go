package spec

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// TestClassOfMatchesCountedPattern checks that each classOf used in validation
// accepts exactly what the counted pattern it replaced (issue 17) accepts, on a
// deterministic corpus of strings around the length bounds, drawn from the
// pattern's class plus characters outside it (ASCII, a newline, non-ASCII).
// Real regexps on both sides, no fakes.
func TestClassOfMatchesCountedPattern(t *testing.T) {
	cases := []struct {
		name, old string
		m         matcher
		class     string
	}{
		{"keyPair", `^[A-Za-z0-9 ._:/@-]{1,255}$`, keyPairRE(), "aZ9 ._:/@-"},
		{"profile", `^[A-Za-z0-9+=,.@_-]{1,128}$`, profileRE(), "aZ9+=,.@_-"},
		{"envName", `^[A-Z_][A-Z0-9_]{0,127}$`, envNameRE(), "AZ_09"},
		{"volName", `^[A-Za-z0-9/_.:-]{1,255}$`, volNameRE(), "aZ9/_.:-"},
		{"svm", `^[A-Za-z0-9_.-]{1,47}$`, svmRE(), "aZ9_.-"},
		{"userName", `^[A-Za-z0-9_.@\\-]{1,64}$`, userNameRE(), `aZ9_.@\-`},
	}
	outside := []string{"", " ", "\n", "é", "\x00", "#", "a\n", "Ω", "$", "\\", "/", ":", "@", "-", "+", "=", ",", "a", "A", "0", "_"}
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
				t.Errorf("%s: %q (len %d): classOf says %v, %s says %v", tc.name, s, len(s), got, tc.old, want)
			}
		}
		for _, n := range []int{0, 1, 2, 46, 47, 48, 63, 64, 65, 127, 128, 129, 254, 255, 256, 300} {
			for i := 0; i < 40; i++ {
				var b strings.Builder
				for j := 0; j < n; j++ {
					if rng.Intn(50) == 0 {
						b.WriteString(outside[rng.Intn(len(outside))])
					} else {
						b.WriteByte(tc.class[rng.Intn(len(tc.class))])
					}
				}
				check(b.String())
			}
		}
		for _, s := range outside {
			check(s)
			check(s + "A")
			check("A" + s)
		}
		if accepted == 0 || accepted == checked {
			t.Fatalf("%s: corpus of %d strings has %d accepted; it must have both kinds", tc.name, checked, accepted)
		}
	}
}

// TestEmailMatchesCountedPattern checks that emailRE accepts exactly what the
// counted pattern it replaced (issue 17) accepts, on a deterministic corpus of
// addresses whose local part and labels surround their bounds (64 and 63),
// with now and then a character outside the pattern. Real regexps on both
// sides, no fakes.
func TestEmailMatchesCountedPattern(t *testing.T) {
	old := regexp.MustCompile(`^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
	lens := []int{0, 1, 2, 3, 61, 62, 63, 64, 65, 66}
	outside := []string{"@", ".", "é", "\n", " ", "/"}
	rng := rand.New(rand.NewSource(17))
	part := func(class string) string {
		n := lens[rng.Intn(len(lens))]
		var b strings.Builder
		for j := 0; j < n; j++ {
			if rng.Intn(80) == 0 {
				b.WriteString(outside[rng.Intn(len(outside))])
			} else {
				b.WriteByte(class[rng.Intn(len(class))])
			}
		}
		return b.String()
	}
	checked, accepted := 0, 0
	check := func(s string) {
		checked++
		want := old.MatchString(s)
		if want {
			accepted++
		}
		if got := emailRE().MatchString(s); got != want {
			t.Errorf("%q: emailRE says %v, the counted pattern %v", s, got, want)
		}
	}
	for i := 0; i < 20000; i++ {
		labels := make([]string, 1+rng.Intn(3))
		for k := range labels {
			labels[k] = part("aZ9-")
		}
		check(part("aZ9._%+-") + "@" + strings.Join(labels, "."))
	}
	for _, s := range []string{"", "@", "a@b", "a@b.c", "a@b.c\n", "a@@b.c", "a@b..c", "a@-b.c", "é@b.c"} {
		check(s)
	}
	if accepted < 100 || checked-accepted < 100 {
		t.Fatalf("corpus of %d addresses has %d accepted; it needs plenty of both kinds", checked, accepted)
	}
}
