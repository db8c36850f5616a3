// Unit tests of construction and of the gates that run before any AWS call.
// The fakes embed the interfaces with nil values, so any AWS call panics:
// that is how these tests prove "no call at all".
package recovery_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/recovery"
)

type (
	noEC2 struct{ recovery.EC2 }
	noSSM struct{ recovery.SSM }
	noSNS struct{ recovery.SNS }
	noCW  struct{ recovery.CloudWatch }
)

func config() recovery.Config {
	c := recovery.DefaultConfig("web01")
	c.TopicARN = "arn:aws:sns:us-west-2:123456789012:oha-web01"
	return c
}

func TestNewValidates(t *testing.T) {
	deps := func(c recovery.Config) recovery.Deps {
		return recovery.Deps{Config: c, EC2: noEC2{}, SSM: noSSM{}, SNS: noSNS{}, CloudWatch: noCW{}}
	}
	e, err := recovery.New(deps(config()))
	require.NoError(t, err)
	got := e.Config()
	assert.Equal(t, 180*time.Second, got.FenceTimeout)
	assert.Equal(t, "oha-web01-status", got.StatusAlarm)
	assert.Equal(t, "lt-web01-recovery", got.RecoveryTemplate)
	assert.Equal(t, recovery.PolicyConfirmed, got.Policy)

	for name, mut := range map[string]func(*recovery.Config){
		"no topic":    func(c *recovery.Config) { c.TopicARN = "" },
		"no workload": func(c *recovery.Config) { c.Workload = "" },
		"bad policy":  func(c *recovery.Config) { c.Policy = "yolo" },
		"no template": func(c *recovery.Config) { c.RecoveryTemplate = "" },
		"no alarm":    func(c *recovery.Config) { c.StatusAlarm = "" },
	} {
		c := config()
		mut(&c)
		_, err := recovery.New(deps(c))
		assert.Error(t, err, name)
	}
	d := deps(config())
	d.SNS = nil
	_, err = recovery.New(d)
	assert.Error(t, err)
}

func TestEventsIgnoredWithoutAnyCall(t *testing.T) {
	c := config()
	c.ConnectedAlarm = "oha-web01-connected"
	e, err := recovery.New(recovery.Deps{Config: c, EC2: noEC2{}, SSM: noSSM{}, SNS: noSNS{}, CloudWatch: noCW{}})
	require.NoError(t, err)
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, ev := range []recovery.AlarmEvent{
		{AlarmName: "oha-web01-status", NewState: "OK", StateChangeTime: at},
		{AlarmName: "oha-web01-status", NewState: "INSUFFICIENT_DATA", StateChangeTime: at},
		{AlarmName: "oha-web01-connected", NewState: "OK", StateChangeTime: at},
		{AlarmName: "oha-web01-dlq", NewState: "ALARM", StateChangeTime: at},
		{AlarmName: "oha-web02-status", NewState: "ALARM", StateChangeTime: at},
	} {
		res, err := e.HandleAlarm(context.Background(), ev)
		require.NoError(t, err, ev.AlarmName)
		assert.Equal(t, recovery.OutcomeIgnored, res.Outcome, "%s %s", ev.AlarmName, ev.NewState)
	}
}
