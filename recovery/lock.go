package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	Token      string    `json:"token"` // names the failover; ClientToken and instance tag derive from it
	Alarm      string    `json:"alarm"`
	AlarmTime  time.Time `json:"alarmTime"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	State      LockState `json:"state"`
	Owner      string    `json:"owner"` // the run that holds the launch
	Attempt    int       `json:"attempt"`
	LeaseUntil time.Time `json:"leaseUntil"`
	Primary    string    `json:"primary,omitempty"`
	Instance   string    `json:"instance,omitempty"`
	Error      string    `json:"error,omitempty"`
	Manual     bool      `json:"manual,omitempty"`
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

// putLock writes the lock; with overwrite false it reports created=false when
// the parameter already exists.
func (e *Engine) putLock(ctx context.Context, l Lock, overwrite bool) (created bool, err error) {
	l.Updated = e.now().UTC()
	b, err := json.Marshal(l)
	if err != nil {
		return false, err
	}
	_, err = e.ssm.PutParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(naming.LockParam(e.cfg.Workload)),
		Value:       aws.String(string(b)),
		Type:        ssmtypes.ParameterTypeString,
		Overwrite:   aws.Bool(overwrite),
		Description: aws.String("outposts-ha failover lock; only failback removes it"),
	})
	if !overwrite && awsx.IsAlreadyExists(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("write lock %s: %w", naming.LockParam(e.cfg.Workload), err)
	}
	return true, nil
}

// acquire takes the lock for this run, or waits for the delivery that holds
// it. It returns owned=true with the lock to launch under (its Token may be an
// earlier failover's, taken over after that one failed), or owned=false with
// the lock of a failover that has launched.
func (e *Engine) acquire(ctx context.Context, r *run) (Lock, bool, error) {
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
	create := true
	for poll := 0; poll <= maxPolls; poll++ {
		if create {
			created, err := e.putLock(ctx, mine, false)
			if err != nil {
				return Lock{}, false, fmt.Errorf("take lock: %w", err)
			}
			if created {
				return mine, true, nil
			}
		}
		cur, ver, err := readLock(ctx, e.ssm, name)
		if create = errors.Is(err, ErrNoLock); create {
			continue // released between our create and read: create it again
		}
		if err != nil {
			return Lock{}, false, fmt.Errorf("take lock: %w", err)
		}
		switch {
		case cur.State == LockLaunched:
			return cur, false, nil
		case cur.State == LockLaunching && e.now().Before(cur.LeaseUntil):
			e.log.Info("lock held by another delivery; waiting", "token", cur.Token, "owner", cur.Owner, "leaseUntil", cur.LeaseUntil)
			if err := sleep(ctx, e.cfg.LockPoll); err != nil {
				return Lock{}, false, fmt.Errorf("take lock: %w", err)
			}
		default:
			// The holder failed, or its lease ran out: take over, keeping the
			// failover's token so the ClientToken stays the same.
			next := cur
			next.State, next.Owner, next.Attempt, next.Error = LockLaunching, e.newID(), cur.Attempt+1, ""
			next.LeaseUntil = e.now().UTC().Add(e.cfg.LockLease)
			won, err := e.claim(ctx, next, ver)
			if err != nil {
				return Lock{}, false, fmt.Errorf("take over lock: %w", err)
			}
			if won {
				e.log.Info("took over lock", "token", next.Token, "attempt", next.Attempt, "previous", cur.State)
				return next, true, nil
			}
		}
	}
	return Lock{}, false, fmt.Errorf("take lock: still held after %d checks", maxPolls)
}

// claim is a compare-and-swap on the lock: SSM has no conditional overwrite,
// but every write gets the next version number, so the run whose write is the
// first one after the version it read (base+1) wins. A losing run has
// overwritten the winner's record with a stale one at worst; that record is in
// state launching with a lease, and the next delivery that finds it expired
// adopts the winner's instance by its tag instead of launching another.
func (e *Engine) claim(ctx context.Context, next Lock, base int64) (bool, error) {
	if _, err := e.putLock(ctx, next, true); err != nil {
		return false, err
	}
	first, _, err := readLock(ctx, e.ssm, naming.LockParam(e.cfg.Workload)+":"+strconv.FormatInt(base+1, 10))
	if err != nil {
		return false, err
	}
	return first.Owner == next.Owner, nil
}
