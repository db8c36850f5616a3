package wizard_test

// Unit tests, no fakes: the summary plan writes for each shipped example (and
// for variants of the ONTAP fixture) says what comes next, in the protocol's
// and the guest's language (issue 10 items 9-13). The goldens hold the whole
// text; these tests pin the facts each item asks for, so a golden regenerated
// carelessly cannot drop them.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/wizard"
)

func summaryOf(t *testing.T, answers string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(path, []byte(answers), 0o600))
	p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: path, OutDir: filepath.Join(dir, "plan")}, nil)
	require.NoError(t, err)
	return string(p.File("summary.txt"))
}

func exampleSummary(t *testing.T, name string) string {
	t.Helper()
	for _, ex := range examples(t) {
		if strings.TrimSuffix(filepath.Base(ex), ".yaml") == name {
			b, err := os.ReadFile(ex)
			require.NoError(t, err)
			return summaryOf(t, string(b))
		}
	}
	t.Fatalf("no example %s", name)
	return ""
}

// Item 9: every summary is a preview that ends with the next steps that exist today.
func TestSummaryEndsWithNextStepsThatExistToday(t *testing.T) {
	for _, ex := range examples(t) {
		b, err := os.ReadFile(ex)
		require.NoError(t, err)
		s := summaryOf(t, string(b))
		name := filepath.Base(ex)
		assert.Contains(t, s, "This plan is a preview", name)
		assert.Contains(t, s, "`outposts-ha setup`,\nwhich will apply it, is not released yet", name)
		next := strings.Index(s, "\nNext steps (")
		require.Positive(t, next, name)
		tail := s[next:]
		assert.False(t, strings.Contains(tail, "\nFiles:"), "%s: the next steps come last", name)
		assert.Contains(t, tail, "--enable-lni-at-device-index 1", name)
		assert.Equal(t, 2, strings.Count(tail, "aws ec2 modify-subnet-attribute"), name)
		assert.Contains(t, tail, "aws ec2 create-launch-template --region ", name)
		assert.Contains(t, tail, "--cli-input-json file://launch-templates/lt-", name)
		assert.Contains(t, tail, "still needs values for BundleBucket, BundleKey, PrimaryInstanceId", name)
		assert.Contains(t, tail, "PrimaryInstanceId: the instance ID from step 4", name)
		assert.Contains(t, tail, "aws cloudformation create-stack", name)
		assert.Contains(t, tail, "--role-arn", "%s: the stack is deployed through its service role", name)
		assert.Contains(t, tail, "aws iam create-policy --policy-name oha-", name)
		assert.Contains(t, tail, "lambda/<sha256 of the bundle>.zip", "%s: BundleKey in the form the template accepts", name)
		assert.NotContains(t, s, "setup fills them in", "%s: no promise of a command that does not exist", name)
		for _, f := range []string{"--cli-input-json file://", "--template-body file://", "--parameters file://"} {
			for _, line := range strings.Split(tail, "\n") {
				if i := strings.Index(line, f); i >= 0 {
					path := strings.Fields(line[i+len(f):])[0]
					assert.True(t, strings.Contains(s, "\n  "+path+"\n"), "%s: step names %s, which plan does not write", name, path)
				}
			}
		}
	}
}

