package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// LockState is the phase of the failover that holds the lock.
type LockState string

// Lock states.
const (
	// LockLaunching: a delivery owns the launch until LeaseUntil.
	LockLaunching LockState = "launching"
	// LockLaunched: RunInstances produced Instance. Final until failback
	// deletes the parameter.
	LockLaunched LockState = "launched"
	// LockFailed: the last launch attempt failed; a retry of the same failover
	// (or a later alarm) may take it over and launch with the same ClientToken.
	LockFailed LockState = "failed"
)

// Lock is the value of naming.LockParam. The parameter is created with
// Overwrite=false, so exactly one delivery of an alarm creates it; the others
// read it and stand down.
type Lock struct {
	Token     string    `json:"token"` // names the failover; ClientToken and instance tag derive from it
	Alarm     string    `json:"alarm"`
	AlarmTime time.Time `json:"alarmTime"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	State     LockState `json:"state"`
	Owner     string    `json:"owner"` // the run that holds the launch
	Attempt   int       `json:"attempt"`
	// TokenGen is the ClientToken generation (clientToken): raised when a
	// recovery instance of this failover was confirmed stopped or terminated
	// before it ran, so the next attempt launches a new one.
	TokenGen   int       `json:"tokenGen,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil"`
	Primary    string    `json:"primary,omitempty"`
	Instance   string    `json:"instance,omitempty"`
	Error      string    `json:"error,omitempty"`
	Manual     bool      `json:"manual,omitempty"`
	// Retire says whether the fenced primary of a launched failover is
	// terminated (RetireDone) or still to be (RetirePending).
	Retire string `json:"retire,omitempty"`
}

// ReadLock returns the workload's failover lock, or ErrNoLock.
func ReadLock(ctx context.Context, c SSMReader, workload string) (Lock, error) {
	l, _, err := readLock(ctx, c, naming.LockParam(workload))
	return l, err
}

func readLock(ctx context.Context, c SSMReader, name string) (Lock, int64, error) {
	v, ver, found, err := getParam(ctx, c, name)
	if err != nil {
		return Lock{}, 0, err
	}
	if !found {
		return Lock{}, 0, ErrNoLock
	}
	var l Lock
	if err := json.Unmarshal([]byte(v), &l); err != nil {
		return Lock{}, 0, fmt.Errorf("parameter %s: not a lock: %w", name, err)
	}
	return l, ver, nil
}

// putLock stamps the lock's Updated time and writes it; with overwrite false
// it reports created=false when the parameter already exists.
func (e *Engine) putLock(ctx context.Context, l Lock, overwrite bool) (created bool, err error) {
	l.Updated = e.now().UTC()
	_, created, err = e.writeLock(ctx, l, overwrite)
	return created, err
}

// writeLock writes the lock as it is and returns the version SSM gave the write.
func (e *Engine) writeLock(ctx context.Context, l Lock, overwrite bool) (version int64, created bool, err error) {
	b, err := json.Marshal(l)
	if err != nil {
		return 0, false, err
	}
	out, err := e.putParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(naming.LockParam(e.cfg.Workload)),
		Value:       aws.String(string(b)),
		Type:        ssmtypes.ParameterTypeString,
		Overwrite:   aws.Bool(overwrite),
		Description: aws.String("outposts-ha failover lock; only failback removes it"),
	})
	if !overwrite && (awsx.IsAlreadyExists(err) || isTooManyUpdates(err)) {
		// Another delivery created it, or is writing it right now (still
		// TooManyUpdates after the retries): either way this create lost.
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("write lock %s: %w", naming.LockParam(e.cfg.Workload), err)
	}
	return out.Version, true, nil
}

// acquire takes the lock for this run, or waits for the delivery that holds
// it. It returns owned=true with the lock to launch under (its Token may be an
// earlier failover's, taken over after that one failed), or owned=false with
// the lock of a failover that has launched and that lock's version. The wait
// ends before ctx's deadline leaves too little time to launch and record.
func (e *Engine) acquire(ctx context.Context, r *run) (Lock, int64, bool, error) {
	now := e.now().UTC()
	mine := Lock{
		Token: r.token, Alarm: r.ev.AlarmName, AlarmTime: r.ev.StateChangeTime, Created: now,
		State: LockLaunching, Owner: e.newID(), Attempt: 1, LeaseUntil: now.Add(e.cfg.LockLease),
		Primary: r.primary.id, Manual: r.manual,
	}
	name := naming.LockParam(e.cfg.Workload)
	// A holder's lease bounds how long we wait for it; the poll count bounds
	// the loop even if the clock does not move.
	maxPolls := int(e.cfg.LockLease/e.cfg.LockPoll) + 5
	waitUntil := now.Add(e.waitBudget(ctx, e.cfg.LockLease+5*e.cfg.LockPoll, e.cfg.DeadlineMargin))
	create := true
	for poll := 0; poll <= maxPolls; poll++ {
		if create {
			created, err := e.putLock(ctx, mine, false)
			if err != nil {
				return Lock{}, 0, false, fmt.Errorf("take lock: %w", err)
			}
			if created {
				return mine, 0, true, nil
			}
		}
		cur, ver, err := readLock(ctx, e.ssm, name)
		if create = errors.Is(err, ErrNoLock); create {
			continue // released between our create and read: create it again
		}
		if err != nil {
			return Lock{}, 0, false, fmt.Errorf("take lock: %w", err)
		}
		if cur.Owner == mine.Owner && cur.Token == mine.Token {
			// Our own create landed and its answer was lost: the SDK's retry
			// met the parameter it had just made. The lock is ours.
			e.log.Info("lock create landed before its retry; the lock is ours", "token", cur.Token)
			return cur, 0, true, nil
		}
		switch {
		case cur.State == LockLaunched:
			return cur, ver, false, nil
		case cur.State == LockLaunching && e.now().Before(cur.LeaseUntil):
			if !e.now().Before(waitUntil) {
				return Lock{}, 0, false, fmt.Errorf("take lock: failover %s holds it until %s; stopped waiting to finish before the invocation's deadline",
					cur.Token, cur.LeaseUntil.Format(time.RFC3339))
			}
			e.log.Info("lock held by another delivery; waiting", "token", cur.Token, "owner", cur.Owner, "leaseUntil", cur.LeaseUntil)
			if err := e.sleep(ctx, e.cfg.LockPoll); err != nil {
				return Lock{}, 0, false, fmt.Errorf("take lock: %w", err)
			}
		default:
			// The holder failed, or its lease ran out: take over, keeping the
			// failover's token so the ClientToken stays the same.
			next := cur
			next.State, next.Owner, next.Attempt, next.Error = LockLaunching, e.newID(), cur.Attempt+1, ""
			next.LeaseUntil = e.now().UTC().Add(e.cfg.LockLease)
			won, err := e.claim(ctx, &next, cur, ver)
			if err != nil {
				return Lock{}, 0, false, fmt.Errorf("take over lock: %w", err)
			}
			if won {
				e.log.Info("took over lock", "token", next.Token, "attempt", next.Attempt, "previous", cur.State)
				return next, 0, true, nil
			}
		}
	}
	return Lock{}, 0, false, fmt.Errorf("take lock: still held after %d checks", maxPolls)
}

// claim is a compare-and-swap on the lock: SSM has no conditional overwrite,
// but every write gets the next version number, so the run whose write is the
// first one after the version it read (base+1) wins. A losing run has written
// a stale record over whatever the winner wrote since (perhaps launched), so
// a lost takeover restores the rightful record before it returns.
func (e *Engine) claim(ctx context.Context, next *Lock, base Lock, baseVer int64) (bool, error) {
	next.Updated = e.now().UTC()
	ver, _, err := e.writeLock(ctx, *next, true)
	if isTooManyUpdates(err) {
		// Still refused after the retries: other deliveries are writing the
		// lock. Nothing of ours landed, so this is a lost swap.
		e.log.Info("lock swap lost to concurrent writes (TooManyUpdates)", "token", next.Token)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ver == baseVer+1 {
		return true, nil
	}
	if first, _, err := readLock(ctx, e.ssm, naming.LockParam(e.cfg.Workload)+":"+strconv.FormatInt(baseVer+1, 10)); err == nil &&
		first.Owner == next.Owner && first.Attempt == next.Attempt {
		// The first write after baseVer is this very swap: the SDK retried a
		// write whose answer was lost after it landed, so it landed twice.
		return true, nil
	}
	if next.State == LockLaunching {
		if err := e.undoLostTakeover(ctx, base, baseVer); err != nil {
			return false, fmt.Errorf("restore the lock after a lost takeover: %w", err)
		}
	}
	return false, nil
}

// maxLockRepairs bounds undoLostTakeover when writes keep interleaving.
const maxLockRepairs = 4

// undoLostTakeover makes the lock's latest value the rightful one again after
// a lost takeover of the lock read at baseVer. Every run that tried to take
// over from that version wrote a record in state launching with the next
// attempt number; only the first write after baseVer (the winner's) counts.
// The rightful value is the newest version after baseVer that is not such a
// stale takeover record of a loser: the winner's later launched or failed
// record is never left buried under a loser's write. Restored copies are
// exact, so a copy of the winner's record counts as the winner's.
func (e *Engine) undoLostTakeover(ctx context.Context, base Lock, baseVer int64) error {
	name := naming.LockParam(e.cfg.Workload)
	version := func(v int64) (Lock, bool, error) {
		l, _, err := readLock(ctx, e.ssm, name+":"+strconv.FormatInt(v, 10))
		if errors.Is(err, ErrNoLock) || awsx.Code(err) == "ParameterVersionNotFound" {
			return Lock{}, false, nil // deleted (failback) and perhaps created again since
		}
		return l, err == nil, err
	}
	winner, ok, err := version(baseVer + 1)
	if !ok {
		return err
	}
	stale := func(l Lock, v int64) bool {
		return v > baseVer+1 && l.State == LockLaunching && l.Attempt == base.Attempt+1 && l.Owner != winner.Owner
	}
	for range maxLockRepairs {
		latest, latestVer, err := readLock(ctx, e.ssm, name)
		if errors.Is(err, ErrNoLock) {
			return nil // failback removed it: nothing to restore
		}
		if err != nil {
			return err
		}
		if !stale(latest, latestVer) {
			return nil
		}
		var want *Lock
		for v := latestVer - 1; v > baseVer && want == nil; v-- {
			l, ok, err := version(v)
			if !ok {
				return err
			}
			if !stale(l, v) {
				want = &l
			}
		}
		if want == nil {
			return nil
		}
		e.log.Info("restoring the lock after a lost takeover", "token", want.Token, "state", want.State, "owner", want.Owner)
		if _, _, err := e.writeLock(ctx, *want, true); err != nil {
			return err
		}
	}
	return fmt.Errorf("lock %s kept changing", name)
}

// SSM refuses a write with TooManyUpdates while another write to the same
// parameter is in progress (two alarms firing together), and the SDK does not
// retry it (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html,
// Errors). putParameter retries it with jittered exponential backoff, at most
// maxUpdateTries times (about 1.5 s of waiting in all); a lock write still
// refused after that is treated as a lost compare-and-swap, not a failure.
const (
	maxUpdateTries     = 5
	updateBackoffStart = 100 * time.Millisecond
	updateBackoffMax   = 800 * time.Millisecond
)

func isTooManyUpdates(err error) bool { return awsx.Code(err) == "TooManyUpdates" }

// putParameter is PutParameter with the bounded TooManyUpdates retry.
func (e *Engine) putParameter(ctx context.Context, in *ssm.PutParameterInput) (*ssm.PutParameterOutput, error) {
	backoff := updateBackoffStart
	for try := 1; ; try++ {
		out, err := e.ssm.PutParameter(ctx, in)
		if !isTooManyUpdates(err) || try == maxUpdateTries {
			return out, err
		}
		// Jitter in [backoff/2, backoff): deliveries that collided do not
		// collide again in step.
		d := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)))
		e.log.Info("SSM TooManyUpdates; retrying", "parameter", aws.ToString(in.Name), "try", try, "wait", d)
		if serr := e.sleep(ctx, d); serr != nil {
			return nil, errors.Join(err, serr)
		}
		backoff = min(2*backoff, updateBackoffMax)
	}
}
