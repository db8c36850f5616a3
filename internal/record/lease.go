package record

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
)

// Lease is the value of LeaseParam: the one run that may apply (or abort)
// the workload's setup until Expires.
type Lease struct {
	Schema   int       `json:"schema"`
	Workload string    `json:"workload"`
	RunID    string    `json:"runId"`
	Owner    string    `json:"owner"`  // host and user, for the operator's eyes
	Action   string    `json:"action"` // apply | abort
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
	Released bool      `json:"released,omitempty"`
	// Base is the parameter version this write replaced (0 for a create):
	// the compare-and-swap below uses it to tell the writes of one race apart.
	Base int64 `json:"base"`
}

// Free reports whether the lease may be taken at now.
func (l Lease) Free(now time.Time) bool { return l.Released || !now.Before(l.Expires) }

// LeaseHeldError says which run holds the lease.
type LeaseHeldError struct {
	Workload string
	Holder   Lease
}

func (e *LeaseHeldError) Error() string {
	h := e.Holder
	return fmt.Sprintf("workload %s is being set up by run %s (%s, %s since %s); its lease runs until %s. "+
		"Wait for that run to finish, or, if it died, run again after %s (an expired lease is taken over), "+
		"or, only if you are sure run %s is not running, break its lease by naming that run",
		e.Workload, h.RunID, h.Owner, h.Action, h.Acquired.Format(time.RFC3339), h.Expires.Format(time.RFC3339), h.Expires.Format(time.RFC3339), h.RunID)
}

// ErrLeaseLost is returned by RenewLease when another run holds the lease now
// (ours expired and was taken over).
var ErrLeaseLost = errors.New("apply lease lost")

// Acquired is the result of AcquireLease.
type Acquired struct {
	Lease   Lease
	Version int64
	// TakenOver is the expired or released lease this run replaced, if any;
	// the caller tells the operator (an expired one means a run died).
	TakenOver *Lease
	// Broken: TakenOver had not expired; BreakLease took it as asked.
	Broken bool
}

// Message describes a takeover for the operator ("" when none).
func (a Acquired) Message() string {
	t := a.TakenOver
	switch {
	case t == nil:
		return ""
	case a.Broken:
		return fmt.Sprintf("broke the apply lease of run %s (%s, %s), valid until %s, as asked: that run must not be running any more; resuming from the journal",
			t.RunID, t.Owner, t.Action, t.Expires.Format(time.RFC3339))
	case t.Released:
		return ""
	default:
		return fmt.Sprintf("took over the apply lease of run %s (%s, %s), which expired at %s without being released: that run stopped or died; resuming from the journal",
			t.RunID, t.Owner, t.Action, t.Expires.Format(time.RFC3339))
	}
}

// AcquireLease takes the workload's apply lease for runID until now+ttl.
//
// The parameter is created with Overwrite=false, so of two runs that start
// together exactly one creates it; the other gets *LeaseHeldError. A lease
// that has expired or was released is taken over by overwriting it: SSM has
// no conditional overwrite, but every write gets the next version, so of the
// runs that read version v and overwrite, the one whose write got v+1 wins.
// A loser's write has buried the winner's, so the loser puts the winner's
// value back before it returns *LeaseHeldError.
func (s *Store) AcquireLease(ctx context.Context, runID, owner, action string, ttl time.Duration) (Acquired, error) {
	return s.acquireLease(ctx, runID, owner, action, ttl, "")
}

// BreakLease is AcquireLease that also takes over a lease that has not
// expired, but only from the run the operator names (holder): the operator
// knows that run is dead (its machine crashed) and does not want to wait for
// its lease to run out. Naming the run keeps a break from hitting a newer run
// that took the lease meanwhile.
func (s *Store) BreakLease(ctx context.Context, runID, owner, action string, ttl time.Duration, holder string) (Acquired, error) {
	if holder == "" {
		return Acquired{}, errors.New("break the apply lease: name the run that holds it")
	}
	return s.acquireLease(ctx, runID, owner, action, ttl, holder)
}

