// Unit tests of the environment contract (no AWS).
package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/recovery"
)

func env(over map[string]string) func(string) string {
	m := map[string]string{
		"OHA_WORKLOAD":              "web01",
		"OHA_POLICY":                "confirmed",
		"OHA_TOPIC_ARN":             "arn:aws:sns:us-west-2:123456789012:oha-web01",
		"OHA_STATUS_ALARM":          "oha-web01-status",
		"OHA_CONNECTED_ALARM":       "oha-web01-connected",
		"OHA_PRIMARY_OUTPOST_ID":    "op-0123456789abcdef0",
		"OHA_RECOVERY_TEMPLATE":     "lt-web01-recovery",
		"OHA_DETECTION_PERIODS":     "3",
		"OHA_FENCE_TIMEOUT_SECONDS": "120",
		"OHA_DLQ_URL":               "https://sqs.us-west-2.amazonaws.com/123456789012/oha-web01-dlq",
		"OHA_SECONDARY_OUTPOST_ID":  "op-0fedcba9876543210",
	}
	for k, v := range over {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	cfg, err := configFromEnv(env(nil))
	require.NoError(t, err)
	assert.Equal(t, recovery.Config{
		Workload: "web01", Policy: recovery.PolicyConfirmed, TopicARN: "arn:aws:sns:us-west-2:123456789012:oha-web01",
		StatusAlarm: "oha-web01-status", ConnectedAlarm: "oha-web01-connected", PrimaryOutpostID: "op-0123456789abcdef0",
		RecoveryTemplate: "lt-web01-recovery", DetectionPeriods: 3, FenceTimeout: 120 * time.Second,
		DLQURL: "https://sqs.us-west-2.amazonaws.com/123456789012/oha-web01-dlq", SecondaryOutpostID: "op-0fedcba9876543210",
	}, cfg)

	cfg, err = configFromEnv(env(map[string]string{"OHA_CONNECTED_ALARM": "", "OHA_PRIMARY_OUTPOST_ID": "", "OHA_FENCE_TIMEOUT_SECONDS": "", "OHA_SECONDARY_OUTPOST_ID": ""}))
	require.NoError(t, err, "optional variables may be empty")
	assert.Equal(t, 180*time.Second, cfg.FenceTimeout)
	assert.Empty(t, cfg.ConnectedAlarm)
	assert.Empty(t, cfg.SecondaryOutpostID, "no secondary Outpost ID: the drill skips the capacity check")
}

func TestConfigFromEnvNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		set  map[string]string
		want []string
	}{
		{map[string]string{"OHA_WORKLOAD": ""}, []string{"OHA_WORKLOAD is not set"}},
		{map[string]string{"OHA_TOPIC_ARN": "", "OHA_RECOVERY_TEMPLATE": ""}, []string{"OHA_TOPIC_ARN is not set", "OHA_RECOVERY_TEMPLATE is not set"}},
		{map[string]string{"OHA_POLICY": "yolo"}, []string{`OHA_POLICY="yolo"`}},
		{map[string]string{"OHA_WORKLOAD": "Web 01"}, []string{`OHA_WORKLOAD="Web 01"`}},
		{map[string]string{"OHA_DETECTION_PERIODS": "0"}, []string{"OHA_DETECTION_PERIODS"}},
		{map[string]string{"OHA_DETECTION_PERIODS": ""}, []string{"OHA_DETECTION_PERIODS is not set"}},
		{map[string]string{"OHA_FENCE_TIMEOUT_SECONDS": "900"}, []string{"OHA_FENCE_TIMEOUT_SECONDS"}},
		{map[string]string{"OHA_PRIMARY_OUTPOST_ID": "i-123"}, []string{"OHA_PRIMARY_OUTPOST_ID"}},
		{map[string]string{"OHA_TOPIC_ARN": "oha-web01"}, []string{"OHA_TOPIC_ARN", "not an ARN"}},
		{map[string]string{"OHA_DLQ_URL": ""}, []string{"OHA_DLQ_URL is not set"}},
		{map[string]string{"OHA_DLQ_URL": "oha-web01-dlq"}, []string{"OHA_DLQ_URL", "not an SQS queue URL"}},
		{map[string]string{"OHA_SECONDARY_OUTPOST_ID": "i-123"}, []string{"OHA_SECONDARY_OUTPOST_ID"}},
	} {
		_, err := configFromEnv(env(tc.set))
		require.Error(t, err, "%v", tc.set)
		for _, w := range tc.want {
			assert.Contains(t, err.Error(), w)
		}
	}
}
