package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/recovery"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

type fieldKind int

const (
	kindInput fieldKind = iota
	kindSelect
	kindConfirm
)

// field is one question, described once and shown either as a huh field (the
// full-screen wizard) or as a plain line prompt (accessible mode).
type field struct {
	key   string // the answers-file key, named in messages
	title string
	desc  string
	kind  fieldKind
	opts  []huh.Option[string]
	str   *string
	b     *bool
	// check validates a typed value and stores it (inputs); nil accepts anything.
	check func(string) error
}

// step is one page. fields returns nil when the step does not apply to the
// answers so far; branching happens here, in Go, rather than with hidden
// fields (huh's accessible mode ignores hide functions).
type step struct {
	name   string
	fields func(a *answers) []field
}

func options(vals ...string) []huh.Option[string] {
	out := make([]huh.Option[string], 0, len(vals))
	for _, v := range vals {
		out = append(out, huh.NewOption(v, v))
	}
	return out
}

// input is a text question checked with the answers-file rules for key. pre
// checks run first, on the raw text.
func (a *answers) input(key, title string, val *string, desc string, pre ...func(string) error) field {
	return field{key: key, title: title, desc: desc, kind: kindInput, str: val, check: func(v string) error {
		v = strings.TrimSpace(v)
		for _, p := range pre {
			if err := p(v); err != nil {
				return err
			}
		}
		*val = v
		return a.check(key)
	}}
}

func choose(key, title, desc string, val *string, opts ...huh.Option[string]) field {
	return field{key: key, title: title, desc: desc, kind: kindSelect, str: val, opts: opts}
}

func confirm(key, title, desc string, val *bool) field {
	return field{key: key, title: title, desc: desc, kind: kindConfirm, b: val}
}

const policyDesc = "confirmed (safe default): relaunch only once EC2 confirms the primary has stopped. " +
	"notify: never relaunch; tell the on-call, who runs failover by hand. " +
	"automatic: also relaunch when the primary's Outpost is disconnected. RISK: if only the service link to the Region is down, " +
	"the primary may still be running and writing to the SAN, and two writers corrupt the boot volume. " +
	"automatic needs the primary Outpost ID and a typed acknowledgement."

// steps lists the pages that apply to the answers so far, in order.
func (a *answers) steps() []step {
	var out []step
	for _, st := range allSteps() {
		if st.fields(a) != nil {
			out = append(out, st)
		}
	}
	return out
}

// stepAfter returns the name of the step that follows name, or "" at the end.
func (a *answers) stepAfter(name string) string {
	sts := a.steps()
	for i, st := range sts {
		if st.name == name && i+1 < len(sts) {
			return sts[i+1].name
		}
	}
	return ""
}

func (a *answers) stepFields(name string) []field {
	for _, st := range allSteps() {
		if st.name == name {
			return st.fields(a)
		}
	}
	return nil
}

