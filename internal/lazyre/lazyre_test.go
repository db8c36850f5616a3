package lazyre

import (
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/lazyre/lazyretest"
)

// TestBoundedMatchesCountedPattern checks Bounded against counted patterns
// with real regexps on both sides (no fakes), and that a wrong bound is caught.
func TestBoundedMatchesCountedPattern(t *testing.T) {
	lazyretest.Equivalent(t, `^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`, NewBounded(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`, 64)(), "aZ9_.-", 1, 64)
	lazyretest.Equivalent(t, `^[a-z]{1,10}$`, NewBounded(`^[a-z]+$`, 10)(), "az", 0, 1, 10)

	inner := &testing.T{}
	done := make(chan struct{})
	go func() { // Equivalent calls Fatalf/Errorf on inner; run it where Goexit is harmless.
		defer close(done)
		lazyretest.Equivalent(inner, `^[a-z]{1,10}$`, NewBounded(`^[a-z]+$`, 11)(), "az", 10)
	}()
	<-done
	if !inner.Failed() {
		t.Fatal("Equivalent did not notice a bound one too large")
	}
}

func TestNewCompilesOnceOnFirstCall(t *testing.T) {
	f := New(`^a+$`)
	if f() != f() || !f().MatchString("aaa") || f().MatchString("b") {
		t.Fatal("New must return one compiled regexp that matches its pattern")
	}
}
