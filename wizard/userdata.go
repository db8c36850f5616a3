package wizard

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/recovery"
	"github.com/outposts-ha/outposts-ha/recovery/stack"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// renderUserData renders the user data both launch templates carry, and the
// readable pieces of it for review.
func renderUserData(s *spec.Spec, id Identity) (userData, error) {
	var ud userData
	u := sanboot.UserDataSpec{Guest: sanboot.GuestOS(s.GuestOS)}
	nvme := s.Storage.Protocol == "nvme-tcp"
	if nvme && s.GuestOS == "windows" {
		return ud, problem("storage.protocol", "nvme-tcp is not supported for a Windows guest: Windows has no NVMe/TCP initiator this tool drives, and LocalBoot of a Windows image is not verified",
			"use protocol: iscsi (SAN boot through iPXE) for Windows")
	}
	switch s.BootMode() {
	case "sanboot":
		c, err := ipxeConfig(s, id)
		if err != nil {
			return ud, err
		}
		u.IPXE = &c
		for _, p := range c.Portals {
			ud.URIs = append(ud.URIs, sanboot.SANURI(p, c.LUN, c.TargetIQN))
		}
		if s.GuestOS == "windows" {
			ud.Notes = append(ud.Notes, "Windows SAN boot: the boot volume must hold a Windows installed for iSCSI boot (Windows reads the iBFT iPXE publishes, and needs the ENA network driver for the LNI in the image); see https://ipxe.org/howto/winnt_iscsi. Not verified here: no Windows boot test.")
		} else {
			ud.Notes = append(ud.Notes, "Linux SAN boot: the boot volume boots in place and must hold a SAN-bootable Linux whose initramfs reads the iBFT (the sanbootable package), or the kernel will not find its root after iPXE hands over.")
		}
	default:
		b := s.Storage.Boot
		def := uint16(sanboot.ISCSIPort)
		initiator := id.InitiatorIQN
		proto := sanboot.ProtocolISCSI
		if nvme {
			def, initiator, proto = sanboot.NVMeTCPPort, id.HostNQN, sanboot.ProtocolNVMeTCP
		}
		ps, err := portals(b, def)
		if err != nil {
			return ud, err
		}
		if b.Target == "" || len(ps) == 0 || b.LUN == nil {
			return ud, errors.New("storage.boot needs target, portals and lun to render the LocalBoot script offline (setup discovers them from the array)")
		}
		u.LocalBoot = &sanboot.LocalBoot{Protocol: proto, Initiator: initiator, Target: b.Target, Portals: ps, LUN: lun(b), SecretARN: b.CHAPSecretARN}
	}
	if err := dataVolumes(s, id, &u); err != nil {
		return ud, err
	}
	if cc := s.Guest.CloudConfig; cc != "" {
		u.Extra = append(u.Extra, sanboot.Part{ContentType: sanboot.TypeCloudConfig, Filename: "cloud-config.yaml", Content: []byte(cc)})
	}
	res, err := sanboot.UserData(u)
	if err != nil {
		return ud, userDataProblem(s, err)
	}
	ud.Raw = res.UserData
	for _, n := range res.Notes {
		if strings.HasPrefix(n, "LocalBoot: data volumes share target") {
			n = sharedTargetNote(s)
		}
		ud.Notes = append(ud.Notes, n)
	}
	if u.IPXE != nil {
		script, err := sanboot.RenderIPXE(*u.IPXE)
		if err != nil {
			return ud, err
		}
		ud.Extra = append(ud.Extra, File{Path: "boot.ipxe", Data: script})
	}
	for i, p := range res.Parts {
		if p.ContentType == sanboot.TypeIPXE {
			continue // written whole as boot.ipxe
		}
		name := p.Filename
		if name == "" {
			name = strings.ReplaceAll(p.ContentType, "/", "_")
		}
		ud.Extra = append(ud.Extra, File{Path: fmt.Sprintf("parts/%02d-%s", i+1, path.Base(name)), Data: p.Content})
	}
	if len(res.WindowsDataVolumes) > 0 {
		ud.Extra = append(ud.Extra, File{Path: "windows-data-volumes.ps1", Data: res.WindowsDataVolumes})
	}
	return ud, nil
}