func allSteps() []step {
	sts := []step{
		{"workload", func(a *answers) []field {
			return []field{
				a.input("workload", "Workload name", &a.s.Workload, "lowercase letters, digits and '-', e.g. web01; it names every resource"),
				a.input("region", "AWS Region", &a.s.Region, "the Region both Outposts servers are anchored to, e.g. us-west-2", spec.ValidateRegion),
				choose("guest_os", "Guest operating system", "", &a.s.GuestOS, options("linux", "windows")...),
			}
		}},
		{"storage", func(a *answers) []field {
			return []field{
				choose("storage.vendor", "Storage array vendor",
					"generic: any iSCSI / NVMe/TCP target, no array API; you give target, portals and LUN.",
					&a.s.Storage.Vendor, options(spec.Vendors...)...),
				choose("storage.protocol", "Protocol",
					"iscsi: iPXE SAN-boots the volume in place. nvme-tcp: LocalBoot hydrates a local copy, so keep state on data volumes.",
					&a.s.Storage.Protocol, options(spec.Protocols...)...),
			}
		}},
		{"array", func(a *answers) []field {
			if a.s.Storage.Vendor == "generic" {
				return nil
			}
			m := &a.mgmt
			fs := []field{a.input("storage.management.endpoint", "Array management URL", &m.Endpoint, "https://host[:port]; TLS is verified")}
			if a.s.Storage.Vendor != "pure" {
				fs = append(fs, a.input("storage.management.username", "Array user", &m.Username, "the array user the tool logs in as"))
			}
			if a.s.Storage.Vendor == "ontap" {
				fs = append(fs, a.input("storage.management.svm", "Storage VM (SVM)", &m.SVM, "the SVM that serves the LUNs"))
			}
			fs = append(fs,
				a.input("storage.management.ca_file", "CA file (optional)", &m.CAFile,
					"PEM file of the CA that signed the array's certificate, when it is not in the system trust store; leave empty otherwise"),
				choose("storage.management.credentials", "Where is the array password or API token?",
					"Never typed here: the answers file only names where the secret lives.", &a.credKind,
					huh.NewOption("Secrets Manager secret", "secret_arn"), huh.NewOption("Environment variable", "env"),
					huh.NewOption("Ask with a masked prompt at run time", "prompt")))
			return fs
		}},
		{"credential reference", func(a *answers) []field {
			switch {
			case a.s.Storage.Vendor == "generic" || a.credKind == "prompt":
				return nil
			case a.credKind == "env":
				return []field{a.input("storage.management.credentials.env", "Environment variable name", &a.credRef, "e.g. ARRAY_PASSWORD; set it before running setup or array check")}
			}
			return []field{a.input("storage.management.credentials.secret_arn", "Secret ARN", &a.credRef, "the full ARN of the Secrets Manager secret")}
		}},
		{"boot volume", func(a *answers) []field {
			return a.volumeFields("storage.boot", &a.s.Storage.Boot, &a.boot, "boot volume")
		}},
		{"data volumes", func(a *answers) []field {
			desc := "volumes besides the boot volume, attached by the guest at boot (0-16)"
			if a.s.Storage.Protocol == "nvme-tcp" {
				desc += "; with nvme-tcp keep the workload's state on them: the boot volume is a hydrated local copy"
			}
			// Not checked against storage.data[i]: those are asked next.
			return []field{{key: "storage.data", title: "How many data volumes?", desc: desc, kind: kindInput, str: &a.dataN, check: func(v string) error {
				v = strings.TrimSpace(v)
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 16 {
					return fmt.Errorf("%s is not a number from 0 to 16", sanboot.QuoteShort(v))
				}
				a.setDataCount(n)
				a.dataN = v
				for _, p := range a.problems() { // e.g. NVMe/TCP data volumes on Windows
					if p.Field == "storage.data" {
						a.dataN = "0"
						return fmt.Errorf("%s: %s", p.Message, p.Fix)
					}
				}
				return nil
			}}}
		}},
	}
	for i := range 16 {
		sts = append(sts, step{fmt.Sprintf("data volume %d", i+1), func(a *answers) []field {
			if i >= a.dataCount() {
				return nil
			}
			return a.volumeFields(fmt.Sprintf("storage.data[%d]", i), &a.dataVols[i], &a.data[i], fmt.Sprintf("data volume %d", i+1))
		}})
	}
	return append(sts,
		step{"outposts", func(a *answers) []field {
			o := &a.s.Outposts
			return []field{
				a.input("outposts.primary_subnet", "Primary server subnet", &o.PrimarySubnet, "the Outpost subnet the workload normally runs in"),
				a.input("outposts.secondary_subnet", "Secondary server subnet", &o.SecondarySubnet, "the second Outposts server's subnet: the recovery target"),
				a.input("outposts.primary_outpost", "Primary Outpost ID (optional)", &o.PrimaryOutpost,
					"op-...: adds a ConnectedStatus alarm, so a lost server is detected even when EC2 status checks cannot report; the automatic policy requires it"),
				a.input("outposts.secondary_outpost", "Secondary Outpost ID (optional)", &o.SecondaryOutpost,
					"op-...: lets the failover function and drill check the secondary's free capacity for the instance type"),
			}
		}},
		step{"instance", func(a *answers) []field {
			in := &a.s.Instance
			return []field{
				a.input("instance.type", "Instance type", &in.Type, "offered by both Outposts servers, e.g. c6id.2xlarge"),
				a.input("instance.helper_ami", "Helper AMI", &in.HelperAMI, "iPXE AMI for iscsi, LocalBoot AMI for nvme-tcp"),
				a.input("instance.security_group", "Security group", &in.SecurityGroup, "sg-..."),
				a.input("instance.key_pair", "Key pair (optional)", &in.KeyPair, "EC2 key pair name; leave empty for none"),
				a.input("instance.instance_profile", "Instance profile", &in.InstanceProfile, "instance profile NAME; its role reads the CHAP secrets at boot"),
				a.input("instance.instance_profile_role", "Role inside the instance profile (optional)", &in.InstanceProfileRole,
					"the IAM role NAME in that profile; leave empty only if it has the profile's name: the IAM policies pass this role"),
			}
		}},
		step{"lni", func(a *answers) []field {
			if a.s.BootMode() != "sanboot" {
				return nil
			}
			return []field{choose("lni", "Addressing of the local network interface (SAN VLAN)",
				"the LNI (device index 1) carries iSCSI to the array; iPXE brings it up before the SAN boot",
				&a.lniMode, huh.NewOption("DHCP", "dhcp"), huh.NewOption("Static", "static"))}
		}},
		step{"lni addressing", func(a *answers) []field {
			if a.s.BootMode() != "sanboot" {
				return nil
			}
			if a.lniMode == "static" {
				return []field{
					a.input("lni.static.address", "LNI address/prefix", &a.lniAddr, "IPv4 address/prefix on the SAN VLAN, e.g. 192.168.50.20/24"),
					a.input("lni.static.gateway", "Gateway (optional)", &a.lniGW, "only when the array is on another subnet"),
				}
			}
			return []field{a.input("lni.dhcp_timeout", "DHCP timeout (optional)", &a.dhcp, "how long iPXE waits for a DHCP lease on the LNI, 1s-10m; empty = 5s")}
		}},
		step{"failover", func(a *answers) []field {
			f := &a.s.Failover
			return []field{
				choose("failover.policy", "Failover policy", policyDesc, &f.Policy,
					options(string(recovery.PolicyConfirmed), string(recovery.PolicyNotify), string(recovery.PolicyAutomatic))...),
				a.input("failover.notification_email", "Notification email", &f.NotificationEmail, "the on-call address; receives failover and approval notices"),
			}
		}},
		step{"automatic policy", func(a *answers) []field {
			if a.s.Failover.Policy != string(recovery.PolicyAutomatic) {
				return nil
			}
			return []field{
				a.input("outposts.primary_outpost", "Primary Outpost ID (required by automatic)", &a.s.Outposts.PrimaryOutpost,
					"op-...: automatic relaunches on the primary Outpost's ConnectedStatus alarm, so it must know the Outpost", required("the automatic policy needs the primary Outpost ID")),
				a.input("failover.automatic_risk_acknowledgement", "Type this sentence to accept the risk", &a.ack,
					"RISK: a primary cut off only from the Region may still be writing to the SAN when automatic relaunches it elsewhere. Type exactly: "+spec.AutomaticAck),
			}
		}},
		step{"advanced", func(a *answers) []field {
			return []field{confirm("advanced", "Change advanced settings?",
				"detection periods, alarm datapoints, IQN naming authority, UEFI boot filename; No keeps the defaults", &a.advanced)}
		}},
		step{"advanced settings", func(a *answers) []field {
			if !a.advanced {
				return nil
			}
			fs := []field{a.input("failover.detection_periods", "Detection periods (optional)", &a.periods,
				"one-minute periods a failure must last before the alarm fires, 2-10; empty = 3. Fewer fail over faster but may fail over on a reboot",
				intOrEmpty),
				a.input("failover.datapoints_to_alarm", "Failing periods that raise the alarm (optional)", &a.datapoints,
					"how many of those periods must fail, 1 to the detection periods; empty = all of them", intOrEmpty),
			}
			if a.s.Storage.Protocol == "iscsi" {
				fs = append(fs, a.input("identity.iqn_authority", "IQN naming authority (optional)", &a.iqnAuth,
					"the iqn.YYYY-MM.reversed.domain prefix of the workload's initiator IQN; empty = "+sanboot.DefaultIQNAuthority+". Changing it later re-maps the array"))
			}
			if a.s.BootMode() == "sanboot" {
				fs = append(fs, a.input("boot.uefi_filename", "UEFI boot filename (optional)", &a.uefi,
					`the EFI loader iPXE starts from the boot volume, e.g. \EFI\redhat\shimx64.efi; empty = the firmware default`))
			}
			return fs
		}},
		step{"review", func(a *answers) []field {
			return []field{confirm("confirm", "Write the answers file and render the plan?", "", &a.confirm)}
		}},
		step{"cancelled", func(a *answers) []field {
			if a.confirm || a.savePath == "" {
				return nil
			}
			return []field{confirm("save", "Cancelled. Save the answers you typed to "+a.savePath+"?",
				"Nothing is rendered. Saved answers can be edited and given to plan later.", &a.keep)}
		}},
	)
}

