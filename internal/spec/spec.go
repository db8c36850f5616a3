// Package spec is the workload answers file: its YAML shape, and the
// validation that turns operator input into a Spec every later step can trust.
// It does no I/O beyond decoding the bytes it is given.
package spec

import (
	"time"
)

// Spec is one workload's answers. Field names follow the YAML keys so that a
// validation message can name the exact key the operator must fix.
type Spec struct {
	Workload string     `yaml:"workload"`
	Region   string     `yaml:"region"`
	GuestOS  string     `yaml:"guest_os"` // linux | windows
	Storage  Storage    `yaml:"storage"`
	Identity Identity   `yaml:"identity"`
	Outposts Outposts   `yaml:"outposts"`
	Instance Instance   `yaml:"instance"`
	LNI      LNI        `yaml:"lni"`
	Boot     BootOpts   `yaml:"boot"`
	Failover Failover   `yaml:"failover"`
	Guest    GuestParts `yaml:"guest"`
}

// Storage is the array and the volumes on it.
type Storage struct {
	Vendor     string      `yaml:"vendor"`   // ontap | pure | powerstore | alletra | generic
	Protocol   string      `yaml:"protocol"` // iscsi | nvme-tcp
	Management *Management `yaml:"management,omitempty"`
	Boot       Volume      `yaml:"boot"`
	Data       []Volume    `yaml:"data,omitempty"`
}

// Management is how to reach the array's REST API. Credentials are a reference,
// never the secret itself.
type Management struct {
	Endpoint    string         `yaml:"endpoint"` // https://host[:port]
	Username    string         `yaml:"username,omitempty"`
	Credentials CredentialsRef `yaml:"credentials"`
	CAFile      string         `yaml:"ca_file,omitempty"`
	SVM         string         `yaml:"svm,omitempty"` // ONTAP storage VM
}

// CredentialsRef names where the array password or API token lives.
type CredentialsRef struct {
	SecretARN string `yaml:"secret_arn,omitempty"` // Secrets Manager secret
	Env       string `yaml:"env,omitempty"`        // environment variable name
	Prompt    bool   `yaml:"prompt,omitempty"`     // ask with a masked prompt at run time
}

// Volume is one boot or data volume: where it lives on the array and how the
// initiator reaches it. For vendors with an API, Target, Portals and LUN are
// normally discovered and read back from the array by setup; for the generic
// vendor the operator gives them.
type Volume struct {
	Volume  string   `yaml:"volume,omitempty"`  // array-side name: ONTAP LUN path, Pure/Dell/HPE volume name
	Target  string   `yaml:"target,omitempty"`  // target IQN or subsystem NQN
	Portals []string `yaml:"portals,omitempty"` // ip[:port]
	// PortalTargets names the target each portal serves, in portal order, for
	// arrays that give each node or port its own target IQN (PowerStore, HPE).
	// Empty means every portal serves Target.
	PortalTargets []string `yaml:"portal_targets,omitempty"`
	LUN           *int     `yaml:"lun,omitempty"` // LUN or namespace ID
	CHAPSecretARN string   `yaml:"chap_secret_arn,omitempty"`
}

// Identity pins the workload's initiator identity so it is never regenerated.
type Identity struct {
	UUID         string `yaml:"uuid,omitempty"`
	IQNAuthority string `yaml:"iqn_authority,omitempty"`
}

// Outposts are the two servers: each its own Outpost with its own subnet.
type Outposts struct {
	PrimarySubnet    string `yaml:"primary_subnet"`
	SecondarySubnet  string `yaml:"secondary_subnet"`
	PrimaryOutpost   string `yaml:"primary_outpost,omitempty"`
	SecondaryOutpost string `yaml:"secondary_outpost,omitempty"`
}

// Instance is what both launch templates launch.
type Instance struct {
	Type                string `yaml:"type"`
	HelperAMI           string `yaml:"helper_ami"`
	SecurityGroup       string `yaml:"security_group"`
	KeyPair             string `yaml:"key_pair,omitempty"`
	InstanceProfile     string `yaml:"instance_profile"`
	InstanceProfileRole string `yaml:"instance_profile_role,omitempty"`
}

// LNI is the addressing of the local network interface (device index 1).
type LNI struct {
	DHCPTimeout string     `yaml:"dhcp_timeout,omitempty"` // Go duration, default 5s
	Static      *StaticLNI `yaml:"static,omitempty"`
}

// StaticLNI addresses the LNI without DHCP.
type StaticLNI struct {
	Address string `yaml:"address"` // 192.168.50.20/24
	Gateway string `yaml:"gateway,omitempty"`
}

// BootOpts are SAN boot options.
type BootOpts struct {
	UEFIFilename string `yaml:"uefi_filename,omitempty"`
}

// Failover is detection and the failover policy.
type Failover struct {
	Policy            string `yaml:"policy"` // confirmed (default) | notify | automatic
	DetectionPeriods  int    `yaml:"detection_periods,omitempty"`
	DatapointsToAlarm int    `yaml:"datapoints_to_alarm,omitempty"`
	NotificationEmail string `yaml:"notification_email"`
	// AutomaticRiskAcknowledgement must equal AutomaticAck when policy is automatic.
	AutomaticRiskAcknowledgement string `yaml:"automatic_risk_acknowledgement,omitempty"`
}

// GuestParts are extra files handed to the booted Linux guest through cloud-init.
type GuestParts struct {
	CloudConfig string `yaml:"cloud_config,omitempty"` // inline #cloud-config YAML
}

// AutomaticAck is the sentence an operator types to accept the automatic
// policy's risk: a primary cut off from the Region only keeps writing.
const AutomaticAck = "I accept that a primary cut off only from the Region may still be writing to the SAN"

// Defaults applied by Normalize.
const (
	DefaultPolicy      = "confirmed"
	DefaultPeriods     = 3
	DefaultDHCPTimeout = 5 * time.Second
)

// Normalize fills defaults in place. It runs after decoding and before Validate.
func (s *Spec) Normalize() {
	if s.Failover.Policy == "" {
		s.Failover.Policy = DefaultPolicy
	}
	if s.Failover.DetectionPeriods == 0 {
		s.Failover.DetectionPeriods = DefaultPeriods
	}
	if s.Failover.DatapointsToAlarm == 0 {
		s.Failover.DatapointsToAlarm = s.Failover.DetectionPeriods
	}
	if s.GuestOS == "" {
		s.GuestOS = "linux"
	}
}

// BootMode is how the instance boots: iPXE SAN boot in place (iSCSI), or the
// LocalBoot helper hydrating a local copy (NVMe/TCP).
func (s *Spec) BootMode() string {
	if s.Storage.Protocol == "nvme-tcp" {
		return "localboot"
	}
	return "sanboot"
}
