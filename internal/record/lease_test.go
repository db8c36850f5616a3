package record_test

// Unit tests of the apply lease on the Parameter Store fake, with an injected
// clock (expiry never depends on the wall clock).

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/record/recordtest"
)

func apiError(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func leaseStore(f *recordtest.SSM, c *clock) *record.Store {
	return &record.Store{SSM: f, Workload: "web01", Now: c.Now}
}

func TestLeaseHeldExpiredTakenOverReleased(t *testing.T) {
	ctx := context.Background()
	f := &recordtest.SSM{}
	c := &clock{now: t0}
	a, b := leaseStore(f, c), leaseStore(f, c)

	got, err := a.AcquireLease(ctx, "run-a", "host-a", "apply", 30*time.Minute)
	require.NoError(t, err)
	assert.Nil(t, got.TakenOver)
	assert.Equal(t, map[string]string{naming.TagWorkload: "web01", naming.TagManaged: naming.ManagedBy}, f.Tags(record.LeaseParam("web01")))

	_, err = b.AcquireLease(ctx, "run-b", "host-b", "apply", 30*time.Minute)
	var held *record.LeaseHeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, "run-a", held.Holder.RunID)
	assert.Contains(t, err.Error(), "host-a")
	assert.Contains(t, err.Error(), "2026-11-29T12:30:00Z", "says when it expires")

	// The same run acquiring again renews its lease.
	c.Add(10 * time.Minute)
	again, err := a.AcquireLease(ctx, "run-a", "host-a", "apply", 30*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(40*time.Minute), again.Lease.Expires)

	// Renewal keeps it; after expiry another run takes it over, with a message.
	_, err = a.RenewLease(ctx, "run-a", 30*time.Minute)
	require.NoError(t, err)
	c.Add(29 * time.Minute)
	_, err = b.AcquireLease(ctx, "run-b", "host-b", "apply", 30*time.Minute)
	require.ErrorAs(t, err, &held, "not yet expired")
	c.Add(time.Minute)
	got, err = b.AcquireLease(ctx, "run-b", "host-b", "abort", 30*time.Minute)
	require.NoError(t, err)
	require.NotNil(t, got.TakenOver)
	assert.Equal(t, "run-a", got.TakenOver.RunID)
	assert.Contains(t, got.Message(), "run-a")
	assert.Contains(t, got.Message(), "expired")

	// The old holder learns it lost the lease; its release does nothing.
	_, err = a.RenewLease(ctx, "run-a", 30*time.Minute)
	require.ErrorIs(t, err, record.ErrLeaseLost)
	assert.Contains(t, err.Error(), "run-b")
	require.NoError(t, a.ReleaseLease(ctx, "run-a"))
	cur, _, err := b.GetLease(ctx)
	require.NoError(t, err)
	assert.Equal(t, "run-b", cur.RunID)
	assert.False(t, cur.Released)

	// Released: the next run takes it at once, with no "expired" message.
	require.NoError(t, b.ReleaseLease(ctx, "run-b"))
	got, err = a.AcquireLease(ctx, "run-c", "host-a", "apply", 30*time.Minute)
	require.NoError(t, err)
	require.NotNil(t, got.TakenOver)
	assert.Empty(t, got.Message())
}

// Two runs take over the same expired lease at the same moment: the fake lets
// both read version v before either writes. Exactly one wins, and the loser
// puts the winner's lease back.
func TestLeaseTakeoverRace(t *testing.T) {
	ctx := context.Background()
	f := &recordtest.SSM{}
	c := &clock{now: t0}
	old := leaseStore(f, c)
	_, err := old.AcquireLease(ctx, "run-old", "host-old", "apply", time.Minute)
	require.NoError(t, err)
	c.Add(2 * time.Minute)

	// Interleave: B's whole takeover runs between A's read and A's write.
	a, b := leaseStore(f, c), leaseStore(f, c)
	var bErr error
	reads := 0
	f.Before = func(op, name string) error {
		if op == "Get" && name == record.LeaseParam("web01") {
			reads++
			if reads == 1 { // A has read the expired lease: now B runs entirely
				f.Before = nil
				_, bErr = b.AcquireLease(ctx, "run-b", "host-b", "apply", 30*time.Minute)
			}
		}
		return nil
	}
	_, aErr := a.AcquireLease(ctx, "run-a", "host-a", "apply", 30*time.Minute)
	require.NoError(t, bErr, "B read and wrote first: B wins")
	var held *record.LeaseHeldError
	require.ErrorAs(t, aErr, &held, "A's write got v+2: A lost")
	assert.Equal(t, "run-b", held.Holder.RunID)
	cur, _, err := a.GetLease(ctx)
	require.NoError(t, err)
	assert.Equal(t, "run-b", cur.RunID, "A restored B's lease over its own stale write")
	_, err = b.RenewLease(ctx, "run-b", 30*time.Minute)
	require.NoError(t, err, "B still holds it")
}

