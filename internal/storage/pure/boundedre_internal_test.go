package pure

import (
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/lazyre/lazyretest"
)

// TestBoundedNamesMatchCountedPatterns checks that each name check, now an
// uncounted pattern plus a length bound (issue 17: the counted forms compiled
// hundreds of KB at every start), accepts exactly what the counted pattern it
// replaced accepts, on a deterministic corpus around the bounds. Real regexps
// on both sides, no fakes.
func TestBoundedNamesMatchCountedPatterns(t *testing.T) {
	lazyretest.Equivalent(t, `^[A-Za-z0-9][A-Za-z0-9-]{0,62}$`, hostNameRE(), "aZ9-", 1, 63)
	lazyretest.Equivalent(t, `^[A-Za-z0-9][A-Za-z0-9_:/.-]{0,254}$`, volumeNameRE(), "aZ9_:/.-", 1, 255)
	lazyretest.Equivalent(t, `^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`, suffixRE(), "aZ9-", 1, 64)
}
