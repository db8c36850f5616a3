package recovery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// The engine's notifications go to the same topic that delivers the alarms to
// the function, so they come back to it. They are recognised by their body
// only: the JSON body (what Lambda and SQS subscribers receive) carries
// "source":"outposts-ha", and the text body (email, default) starts with
// "[outposts-ha] " and is not alarm JSON at all. No message attributes are
// sent: SNS does not deliver them with MessageStructure=json, which the
// per-protocol bodies need
// (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html), and
// attribute names allow only A-Z a-z 0-9 _ - .
// (https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html).
const (
	NotificationSource = "outposts-ha"
	textPrefix         = "[outposts-ha] "
)

// maxSubject is the longest Subject SNS accepts: "less than 100 characters"
// (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, Subject).
const maxSubject = 99

// NotificationKind says what the operator is being told.
type NotificationKind string

// Notification kinds.
const (
	KindFailedOver         NotificationKind = "failed-over"
	KindFailoverFailed     NotificationKind = "failover-failed"
	KindApprovalRequired   NotificationKind = "approval-required"
	KindActionRequired     NotificationKind = "action-required" // notify policy
	KindMaintenanceSkipped NotificationKind = "maintenance-skipped"
	// KindPrimaryRetired: a later run terminated the fenced primary.
	KindPrimaryRetired NotificationKind = "primary-terminated"
	// KindPrimaryRetirePending: a later run could not terminate it yet.
	KindPrimaryRetirePending NotificationKind = "primary-terminate-pending"
	// KindDrill: a dry-run drill's report (its Summary starts "[drill]").
	KindDrill NotificationKind = "drill"
)

// Notification is the JSON body machine subscribers receive.
type Notification struct {
	Source      string           `json:"source"`
	Kind        NotificationKind `json:"kind"`
	Workload    string           `json:"workload"`
	Summary     string           `json:"summary"`
	Details     []string         `json:"details,omitempty"`
	NextCommand string           `json:"nextCommand,omitempty"`
	Timeline    Timeline         `json:"timeline"`
}

// IsNotification reports whether an SNS message body is one of the engine's
// own notifications (JSON or text form).
func IsNotification(message string) bool {
	if strings.HasPrefix(message, textPrefix) {
		return true
	}
	var probe struct {
		Source string `json:"source"`
	}
	return json.Unmarshal([]byte(message), &probe) == nil && probe.Source == NotificationSource
}

func (e *Engine) notify(ctx context.Context, n Notification) error {
	n.Source = NotificationSource
	n.Workload = e.cfg.Workload
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("notify %s: %w", n.Kind, err)
	}
	text := n.text()
	msg, err := json.Marshal(map[string]string{
		"default": text,
		"email":   text,
		"lambda":  string(body),
		"sqs":     string(body),
	})
	if err != nil {
		return fmt.Errorf("notify %s: %w", n.Kind, err)
	}
	_, err = e.sns.Publish(ctx, &sns.PublishInput{
		TopicArn:         aws.String(e.cfg.TopicARN),
		Subject:          aws.String(subject(e.cfg.Workload, n.Summary)),
		Message:          aws.String(string(msg)),
		MessageStructure: aws.String("json"),
	})
	if err != nil {
		return fmt.Errorf("notify %s to %s: %w", n.Kind, e.cfg.TopicARN, err)
	}
	return nil
}

// subject is an SNS subject: printable ASCII, no newline, shorter than 100
// characters (maxSubject).
func subject(workload, summary string) string {
	s := []byte("outposts-ha " + workload + ": " + summary)
	for i, c := range s {
		if c < 0x20 || c > 0x7e {
			s[i] = ' '
		}
	}
	return clip(string(s), maxSubject)
}

// text is the human form (email).
func (n Notification) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s: %s\n\n", textPrefix, n.Workload, n.Summary)
	for _, d := range n.Details {
		fmt.Fprintf(&b, "%s\n", d)
	}
	if n.NextCommand != "" {
		fmt.Fprintf(&b, "\nNext:\n  %s\n", n.NextCommand)
	}
	t := n.Timeline
	fmt.Fprintf(&b, "\nTimeline (UTC), policy %s, outcome %s:\n", t.Policy, t.Outcome)
	for _, ev := range t.Events {
		fmt.Fprintf(&b, "  %s  %-9s %s\n", ev.At.UTC().Format(time.DateTime), ev.Step, ev.Detail)
	}
	if t.Token != "" {
		fmt.Fprintf(&b, "\nFailover token %s\n", t.Token)
	}
	return b.String()
}
