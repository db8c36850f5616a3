package wizard

import (
	"fmt"
	"strings"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// summary is the short human account of the plan, written as summary.txt and
// printed by the CLI.
func summary(p *Plan, ud userData) []byte {
	s := p.Spec
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("outposts-ha plan for workload %s (%s)", s.Workload, s.Region)
	w("")
	w("Storage      %s over %s, boot mode %s, guest %s", s.Storage.Vendor, s.Storage.Protocol, s.BootMode(), s.GuestOS)
	if s.Storage.Protocol == "nvme-tcp" {
		w("Identity     host NQN %s", p.Identity.HostNQN)
	} else {
		w("Identity     initiator IQN %s", p.Identity.InitiatorIQN)
	}
	w("             %s", p.Source)
	if p.Source != FromAnswers {
		w("             Pin it: add `identity: {uuid: %s}` to the answers file.", p.Identity.UUID)
	}
	w("Boot target  %s", s.Storage.Boot.Target)
	for _, u := range ud.URIs {
		w("             %s", u)
	}
	if s.Storage.Boot.LUN != nil {
		w("             LUN %d (0x%x in the iPXE URI)", *s.Storage.Boot.LUN, *s.Storage.Boot.LUN)
		if s.Storage.Vendor != "generic" {
			w("             The LUNs here are as the answers state them: setup maps the volumes, reads back the")
			w("             LUNs the array really assigns, and renders the templates from those.")
		}
	}
	w("Data volumes %d", len(s.Storage.Data))
	switch {
	case s.LNI.Static != nil:
		w("LNI          device index 1, static %s", s.LNI.Static.Address)
	default:
		t := s.LNI.DHCPTimeout
		if t == "" {
			t = "5s"
		}
		w("LNI          device index 1, DHCP (timeout %s)", t)
	}
	w("Servers      primary %s -> %s, recovery %s -> %s",
		s.Outposts.PrimarySubnet, naming.LaunchTemplate(s.Workload, naming.RolePrimary),
		s.Outposts.SecondarySubnet, naming.LaunchTemplate(s.Workload, naming.RoleRecovery))
	w("Failover     policy %s, alarm after %d of %d one-minute periods, notify %s",
		s.Failover.Policy, s.Failover.DatapointsToAlarm, s.Failover.DetectionPeriods, s.Failover.NotificationEmail)
	w("Stack        %s", naming.Stack(s.Workload))
	w("")
	w("Before setup:")
	if s.Storage.Vendor == "generic" {
		id := p.Identity.InitiatorIQN
		if s.Storage.Protocol == "nvme-tcp" {
			id = p.Identity.HostNQN
		}
		w("  - On the array, allow exactly %s on the boot target (and data targets), at the LUNs above.", id)
	}
	for _, n := range ud.Notes {
		w("  - %s", n)
	}
	if s.Instance.InstanceProfileRole == "" {
		w("  - instance.instance_profile_role is not set: the IAM policies assume the role inside instance profile %s is also named %s. Set it if not, or recovery cannot pass the role.", s.Instance.InstanceProfile, s.Instance.InstanceProfile)
	}
	w("  - Grant the operator iam/operator-policy.json (scoped to this workload).")
	w("")
	w("Files:")
	for _, f := range p.Files {
		w("  %s", f.Path)
	}
	w("  summary.txt")
	return []byte(b.String())
}
