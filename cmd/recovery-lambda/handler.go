package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/outposts-ha/outposts-ha/recovery"
)

// engine is what the handler needs from recovery.Engine.
type engine interface {
	HandleAlarm(ctx context.Context, ev recovery.AlarmEvent) (recovery.Result, error)
	Drill(ctx context.Context, req recovery.DrillRequest) (recovery.Report, error)
}

type handler struct {
	eng engine
	log *slog.Logger
}

// Handle dispatches an invocation by its shape.
func (h *handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []json.RawMessage `json:"Records"`
		Kind    string            `json:"kind"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	switch {
	case probe.Records != nil:
		var ev events.SNSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("decode SNS event: %w", err)
		}
		return h.sns(ctx, ev)
	case probe.Kind == "drill":
		var req recovery.DrillRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("decode drill request: %w", err)
		}
		return h.eng.Drill(ctx, req)
	default:
		return nil, errors.New(`unrecognised event: want an SNS event or {"kind":"drill","dryRun":true}`)
	}
}

// sns hands every alarm notification to the engine and ignores the rest.
func (h *handler) sns(ctx context.Context, ev events.SNSEvent) ([]recovery.Result, error) {
	results := []recovery.Result{}
	var errs []error
	for _, rec := range ev.Records {
		msg := rec.SNS
		if rec.EventSource != "aws:sns" {
			h.log.Warn("ignoring a record that is not from SNS", "source", rec.EventSource)
			continue
		}
		if recovery.IsNotification(msg.Message) {
			h.log.Info("ignoring our own notification", "messageId", msg.MessageID, "subject", msg.Subject)
			continue
		}
		alarm, err := recovery.ParseAlarm([]byte(msg.Message))
		if errors.Is(err, recovery.ErrNotAlarm) {
			h.log.Info("ignoring a message that is not an alarm notification", "messageId", msg.MessageID, "subject", msg.Subject)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("SNS message %s: %w", msg.MessageID, err))
			continue
		}
		res, err := h.eng.HandleAlarm(ctx, alarm)
		results = append(results, res)
		if err != nil {
			errs = append(errs, fmt.Errorf("alarm %s (%s): %w", alarm.AlarmName, msg.MessageID, err))
		}
	}
	return results, errors.Join(errs...)
}
