package tui

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// wrapWords wraps text at width columns, breaking only at spaces: an address,
// ARN or IQN longer than the width gets a line of its own, unbroken.
func wrapWords(text string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(text) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

const labelWidth = 11

// reviewLines are the label/value pairs of the review: everything that
// decides the boot.
func reviewLines(a *answers) [][2]string {
	a.apply()
	s := a.s
	nvme := s.Storage.Protocol == "nvme-tcp"
	var out [][2]string
	add := func(label, format string, args ...any) {
		out = append(out, [2]string{label, fmt.Sprintf(format, args...)})
	}

	add("Workload", "%s in %s, %s guest", s.Workload, s.Region, s.GuestOS)
	if id, err := uuid.Parse(s.Identity.UUID); err == nil {
		iqn, _ := sanboot.InitiatorIQN(s.Identity.IQNAuthority, s.Workload, id)
		nqn, _ := sanboot.HostNQN(id)
		who := iqn
		if nvme {
			who = nqn
		}
		add("Identity", "%s (uuid %s, pinned in the answers file)", who, s.Identity.UUID)
	}
	arr := s.Storage.Vendor + " over " + s.Storage.Protocol
	if m := s.Storage.Management; m != nil {
		arr += ", API " + m.Endpoint
		if m.SVM != "" {
			arr += " SVM " + m.SVM
		}
		if m.CAFile != "" {
			arr += ", CA " + m.CAFile
		}
	} else {
		arr += ", no array API"
	}
	add("Array", "%s", arr)
	out = append(out, volumeLines("Boot", s, s.Storage.Boot, true)...)
	for i, v := range s.Storage.Data {
		// One wrapped entry per data volume, so that 16 of them still fit a screen.
		var parts []string
		for _, l := range volumeLines("", s, v, false) {
			parts = append(parts, l[1])
		}
		add(fmt.Sprintf("Data %d", i+1), "%s", strings.Join(parts, "; "))
	}
	if s.BootMode() == "sanboot" {
		switch {
		case s.LNI.Static != nil:
			gw := "no gateway"
			if s.LNI.Static.Gateway != "" {
				gw = "gateway " + s.LNI.Static.Gateway
			}
			add("LNI", "static %s, %s (device index 1)", s.LNI.Static.Address, gw)
		default:
			t := s.LNI.DHCPTimeout
			if t == "" {
				t = spec.DefaultDHCPTimeout.String() + " (default)"
			}
			add("LNI", "DHCP, timeout %s (device index 1)", t)
		}
		if s.Boot.UEFIFilename != "" {
			add("UEFI", "%s", s.Boot.UEFIFilename)
		}
	} else {
		add("Boot mode", "LocalBoot hydrates a local copy of the volume; the helper configures its own network")
	}
	o := s.Outposts
	add("Primary", "subnet %s, Outpost %s", o.PrimarySubnet, orNone(o.PrimaryOutpost, "ID not given: no ConnectedStatus alarm"))
	add("Secondary", "subnet %s, Outpost %s", o.SecondarySubnet, orNone(o.SecondaryOutpost, "ID not given: no capacity check"))
	in := s.Instance
	add("Instance", "%s from %s, %s, key pair %s", in.Type, in.HelperAMI, in.SecurityGroup, orNone(in.KeyPair, "none"))
	role := in.InstanceProfileRole
	if role == "" {
		role = in.InstanceProfile + " (assumed: same name as the profile)"
	}
	add("Profile", "%s, role %s", in.InstanceProfile, role)
	periods := s.Failover.DetectionPeriods
	if periods == 0 {
		periods = spec.DefaultPeriods
	}
	add("Failover", "%s, detected after %d one-minute periods, notify %s", s.Failover.Policy, periods, s.Failover.NotificationEmail)
	// A problem left by going back and changing an earlier answer: shown here,
	// and the answers are saved before it is reported.
	for _, p := range a.problems() {
		add("To fix", "%s", p.String())
	}
	add("", "Nothing is created by plan: it renders files only.")
	return out
}

func volumeLines(label string, s spec.Spec, v spec.Volume, boot bool) [][2]string {
	nvme := s.Storage.Protocol == "nvme-tcp"
	var out [][2]string
	add := func(format string, args ...any) {
		out = append(out, [2]string{label, fmt.Sprintf(format, args...)})
		label = ""
	}
	if v.Volume != "" {
		add("volume %s", v.Volume)
	}
	what := "target"
	if nvme {
		what = "subsystem"
	}
	add("%s %s", what, orNone(v.Target, "(not given)"))
	def := uint16(sanboot.ISCSIPort)
	if nvme {
		def = sanboot.NVMeTCPPort
	}
	var ps []sanboot.Portal
	var shown []string
	for _, p := range v.Portals {
		if pp, err := sanboot.ParsePortal(p, def); err == nil {
			ps = append(ps, pp)
			shown = append(shown, pp.String())
		} else {
			shown = append(shown, p)
		}
	}
	add("portals %s", orNone(strings.Join(shown, ", "), "(none)"))
	switch {
	case v.LUN == nil:
		add("LUN (not given)")
	case nvme:
		add("namespace ID %d", *v.LUN)
	case boot && s.BootMode() == "sanboot":
		add("LUN %d, encoded as hex %x in the iPXE SAN URI:", *v.LUN, *v.LUN)
		for _, p := range ps {
			add("%s", sanboot.SANURI(p, *v.LUN, v.Target))
		}
	default:
		add("LUN %d", *v.LUN)
	}
	add("CHAP %s", orNone(v.CHAPSecretARN, "none"))
	return out
}

func orNone(v, none string) string {
	if v == "" {
		return none
	}
	return v
}

// review renders the review at width columns, never breaking a word.
func review(a *answers, width int) string {
	if width < labelWidth+20 {
		width = labelWidth + 20
	}
	var b strings.Builder
	for _, l := range reviewLines(a) {
		lines := wrapWords(l[1], width-labelWidth)
		for i, w := range lines {
			label := ""
			if i == 0 {
				label = l[0]
			}
			fmt.Fprintf(&b, "%-*s%s\n", labelWidth, label, w)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
