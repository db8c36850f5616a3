// Package lazyre holds regular expressions that are compiled on first use, not
// at package init (issue 17: every start of outposts-ha runs every linked
// package's init, whatever the command), and bounded patterns that avoid the
// compiled size of a counted repetition.
package lazyre

import (
	"regexp"
	"sync"
)

// Bounded matches what a pattern ending in a counted repetition of an ASCII
// character class, such as ^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$, matches: the
// same pattern with `*` for the count, plus a bound on the whole string's
// length. Go compiles a{0,n} into n copies of a, so the counted form costs
// tens to hundreds of KB per pattern; the bounded form a few KB. Because the
// pattern matches only ASCII, a string's length in bytes is its length in
// characters.
type Bounded struct {
	re  *regexp.Regexp
	max int
}

// MatchString reports whether s is at most max bytes and matches the pattern.
func (b *Bounded) MatchString(s string) bool { return len(s) <= b.max && b.re.MatchString(s) }

// NewBounded returns a function that compiles pattern on its first call and
// returns the same *Bounded on every call.
func NewBounded(pattern string, max int) func() *Bounded {
	return sync.OnceValue(func() *Bounded { return &Bounded{regexp.MustCompile(pattern), max} })
}

// New returns a function that compiles pattern on its first call and returns
// the same *regexp.Regexp on every call.
func New(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