func (s *Store) acquireLease(ctx context.Context, runID, owner, action string, ttl time.Duration, breakRun string) (Acquired, error) {
	name := LeaseParam(s.Workload)
	now := s.now()
	mine := Lease{Schema: LeaseSchema, Workload: s.Workload, RunID: runID, Owner: owner, Action: action, Acquired: now, Expires: now.Add(ttl)}
	value, _, err := Encode(mine)
	if err != nil {
		return Acquired{}, err
	}
	out, err := s.putParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Tier: Tier,
		Overwrite: aws.Bool(false), Description: aws.String("outposts-ha apply lease: the run that may apply this workload's setup"), Tags: s.tags(),
	})
	if err == nil {
		s.markCreated(name)
		return Acquired{Lease: mine, Version: out.Version}, nil
	}
	if !awsx.IsAlreadyExists(err) && awsx.Code(err) != "TooManyUpdates" {
		return Acquired{}, fmt.Errorf("take the apply lease %s: %w", name, err)
	}
	if raw, ver, rerr := s.read(ctx, name); rerr == nil && raw == value {
		// Our own create landed and its answer was lost; the SDK's retry then
		// met the parameter it had just made. The lease is ours.
		s.markCreated(name)
		return Acquired{Lease: mine, Version: ver}, nil
	}
	cur, ver, err := s.GetLease(ctx)
	if errors.Is(err, ErrNotFound) {
		return Acquired{}, fmt.Errorf("take the apply lease %s: it vanished while being taken (deleted by an abort?); run again", name)
	}
	if err != nil {
		return Acquired{}, err
	}
	if cur.RunID == runID {
		// Our own lease (a retry of this same run): renew it.
		l, v, err := s.swap(ctx, cur, ver, func(l *Lease) { l.Expires = s.now().Add(ttl); l.Released = false; l.Action = action })
		if err != nil {
			return Acquired{}, err
		}
		return Acquired{Lease: l, Version: v}, nil
	}
	broken := false
	if !cur.Free(s.now()) {
		if breakRun == "" || cur.RunID != breakRun {
			return Acquired{}, &LeaseHeldError{Workload: s.Workload, Holder: cur}
		}
		broken = true
	}
	mine.Acquired = s.now()
	mine.Expires = mine.Acquired.Add(ttl)
	l, v, err := s.swap(ctx, cur, ver, func(l *Lease) { *l = mine })
	if err != nil {
		return Acquired{}, err
	}
	prev := cur
	return Acquired{Lease: l, Version: v, TakenOver: &prev, Broken: broken}, nil
}

// RenewLease extends a lease this run holds to now+ttl; ErrLeaseLost (wrapped
// with the new holder) when another run holds it now.
func (s *Store) RenewLease(ctx context.Context, runID string, ttl time.Duration) (Lease, error) {
	cur, ver, err := s.GetLease(ctx)
	if errors.Is(err, ErrNotFound) {
		return Lease{}, fmt.Errorf("%w: the lease parameter %s is gone", ErrLeaseLost, LeaseParam(s.Workload))
	}
	if err != nil {
		return Lease{}, err
	}
	if cur.RunID != runID || cur.Released {
		return Lease{}, fmt.Errorf("%w: run %s (%s) holds it now", ErrLeaseLost, cur.RunID, cur.Owner)
	}
	l, _, err := s.swap(ctx, cur, ver, func(l *Lease) { l.Expires = s.now().Add(ttl) })
	var held *LeaseHeldError
	if errors.As(err, &held) {
		return Lease{}, fmt.Errorf("%w: run %s (%s) took it over", ErrLeaseLost, held.Holder.RunID, held.Holder.Owner)
	}
	return l, err
}

// ReleaseLease marks the lease of runID released (kept, not deleted, so a
// second machine sees who ran last). Nothing happens when another run holds
// it.
func (s *Store) ReleaseLease(ctx context.Context, runID string) error {
	cur, ver, err := s.GetLease(ctx)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur.RunID != runID || cur.Released {
		return nil
	}
	_, _, err = s.swap(ctx, cur, ver, func(l *Lease) { l.Released = true; l.Expires = s.now() })
	var held *LeaseHeldError
	if errors.As(err, &held) {
		return nil // someone took it over meanwhile: it is not ours to release
	}
	return err
}

