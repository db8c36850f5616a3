// Package recovery is the failover decision engine shared by the failover
// function (cmd/recovery-lambda), `drill` and `failover`. The recovery stack
// that hosts the function lives in recovery/stack.
package recovery

import "fmt"

// Policy is what the failover function may do about a failed primary. See DESIGN.md "Detection and failover".
type Policy string

const (
	// PolicyNotify is hands-off: the function neither stops the primary nor
	// launches; it sends the exact `outposts-ha failover` command, which fences
	// before it launches.
	PolicyNotify Policy = "notify"
	// PolicyConfirmed launches only once EC2 confirms the primary stopped or
	// terminated; otherwise it asks for approval. The safe default.
	PolicyConfirmed Policy = "confirmed"
	// PolicyAutomatic also launches when the stop cannot be confirmed but the
	// primary Outpost was disconnected through the whole detection window. It
	// risks two writers when only the service link is down; setup offers it only
	// after a typed acknowledgement.
	PolicyAutomatic Policy = "automatic"
)

// Policies lists the valid policies in the order the wizard offers them.
var Policies = []Policy{PolicyConfirmed, PolicyNotify, PolicyAutomatic}

// ParsePolicy parses a policy name.
func ParsePolicy(s string) (Policy, error) {
	for _, p := range Policies {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown failover policy %q: use confirmed, notify or automatic", s)
}
