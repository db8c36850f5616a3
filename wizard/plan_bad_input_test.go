package wizard_test

// Unit tests, no fakes: plan reads a real answers file from disk and must refuse
// bad input with a message naming the field and the fix, writing nothing.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/wizard"
)

// validONTAP is a complete, valid answers file the cases below break one way each.
const validONTAP = `workload: web01
region: us-west-2
guest_os: linux
storage:
  vendor: ontap
  protocol: iscsi
  management:
    endpoint: https://ontap1.example.net
    username: oha
    credentials:
      secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/ontap-AbCdEf
    svm: svm1
  boot:
    volume: /vol/web01/boot
    target: iqn.1992-08.com.netapp:sn.4f6b:vs.3
    portals: ["192.168.50.10", "192.168.50.11:3260"]
    lun: 1
    chap_secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/chap-QrStUv
  data:
    - volume: /vol/web01/data
      target: iqn.1992-08.com.netapp:sn.4f6b:vs.3
      portals: ["192.168.50.10"]
      lun: 2
identity:
  uuid: 7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10
outposts:
  primary_subnet: subnet-0a1b2c3d4e5f60718
  secondary_subnet: subnet-0f1e2d3c4b5a69788
  primary_outpost: op-0123456789abcdef0
instance:
  type: c6id.2xlarge
  helper_ami: ami-0123456789abcdef0
  security_group: sg-0123456789abcdef0
  key_pair: ops
  instance_profile: oha-web01
lni:
  dhcp_timeout: 5s
failover:
  policy: confirmed
  notification_email: ops@example.com
`

type edit func(string) string

func (e edit) compose(next edit) edit { return func(s string) string { return next(e(s)) } }

