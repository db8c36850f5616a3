// Unit tests of the pure parts of the engine (no AWS): alarm parsing, the
// lock token, the connectivity evaluation, the timeline size cap, the
// notification form. The engine's behaviour against AWS is tested against moto
// in the *_integration_test.go files.
package recovery

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const alarmJSON = `{"AlarmName":"oha-web01-status","AlarmDescription":null,"AWSAccountId":"123456789012",
"NewStateValue":"ALARM","NewStateReason":"Threshold Crossed","StateChangeTime":"2024-05-01T12:00:03.517+0000",
"Region":"US West (Oregon)","OldStateValue":"OK","Trigger":{"MetricName":"StatusCheckFailed_Instance",
"Namespace":"AWS/EC2","Dimensions":[{"value":"i-0123456789abcdef0","name":"InstanceId"}],"TreatMissingData":"breaching"}}`

func TestParseAlarm(t *testing.T) {
	ev, err := ParseAlarm([]byte(alarmJSON))
	require.NoError(t, err)
	assert.Equal(t, AlarmEvent{
		AlarmName: "oha-web01-status", NewState: "ALARM", OldState: "OK", Reason: "Threshold Crossed",
		StateChangeTime: time.Date(2024, 5, 1, 12, 0, 3, 517_000_000, time.UTC),
		Dimensions:      map[string]string{"InstanceId": "i-0123456789abcdef0"},
	}, ev)
}

func TestParseAlarmRejects(t *testing.T) {
	own, err := json.Marshal(Notification{Source: NotificationSource, Kind: KindFailedOver, Workload: "web01"})
	require.NoError(t, err)
	for name, body := range map[string]string{
		"own notification":      string(own),
		"own with alarm fields": `{"source":"outposts-ha","AlarmName":"oha-web01-status","NewStateValue":"ALARM","StateChangeTime":"2024-05-01T12:00:03.517+0000"}`,
		"text":                  "[outposts-ha] web01: failed over",
		"other json":            `{"hello":"world"}`,
		"no state":              `{"AlarmName":"oha-web01-status"}`,
	} {
		_, err := ParseAlarm([]byte(body))
		assert.ErrorIs(t, err, ErrNotAlarm, name)
	}
	_, err = ParseAlarm([]byte(`{"AlarmName":"a","NewStateValue":"ALARM","StateChangeTime":"1 May"}`))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNotAlarm, "an alarm with a bad time is an error, not something to ignore")
}

func TestParseAlarmTimeLayouts(t *testing.T) {
	want := time.Date(2024, 5, 1, 12, 0, 3, 517_000_000, time.UTC)
	for _, s := range []string{"2024-05-01T12:00:03.517+0000", "2024-05-01T14:00:03.517+0200", "2024-05-01T12:00:03.517Z"} {
		got, err := parseAlarmTime(s)
		require.NoError(t, err, s)
		assert.True(t, want.Equal(got), "%s: got %s", s, got)
	}
}

func TestLockToken(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 3, 517_000_000, time.UTC)
	a := lockToken("web01", "oha-web01-status", at)
	assert.Equal(t, a, lockToken("web01", "oha-web01-status", at.In(time.FixedZone("x", 7200))), "same instant, same token")
	assert.NotEqual(t, a, lockToken("web01", "oha-web01-status", at.Add(time.Millisecond)), "a new state change is a new failover")
	assert.NotEqual(t, a, lockToken("web02", "oha-web01-status", at))
	assert.NotEqual(t, a, lockToken("web01", "oha-web01-connected", at))
	assert.Equal(t, "oha-"+a, clientToken(a, 0), "the first generation keeps the original ClientToken")
	assert.NotEqual(t, clientToken(a, 1), clientToken(a, 2))
	assert.NotEqual(t, clientToken(a, 0), clientToken(a, 1))
	for _, gen := range []int{0, 1, math.MaxInt} {
		ct := clientToken(a, gen)
		assert.LessOrEqual(t, len(ct), 64)
		for _, c := range ct {
			assert.True(t, c > 0x20 && c < 0x7f, "ClientToken must be ASCII: %q", ct)
		}
	}
}

