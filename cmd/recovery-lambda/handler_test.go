// Unit tests of the Lambda adapter: recorded event JSON goes through the
// aws-lambda-go handler machinery (lambda.NewHandler(...).Invoke) into a fake
// engine, so no AWS and no Lambda runtime is involved. The engine itself is
// tested against moto in package recovery.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/recovery"
)

type fakeEngine struct {
	alarms []recovery.AlarmEvent
	drills []recovery.DrillRequest
	err    error
}

func (f *fakeEngine) HandleAlarm(_ context.Context, ev recovery.AlarmEvent) (recovery.Result, error) {
	f.alarms = append(f.alarms, ev)
	return recovery.Result{Outcome: recovery.OutcomeLaunched, Workload: "web01", RecoveryInstance: "i-0fedcba9876543210"}, f.err
}

func (f *fakeEngine) Drill(_ context.Context, req recovery.DrillRequest) (recovery.Report, error) {
	f.drills = append(f.drills, req)
	return recovery.Report{Workload: "web01", DryRun: req.DryRun, Decision: "would fence", Ready: true}, f.err
}

func invoke(t *testing.T, f *fakeEngine, payload []byte) ([]byte, error) {
	t.Helper()
	h := &handler{eng: f, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return lambda.NewHandler(h.Handle).Invoke(context.Background(), payload)
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestAlarmNotificationReachesEngine(t *testing.T) {
	f := &fakeEngine{}
	out, err := invoke(t, f, testdata(t, "sns-alarm.json"))
	require.NoError(t, err)
	require.Len(t, f.alarms, 1)
	ev := f.alarms[0]
	assert.Equal(t, "oha-web01-status", ev.AlarmName)
	assert.Equal(t, "ALARM", ev.NewState)
	assert.Equal(t, "OK", ev.OldState)
	assert.Equal(t, time.Date(2024, 5, 1, 12, 0, 3, 517_000_000, time.UTC), ev.StateChangeTime)
	assert.Equal(t, "i-0123456789abcdef0", ev.Dimensions["InstanceId"])
	var res []recovery.Result
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res, 1)
	assert.Equal(t, recovery.OutcomeLaunched, res[0].Outcome)
}

func TestOKTransitionIsPassedOn(t *testing.T) {
	// The engine decides what an OK transition means (nothing); the adapter
	// does not filter alarm states itself.
	f := &fakeEngine{}
	_, err := invoke(t, f, testdata(t, "sns-ok.json"))
	require.NoError(t, err)
	require.Len(t, f.alarms, 1)
	assert.Equal(t, "OK", f.alarms[0].NewState)
}

func TestOwnAndForeignMessagesAreIgnored(t *testing.T) {
	for _, name := range []string{"sns-own-notification.json", "sns-own-text.json", "sns-subscription-text.json"} {
		t.Run(name, func(t *testing.T) {
			f := &fakeEngine{}
			out, err := invoke(t, f, testdata(t, name))
			require.NoError(t, err)
			assert.Empty(t, f.alarms)
			assert.JSONEq(t, `[]`, string(out))
		})
	}
}

func TestEngineErrorIsAFunctionError(t *testing.T) {
	f := &fakeEngine{err: errors.New("awaiting confirmation that the primary is down: still stopping")}
	_, err := invoke(t, f, testdata(t, "sns-alarm.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still stopping")
	assert.Contains(t, err.Error(), "oha-web01-status")
}

func TestMalformedAlarmIsAnError(t *testing.T) {
	var ev map[string]any
	require.NoError(t, json.Unmarshal(testdata(t, "sns-alarm.json"), &ev))
	rec := ev["Records"].([]any)[0].(map[string]any)["Sns"].(map[string]any)
	rec["Message"] = `{"AlarmName":"oha-web01-status","NewStateValue":"ALARM","StateChangeTime":"yesterday"}`
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	f := &fakeEngine{}
	_, err = invoke(t, f, b)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "StateChangeTime")
	assert.Empty(t, f.alarms)
}

func TestDrillInvocationReturnsReport(t *testing.T) {
	f := &fakeEngine{}
	out, err := invoke(t, f, testdata(t, "drill.json"))
	require.NoError(t, err)
	require.Len(t, f.drills, 1)
	assert.Equal(t, recovery.DrillRequest{Kind: "drill", DryRun: true, RequestedBy: "alice@example.com"}, f.drills[0])
	var rep recovery.Report
	require.NoError(t, json.Unmarshal(out, &rep))
	assert.Equal(t, "would fence", rep.Decision)
	assert.True(t, rep.DryRun)
}

func TestUnknownEventIsRejected(t *testing.T) {
	for _, payload := range []string{`{"kind":"failover"}`, `{}`, `[1,2]`, `"x"`} {
		f := &fakeEngine{}
		_, err := invoke(t, f, []byte(payload))
		assert.Error(t, err, payload)
		assert.Empty(t, f.alarms)
		assert.Empty(t, f.drills)
	}
}
