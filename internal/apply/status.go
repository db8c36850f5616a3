package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/record"
)

// Status is what a second machine sees of a workload's setup.
type Status struct {
	Journal *record.Journal // nil when there is none
	Lease   *record.Lease   // nil when there is none
	// Active: a run holds an unexpired lease now.
	Active bool
	// Summary is one line for the operator, with the next command to run.
	Summary string
}

// Inspect reads the journal and the lease of the store's workload and says
// where its setup stands; it changes nothing.
func Inspect(ctx context.Context, s *record.Store, now time.Time) (Status, error) {
	var st Status
	j, err := s.GetJournal(ctx)
	switch {
	case errors.Is(err, record.ErrNotFound):
	case err != nil:
		return st, err
	default:
		st.Journal = &j
	}
	l, _, err := s.GetLease(ctx)
	switch {
	case errors.Is(err, record.ErrNotFound):
	case err != nil:
		return st, err
	default:
		st.Lease = &l
		st.Active = !l.Free(now)
	}
	w := s.Workload
	if st.Journal == nil {
		st.Summary = fmt.Sprintf("%s: no setup journal (never set up, or aborted)", w)
		return st, nil
	}
	done, total := 0, len(j.Steps)
	current := ""
	for _, e := range j.Steps {
		switch e.State {
		case record.StepDone:
			done++
		case record.StepPending, record.StepUndone:
		default:
			if current == "" {
				current = fmt.Sprintf("; step %s %s", e.Name, e.State)
				if e.Error != "" {
					current += ": " + e.Error
				}
			}
		}
	}
	progress := fmt.Sprintf("%d of %d steps done%s", done, total, current)
	switch {
	case st.Active:
		st.Summary = fmt.Sprintf("%s: %s by run %s (%s) now, lease until %s; %s",
			w, l.Action, l.RunID, l.Owner, l.Expires.Format(time.RFC3339), progress)
	case j.State == record.RunDone:
		st.Summary = fmt.Sprintf("%s: setup done (%s)", w, progress)
	case j.State == record.RunAborting:
		st.Summary = fmt.Sprintf("%s: an abort stopped part-way (%s): run setup --abort %s to finish it", w, progress, w)
	case st.Lease != nil && !st.Lease.Released:
		st.Summary = fmt.Sprintf("%s: the run %s (%s) stopped without releasing its lease, which expired at %s (it crashed or was killed); %s: run setup again to resume, or setup --abort %s",
			w, l.RunID, l.Owner, l.Expires.Format(time.RFC3339), progress, w)
	default:
		st.Summary = fmt.Sprintf("%s: setup %s (%s): run setup again to resume, or setup --abort %s", w, j.State, progress, w)
	}
	return st, nil
}

// String is the event as one plain line, for accessible mode and logs:
// "3/6 array-map done 1.2s map-0002 (resumed)", or the note.
func (e Event) String() string {
	if e.Step == "" {
		return e.Note
	}
	s := fmt.Sprintf("%d/%d %s %s", e.Index+1, e.Total, e.Step, e.State)
	if e.Duration > 0 {
		s += " " + e.Duration.Round(100*time.Millisecond).String()
	}
	for _, r := range e.Resources {
		s += " " + r.ID
	}
	if e.Resumed {
		s += " (from an earlier run)"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}