func TestDisconnectedThroughout(t *testing.T) {
	alarm := time.Date(2024, 5, 1, 12, 0, 3, 0, time.UTC)
	now := alarm.Add(2 * time.Minute)
	at := func(min int) time.Time { return time.Date(2024, 5, 1, 11, 57+min, 0, 0, time.UTC) } // 0,1,2 = the window
	for _, tc := range []struct {
		name    string
		samples []Sample
		want    bool
		why     string
	}{
		{"all zero", []Sample{{at(0), 0}, {at(1), 0}, {at(2), 0}}, true, "disconnected in all 3 minutes"},
		{"zero and later zero", []Sample{{at(0), 0}, {at(1), 0}, {at(2), 0}, {at(3), 0}, {at(4), 0}}, true, "disconnected"},
		{"gap", []Sample{{at(0), 0}, {at(2), 0}}, false, "no ConnectedStatus data for 2024-05-01T11:58:00Z"},
		{"connected inside", []Sample{{at(0), 0}, {at(1), 1}, {at(2), 0}}, false, "connected at 2024-05-01T11:58:00Z"},
		{"reconnected after the alarm", []Sample{{at(0), 0}, {at(1), 0}, {at(2), 0}, {at(4), 1}}, false, "connected at 2024-05-01T12:01:00Z"},
		{"nothing", nil, false, "no ConnectedStatus data"},
		{"older data ignored", []Sample{{at(-1), 1}, {at(0), 0}, {at(1), 0}, {at(2), 0}}, true, "disconnected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := disconnectedThroughout(tc.samples, alarm, now, 3)
			assert.Equal(t, tc.want, got)
			assert.Contains(t, why, tc.why)
		})
	}
}

func TestTimelineStaysUnder4KB(t *testing.T) {
	tl := Timeline{Workload: "web01", Token: strings.Repeat("a", 32), Error: strings.Repeat("e", 1000)}
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tl.add(at, "alarm", "oha-web01-status ALARM: first")
	for i := range 40 {
		tl.add(at.Add(time.Duration(i)*time.Second), "fence", strings.Repeat("x", 400))
	}
	b, err := tl.marshal()
	require.NoError(t, err)
	assert.LessOrEqual(t, len(b), maxTimelineBytes)
	var back Timeline
	require.NoError(t, json.Unmarshal(b, &back))
	require.NotEmpty(t, back.Events)
	assert.Equal(t, "alarm", back.Events[0].Step, "the alarm event is kept")
	assert.Equal(t, 41, len(tl.Events), "marshal does not change the timeline it encodes")
}

func TestNotificationForms(t *testing.T) {
	n := Notification{Source: NotificationSource, Kind: KindApprovalRequired, Workload: "web01",
		Summary: "approval needed", Details: []string{"EC2 has not confirmed."}, NextCommand: FailoverCommand("web01"),
		Timeline: Timeline{Policy: PolicyConfirmed, Outcome: OutcomeAwaitingApproval, Token: "t0",
			Events: []Event{{At: time.Date(2024, 5, 1, 12, 0, 3, 0, time.UTC), Step: "alarm", Detail: "oha-web01-status ALARM"}}}}
	text := n.text()
	assert.True(t, IsNotification(text))
	assert.Contains(t, text, "outposts-ha failover web01 --approve")
	assert.Contains(t, text, "2024-05-01 12:00:03  alarm")
	b, err := json.Marshal(n)
	require.NoError(t, err)
	assert.True(t, IsNotification(string(b)))
	assert.False(t, IsNotification(alarmJSON))

	s := subject("web01", "failed over\nto "+strings.Repeat("é", 80))
	assert.LessOrEqual(t, len(s), 100)
	assert.NotContains(t, s, "\n")
	for _, c := range []byte(s) {
		assert.True(t, c >= 0x20 && c <= 0x7e, "subject byte %q", c)
	}
}

func TestMarkerActive(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	assert.True(t, Marker{Until: now.Add(time.Second)}.Active(now))
	assert.False(t, Marker{Until: now}.Active(now), "expires at until")
	assert.False(t, Marker{}.Active(now))
}

func TestFailoverCommand(t *testing.T) {
	assert.Equal(t, "outposts-ha failover web01 --approve", FailoverCommand("web01"))
	assert.Equal(t, "outposts-ha failback web01", FailbackCommand("web01"))
}
