package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// Timeline is the record of the latest failover attempt, kept in
// naming.TimelineParam for `status` and `drill`. Deliveries and retries of the
// same failover (same Token) extend it; a new failover starts a new one.
type Timeline struct {
	Workload string  `json:"workload"`
	Token    string  `json:"token,omitempty"`
	Drill    bool    `json:"drill,omitempty"` // the alarm fired while a drill marker was active
	Manual   bool    `json:"manual,omitempty"`
	Policy   Policy  `json:"policy"`
	Outcome  Outcome `json:"outcome"`

	Alarm           string    `json:"alarm"`
	AlarmTime       time.Time `json:"alarmTime"`
	PrimaryInstance string    `json:"primaryInstance,omitempty"`

	DecisionAt time.Time `json:"decisionAt,omitempty"`
	Decision   string    `json:"decision,omitempty"`

	FencedAt    time.Time `json:"fencedAt,omitempty"`
	FenceResult string    `json:"fenceResult,omitempty"`

	LaunchAt         time.Time `json:"launchAt,omitempty"`
	RecoveryInstance string    `json:"recoveryInstance,omitempty"`
	RunningAt        time.Time `json:"runningAt,omitempty"`

	// Degraded is set once the workload runs on the secondary: nothing stands
	// by and the status alarm still watches the old primary until failback.
	Degraded    bool   `json:"degraded,omitempty"`
	Error       string `json:"error,omitempty"`
	NextCommand string `json:"nextCommand,omitempty"`
	// NotifiedAt is when the notification of this outcome was published;
	// zero when it was not (yet). A later delivery that finds a launched lock
	// without it sends the success notification the launching run could not.
	NotifiedAt time.Time `json:"notifiedAt,omitzero"`
	UpdatedAt  time.Time `json:"updatedAt"`
	Events     []Event   `json:"events,omitempty"`
}

// Event is one line of the timeline.
type Event struct {
	At     time.Time `json:"at"`
	Step   string    `json:"step"`
	Detail string    `json:"detail,omitempty"`
}

// maxTimelineBytes keeps the parameter in the standard tier (4 KB).
const maxTimelineBytes = 4000

func (t *Timeline) add(at time.Time, step, detail string) {
	t.Events = append(t.Events, Event{At: at.UTC(), Step: step, Detail: clip(detail, 300)})
}

// marshal encodes the timeline within maxTimelineBytes, dropping the oldest
// events after the first (the alarm) and then shortening the error.
func (t Timeline) marshal() ([]byte, error) {
	for {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		if len(b) <= maxTimelineBytes {
			return b, nil
		}
		switch {
		case len(t.Events) > 1:
			t.Events = append(t.Events[:1:1], t.Events[2:]...)
		case len(t.Events) == 1:
			t.Events = nil
		case len(t.Error) > 200:
			t.Error = clip(t.Error, 200)
		default:
			return nil, fmt.Errorf("timeline is %d bytes, over %d", len(b), maxTimelineBytes)
		}
	}
}

// ReadTimeline returns the workload's latest failover timeline, or
// ErrNoTimeline when there is none.
func ReadTimeline(ctx context.Context, c SSMReader, workload string) (Timeline, error) {
	name := naming.TimelineParam(workload)
	v, _, found, err := getParam(ctx, c, name)
	if err != nil {
		return Timeline{}, err
	}
	if !found {
		return Timeline{}, ErrNoTimeline
	}
	var t Timeline
	if err := json.Unmarshal([]byte(v), &t); err != nil {
		return Timeline{}, fmt.Errorf("parameter %s: %w", name, err)
	}
	return t, nil
}

func (e *Engine) writeTimeline(ctx context.Context, t *Timeline) error {
	t.UpdatedAt = e.now().UTC()
	b, err := t.marshal()
	if err != nil {
		return fmt.Errorf("record timeline: %w", err)
	}
	_, err = e.putParameter(ctx, &ssm.PutParameterInput{
		Name:      aws.String(naming.TimelineParam(e.cfg.Workload)),
		Value:     aws.String(string(b)),
		Type:      ssmtypes.ParameterTypeString,
		Overwrite: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("record timeline: %w", err)
	}
	return nil
}

// startTimeline continues the stored timeline when it belongs to the same
// failover (a retry or a later step), else starts a new one.
func (e *Engine) startTimeline(ctx context.Context, r *run) error {
	prev, err := ReadTimeline(ctx, e.ssm, e.cfg.Workload)
	if err == nil && prev.Token == r.token {
		r.tl = prev
		r.tl.Error, r.tl.NotifiedAt = "", time.Time{}
		r.addNotes()
		return nil
	}
	if errors.Is(err, ErrNoTimeline) {
		err = nil
	}
	r.tl = Timeline{Workload: e.cfg.Workload, Token: r.token, Policy: e.cfg.Policy, Alarm: r.ev.AlarmName,
		AlarmTime: r.ev.StateChangeTime, Manual: r.manual}
	detail := r.ev.NewState
	if r.ev.Reason != "" {
		detail += ": " + r.ev.Reason
	}
	r.tl.add(r.ev.StateChangeTime, "alarm", r.ev.AlarmName+" "+detail)
	r.addNotes()
	return err
}

// addNotes moves the events found before the timeline started into it.
func (r *run) addNotes() {
	r.tl.Events = append(r.tl.Events, r.notes...)
	r.notes = nil
}

// recorded reports whether a timeline holds the complete record of a launched
// lock: the same failover, its recovery instance, and the notification sent.
func recorded(t Timeline, l Lock) bool {
	return t.Token == l.Token && t.RecoveryInstance == l.Instance && !t.NotifiedAt.IsZero()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