// Item 10: CHAP says what the secret holds, what the role needs, and that the
// boot needs a path to Secrets Manager.
func TestSummaryExplainsCHAP(t *testing.T) {
	s := exampleSummary(t, "ontap-iscsi-chap")
	assert.Contains(t, s, `{"userid": "...", "password": "..."}`)
	assert.Contains(t, s, `"mutual_userid" and "mutual_password"`)
	assert.Contains(t, s, "the instance role oha-erp01-role needs secretsmanager:GetSecretValue")
	assert.Contains(t, s, "kms:Decrypt")
	assert.Contains(t, s, "com.amazonaws.us-east-1.secretsmanager")
	assert.Contains(t, s, "before the SAN is reachable")
	assert.Contains(t, s, `UEFI loader \EFI\redhat\shimx64.efi`)
	assert.NotContains(t, exampleSummary(t, "generic-iscsi-multipath"), "GetSecretValue", "no CHAP, no CHAP advice")

	// NVMe/TCP speaks of DH-HMAC-CHAP and its keys; LocalBoot fetches the secret itself.
	b, err := os.ReadFile(filepath.Join(filepath.Dir(examples(t)[0]), "pure-nvme-tcp.yaml"))
	require.NoError(t, err)
	nvme := summaryOf(t, strings.Replace(string(b), "    lun: 1\n", "    lun: 1\n    chap_secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/app01-dhchap-AbCdEf\n", 1))
	assert.Contains(t, nvme, `DH-HMAC-CHAP: each secret (arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/app01-dhchap-AbCdEf) holds the JSON {"dh_chap_host_key": "DHHC-1:..."}`)
	assert.Contains(t, nvme, "the LocalBoot helper fetches the boot secret")
	assert.NotContains(t, nvme, "userid")
	assert.NotContains(t, nvme, "iPXE")
}

// Item 10: each policy says what a lost server means, with times computed
// from the detection periods.
func TestSummaryTellsWhatALostServerMeans(t *testing.T) {
	confirmed := summaryOf(t, replace("policy: confirmed", "policy: confirmed\n  detection_periods: 5\n  datapoints_to_alarm: 4")(validONTAP))
	assert.Contains(t, confirmed, "about 4-6 minutes")
	assert.Contains(t, confirmed, "4 of 5 one-minute periods")
	assert.Contains(t, confirmed, "Server lost  EC2 cannot confirm a stop")
	assert.Contains(t, confirmed, "Expected recovery: about 4-9 minutes")
	assert.Contains(t, confirmed, "Recovery waits for you")

	notify := summaryOf(t, replace("policy: confirmed", "policy: notify")(validONTAP))
	assert.Contains(t, notify, "never stops or launches anything")
	assert.Contains(t, notify, "about 3-5 minutes")
	assert.NotContains(t, notify, "force-stops")

	automatic := summaryOf(t, replace("policy: confirmed", "policy: automatic\n  automatic_risk_acknowledgement: \"I accept that a primary cut off only from the Region may still be writing to the SAN\"")(validONTAP))
	assert.Contains(t, automatic, "was disconnected in all 3 periods")
	assert.Contains(t, automatic, "without a confirmed stop")
	assert.Contains(t, automatic, "may still be writing to the SAN")
}

// Item 13: status-check-only detection is stated with its consequence.
func TestSummaryStatesStatusCheckOnlyDetection(t *testing.T) {
	s := exampleSummary(t, "generic-iscsi-multipath")
	assert.Contains(t, s, "Status check only: outposts.primary_outpost is not set, so there is no ConnectedStatus alarm")
	assert.Contains(t, s, "Consequence:")
	with := summaryOf(t, validONTAP)
	assert.NotContains(t, with, "Status check only")
	assert.Contains(t, with, "The ConnectedStatus alarm on Outpost op-0123456789abcdef0")
}

