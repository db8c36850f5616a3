// Package naming is the one place that derives resource names and tags from a
// workload name, so that setup, the failover function, status and cleanup all
// find the same things.
package naming

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Tag keys carried by every resource the tool creates.
const (
	TagWorkload = "outposts-ha:workload"
	TagRole     = "outposts-ha:role" // primary | recovery on instances and launch templates
	TagManaged  = "outposts-ha:managed-by"
	ManagedBy   = "outposts-ha"
	// TagFenced marks a primary the failover function fenced (value "true"):
	// the function role and the operator policy carry an explicit Deny of
	// ec2:StartInstances on instances with this tag, so a fenced primary is
	// never started beside the recovery instance.
	TagFenced = "outposts-ha:fenced"
)

// Roles for TagRole.
const (
	RolePrimary  = "primary"
	RoleRecovery = "recovery"
)

// LaunchTemplate returns lt-<workload>-<role>.
func LaunchTemplate(workload, role string) string { return "lt-" + workload + "-" + role }

// Stack returns the recovery stack name, autorestart-<workload>.
func Stack(workload string) string { return "autorestart-" + workload }

// ParamPrefix is the SSM path that holds everything a workload keeps in Parameter Store.
func ParamPrefix(workload string) string { return "/outposts-ha/" + workload + "/" }

// SSM parameter names under ParamPrefix.
func RecordParam(workload string) string      { return ParamPrefix(workload) + "record" }
func LockParam(workload string) string        { return ParamPrefix(workload) + "lock" }
func TimelineParam(workload string) string    { return ParamPrefix(workload) + "timeline" }
func MaintenanceParam(workload string) string { return ParamPrefix(workload) + "maintenance" }
func DrillParam(workload string) string       { return ParamPrefix(workload) + "drill" }

// ArrayHost is the host / initiator-group name on the array: short, and legal on
// every supported vendor (letters, digits, '-', '_'; at most 63 characters).
func ArrayHost(workload string) string { return "oha-" + workload }

var workloadRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`) })

// ValidateWorkload checks a workload name: a DNS label of 1 to 32 lowercase
// letters, digits and hyphens, starting with a letter, so that every derived
// name (launch templates, stacks, SSM paths, alarms, array hosts) is valid.
func ValidateWorkload(s string) error {
	if s == "" {
		return fmt.Errorf("is empty: name the workload, for example web01")
	}
	if len(s) > 32 {
		return fmt.Errorf("%q is %d characters: use at most 32", s, len(s))
	}
	if !workloadRE().MatchString(s) {
		return fmt.Errorf("%q must be lowercase letters, digits and '-', start with a letter and not end with '-'", s)
	}
	return nil
}

// Partition returns the ARN partition a Region belongs to.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "eusc-"):
		return "aws-eusc"
	default:
		return "aws"
	}
}
