package recovery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
)

// Marker is the value of the maintenance and drill parameters
// (naming.MaintenanceParam, naming.DrillParam): a window that ends by itself.
// An expired marker is inactive, so a forgotten `maintenance on` cannot
// disable failover for good.
type Marker struct {
	Until  time.Time `json:"until"`
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"`
}

// Active reports whether the window is still open at now.
func (m Marker) Active(now time.Time) bool { return now.Before(m.Until) }

// ReadMarker reads a maintenance or drill marker. found is false when the
// parameter does not exist. A marker that does not parse is an error: the
// engine will not guess whether maintenance is on.
func ReadMarker(ctx context.Context, c SSMReader, name string) (m Marker, found bool, err error) {
	v, _, found, err := getParam(ctx, c, name)
	if err != nil || !found {
		return Marker{}, found, err
	}
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return Marker{}, true, fmt.Errorf("parameter %s: not a marker {\"until\": RFC3339, ...}: %w", name, err)
	}
	if m.Until.IsZero() {
		return Marker{}, true, fmt.Errorf("parameter %s: marker has no \"until\" time", name)
	}
	return m, true, nil
}

// getParam reads a parameter; found is false for ParameterNotFound.
func getParam(ctx context.Context, c SSMReader, name string) (value string, version int64, found bool, err error) {
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if awsx.IsNotFound(err) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("read parameter %s: %w", name, err)
	}
	if out.Parameter == nil {
		return "", 0, false, fmt.Errorf("read parameter %s: empty response", name)
	}
	return aws.ToString(out.Parameter.Value), out.Parameter.Version, true, nil
}