// volumeFields asks for one volume. For vendors with an API, plan (which
// calls no array) still needs target, portals and LUN; the help says so.
func (a *answers) volumeFields(key string, v *spec.Volume, t *volText, what string) []field {
	nvme := a.s.Storage.Protocol == "nvme-tcp"
	generic := a.s.Storage.Vendor == "generic"
	target, lunTitle := "Target IQN", "LUN"
	if nvme {
		target, lunTitle = "Subsystem NQN", "Namespace ID"
	}
	lunDesc := "the decimal ID the array maps to this initiator"
	if !nvme && key == "storage.boot" {
		lunDesc += "; the iPXE URI carries it in hex"
	}
	offline := ""
	if !generic {
		offline = "; plan renders offline and needs it (`outposts-ha array check` prints it)"
		lunDesc += ". Needed by plan, which calls no array: give the LUN the array maps (or will map); setup reads back the one it really assigns"
	}
	var fs []field
	if !generic {
		volDesc := "the volume name on the array"
		if a.s.Storage.Vendor == "ontap" {
			volDesc = "the LUN path /vol/VOL/LUN"
		}
		fs = append(fs, a.input(key+".volume", "Volume on the array ("+what+")", &v.Volume, volDesc))
	}
	portDesc := "IP[:port], comma separated; several give multipath. IP literals only: no DNS at boot"
	return append(fs,
		a.input(key+".target", target+" ("+what+")", &v.Target, "as the array reports it, lowercase"+offline),
		a.input(key+".portals", "Portals ("+what+")", &t.portals, portDesc+offline),
		a.input(key+".lun", lunTitle+" ("+what+")", &t.lun, lunDesc, validLUN),
		a.input(key+".chap_secret_arn", "CHAP secret ARN (optional)", &v.CHAPSecretARN,
			"Secrets Manager secret with the CHAP user and password; leave empty for no CHAP"),
	)
}

func required(msg string) func(string) error {
	return func(v string) error {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("is empty: %s", msg)
		}
		return nil
	}
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
