package wizard

import (
	"fmt"
	"sort"
	"strings"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/recovery/stack"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

var vendorNames = map[string]string{
	"ontap":      "NetApp ONTAP",
	"pure":       "Pure FlashArray",
	"powerstore": "Dell PowerStore",
	"alletra":    "HPE Alletra/Primera/3PAR",
	"generic":    "a generic target",
}

// relaunchStep is the number of the next step that relaunches by hand.
const relaunchStep = 7

// oneSubsystem are the vendors whose array serves every NVMe namespace under
// one subsystem NQN: a separate target for data is not possible there.
var oneSubsystem = map[string]bool{"pure": true, "powerstore": true}

// summary is the short human account of the plan, written as summary.txt and
// printed by the CLI. It speaks the protocol's and the guest's language, says
// what happens when a server is lost, and ends with the next steps that exist
// today. unset lists the stack parameters that still need values.
func summary(p *Plan, ud userData, unset []string) []byte {
	s := p.Spec
	nvme := s.Storage.Protocol == "nvme-tcp"
	win := s.GuestOS == "windows"
	sanBoot := s.BootMode() == "sanboot"
	unit := "LUN"
	if nvme {
		unit = "namespace ID"
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }

	w("outposts-ha plan for workload %s (%s)", s.Workload, s.Region)
	w("")
	w("This plan is a preview: plan created nothing and called no AWS API and no array. `outposts-ha setup`,")
	w("which will apply it, is not released yet; \"Next steps\" at the end applies these files by hand.")
	w("")
	proto, boot, guest := "iSCSI", "SAN boot through iPXE", "Linux"
	if nvme {
		proto = "NVMe/TCP"
	}
	if !sanBoot {
		boot = "LocalBoot (runs from a copy on instance store)"
	}
	if win {
		guest = "Windows"
	}
	w("Storage      %s over %s, %s, guest %s", vendorNames[s.Storage.Vendor], proto, boot, guest)
	if nvme {
		w("Identity     host NQN %s", p.Identity.HostNQN)
	} else {
		w("Identity     initiator IQN %s", p.Identity.InitiatorIQN)
	}
	w("             %s", p.Source)
	if p.Source != FromAnswers {
		w("             Pin it: add `identity: {uuid: %s}` to the answers file.", p.Identity.UUID)
	}
	bv := s.Storage.Boot
	if nvme {
		w("Boot volume  subsystem NQN %s", bv.Target)
	} else {
		w("Boot volume  target IQN %s", bv.Target)
	}
	if bv.Volume != "" {
		w("             array volume %s", bv.Volume)
	}
	if bv.LUN != nil {
		if sanBoot {
			w("             LUN %d (%s in the iPXE SAN URI, which writes LUNs in hex%s)", *bv.LUN, sanboot.LUNField(*bv.LUN), flatSpaceNote(*bv.LUN))
		} else {
			w("             %s %d", unit, *bv.LUN)
		}
	}
	w("             portals %s%s", strings.Join(bv.Portals, ", "), bootPathNote(sanBoot, nvme, len(bv.Portals)))
	for _, u := range ud.URIs {
		w("             iPXE SAN URI %s", u)
	}
	if f := s.Boot.UEFIFilename; f != "" && sanBoot {
		w("             UEFI loader %s (iPXE sanboot --filename; BIOS boots ignore it)", f)
	}
	if s.Storage.Vendor != "generic" {
		w("             The %ss here are as the answers state them: setup will map the volumes, read back", unit)
		w("             the %ss the array really assigns, and render the templates from those.", unit)
	}
	w("Data volumes %d", len(s.Storage.Data))
	for i, v := range s.Storage.Data {
		name := ""
		if v.Volume != "" {
			name = " (" + v.Volume + ")"
		}
		w("  data[%d]    %s %d on %s%s", i, unit, lunOf(v), v.Target, name)
		w("             %s", dataPathNote(s, v))
	}
	switch {
	case s.LNI.Static != nil:
		gw := "no gateway"
		if s.LNI.Static.Gateway != "" {
			gw = "gateway " + s.LNI.Static.Gateway
		}
		w("LNI          device index 1, static %s, %s", s.LNI.Static.Address, gw)
	default:
		t := s.LNI.DHCPTimeout
		if t == "" {
			t = "5s"
		}
		w("LNI          device index 1, DHCP (timeout %s)", t)
	}
	w("Servers      primary subnet %s%s -> %s", s.Outposts.PrimarySubnet, outpostNote(s.Outposts.PrimaryOutpost), naming.LaunchTemplate(s.Workload, naming.RolePrimary))
	w("             recovery subnet %s%s -> %s", s.Outposts.SecondarySubnet, outpostNote(s.Outposts.SecondaryOutpost), naming.LaunchTemplate(s.Workload, naming.RoleRecovery))
	if s.Outposts.SecondaryOutpost == "" {
		w("             Without the recovery server's Outpost ID, the failover function's drill skips its")
		w("             capacity check for %s (set outposts.secondary_outpost).", s.Instance.Type)
	}
	w("Instance     %s, profile %s (role %s)", s.Instance.Type, s.Instance.InstanceProfile, instanceRole(s))
	w("Failover     policy %s, notify %s", s.Failover.Policy, s.Failover.NotificationEmail)
	w("Stack        %s", naming.Stack(s.Workload))
	w("")
	failureSection(w, s)
	w("")
	w("Before you apply:")
	for _, n := range beforeNotes(p, ud) {
		w("  - %s", n)
	}
	w("")
	w("Files:")
	for _, f := range p.Files {
		w("  %s", f.Path)
	}
	w("  summary.txt")
	w("")
	nextSteps(w, p, unset)
	return []byte(b.String())
}

func lunOf(v spec.Volume) int {
	if v.LUN == nil {
		return 0
	}
	return *v.LUN
}

func outpostNote(id string) string {
	if id == "" {
		return " (Outpost ID not given)"
	}
	return " (Outpost " + id + ")"
}

func bootPathNote(sanBoot, nvme bool, n int) string {
	switch {
	case n < 2:
		return " (one path)"
	case sanBoot:
		return " (iPXE multipath: it boots through whichever answers first, and retries the others)"
	case nvme:
		return " (the LocalBoot helper is given every portal)"
	}
	return " (the LocalBoot helper is given every portal)"
}

// dataPathNote says how many paths a data volume gets and, when multipath is
// off, why (issue 10 item 12).
func dataPathNote(s *spec.Spec, v spec.Volume) string {
	n := len(v.Portals)
	portals := fmt.Sprintf("%d portals", n)
	if n == 1 {
		portals = "1 portal"
	}
	mp := "dm-multipath"
	switch {
	case s.Storage.Protocol == "nvme-tcp":
		mp = "native NVMe multipath (nvme_core.multipath=Y)"
	case s.GuestOS == "windows":
		mp = "MPIO"
	}
	switch {
	case s.Storage.Protocol != "nvme-tcp" && s.BootMode() == "sanboot" && v.Target == s.Storage.Boot.Target:
		return portals + "; multipath off: it is on the boot target, so it rides the session iPXE opened for the boot LUN (one path); a second session would give the running root LUN a path nothing manages"
	case n < 2:
		return portals + "; multipath off: one portal gives one path (list more portals to get " + mp + ")"
	}
	return portals + "; multipath on, through " + mp
}

// failureSection says, for the chosen policy, what happens when the primary
// or its whole server is lost, and how long detection and recovery take.
func failureSection(w func(string, ...any), s *spec.Spec) {
	m, n := s.Failover.DatapointsToAlarm, s.Failover.DetectionPeriods
	fence := stack.DefaultFenceTimeoutSeconds / 60
	recovery := naming.LaunchTemplate(s.Workload, naming.RoleRecovery)
	w("When the primary fails (policy %s):", s.Failover.Policy)
	w("  Detection    the status alarm fires about %d-%d minutes after the primary stops passing its instance", m, m+2)
	w("               status check: %d of %d one-minute periods, and a server that stops reporting counts as failing", m, n)
	w("               (the extra minutes are period alignment and metric delivery: an estimate, not measured here).")
	if s.Outposts.PrimaryOutpost != "" {
		w("               The ConnectedStatus alarm on Outpost %s fires after the same %d of %d periods", s.Outposts.PrimaryOutpost, m, n)
		w("               when the server loses its link to the Region.")
	} else {
		w("               Status check only: outposts.primary_outpost is not set, so there is no ConnectedStatus alarm.")
		w("               Consequence: nothing tells a lost server from one cut off only from the Region (service link")
		w("               down, still writing to the SAN), so no policy can launch on connectivity evidence, and the")
		w("               notification cannot say which it is. Set outposts.primary_outpost to add the alarm.")
	}
	manual := func() {
		w("               Recovery waits for you: make sure the primary cannot write (its server is off, or its")
		w("               host is unmapped on the array), then launch %s by hand (Next steps, item %d;", recovery, relaunchStep)
		w("               `outposts-ha failover` is not released yet).")
	}
	switch s.Failover.Policy {
	case "notify":
		w("  Any failure  the function never stops or launches anything: it emails what failed.")
		manual()
		w("               Expected recovery: detection, plus your response, plus the time the OS takes to boot.")
	default: // confirmed, automatic
		w("  Instance     failed, its server still up: the function force-stops the primary, waits up to %d", fence)
		w("               minutes for EC2 to confirm the stop, then launches %s on the other server.", recovery)
		w("               Expected recovery: about %d-%d minutes, plus the time the OS takes to boot from the SAN.", m, m+2+fence)
		if s.Failover.Policy == "automatic" && s.Outposts.PrimaryOutpost != "" {
			w("  Server lost  when Outpost %s was disconnected in all %d periods, the function launches", s.Outposts.PrimaryOutpost, n)
			w("               %s without a confirmed stop. Expected recovery: about %d-%d minutes, plus the boot.", recovery, m, m+3)
			w("               The risk you acknowledged: a server cut off only from the Region (service link down,")
			w("               LNI up) looks the same, and may still be writing to the SAN.")
			return
		}
		w("  Server lost  EC2 cannot confirm a stop on a server that is gone, so the function launches nothing:")
		w("               it emails an approval request and re-checks twice (about 1 and 2 minutes later); then the")
		w("               alarm on its dead-letter queue notifies you.")
		manual()
		w("               Expected recovery: detection, plus your response, plus the boot.")
	}
}

// beforeNotes are what the operator must provide or know before applying.
func beforeNotes(p *Plan, ud userData) []string {
	s := p.Spec
	var out []string
	id := p.Identity.InitiatorIQN
	if s.Storage.Protocol == "nvme-tcp" {
		id = p.Identity.HostNQN
	}
	if s.Storage.Vendor == "generic" {
		out = append(out, fmt.Sprintf("On the array, allow exactly %s on the boot target (and the data targets), at the LUNs above.", id))
	} else {
		out = append(out, fmt.Sprintf("On the array, give host %s the boot volume (and the data volumes) at the %ss above; `outposts-ha array check <answers file>` checks login, volumes, targets and portals, read-only.", id, map[bool]string{true: "namespace ID", false: "LUN"}[s.Storage.Protocol == "nvme-tcp"]))
	}
	out = append(out, ud.Notes...)
	out = append(out, chapNotes(s)...)
	if s.Instance.InstanceProfileRole == "" {
		out = append(out, fmt.Sprintf("instance.instance_profile_role is not set: the IAM policies assume the role inside instance profile %s is also named %s. Set it if not, or recovery cannot pass the role.", s.Instance.InstanceProfile, s.Instance.InstanceProfile))
	}
	out = append(out, fmt.Sprintf("Grant the operator the managed policies %s together (scoped to this workload; one document would be over IAM's 6,144-character limit for a managed policy).", strings.Join(OperatorPolicyFiles(), " and ")))
	return out
}

// chapNotes say what CHAP needs: the secret's keys, the role's grant, and a
// path to Secrets Manager at boot.
func chapNotes(s *spec.Spec) []string {
	secrets := map[string]bool{}
	bootCHAP := s.Storage.Boot.CHAPSecretARN != ""
	if bootCHAP {
		secrets[s.Storage.Boot.CHAPSecretARN] = true
	}
	for _, v := range s.Storage.Data {
		if v.CHAPSecretARN != "" {
			secrets[v.CHAPSecretARN] = true
		}
	}
	if len(secrets) == 0 {
		return nil
	}
	arns := make([]string, 0, len(secrets))
	for a := range secrets {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	nvme := s.Storage.Protocol == "nvme-tcp"
	keys := `{"userid": "...", "password": "..."} (add "mutual_userid" and "mutual_password" for mutual CHAP)`
	what := "CHAP"
	if nvme {
		keys = `{"dh_chap_host_key": "DHHC-1:..."} (add "dh_chap_ctrl_key" for bidirectional authentication)`
		what = "DH-HMAC-CHAP"
	}
	out := []string{
		fmt.Sprintf("%s: each secret (%s) holds the JSON %s; the values never appear in these files.", what, strings.Join(arns, ", "), keys),
		fmt.Sprintf("%s: the instance role %s needs secretsmanager:GetSecretValue on those secrets, and kms:Decrypt on their KMS key when it is a customer managed key.", what, instanceRole(s)),
	}
	if bootCHAP {
		who := "iPXE fetches the boot secret (aws_get_boot_creds_from_secret) over the VPC interface (device index 0) with the instance role, before the SAN is reachable"
		if s.BootMode() != "sanboot" {
			who = "the LocalBoot helper fetches the boot secret with the AWS CLI over the VPC interface (device index 0) with the instance role"
		}
		out = append(out, fmt.Sprintf("%s: at boot %s: subnets %s and %s need a path to Secrets Manager in %s (an interface VPC endpoint com.amazonaws.%s.secretsmanager, or a NAT route), and security group %s must allow HTTPS out to it.",
			what, who, s.Outposts.PrimarySubnet, s.Outposts.SecondarySubnet, s.Region, s.Region, s.Instance.SecurityGroup))
	} else {
		out = append(out, fmt.Sprintf("%s: the data-volume script fetches its secret after boot with the AWS CLI over the VPC interface: the guest needs a path to Secrets Manager in %s (an interface VPC endpoint or a NAT route).", what, s.Region))
	}
	return out
}

// nextSteps are the steps that exist today: plan is a preview until setup is
// released, so they apply the files by hand, from the plan folder.
func nextSteps(w func(string, ...any), p *Plan, unset []string) {
	s := p.Spec
	r := s.Region
	primary := naming.LaunchTemplate(s.Workload, naming.RolePrimary)
	recovery := naming.LaunchTemplate(s.Workload, naming.RoleRecovery)
	st := naming.Stack(s.Workload)
	w("Next steps (by hand until `outposts-ha setup` is released; run them in this folder):")
	w("  1. Enable the local network interface at device index 1 on both subnets:")
	w("       aws ec2 modify-subnet-attribute --region %s --subnet-id %s --enable-lni-at-device-index 1", r, s.Outposts.PrimarySubnet)
	w("       aws ec2 modify-subnet-attribute --region %s --subnet-id %s --enable-lni-at-device-index 1", r, s.Outposts.SecondarySubnet)
	w("  2. Prepare the array and the secrets as \"Before you apply\" says.")
	w("  3. Create both launch templates:")
	w("       aws ec2 create-launch-template --region %s --cli-input-json file://launch-templates/%s.json", r, primary)
	w("       aws ec2 create-launch-template --region %s --cli-input-json file://launch-templates/%s.json", r, recovery)
	w("  4. Launch the primary, and note its instance ID:")
	w("       aws ec2 run-instances --region %s --launch-template LaunchTemplateName=%s", r, primary)
	if s.GuestOS == "windows" && len(s.Storage.Data) > 0 {
		w("     Then run user-data/windows-data-volumes.ps1 on it once, as an administrator.")
	}
	cfn := stack.ServiceRoleName(s.Workload, r)
	w("  5. An administrator creates, once per workload and Region, the permissions boundary of the stack's")
	w("     roles and the CloudFormation service role the stack is deployed through:")
	w("       aws iam create-policy --policy-name %s --policy-document file://iam/stack-boundary-policy.json", stack.BoundaryPolicyName(s.Workload, r))
	w("       aws iam create-role --role-name %s --assume-role-policy-document file://iam/stack-service-role-trust.json", cfn)
	w("       aws iam put-role-policy --role-name %s --policy-name %s --policy-document file://iam/stack-service-role-policy.json", cfn, stack.ServiceRolePolicyName)
	w("  6. Deploy the recovery stack. stack/%s.parameters.json still needs values for %s", st, strings.Join(unset, ", "))
	w("     (edit the file: replace %q):", stack.Placeholder)
	for _, u := range unset {
		switch u {
		case "PrimaryInstanceId":
			w("       PrimaryInstanceId: the instance ID from step 4;")
		case "BundleBucket":
			w("       BundleBucket: outposts-ha-<account ID>-%s, the bucket the operator policy lets you use", r)
			w("         (create it once: aws s3 mb s3://outposts-ha-<account ID>-%s --region %s);", r, r)
		case "BundleKey":
			w("       BundleKey: lambda/<sha256 of the bundle>.zip, the only form the template accepts. Upload the")
			w("         failover function bundle (assets/lambda/bootstrap.zip in the repository, written by `make build`)")
			w("         under that key: aws s3 cp bootstrap.zip s3://<BundleBucket>/lambda/$(sha256sum <bootstrap.zip | cut -d' ' -f1).zip")
		default:
			w("       %s: see the stack template's Parameters;", u)
		}
	}
	w("     then:")
	w("       aws cloudformation create-stack --region %s --stack-name %s \\", r, st)
	w("         --template-body file://stack/%s.yaml --parameters file://stack/%s.parameters.json \\", st, st)
	w("         --capabilities CAPABILITY_NAMED_IAM \\")
	w("         --role-arn \"$(aws iam get-role --role-name %s --query Role.Arn --output text)\"", cfn)
	w("     and confirm the subscription email sent to %s.", s.Failover.NotificationEmail)
	w("  %d. When a failure waits for you (see above), once the primary cannot write:", relaunchStep)
	w("       aws ec2 run-instances --region %s --launch-template LaunchTemplateName=%s", r, recovery)
}

// flatSpaceNote explains a LUN field above 255, which is not the LUN's own hex.
func flatSpaceNote(lun int) string {
	if lun < 256 {
		return ""
	}
	return ", with the SAM flat-space bits 0x4000 above LUN 255"
}
