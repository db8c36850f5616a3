package recovery

import (
	"context"
	"time"
)

// Clock is the engine's source of time for every wait and deadline: the
// sleeps between polls, the cut of the actions' context before the
// invocation's deadline (DeadlineMargin), the bound on each record call, and
// the time left before a deadline. Production uses the real clock; tests
// inject a virtual one (see FakeClock in the package's tests) so that a slow
// machine cannot make a wait or a deadline run out, while a wrong deadline
// still does.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
	// WithDeadline is context.WithDeadline on this clock: the context ends
	// with context.DeadlineExceeded once the clock reaches t.
	WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc)
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// WithDeadline implements Clock.
func (RealClock) WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, t)
}

// sleep waits on the engine's clock.
func (e *Engine) sleep(ctx context.Context, d time.Duration) error { return e.clock.Sleep(ctx, d) }

// withTimeout is context.WithTimeout on the engine's clock.
func (e *Engine) withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return e.clock.WithDeadline(ctx, e.clock.Now().Add(d))
}

// until is the time left before t on the engine's clock.
func (e *Engine) until(t time.Time) time.Duration { return t.Sub(e.clock.Now()) }
