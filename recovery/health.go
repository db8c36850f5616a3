package recovery

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// ConnectedStatusHealth reads AWS/Outposts ConnectedStatus (dimension
// OutpostId, Maximum per minute) through CloudWatch GetMetricData.
type ConnectedStatusHealth struct {
	CloudWatch interface {
		GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	}
}

// maxMetricPages bounds pagination; a detection window is a handful of minutes.
const maxMetricPages = 20

// ConnectedStatus implements OutpostHealth.
func (h ConnectedStatusHealth) ConnectedStatus(ctx context.Context, outpostID string, start, end time.Time) ([]Sample, error) {
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start),
		EndTime:   aws.Time(end),
		ScanBy:    cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("connected"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{
					Namespace:  aws.String("AWS/Outposts"),
					MetricName: aws.String("ConnectedStatus"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("OutpostId"), Value: aws.String(outpostID)}},
				},
				Period: aws.Int32(60),
				Stat:   aws.String("Maximum"),
			},
			ReturnData: aws.Bool(true),
		}},
	}
	var out []Sample
	for page := 0; page < maxMetricPages; page++ {
		res, err := h.CloudWatch.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read ConnectedStatus of %s: %w", outpostID, err)
		}
		for _, r := range res.MetricDataResults {
			for i := range r.Timestamps {
				if i < len(r.Values) {
					out = append(out, Sample{At: r.Timestamps[i], Value: r.Values[i]})
				}
			}
		}
		if aws.ToString(res.NextToken) == "" {
			return out, nil
		}
		in.NextToken = res.NextToken
	}
	return nil, fmt.Errorf("read ConnectedStatus of %s: more than %d pages", outpostID, maxMetricPages)
}

// disconnectedThroughout decides whether an Outpost was cut off for the whole
// detection window: every one of the `periods` minutes before the alarm
// (alarm time rounded down to the minute) has a sample below 1, and no sample
// from then until now shows it connected. A minute with no sample does not
// count as disconnected: launching without a confirmed fence needs positive
// evidence.
func disconnectedThroughout(samples []Sample, alarmAt, now time.Time, periods int) (bool, string) {
	end := alarmAt.UTC().Truncate(time.Minute)
	start := end.Add(-time.Duration(periods) * time.Minute)
	seen := map[time.Time]bool{}
	for _, s := range samples {
		at := s.At.UTC().Truncate(time.Minute)
		if at.Before(start) || at.After(now) {
			continue
		}
		if s.Value >= 1 {
			return false, fmt.Sprintf("connected at %s", at.Format(time.RFC3339))
		}
		seen[at] = true
	}
	for m := start; m.Before(end); m = m.Add(time.Minute) {
		if !seen[m] {
			return false, fmt.Sprintf("no ConnectedStatus data for %s", m.Format(time.RFC3339))
		}
	}
	return true, fmt.Sprintf("disconnected in all %d minutes from %s to %s and since",
		periods, start.Format(time.RFC3339), end.Format(time.RFC3339))
}

// outpostDisconnected reads the primary Outpost's connectivity for the
// automatic policy.
func (e *Engine) outpostDisconnected(ctx context.Context, alarmAt time.Time) (bool, string, error) {
	if e.cfg.PrimaryOutpostID == "" {
		return false, "no primary Outpost ID configured, so no connectivity evidence", nil
	}
	now := e.now().UTC()
	start := alarmAt.UTC().Truncate(time.Minute).Add(-time.Duration(e.cfg.DetectionPeriods) * time.Minute)
	samples, err := e.health.ConnectedStatus(ctx, e.cfg.PrimaryOutpostID, start, now.Truncate(time.Minute).Add(time.Minute))
	if err != nil {
		return false, "", err
	}
	ok, why := disconnectedThroughout(samples, alarmAt, now, e.cfg.DetectionPeriods)
	return ok, "Outpost " + e.cfg.PrimaryOutpostID + ": " + why, nil
}