// Item 11: NVMe/TCP speaks of namespaces and NVMe portals, never of iPXE;
// Windows gets Windows advice; Windows with NVMe/TCP is refused.
func TestSummarySpeaksTheProtocolAndTheOS(t *testing.T) {
	nvme := exampleSummary(t, "pure-nvme-tcp")
	assert.NotContains(t, nvme, "iPXE")
	assert.NotContains(t, nvme, "LUN")
	assert.Contains(t, nvme, "namespace ID 1")
	assert.Contains(t, nvme, "subsystem NQN nqn.2010-06.com.purestorage:flasharray.3c5a7e9b1d2f4a68")
	assert.Contains(t, nvme, "portals 192.168.60.21:4420, 192.168.60.22:4420")

	win := exampleSummary(t, "windows-iscsi-data-volumes")
	assert.NotContains(t, win, "initramfs")
	assert.NotContains(t, win, "sanbootable")
	assert.Contains(t, win, "Windows SAN boot")
	assert.Contains(t, win, "windows-data-volumes.ps1")

	linux := exampleSummary(t, "generic-iscsi-multipath")
	assert.Contains(t, linux, "sanbootable")
	assert.Contains(t, linux, "iPXE SAN URI iscsi:192.168.50.10::3260:1:")

	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(examples(t)[0]), "pure-nvme-tcp.yaml"))
	require.NoError(t, err)
	noData := strings.Split(string(b), "  data:\n")[0] + strings.SplitN(string(b), "      lun: 2\n", 2)[1]
	path := filepath.Join(dir, "w.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(noData, "guest_os: linux", "guest_os: windows", 1)), 0o600))
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: path, OutDir: filepath.Join(dir, "plan")}, nil)
	require.Error(t, err)
	assert.True(t, wizard.IsInputError(err))
	assert.Contains(t, err.Error(), "Windows")
	assert.NoDirExists(t, filepath.Join(dir, "plan"))
}

// Item 12: no advice the shipped examples cannot follow; multipath off says why.
func TestSummaryGivesAdviceTheArrayCanFollow(t *testing.T) {
	pure := exampleSummary(t, "pure-nvme-tcp")
	assert.NotContains(t, pure, "prefer a separate target")
	assert.NotContains(t, pure, "Serve the data volumes from another")
	assert.Contains(t, pure, "one subsystem NQN, so this cannot be avoided")
	assert.Contains(t, pure, "/dev/disk/by-id")

	win := exampleSummary(t, "windows-iscsi-data-volumes")
	assert.Contains(t, win, "multipath off: it is on the boot target")
	one := summaryOf(t, validONTAP) // its data volume lists one portal, on the boot target
	assert.Contains(t, one, "multipath off:")
	other := summaryOf(t, replace("      target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n      portals: [\"192.168.50.10\"]", "      target: iqn.1992-08.com.netapp:sn.4f6b:vs.9\n      portals: [\"192.168.50.10\"]")(validONTAP))
	assert.Contains(t, other, "1 portal; multipath off: one portal gives one path")
}

// Issue 11: the summary shows the boot LUN's number and the field the SAN URI
// carries, which for a LUN above 255 is not its plain hex (internal/sanlab
// proves "101" would boot LUN 1).
func TestSummaryShowsTheLUNField(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "examples", "generic-iscsi-multipath.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(b), "    lun: 1\n")
	sum := summaryOf(t, strings.Replace(string(b), "    lun: 1\n", "    lun: 257\n", 1))
	assert.Contains(t, sum, "LUN 257 (4101 in the iPXE SAN URI, which writes LUNs in hex, with the SAM flat-space bits 0x4000 above LUN 255)")
	assert.Contains(t, sum, ":4101:")
	assert.NotContains(t, sum, ":101:")
	sum = summaryOf(t, strings.Replace(string(b), "    lun: 1\n", "    lun: 26\n", 1))
	assert.Contains(t, sum, "LUN 26 (1a in the iPXE SAN URI, which writes LUNs in hex)")
}

// Issue 11: a target name per portal reaches the iPXE URIs (arrays that give
// each node or port its own IQN).
func TestPortalTargetsReachTheScript(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "examples", "generic-iscsi-multipath.yaml"))
	require.NoError(t, err)
	const a, bb = "iqn.2003-01.org.linux-iscsi.san1:node-a", "iqn.2003-01.org.linux-iscsi.san1:node-b"
	doc := strings.Replace(string(b), "    lun: 1\n", "    lun: 1\n    portal_targets: ["+a+", "+bb+"]\n", 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: path, OutDir: filepath.Join(dir, "plan")}, nil)
	require.NoError(t, err)
	script := string(p.File("user-data/boot.ipxe"))
	assert.Contains(t, script, ":1:"+a+" ")
	assert.Contains(t, script, ":1:"+bb+" ")
}
