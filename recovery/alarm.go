package recovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Alarm states as CloudWatch spells them.
const (
	StateAlarm = "ALARM"
	StateOK    = "OK"
)

// AlarmEvent is a CloudWatch alarm state change, as delivered in the body of
// an SNS notification. The engine never trusts it for facts it can re-read:
// the alarm's current state and the monitored instance come from DescribeAlarms.
type AlarmEvent struct {
	AlarmName       string
	NewState        string
	OldState        string
	Reason          string
	StateChangeTime time.Time
	// Dimensions of the alarm's metric as the notification carried them
	// (informational; the engine reads the alarm itself).
	Dimensions map[string]string
}

type alarmMessage struct {
	Source          string `json:"source"`
	AlarmName       string `json:"AlarmName"`
	NewStateValue   string `json:"NewStateValue"`
	OldStateValue   string `json:"OldStateValue"`
	NewStateReason  string `json:"NewStateReason"`
	StateChangeTime string `json:"StateChangeTime"`
	Trigger         struct {
		Dimensions []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"Dimensions"`
	} `json:"Trigger"`
}

// CloudWatch writes StateChangeTime as 2024-05-01T12:00:00.000+0000.
var alarmTimeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05.000Z0700",
	time.RFC3339Nano,
}

// ParseAlarm decodes a CloudWatch alarm notification body. Anything else,
// including the engine's own notifications, yields ErrNotAlarm.
func ParseAlarm(body []byte) (AlarmEvent, error) {
	var m alarmMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return AlarmEvent{}, fmt.Errorf("%w: %v", ErrNotAlarm, err)
	}
	if m.Source == NotificationSource || m.AlarmName == "" || m.NewStateValue == "" {
		return AlarmEvent{}, ErrNotAlarm
	}
	ev := AlarmEvent{
		AlarmName: m.AlarmName,
		NewState:  m.NewStateValue,
		OldState:  m.OldStateValue,
		Reason:    m.NewStateReason,
	}
	var err error
	if ev.StateChangeTime, err = parseAlarmTime(m.StateChangeTime); err != nil {
		return AlarmEvent{}, fmt.Errorf("alarm %s: %w", m.AlarmName, err)
	}
	for _, d := range m.Trigger.Dimensions {
		if ev.Dimensions == nil {
			ev.Dimensions = map[string]string{}
		}
		ev.Dimensions[d.Name] = d.Value
	}
	return ev, nil
}

func parseAlarmTime(s string) (time.Time, error) {
	for _, l := range alarmTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("StateChangeTime %q is not a CloudWatch timestamp", s)
}

// lockToken names one failover: every delivery and retry of the same alarm
// state change derives the same token, so they all compete for, and recognise,
// the same lock and the same RunInstances ClientToken.
func lockToken(workload, alarm string, at time.Time) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{workload, alarm, at.UTC().Format(time.RFC3339Nano)}, "\n")))
	return hex.EncodeToString(sum[:16])
}

// clientToken is the RunInstances ClientToken for a lock token and its
// generation (at most 36+1+20 ASCII characters; EC2 allows 64). Generation 0
// is the failover's first; a new one starts only after a recovery instance
// was confirmed stopped or terminated before it ran, so that EC2's
// idempotency does not hand back the dead instance.
func clientToken(token string, gen int) string {
	if gen <= 0 {
		return "oha-" + token
	}
	return "oha-" + token + "-" + strconv.Itoa(gen)
}