func replace(old, new string) edit {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test fixture lacks " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestPlanRejectsBadInput(t *testing.T) {
	long := "iqn.1992-08.com.netapp:" + strings.Repeat("a", 210)
	cases := []struct {
		name  string
		edit  edit
		field string // the field the message must name
		want  string // a fragment of the message or the fix
	}{
		{"empty workload", replace("workload: web01", "workload: ''"), "workload", "is empty"},
		{"uppercase workload", replace("workload: web01", "workload: Web01"), "workload", "lowercase"},
		{"workload too long", replace("workload: web01", "workload: "+strings.Repeat("w", 33)), "workload", "at most 32"},
		{"bad region", replace("region: us-west-2", "region: mars-1"), "region", "not an AWS Region"},
		{"unknown guest os", replace("guest_os: linux", "guest_os: plan9"), "guest_os", "linux or windows"},
		{"unknown vendor", replace("vendor: ontap", "vendor: netapp"), "storage.vendor", "ontap, pure"},
		{"unknown protocol", replace("protocol: iscsi", "protocol: fc"), "storage.protocol", "iscsi or nvme-tcp"},
		{"http endpoint", replace("https://ontap1", "http://ontap1"), "storage.management.endpoint", "use https"},
		{"endpoint with path", replace("https://ontap1.example.net", "https://ontap1.example.net/api"), "storage.management.endpoint", "plain https://host"},
		{"password inline", replace("      secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/ontap-AbCdEf", "      password: hunter2"), "storage.management.credentials.password", "never carries secrets"},
		{"chap password inline", replace("    chap_secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/chap-QrStUv", "    chap_password: s3cret"), "storage.boot.chap_password", "Secrets Manager"},
		{"no credential source", replace("      secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/ontap-AbCdEf", "      prompt: false"), "storage.management.credentials", "names no credential source"},
		{"two credential sources", replace("      secret_arn:", "      env: ARRAY_PASSWORD\n      secret_arn:"), "storage.management.credentials", "more than one"},
		{"bad secret arn", replace("secret:oha/ontap-AbCdEf", "oha/ontap"), "storage.management.credentials.secret_arn", "Secrets Manager ARN"},
		{"bad env name", replace("      secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/ontap-AbCdEf", "      env: 'array password'"), "storage.management.credentials.env", "environment variable"},
		{"missing username", replace("    username: oha\n", ""), "storage.management.username", "is empty"},
		{"missing svm", replace("    svm: svm1\n", ""), "storage.management.svm", "storage VM"},
		{"bad IQN", replace("target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n    portals", "target: iqn.92-08.com.netapp:boot\n    portals"), "storage.boot.target", "iqn.YYYY-MM"},
		{"uppercase IQN", replace("target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n    portals", "target: iqn.1992-08.com.NetApp:sn.4f6b:vs.3\n    portals"), "storage.boot.target", "lowercase"},
		{"IQN over 223 bytes", replace("target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n    portals", "target: "+long+"\n    portals"), "storage.boot.target", "at most 223 bytes"},
		{"NQN on iscsi", replace("target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n    portals", "target: nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10\n    portals"), "storage.boot.target", "set protocol: nvme-tcp"},
		{"newline in a field", replace("key_pair: ops", `key_pair: "ops\nreboot"`), "instance.key_pair", "line break"},
		{"newline in IQN", replace("target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n    portals", "target: \"iqn.1992-08.com.netapp:x\\nsanboot evil\"\n    portals"), "storage.boot.target", "line break"},
		{"control character", replace("key_pair: ops", `key_pair: "ops\u0007"`), "instance.key_pair", "control character"},
		{"LUN out of range", replace("    lun: 1\n", "    lun: 4096\n"), "storage.boot.lun", "0-4095"},
		{"negative LUN", replace("    lun: 1\n", "    lun: -1\n"), "storage.boot.lun", "out of range"},
		{"bad portal", replace(`"192.168.50.10", "192.168.50.11:3260"`, `"192.168.50.300"`), "storage.boot.portals[0]", "IP[:port]"},
		{"hostname portal", replace(`"192.168.50.10", "192.168.50.11:3260"`, `"san.example.net"`), "storage.boot.portals[0]", "IP[:port]"},
		{"portal port 0", replace(`"192.168.50.11:3260"`, `"192.168.50.11:0"`), "storage.boot.portals[1]", `"0" out of range`},
		{"duplicate portal", replace(`"192.168.50.11:3260"`, `"192.168.50.10:3260"`), "storage.boot.portals[1]", "repeats portal 0"},
		{"data volume bad LUN", replace("      lun: 2", "      lun: 99999"), "storage.data[0].lun", "out of range"},
		{"missing volume name", replace("    volume: /vol/web01/boot\n", ""), "storage.boot.volume", "name the array volume"},
		{"same subnet twice", replace("secondary_subnet: subnet-0f1e2d3c4b5a69788", "secondary_subnet: subnet-0a1b2c3d4e5f60718"), "outposts.secondary_subnet", "N+1 needs two servers"},
		{"bad subnet", replace("primary_subnet: subnet-0a1b2c3d4e5f60718", "primary_subnet: sn-123"), "outposts.primary_subnet", "not a subnet ID"},
		{"bad outpost id", replace("primary_outpost: op-0123456789abcdef0", "primary_outpost: outpost-1"), "outposts.primary_outpost", "Outpost ID"},
		{"bad instance type", replace("type: c6id.2xlarge", "type: huge"), "instance.type", "instance type"},
		{"bad ami", replace("helper_ami: ami-0123456789abcdef0", "helper_ami: ipxe"), "instance.helper_ami", "AMI ID"},
		{"bad security group", replace("security_group: sg-0123456789abcdef0", "security_group: default"), "instance.security_group", "security group ID"},
		{"missing instance profile", replace("  instance_profile: oha-web01\n", ""), "instance.instance_profile", "instance profile NAME"},
		{"bad uuid", replace("uuid: 7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10", "uuid: not-a-uuid"), "identity.uuid", "not a UUID"},
		{"nil uuid", replace("uuid: 7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10", "uuid: 00000000-0000-0000-0000-000000000000"), "identity.uuid", "nil UUID"},
		{"bad dhcp timeout", replace("dhcp_timeout: 5s", "dhcp_timeout: soon"), "lni.dhcp_timeout", "duration"},
		{"static gateway outside subnet", replace("lni:\n  dhcp_timeout: 5s", "lni:\n  static:\n    address: 192.168.50.20/24\n    gateway: 10.0.0.1"), "lni.static.gateway", "inside 192.168.50.0/24"},
		{"bad uefi path", replace("lni:", "boot:\n  uefi_filename: 'EFI/redhat/shim.efi'\nlni:"), "boot.uefi_filename", "UEFI path"},
		{"unknown policy", replace("policy: confirmed", "policy: yolo"), "failover.policy", "confirmed, notify or automatic"},
		{"automatic without acknowledgement", replace("policy: confirmed", "policy: automatic"), "failover.automatic_risk_acknowledgement", "cut off only from the Region"},
		{"one detection period", replace("policy: confirmed", "policy: confirmed\n  detection_periods: 1"), "failover.detection_periods", "2-10"},
		{"datapoints above periods", replace("policy: confirmed", "policy: confirmed\n  detection_periods: 3\n  datapoints_to_alarm: 4"), "failover.datapoints_to_alarm", "between 1 and"},
		{"bad email", replace("notification_email: ops@example.com", "notification_email: 'Ops <ops@example.com>'"), "failover.notification_email", "plain email"},
		{"generic with a management API", replace("vendor: ontap", "vendor: generic"), "storage.management", "no management API"},
		{"pure with username", replace("vendor: ontap", "vendor: pure"), "storage.management.username", "not used by Pure"},
		{"email with a quote", replace("notification_email: ops@example.com", "notification_email: \"o'brien@example.com\""), "failover.notification_email", "plain email"},
		{"role name too long", replace("instance_profile: oha-web01", "instance_profile: oha-web01\n  instance_profile_role: "+strings.Repeat("r", 65)), "instance.instance_profile_role", "at most 64"},
		{"profile too long without role", replace("instance_profile: oha-web01", "instance_profile: "+strings.Repeat("p", 70)), "instance.instance_profile_role", "longer than a role name"},
		{"vendor boot without portals offline", replace(`    portals: ["192.168.50.10", "192.168.50.11:3260"]`+"\n", ""), "storage.boot.portals", "render offline"},
		{"vendor data without lun offline", replace("      lun: 2\n", ""), "storage.data[0].lun", "render offline"},
		{"cloud-config password", replace("failover:", "guest:\n  cloud_config: |\n    chpasswd:\n      list: root:Sup3rS3cret\nfailover:"), "guest.cloud_config.chpasswd", "readable by anyone"},
		{"cloud-config user passwd", replace("failover:", "guest:\n  cloud_config: |\n    users:\n      - name: ops\n        plain_text_passwd: Sup3rS3cret\nfailover:"), "guest.cloud_config.users[0].plain_text_passwd", "Secrets Manager"},
		{"cloud-config not a mapping", replace("failover:", "guest:\n  cloud_config: \"just text\"\nfailover:"), "guest.cloud_config", "YAML mapping"},
		{"cloud-config on windows", replace("guest_os: linux", "guest_os: windows").compose(replace("failover:", "guest:\n  cloud_config: |\n    packages: [jq]\nfailover:")), "guest.cloud_config", "not run on Windows"},
	}
	msgs := map[string]string{} // message -> case: each case must be its own failure
	for _, tc := range cases {
		out := tc.edit(validONTAP)
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			answers := filepath.Join(dir, "answers.yaml")
			require.NoError(t, os.WriteFile(answers, []byte(out), 0o600))
			outDir := filepath.Join(dir, "plan")
			_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: outDir}, nil)
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, tc.field+":", "the message names the field")
			assert.Contains(t, msg, tc.want)
			assert.Contains(t, msg, "fix:", "the message says how to fix it")
			_, statErr := os.Stat(outDir)
			assert.True(t, os.IsNotExist(statErr), "plan wrote %s for bad input", outDir)
			assert.NotContains(t, msg, "hunter2", "an inline secret must not be echoed back")
			assert.NotContains(t, msg, "s3cret", "an inline secret must not be echoed back")
			assert.NotContains(t, msg, "Sup3rS3cret", "an inline secret must not be echoed back")
			if prev, dup := msgs[msg]; dup {
				t.Errorf("same message as case %q: %s", prev, msg)
			}
			msgs[msg] = tc.name
		})
	}
	require.GreaterOrEqual(t, len(cases), 30)
}

func TestValidFixtureIsValid(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(answers, []byte(validONTAP), 0o600))
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: filepath.Join(dir, "plan")}, nil)
	require.NoError(t, err)
}