// dataVolumes groups the data volumes by target, as the guest scripts log in
// once per target and then find every LUN behind it.
func dataVolumes(s *spec.Spec, id Identity, u *sanboot.UserDataSpec) error {
	if len(s.Storage.Data) == 0 {
		return nil
	}
	nvme := s.Storage.Protocol == "nvme-tcp"
	def := uint16(sanboot.ISCSIPort)
	if nvme {
		def = sanboot.NVMeTCPPort
	}
	var iscsi []sanboot.ISCSITarget
	var subs []sanboot.NVMeSubsystem
	seen := map[string]int{} // target|LUN -> first data volume
	if b := s.Storage.Boot; b.LUN != nil {
		seen[b.Target+"|"+fmt.Sprint(*b.LUN)] = -1
	}
	for i, v := range s.Storage.Data {
		if v.LUN != nil {
			k := v.Target + "|" + fmt.Sprint(*v.LUN)
			if j, dup := seen[k]; dup {
				what := fmt.Sprintf("storage.data[%d]", j)
				if j < 0 {
					what = "storage.boot"
				}
				unit := "LUN"
				if nvme {
					unit = "namespace ID"
				}
				return problem(fmt.Sprintf("storage.data[%d].lun", i), fmt.Sprintf("%s %d on %s is already %s", unit, *v.LUN, shortValue(v.Target), what),
					"give each volume its own "+unit+" on a target (or remove the repeated entry)")
			}
			seen[k] = i
		}
		ps, err := portals(v, def)
		if err != nil {
			return err
		}
		if v.Target == "" || len(ps) == 0 || v.LUN == nil {
			return fmt.Errorf("storage.data[%d] needs target, portals and lun to render the data-volume script offline (setup discovers them from the array)", i)
		}
		key := v.Target + "|" + portalList(ps) + "|" + v.CHAPSecretARN
		if nvme {
			found := false
			for j := range subs {
				if subsKey(subs[j]) == key {
					subs[j].Namespaces = append(subs[j].Namespaces, *v.LUN)
					found = true
				}
			}
			if !found {
				subs = append(subs, sanboot.NVMeSubsystem{NQN: v.Target, Portals: ps, Namespaces: []int{*v.LUN}, DHCHAPSecretARN: v.CHAPSecretARN})
			}
			continue
		}
		found := false
		for j := range iscsi {
			if targetKey(iscsi[j]) == key {
				iscsi[j].LUNs = append(iscsi[j].LUNs, *v.LUN)
				found = true
			}
		}
		if !found {
			iscsi = append(iscsi, sanboot.ISCSITarget{IQN: v.Target, Portals: ps, LUNs: []int{*v.LUN}, CHAPSecretARN: v.CHAPSecretARN})
		}
	}
	if len(iscsi) > 0 {
		u.ISCSIData = &sanboot.ISCSIVolumes{InitiatorIQN: id.InitiatorIQN, Targets: iscsi}
	}
	if len(subs) > 0 {
		u.NVMeData = &sanboot.NVMeVolumes{HostNQN: id.HostNQN, Subsystems: subs}
	}
	return nil
}

func portalList(ps []sanboot.Portal) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}

func targetKey(t sanboot.ISCSITarget) string {
	return t.IQN + "|" + portalList(t.Portals) + "|" + t.CHAPSecretARN
}

func subsKey(n sanboot.NVMeSubsystem) string {
	return n.NQN + "|" + portalList(n.Portals) + "|" + n.DHCHAPSecretARN
}

// renderStack renders the recovery stack from the answers; the values only
// setup knows (primary instance, bundle location) stay placeholders.
func renderStack(s *spec.Spec) (stack.Rendered, error) {
	p, err := recovery.ParsePolicy(s.Failover.Policy)
	if err != nil {
		return stack.Rendered{}, err
	}
	return stack.Render(stack.Config{
		Workload:            s.Workload,
		Region:              s.Region,
		Policy:              p,
		AlarmPeriods:        s.Failover.DetectionPeriods,
		AlarmDatapoints:     s.Failover.DatapointsToAlarm,
		NotificationEmail:   s.Failover.NotificationEmail,
		InstanceProfileRole: instanceRole(s),
		PrimaryOutpostID:    s.Outposts.PrimaryOutpost,
		SecondaryOutpostID:  s.Outposts.SecondaryOutpost,
	})
}

// userDataProblem names the answers field behind a user data the renderer
// refused: every such refusal comes from the answers, so it is bad input.
func userDataProblem(s *spec.Spec, err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "user data is ") && s.Guest.CloudConfig != "":
		return problem("guest.cloud_config", msg, fmt.Sprintf("shorten guest.cloud_config: EC2 takes at most %d bytes of user data, and the boot and data-volume parts need their share; move scripts into the image", sanboot.MaxUserDataBytes))
	case strings.HasPrefix(msg, "user data is "):
		return problem("storage.data", msg, "fewer data volumes per user data, or set them up from the image")
	case len(s.Storage.Data) > 0 && strings.Contains(msg, "data volumes"):
		return problem("storage.data", msg, "list each data target once, with the same portals and CHAP secret for all its volumes")
	}
	return problem("(answers)", msg, "check the answers against the files in examples/")
}

// shortValue echoes at most a short prefix of a value in a message.
func shortValue(v string) string {
	const max = 64
	if len(v) <= max {
		return v
	}
	return v[:max] + "..."
}

// sharedTargetNote replaces the renderer's generic advice for data volumes on
// the boot volume's target with advice the array can follow: a FlashArray or
// PowerStore serves every namespace under its one subsystem NQN.
func sharedTargetNote(s *spec.Spec) string {
	what := "target"
	if s.Storage.Protocol == "nvme-tcp" {
		what = "subsystem"
	}
	head := fmt.Sprintf("LocalBoot: the data volumes share %s %s with the boot volume, so the workload's OS also sees the boot volume next to its local copy, with the same file system UUIDs and labels.", what, s.Storage.Boot.Target)
	tail := " Mount data volumes by device ID (/dev/disk/by-id), never by UUID or label, and keep LVM and mdadm from scanning the boot volume."
	if oneSubsystem[s.Storage.Vendor] {
		return head + " " + vendorNames[s.Storage.Vendor] + " serves every volume under its one subsystem NQN, so this cannot be avoided there." + tail
	}
	return head + " Serve the data volumes from another " + what + " to avoid it, or:" + tail
}
