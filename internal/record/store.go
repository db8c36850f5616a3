package record

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// SSM is the part of the Parameter Store API the store uses (*ssm.Client
// satisfies it; recordtest.SSM is the in-memory fake).
type SSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, o ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, o ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// ErrNotFound is returned when a workload has no record or journal.
var ErrNotFound = errors.New("not found")

// Store reads and writes one workload's record, journal and lease.
type Store struct {
	SSM      SSM
	Workload string
	// RecordMirror and JournalMirror are files in the plan folder that every
	// successful write is mirrored to (atomically); "" mirrors nothing.
	RecordMirror, JournalMirror string
	// Now and Sleep are the clock (time.Now and a context-aware sleep when nil).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	created map[string]bool // parameters known to exist (no create attempt needed)
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SSM refuses a write with TooManyUpdates while another write to the same
// parameter is in progress, and the SDK does not retry it (PutParameter API
// reference, Errors). Writes retry it with jittered backoff, a bounded number
// of times.
const (
	maxUpdateTries = 5
	backoffStart   = 100 * time.Millisecond
	backoffMax     = 800 * time.Millisecond
)

func (s *Store) putParameter(ctx context.Context, in *ssm.PutParameterInput) (*ssm.PutParameterOutput, error) {
	backoff := backoffStart
	for try := 1; ; try++ {
		out, err := s.SSM.PutParameter(ctx, in)
		if awsx.Code(err) != "TooManyUpdates" || try == maxUpdateTries {
			return out, err
		}
		d := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)))
		if serr := s.sleep(ctx, d); serr != nil {
			return nil, errors.Join(err, serr)
		}
		backoff = min(2*backoff, backoffMax)
	}
}

func (s *Store) tags() []ssmtypes.Tag {
	return []ssmtypes.Tag{
		{Key: aws.String(naming.TagWorkload), Value: aws.String(s.Workload)},
		{Key: aws.String(naming.TagManaged), Value: aws.String(naming.ManagedBy)},
	}
}

// write stores value under name, creating the parameter (tagged with the
// workload, so cleanup and status find it) or overwriting it. PutParameter
// refuses Tags together with Overwrite, so a create is tried first, once per
// parameter, and an existing one is overwritten without tags.
func (s *Store) write(ctx context.Context, name, desc string, v any) (int64, error) {
	value, _, err := Encode(v)
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	s.mu.Lock()
	known := s.created[name]
	s.mu.Unlock()
	if !known {
		out, err := s.putParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString,
			Tier: Tier, Overwrite: aws.Bool(false), Description: aws.String(desc), Tags: s.tags(),
		})
		if err == nil {
			s.markCreated(name)
			return out.Version, nil
		}
		if !awsx.IsAlreadyExists(err) {
			return 0, fmt.Errorf("write %s: %w", name, err)
		}
	}
	out, err := s.putParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString,
		Tier: Tier, Overwrite: aws.Bool(true), Description: aws.String(desc),
	})
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", name, err)
	}
	s.markCreated(name)
	return out.Version, nil
}

func (s *Store) markCreated(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.created == nil {
		s.created = map[string]bool{}
	}
	s.created[name] = true
}

// read returns the raw value and version of a parameter; name may carry a
// ":version" selector.
func (s *Store) read(ctx context.Context, name string) (string, int64, error) {
	out, err := s.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if awsx.IsNotFound(err) {
		return "", 0, ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	if out.Parameter == nil {
		return "", 0, fmt.Errorf("read %s: empty answer", name)
	}
	return aws.ToString(out.Parameter.Value), out.Parameter.Version, nil
}

// PutRecord validates and stores the record, then mirrors it.
func (s *Store) PutRecord(ctx context.Context, r *Record) error {
	if r.Workload != s.Workload {
		return fmt.Errorf("record of %q given to the store of %q", r.Workload, s.Workload)
	}
	r.Updated = s.now()
	if r.Created.IsZero() {
		r.Created = r.Updated
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if _, err := s.write(ctx, naming.RecordParam(s.Workload), "outposts-ha workload record: choices and resources", r); err != nil {
		return err
	}
	return s.mirror(s.RecordMirror, r)
}

// GetRecord reads the record; ErrNotFound when there is none.
func (s *Store) GetRecord(ctx context.Context) (Record, error) {
	var r Record
	v, _, err := s.read(ctx, naming.RecordParam(s.Workload))
	if err != nil {
		return r, err
	}
	if err := Decode(v, &r); err != nil {
		return r, fmt.Errorf("record %s: %w", naming.RecordParam(s.Workload), err)
	}
	if r.Schema > RecordSchema {
		return r, fmt.Errorf("record %s has schema %d; this binary knows up to %d: use a newer outposts-ha", naming.RecordParam(s.Workload), r.Schema, RecordSchema)
	}
	return r, nil
}

// PutJournal validates and stores the journal, then mirrors it.
func (s *Store) PutJournal(ctx context.Context, j *Journal) error {
	if j.Workload != s.Workload {
		return fmt.Errorf("journal of %q given to the store of %q", j.Workload, s.Workload)
	}
	j.Updated = s.now()
	if err := j.Validate(); err != nil {
		return err
	}
	if _, err := s.write(ctx, JournalParam(s.Workload), "outposts-ha setup journal: steps run and resources made", j); err != nil {
		return err
	}
	return s.mirror(s.JournalMirror, j)
}

// GetJournal reads the journal; ErrNotFound when there is none.
func (s *Store) GetJournal(ctx context.Context) (Journal, error) {
	var j Journal
	v, _, err := s.read(ctx, JournalParam(s.Workload))
	if err != nil {
		return j, err
	}
	if err := Decode(v, &j); err != nil {
		return j, fmt.Errorf("journal %s: %w", JournalParam(s.Workload), err)
	}
	if j.Schema > JournalSchema {
		return j, fmt.Errorf("journal %s has schema %d; this binary knows up to %d: use a newer outposts-ha", JournalParam(s.Workload), j.Schema, JournalSchema)
	}
	return j, nil
}

// Delete removes the named parameters of the workload (record, journal,
// lease); a missing one is not an error. Abort calls it last, so that an
// aborted setup leaves Parameter Store as it found it.
func (s *Store) Delete(ctx context.Context, names ...string) error {
	for _, name := range names {
		_, err := s.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
		if err != nil && !awsx.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
		s.mu.Lock()
		delete(s.created, name)
		s.mu.Unlock()
	}
	return nil
}

// MirrorError is returned by PutRecord and PutJournal when Parameter Store
// has the value but the plan-folder copy could not be written. Parameter
// Store is the source of truth: a caller may treat it as a warning.
type MirrorError struct {
	Path string
	Err  error
}

func (e *MirrorError) Error() string {
	return fmt.Sprintf("stored in Parameter Store, but the copy in the plan folder (%s) could not be written: %v", e.Path, e.Err)
}

func (e *MirrorError) Unwrap() error { return e.Err }

func (s *Store) mirror(path string, v any) error {
	if path == "" {
		return nil
	}
	if err := WriteJSONAtomic(path, v); err != nil {
		return &MirrorError{Path: path, Err: err}
	}
	return nil
}

// WriteJSONAtomic writes v as indented JSON to path: a temporary file in the
// same folder, synced, then renamed over path, so a reader (or a crash) sees
// the old file or the new one, never half of one.
func WriteJSONAtomic(path string, v any) error {
	b, err := marshalIndent(v)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this is a no-op
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Sync the folder so the rename itself survives a crash.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