// Many runs racing for a fresh lease: exactly one gets it.
func TestLeaseConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	f := &recordtest.SSM{}
	c := &clock{now: t0}
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = leaseStore(f, c).AcquireLease(ctx, "run-"+string(rune('a'+i)), "host", "apply", time.Hour)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		var held *record.LeaseHeldError
		switch {
		case err == nil:
			won++
		case errors.As(err, &held):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	assert.Equal(t, 1, won)
}

// An operator who knows the holder is dead breaks its lease by naming it;
// naming another run breaks nothing.
func TestBreakLease(t *testing.T) {
	ctx := context.Background()
	f := &recordtest.SSM{}
	c := &clock{now: t0}
	a, b := leaseStore(f, c), leaseStore(f, c)
	_, err := a.AcquireLease(ctx, "run-a", "host-a", "apply", 30*time.Minute)
	require.NoError(t, err)

	_, err = b.BreakLease(ctx, "run-b", "host-b", "abort", 30*time.Minute, "")
	require.Error(t, err)
	_, err = b.BreakLease(ctx, "run-b", "host-b", "abort", 30*time.Minute, "run-x")
	var held *record.LeaseHeldError
	require.ErrorAs(t, err, &held)
	assert.Contains(t, err.Error(), "break its lease by naming that run")

	got, err := b.BreakLease(ctx, "run-b", "host-b", "abort", 30*time.Minute, "run-a")
	require.NoError(t, err)
	assert.True(t, got.Broken)
	assert.Contains(t, got.Message(), "broke the apply lease of run run-a")
	_, err = a.RenewLease(ctx, "run-a", 30*time.Minute)
	require.ErrorIs(t, err, record.ErrLeaseLost)
}

// retriedSSM is the in-memory fake behind a transport that loses the answer of
// every PutParameter after it landed, so the SDK's retry sends it again: each
// write lands twice and the caller sees only the second answer (a later
// version, or ParameterAlreadyExists for a create).
type retriedSSM struct{ *recordtest.SSM }

func (r retriedSSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if _, err := r.SSM.PutParameter(ctx, in, o...); err != nil {
		return nil, err
	}
	return r.SSM.PutParameter(ctx, in, o...)
}

// A run whose own lease writes were retried after landing still holds its
// lease: the create that meets its own parameter, and a renewal whose write
// landed twice (versions base+1 and base+2), are wins, not a lost lease. This
// was the "apply lease lost" flake of the setup integration tests under load.
func TestLeaseOwnRetriedWritesAreNotALoss(t *testing.T) {
	ctx := context.Background()
	f := &recordtest.SSM{}
	c := &clock{now: t0}
	s := &record.Store{SSM: retriedSSM{f}, Workload: "web01", Now: c.Now}

	got, err := s.AcquireLease(ctx, "run-a", "host-a", "apply", 30*time.Minute)
	require.NoError(t, err, "a create that met its own landed write is ours")
	assert.Nil(t, got.TakenOver)

	c.Add(5 * time.Minute)
	l, err := s.RenewLease(ctx, "run-a", 30*time.Minute)
	require.NoError(t, err, "a renewal written twice is still ours")
	assert.Equal(t, "run-a", l.RunID)
	assert.Equal(t, t0.Add(35*time.Minute), l.Expires)

	// Another run still cannot take it while it is live.
	other := leaseStore(f, c)
	_, err = other.AcquireLease(ctx, "run-b", "host-b", "apply", 30*time.Minute)
	var held *record.LeaseHeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, "run-a", held.Holder.RunID)

	require.NoError(t, s.ReleaseLease(ctx, "run-a"))
	cur, _, err := s.GetLease(ctx)
	require.NoError(t, err)
	assert.True(t, cur.Released)
}
