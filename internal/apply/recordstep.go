package apply

import (
	"context"
	"errors"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
)

// RecordStep is setup's last step: it stores the workload record (the
// answers and every resource the journal lists for the steps before it) in
// Parameter Store, mirrored into the plan folder.
type RecordStep struct {
	Store   *record.Store
	Region  string
	Answers string // the answers file, YAML, as plan and setup --yes accept it
	RunID   string
	Now     func() time.Time
}

// Name is "record".
func (s *RecordStep) Name() string { return "record" }

func (s *RecordStep) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *RecordStep) result(created bool) Result {
	return Result{Resources: []record.Resource{{Type: "AWS::SSM::Parameter", ID: naming.RecordParam(s.Store.Workload),
		Region: s.Region, CreatedByUs: created, Tags: map[string]string{naming.TagWorkload: s.Store.Workload}}}}
}

// Find reports a record this setup wrote (its token matches). A record of
// another setup is not found: Do then overwrites it with this one.
func (s *RecordStep) Find(ctx context.Context, env Env) (Result, bool, error) {
	rec, err := s.Store.GetRecord(ctx)
	if errors.Is(err, record.ErrNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, err
	}
	if rec.Token != env.Token {
		return Result{}, false, nil
	}
	return s.result(true), true, nil
}

// Do builds the record from the journal as stored (every earlier step is
// done by then) and writes it. A plan-folder copy that fails is not an error
// of the step: Parameter Store holds the record.
func (s *RecordStep) Do(ctx context.Context, env Env) (Result, error) {
	j, err := s.Store.GetJournal(ctx)
	if err != nil {
		return Result{}, err
	}
	rec := record.NewRecord(&j, s.Region, s.Answers, s.RunID, s.now())
	err = s.Store.PutRecord(ctx, &rec)
	var me *record.MirrorError
	if err != nil && !errors.As(err, &me) {
		return Result{}, err
	}
	return s.result(true), nil
}

// Undo deletes the record.
func (s *RecordStep) Undo(ctx context.Context, _ Result) error {
	return s.Store.Delete(ctx, naming.RecordParam(s.Store.Workload))
}
