package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/outposts-ha/outposts-ha/recovery"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// Environment variables of the recovery contract.
const (
	envWorkload       = "OHA_WORKLOAD"
	envPolicy         = "OHA_POLICY"
	envTopic          = "OHA_TOPIC_ARN"
	envStatusAlarm    = "OHA_STATUS_ALARM"
	envConnectedAlarm = "OHA_CONNECTED_ALARM"
	envOutpost        = "OHA_PRIMARY_OUTPOST_ID"
	envTemplate       = "OHA_RECOVERY_TEMPLATE"
	envPeriods        = "OHA_DETECTION_PERIODS"
	envFenceTimeout   = "OHA_FENCE_TIMEOUT_SECONDS"
	// envDLQ is the function's dead-letter queue URL (the drill checks it exists).
	envDLQ = "OHA_DLQ_URL"
	// envSecondaryOutpost is the secondary Outpost (the drill checks its
	// capacity); optional.
	envSecondaryOutpost = "OHA_SECONDARY_OUTPOST_ID"
)

// maxFenceTimeout leaves room inside the function's 900 s timeout for the
// launch, the wait for running, and the notification. The engine also cuts
// every wait to the invocation's deadline (recovery.Config.DeadlineMargin).
const maxFenceTimeout = 600

// configFromEnv reads the engine's configuration, naming every missing or
// invalid variable at once.
func configFromEnv(getenv func(string) string) (recovery.Config, error) {
	var errs []error
	get := func(name string, required bool) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" && required {
			errs = append(errs, fmt.Errorf("environment variable %s is not set (the recovery stack sets it)", name))
		}
		return v
	}
	bad := func(name, v string, why string) {
		errs = append(errs, fmt.Errorf("environment variable %s=%q: %s", name, v, why))
	}
	cfg := recovery.Config{
		Workload:           get(envWorkload, true),
		TopicARN:           get(envTopic, true),
		StatusAlarm:        get(envStatusAlarm, true),
		ConnectedAlarm:     get(envConnectedAlarm, false),
		PrimaryOutpostID:   get(envOutpost, false),
		RecoveryTemplate:   get(envTemplate, true),
		DLQURL:             get(envDLQ, true),
		SecondaryOutpostID: get(envSecondaryOutpost, false),
	}
	if cfg.Workload != "" {
		if err := sanboot.ValidateWorkloadName(cfg.Workload); err != nil {
			bad(envWorkload, cfg.Workload, err.Error())
		}
	}
	if p := get(envPolicy, true); p != "" {
		pol, err := recovery.ParsePolicy(p)
		if err != nil {
			bad(envPolicy, p, err.Error())
		}
		cfg.Policy = pol
	}
	if v := cfg.TopicARN; v != "" && !strings.HasPrefix(v, "arn:") {
		bad(envTopic, v, "not an ARN")
	}
	if v := cfg.PrimaryOutpostID; v != "" && !strings.HasPrefix(v, "op-") {
		bad(envOutpost, v, "not an Outpost ID (op-...)")
	}
	if v := cfg.SecondaryOutpostID; v != "" && !strings.HasPrefix(v, "op-") {
		bad(envSecondaryOutpost, v, "not an Outpost ID (op-...)")
	}
	if v := cfg.DLQURL; v != "" && !strings.HasPrefix(v, "https://") {
		bad(envDLQ, v, "not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)")
	}
	if v := get(envPeriods, true); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 60 {
			bad(envPeriods, v, "want a number of one-minute periods from 1 to 60")
		}
		cfg.DetectionPeriods = n
	}
	cfg.FenceTimeout = 180 * time.Second
	if v := get(envFenceTimeout, false); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxFenceTimeout {
			bad(envFenceTimeout, v, fmt.Sprintf("want seconds from 1 to %d", maxFenceTimeout))
		}
		cfg.FenceTimeout = time.Duration(n) * time.Second
	}
	if err := errors.Join(errs...); err != nil {
		return recovery.Config{}, fmt.Errorf("recovery-lambda configuration: %w", err)
	}
	return cfg, nil
}