// GetLease reads the lease and its version; ErrNotFound when there is none.
func (s *Store) GetLease(ctx context.Context) (Lease, int64, error) {
	return s.getLease(ctx, LeaseParam(s.Workload))
}

func (s *Store) getLease(ctx context.Context, name string) (Lease, int64, error) {
	v, ver, err := s.read(ctx, name)
	if err != nil {
		return Lease{}, 0, err
	}
	var l Lease
	if err := Decode(v, &l); err != nil {
		return Lease{}, 0, fmt.Errorf("lease %s: %w", name, err)
	}
	return l, ver, nil
}

// maxRepairs bounds the restore loop of a lost swap.
const maxRepairs = 4

// swap overwrites the lease read at version base with edit(cur) as a
// compare-and-swap: it wins when its write got version base+1. On a loss it
// restores the winner's value and returns *LeaseHeldError naming the winner.
func (s *Store) swap(ctx context.Context, cur Lease, base int64, edit func(*Lease)) (Lease, int64, error) {
	name := LeaseParam(s.Workload)
	next := cur
	edit(&next)
	next.Base = base
	value, _, err := Encode(next)
	if err != nil {
		return Lease{}, 0, err
	}
	out, err := s.putParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Tier: Tier,
		Overwrite: aws.Bool(true), Description: aws.String("outposts-ha apply lease: the run that may apply this workload's setup"),
	})
	if awsx.Code(err) == "TooManyUpdates" {
		// Still refused after the retries: others are writing it, nothing of
		// ours landed. A lost swap.
		latest, _, rerr := s.GetLease(ctx)
		if rerr != nil {
			return Lease{}, 0, errors.Join(err, rerr)
		}
		return Lease{}, 0, &LeaseHeldError{Workload: s.Workload, Holder: latest}
	}
	if err != nil {
		return Lease{}, 0, fmt.Errorf("write the apply lease %s: %w", name, err)
	}
	if out.Version == base+1 {
		return next, out.Version, nil
	}
	if raw, _, rerr := s.read(ctx, name+":"+strconv.FormatInt(base+1, 10)); rerr == nil && raw == value {
		// Version base+1 is this very write: the SDK retried a request whose
		// answer was lost after it had landed, so the same value was written
		// twice. The first write after base is ours, so the swap is won.
		return next, out.Version, nil
	}
	winner, _, err := s.getLease(ctx, name+":"+strconv.FormatInt(base+1, 10))
	if err != nil {
		return Lease{}, 0, fmt.Errorf("lost the apply lease race; reading the winner: %w", err)
	}
	if err := s.restore(ctx, name, base, winner); err != nil {
		return Lease{}, 0, fmt.Errorf("lost the apply lease race to run %s; restoring its lease: %w", winner.RunID, err)
	}
	return Lease{}, 0, &LeaseHeldError{Workload: s.Workload, Holder: winner}
}

// restore makes the newest lease value after base that a loser of the race
// from base did not write the latest one again. A loser's write is one with
// Base == base, a version above base+1, and a run other than the winner's.
func (s *Store) restore(ctx context.Context, name string, base int64, winner Lease) error {
	stale := func(l Lease, v int64) bool { return v > base+1 && l.Base == base && l.RunID != winner.RunID }
	for range maxRepairs {
		latest, latestVer, err := s.getLease(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !stale(latest, latestVer) {
			return nil
		}
		var want *Lease
		for v := latestVer - 1; v > base && want == nil; v-- {
			l, _, err := s.getLease(ctx, name+":"+strconv.FormatInt(v, 10))
			if err != nil {
				return err
			}
			if !stale(l, v) {
				want = &l
			}
		}
		if want == nil {
			return nil
		}
		value, _, err := Encode(*want)
		if err != nil {
			return err
		}
		if _, err := s.putParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Tier: Tier, Overwrite: aws.Bool(true),
		}); err != nil {
			return err
		}
	}
	return fmt.Errorf("lease %s kept changing", name)
}
