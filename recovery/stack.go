// Package recovery holds the recovery stack (rendering, deploy, update, delete)
// and the failover decision engine shared by the Lambda, drill and failover.
package recovery

import "errors"

// Policy is what the failover function may do once it has fenced (or failed to
// fence) the primary. See DESIGN.md "Detection and failover".
type Policy string

const (
	PolicyNotify    Policy = "notify"
	PolicyConfirmed Policy = "confirmed"
	PolicyAutomatic Policy = "automatic"
)

// StackConfig is everything the recovery stack template depends on. It is
// built from a validated spec; RenderStack does not re-validate operator input
// beyond what the template itself needs.
type StackConfig struct {
	Workload          string
	Region            string
	Policy            Policy
	AlarmPeriods      int // N: evaluation periods of 60 s
	AlarmDatapoints   int // M: datapoints to alarm, M <= N
	NotificationEmail string
	// InstanceProfileRole is the IAM role name inside the workload's instance
	// profile: the function may pass exactly this role to RunInstances.
	InstanceProfileRole string
	// PrimaryOutpostID, when set, adds the ConnectedStatus alarm on that Outpost.
	PrimaryOutpostID string
}

// Parameter is one CloudFormation stack parameter.
type Parameter struct {
	Key   string `json:"ParameterKey"`
	Value string `json:"ParameterValue"`
}

// Stack is a rendered recovery stack.
type Stack struct {
	Name       string
	Template   []byte // YAML
	Parameters []Parameter
}

// RenderStack renders the autorestart-<workload> stack.
func RenderStack(c StackConfig) (Stack, error) {
	return Stack{}, errors.New("recovery stack rendering is not built yet")
}
