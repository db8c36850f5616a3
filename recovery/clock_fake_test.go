package recovery

// FakeClock is a virtual clock for tests (unit and integration): time moves
// only when the engine sleeps (Sleep advances it at once by the requested
// duration) or when a test calls Advance/AdvanceTo. Contexts made with its
// WithDeadline/WithTimeout end with context.DeadlineExceeded when the virtual
// time reaches their deadline, never because the machine is slow. A test that
// gives the engine a too-short deadline, or an engine that waits past its
// deadline, still fails: the virtual deadline runs out.
//
// It is exported from a _test.go file so that the external integration tests
// (package recovery_test) can use it; it is not part of the package's API.

import (
	"context"
	"slices"
	"sync"
	"time"
)

// FakeClock implements Clock on virtual time.
type FakeClock struct {
	mu    sync.Mutex
	now   time.Time
	ctxs  []*fakeCtx
	slept time.Duration
}

// NewFakeClock starts a virtual clock at start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now implements Clock.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Slept is the total virtual time spent in Sleep.
func (f *FakeClock) Slept() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slept
}

// Sleep implements Clock: it advances the virtual time by d at once.
func (f *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.slept += max(d, 0)
	f.mu.Unlock()
	f.Advance(d)
	return ctx.Err()
}

// Advance moves the virtual time forward by d and ends the contexts whose
// deadline it reaches.
func (f *FakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	if d > 0 {
		f.now = f.now.Add(d)
	}
	f.mu.Unlock()
	f.expire()
}

// AdvanceTo moves the virtual time to t (if later).
func (f *FakeClock) AdvanceTo(t time.Time) {
	f.mu.Lock()
	if t.After(f.now) {
		f.now = t
	}
	f.mu.Unlock()
	f.expire()
}

func (f *FakeClock) expire() {
	f.mu.Lock()
	var due []*fakeCtx
	f.ctxs = slices.DeleteFunc(f.ctxs, func(c *fakeCtx) bool {
		if !f.now.Before(c.dl) {
			due = append(due, c)
			return true
		}
		return false
	})
	f.mu.Unlock()
	for _, c := range due {
		c.cancel(context.DeadlineExceeded)
	}
}

// WithDeadline implements Clock.
func (f *FakeClock) WithDeadline(parent context.Context, t time.Time) (context.Context, context.CancelFunc) {
	if pdl, ok := parent.Deadline(); ok && pdl.Before(t) {
		t = pdl
	}
	c := &fakeCtx{parent: parent, dl: t, done: make(chan struct{})}
	// Like context.WithDeadline: a parent that has ended ends the child at
	// once (AfterFunc alone would do it a moment later, on a goroutine).
	if err := parent.Err(); err != nil {
		c.cancel(err)
	}
	stop := context.AfterFunc(parent, func() { c.cancel(parent.Err()) })
	f.mu.Lock()
	f.ctxs = append(f.ctxs, c)
	f.mu.Unlock()
	f.expire()
	return c, func() {
		stop()
		c.cancel(context.Canceled)
		f.mu.Lock()
		f.ctxs = slices.DeleteFunc(f.ctxs, func(x *fakeCtx) bool { return x == c })
		f.mu.Unlock()
	}
}

// WithTimeout is WithDeadline at Now()+d.
func (f *FakeClock) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return f.WithDeadline(parent, f.Now().Add(d))
}

// fakeCtx is a context whose deadline is on a FakeClock.
type fakeCtx struct {
	parent context.Context
	dl     time.Time
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

func (c *fakeCtx) Deadline() (time.Time, bool) { return c.dl, true }
func (c *fakeCtx) Done() <-chan struct{}       { return c.done }
func (c *fakeCtx) Value(k any) any             { return c.parent.Value(k) }

func (c *fakeCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err == nil {
		// The parent's end is seen at once, not only once AfterFunc ran.
		if perr := c.parent.Err(); perr != nil {
			c.cancel(perr)
			return c.Err()
		}
	}
	return err
}

func (c *fakeCtx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && err != nil {
		c.err = err
		close(c.done)
	}
}
