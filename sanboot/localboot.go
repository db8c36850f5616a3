package sanboot

import (
	"bytes"
	"fmt"
)

// LocalBootHelper is the tool the LocalBoot helper AMI provides. Its presence
// is how the user data tells the helper (which hydrates the boot volume) from
// the workload's own OS (which boots from the hydrated copy).
const LocalBootHelper = "/usr/local/bin/localboot"

// Markers the LocalBoot script prints (see DataVolumesOKMarker).
const (
	LocalBootOKMarker     = "OUTPOSTS-HA-LOCALBOOT-OK"
	LocalBootFailedMarker = "OUTPOSTS-HA-LOCALBOOT-FAILED"
)

// Protocol is a SAN transport.
type Protocol string

// Transports.
const (
	ProtocolISCSI   Protocol = "iscsi"
	ProtocolNVMeTCP Protocol = "nvme-tcp"
)

// LocalBoot describes the boot volume the LocalBoot helper hydrates.
//
// LocalBoot copies the SAN boot volume to local instance storage at every boot
// and then boots that copy. The workload's running root file system is
// therefore a re-creatable copy on instance store, not the durable volume:
// whatever the workload must keep belongs on SAN data volumes.
type LocalBoot struct {
	Protocol Protocol
	// Initiator is the workload's identity: its initiator IQN (iSCSI) or its
	// host NQN (NVMe/TCP).
	Initiator string
	// Target is the target IQN (iSCSI) or subsystem NQN (NVMe/TCP) of the boot volume.
	Target  string
	Portals []Portal
	// LUN is the boot volume's LUN (iSCSI) or namespace ID (NVMe/TCP), as the
	// array reported it after mapping.
	LUN int
	// SecretARN optionally names the CHAP (iSCSI) or DH-HMAC-CHAP (NVMe/TCP) secret.
	SecretARN string
}

// MaxLocalBootLUN is the largest LUN handed to the LocalBoot helper (--lun,
// decimal). How the helper encodes a LUN above 255 is not known here, and no
// LocalBoot helper runs in internal/sanlab, so the range stays where it was.
const MaxLocalBootLUN = 4095

// Validate reports the first problem with the LocalBoot description.
func (l LocalBoot) Validate() error {
	valid, name, lo, hi, unit := ValidateIQN, "IQN", 0, MaxLocalBootLUN, "LUN"
	switch l.Protocol {
	case ProtocolISCSI:
	case ProtocolNVMeTCP:
		valid, name, lo, hi, unit = ValidateNQN, "NQN", 1, MaxNSID, "namespace ID"
	default:
		return fmt.Errorf("LocalBoot protocol %q: use %q or %q", l.Protocol, ProtocolISCSI, ProtocolNVMeTCP)
	}
	if err := valid(l.Initiator); err != nil {
		return fmt.Errorf("LocalBoot initiator %s %w", name, err)
	}
	if err := valid(l.Target); err != nil {
		return fmt.Errorf("LocalBoot target %s %w", name, err)
	}
	if l.Target == l.Initiator {
		return fmt.Errorf("LocalBoot target %s is the initiator: the target is the array's name", l.Target)
	}
	if err := validatePortals(l.Portals, "LocalBoot target"); err != nil {
		return err
	}
	if l.LUN < lo || l.LUN > hi {
		return fmt.Errorf("LocalBoot %s %d is out of range %d-%d", unit, l.LUN, lo, hi)
	}
	if l.SecretARN != "" {
		if err := ValidateSecretARN(l.SecretARN); err != nil {
			return fmt.Errorf("LocalBoot secret %w", err)
		}
	}
	return nil
}

func (l LocalBoot) iscsi() ISCSIVolumes {
	return ISCSIVolumes{InitiatorIQN: l.Initiator, Targets: []ISCSITarget{{
		IQN: l.Target, Portals: l.Portals, LUNs: []int{l.LUN}, CHAPSecretARN: l.SecretARN,
	}}}
}

func (l LocalBoot) nvme() NVMeVolumes {
	return NVMeVolumes{HostNQN: l.Initiator, Subsystems: []NVMeSubsystem{{
		NQN: l.Target, Portals: l.Portals, Namespaces: []int{l.LUN}, DHCHAPSecretARN: l.SecretARN,
	}}}
}

// RenderLocalBoot renders the script the LocalBoot helper runs at every boot:
// it attaches the boot volume with the workload's identity (the same steps as
// the Linux data-volume scripts) and hands over to the helper's localboot tool,
// which hydrates the local copy and boots it.
//
// Assumed helper contract (from the AWS LocalBoot helper AMI): localboot
// --target <iqn|nqn> [--lun N] finds the attached volume itself; --lun is
// passed for iSCSI only, since an NVMe subsystem names its namespaces itself.
func RenderLocalBoot(l LocalBoot) ([]byte, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	const mark, purpose = "OUTPOSTS-HA-LOCALBOOT", "attach the boot volume and hand over to the LocalBoot helper"
	if l.Protocol == ProtocolISCSI {
		writeLinuxISCSI(&b, l.iscsi(), mark, purpose)
	} else {
		writeLinuxNVMe(&b, l.nvme(), mark, purpose)
	}
	b.WriteString(`# The workload boots from a copy of this volume on instance store, made afresh at
# every boot: its running root is re-creatable, not durable. Persistent state
# belongs on SAN data volumes.
`)
	fmt.Fprintf(&b, "echo \"${MARK}-OK: boot volume attached, starting %s\"\n", LocalBootHelper)
	if l.Protocol == ProtocolISCSI {
		fmt.Fprintf(&b, "exec \"${R}%s\" --target %s --lun %d\n", LocalBootHelper, shQuote(l.Target), l.LUN)
	} else {
		fmt.Fprintf(&b, "exec \"${R}%s\" --target %s\n", LocalBootHelper, shQuote(l.Target))
	}
	return b.Bytes(), nil
}
