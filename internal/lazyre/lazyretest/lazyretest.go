// Package lazyretest checks a bounded pattern against the counted pattern it
// stands for. Tests only.
package lazyretest

import (
	"math/rand"
	"regexp"
	"strings"
	"testing"
)

// Equivalent checks that m accepts exactly what the counted pattern old
// accepts, on a deterministic corpus of strings from class (with now and then
// a character outside it: upper case, '/', a newline, non-ASCII) whose lengths
// surround every bound in lens. It fails the test unless the corpus holds both
// accepted and refused strings.
func Equivalent(t testing.TB, old string, m interface{ MatchString(string) bool }, class string, lens ...int) {
	t.Helper()
	re := regexp.MustCompile(old)
	rng := rand.New(rand.NewSource(17))
	outside := []string{"A", "a", "0", "/", ":", "\n", "é", " ", "*"}
	checked, accepted := 0, 0
	check := func(s string) {
		checked++
		want := re.MatchString(s)
		if want {
			accepted++
		}
		if got := m.MatchString(s); got != want {
			t.Errorf("%q (len %d): bounded says %v, %s says %v", s, len(s), got, old, want)
		}
	}
	for _, l := range lens {
		for _, n := range []int{l - 2, l - 1, l, l + 1, l + 2} {
			for i := 0; i < 50 && n >= 0; i++ {
				var b strings.Builder
				for j := 0; j < n; j++ {
					if rng.Intn(70) == 0 {
						b.WriteString(outside[rng.Intn(len(outside))])
					} else {
						b.WriteByte(class[rng.Intn(len(class))])
					}
				}
				check(b.String())
			}
		}
	}
	for _, s := range outside {
		check(s)
	}
	if accepted == 0 || accepted == checked {
		t.Fatalf("%s: corpus of %d strings has %d accepted; it needs both kinds", old, checked, accepted)
	}
}
