package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/recovery"
)

func options(vals ...string) []huh.Option[string] {
	out := make([]huh.Option[string], 0, len(vals))
	for _, v := range vals {
		out = append(out, huh.NewOption(v, v))
	}
	return out
}

// steps are the wizard's pages in order. A step whose form func returns nil
// does not apply to the answers so far; branching happens here, in Go, rather
// than with hidden fields (huh's accessible mode ignores hide functions).
func steps() []step {
	return []step{
		{"workload", func(a *answers) *huh.Form {
			return huh.NewForm(huh.NewGroup(
				a.input("Workload name", "workload", &a.s.Workload, "lowercase letters, digits and '-', e.g. web01"),
				a.input("AWS Region", "region", &a.s.Region, "the Region both Outposts servers are anchored to"),
				huh.NewSelect[string]().Title("Guest operating system").Options(options("linux", "windows")...).Value(&a.s.GuestOS),
			))
		}},
		{"storage", func(a *answers) *huh.Form {
			return huh.NewForm(huh.NewGroup(
				huh.NewSelect[string]().Title("Storage array vendor").Options(options(spec.Vendors...)...).Value(&a.s.Storage.Vendor),
				huh.NewSelect[string]().Title("Protocol").
					Description("iscsi: iPXE SAN-boots the volume in place. nvme-tcp: LocalBoot hydrates a local copy, so keep state on data volumes.").
					Options(options(spec.Protocols...)...).Value(&a.s.Storage.Protocol),
			))
		}},
		{"array", func(a *answers) *huh.Form {
			if a.s.Storage.Vendor == "generic" {
				return nil
			}
			if a.s.Storage.Management == nil {
				a.s.Storage.Management = &spec.Management{}
			}
			m := a.s.Storage.Management
			fields := []huh.Field{
				a.input("Array management URL", "storage.management.endpoint", &m.Endpoint, "https://host[:port]; TLS is verified"),
			}
			if a.s.Storage.Vendor != "pure" {
				fields = append(fields, a.input("Array user", "storage.management.username", &m.Username, ""))
			}
			if a.s.Storage.Vendor == "ontap" {
				fields = append(fields, a.input("Storage VM (SVM)", "storage.management.svm", &m.SVM, ""))
			}
			fields = append(fields, huh.NewSelect[string]().Title("Where is the array password or API token?").
				Description("Never typed here: the answers file only names where the secret lives.").
				Options(huh.NewOption("Secrets Manager secret", "secret_arn"), huh.NewOption("Environment variable", "env"),
					huh.NewOption("Ask with a masked prompt at run time", "prompt")).Value(&a.credKind))
			return huh.NewForm(huh.NewGroup(fields...))
		}},
		{"credential reference", func(a *answers) *huh.Form {
			if a.s.Storage.Vendor == "generic" || a.credKind == "prompt" {
				return nil
			}
			title, field := "Secret ARN", "storage.management.credentials.secret_arn"
			if a.credKind == "env" {
				title, field = "Environment variable name", "storage.management.credentials.env"
			}
			return huh.NewForm(huh.NewGroup(a.input(title, field, &a.credRef, "")))
		}},
		{"boot volume", func(a *answers) *huh.Form {
			b := &a.s.Storage.Boot
			name := "Target IQN"
			if a.s.Storage.Protocol == "nvme-tcp" {
				name = "Subsystem NQN"
			}
			var fields []huh.Field
			if a.s.Storage.Vendor != "generic" {
				fields = append(fields, a.input("Boot volume on the array", "storage.boot.volume", &b.Volume, "ONTAP: the LUN path /vol/VOL/LUN"))
			}
			fields = append(fields,
				a.input(name, "storage.boot.target", &b.Target, "as the array reports it, lowercase"),
				a.input("Portals", "storage.boot.portals", &a.portals, "IP[:port], comma separated; several give multipath"),
				huh.NewInput().Title("LUN / namespace ID").Description("the ID the array maps to this initiator; iPXE gets it in hex").
					Value(&a.lun).Validate(a.validator("storage.boot.lun", func(v string) { a.lun = strings.TrimSpace(v) }, intOrEmpty)),
				a.input("CHAP secret ARN (optional)", "storage.boot.chap_secret_arn", &b.CHAPSecretARN, "leave empty for no CHAP"),
			)
			return huh.NewForm(huh.NewGroup(fields...))
		}},
		{"outposts", func(a *answers) *huh.Form {
			o := &a.s.Outposts
			return huh.NewForm(huh.NewGroup(
				a.input("Primary server subnet", "outposts.primary_subnet", &o.PrimarySubnet, "the Outpost subnet the workload normally runs in"),
				a.input("Secondary server subnet", "outposts.secondary_subnet", &o.SecondarySubnet, "the second Outposts server: the recovery target"),
				a.input("Primary Outpost ID (optional)", "outposts.primary_outpost", &o.PrimaryOutpost, "op-...: adds a ConnectedStatus alarm"),
			))
		}},
		{"instance", func(a *answers) *huh.Form {
			in := &a.s.Instance
			return huh.NewForm(huh.NewGroup(
				a.input("Instance type", "instance.type", &in.Type, "offered by both Outposts servers"),
				a.input("Helper AMI", "instance.helper_ami", &in.HelperAMI, "iPXE AMI for iscsi, LocalBoot AMI for nvme-tcp"),
				a.input("Security group", "instance.security_group", &in.SecurityGroup, ""),
				a.input("Key pair (optional)", "instance.key_pair", &in.KeyPair, ""),
				a.input("Instance profile", "instance.instance_profile", &in.InstanceProfile, "its role may read the CHAP secrets"),
			))
		}},
		{"lni", func(a *answers) *huh.Form {
			if a.s.BootMode() != "sanboot" {
				return nil
			}
			return huh.NewForm(huh.NewGroup(huh.NewSelect[string]().Title("Addressing of the local network interface (SAN VLAN)").
				Options(huh.NewOption("DHCP", "dhcp"), huh.NewOption("Static", "static")).Value(&a.lniMode)))
		}},
		{"lni static", func(a *answers) *huh.Form {
			if a.s.BootMode() != "sanboot" || a.lniMode != "static" {
				return nil
			}
			return huh.NewForm(huh.NewGroup(
				a.input("LNI address/prefix", "lni.static.address", &a.lniAddr, "e.g. 192.168.50.20/24"),
				a.input("Gateway (optional)", "lni.static.gateway", &a.lniGW, ""),
			))
		}},
		{"failover", func(a *answers) *huh.Form {
			f := &a.s.Failover
			return huh.NewForm(huh.NewGroup(
				huh.NewSelect[string]().Title("Failover policy").
					Description("confirmed: relaunch only once EC2 confirms the primary stopped (safe default). notify: never relaunch, tell the on-call. automatic: also relaunch when the primary Outpost is disconnected, which risks two writers if only its service link is down.").
					Options(options(string(recovery.PolicyConfirmed), string(recovery.PolicyNotify), string(recovery.PolicyAutomatic))...).Value(&f.Policy),
				a.input("Notification email", "failover.notification_email", &f.NotificationEmail, "receives failover and approval notices"),
			))
		}},
		{"automatic acknowledgement", func(a *answers) *huh.Form {
			if a.s.Failover.Policy != string(recovery.PolicyAutomatic) {
				return nil
			}
			return huh.NewForm(huh.NewGroup(
				a.input("Type this sentence to accept the risk", "failover.automatic_risk_acknowledgement",
					&a.s.Failover.AutomaticRiskAcknowledgement, spec.AutomaticAck),
			))
		}},
		{"review", func(a *answers) *huh.Form {
			a.apply()
			return huh.NewForm(huh.NewGroup(
				huh.NewNote().Title("Review").Description(review(a)),
				huh.NewConfirm().Title("Write the answers file and render the plan?").Value(&a.confirm),
			))
		}},
	}
}

func review(a *answers) string {
	s := a.s
	return fmt.Sprintf("workload %s in %s (%s guest)\n%s over %s, boot %s on %s\nprimary %s, secondary %s\n%s on %s, policy %s, notify %s\nNothing is created by plan: it renders files only.",
		s.Workload, s.Region, s.GuestOS, s.Storage.Vendor, s.Storage.Protocol, s.Storage.Boot.Target, a.portals,
		s.Outposts.PrimarySubnet, s.Outposts.SecondarySubnet, s.Instance.Type, s.Instance.HelperAMI, s.Failover.Policy, s.Failover.NotificationEmail)
}

func intOrEmpty(v string) error {
	if v = strings.TrimSpace(v); v == "" {
		return nil
	}
	if _, err := strconv.Atoi(v); err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	return nil
}
