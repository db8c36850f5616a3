//go:build sanboot_e2e

// The strongest form of the SAN boot proof (DESIGN.md, testing tiers): boot
// the user data of the recovery launch template as stored in AWS. Real parts
// only, no fakes and no special code path: the real `plan` (wizard.RunPlan)
// renders the plan folder from an answers file; the recovery template JSON it
// wrote is created in moto with the real AWS SDK, exactly as setup will send
// it; the user data is read back from EC2 and booted by iPXE in qemu from a
// real tgtd that admits only the initiator IQN plan derived. The one step
// between EC2 and qemu is the AWS iPXE image's own (see ipxeFromUserData).
// Run with `make e2e` (moto through scripts/with-moto.sh, the lab as root).

package sanlab_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/sanlab"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/sanboot"
	"github.com/outposts-ha/outposts-ha/wizard"
)

// fromAWSLUN is above 9 so that a LUN written in decimal ("12") instead of
// the SAN URI's hexadecimal ("c") would miss the disk.
const fromAWSLUN = 12

// needMoto is the emulator half of this test's gate. Under the lab gate
// (SANBOOT_E2E=1) every missing prerequisite fails, and moto is one here, so
// a missing AWS_ENDPOINT_URL fails even without OUTPOSTS_HA_REQUIRE_TOOLS. The
// endpoint must be on loopback: this test never talks to a real AWS account.
func needMoto(t *testing.T) {
	t.Helper()
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		t.Fatal("SANBOOT_E2E=1 but AWS_ENDPOINT_URL is not set: run through scripts/with-moto.sh (make e2e does)")
	}
	ep := testenv.NeedEmulator(t)
	u, err := url.Parse(ep)
	require.NoError(t, err, "AWS_ENDPOINT_URL")
	host := u.Hostname()
	ip := net.ParseIP(host)
	require.True(t, host == "localhost" || (ip != nil && ip.IsLoopback()),
		"AWS_ENDPOINT_URL %q is not a loopback emulator", ep)
}

// answersFor is a generic-vendor iSCSI answers file for a Linux guest whose
// boot volume is the lab target, reached on the LNI by DHCP (the default: no
// lni section), with the identity pinned so that the initiator IQN is known
// before plan runs. The AWS IDs are well-formed fakes; moto does not check
// that they exist when a launch template names them.
func answersFor(workload string, id uuid.UUID, targetIQN string) string {
	return fmt.Sprintf(`# SAN boot lab: the recovery template's user data must boot the lab target.
workload: %[1]s
region: us-west-2
guest_os: linux
storage:
  vendor: generic
  protocol: iscsi
  boot:
    target: %[3]s
    portals: ["%[4]s:%[5]d"]
    lun: %[6]d
identity:
  uuid: %[2]s
outposts:
  primary_subnet: subnet-0a1b2c3d4e5f60718
  secondary_subnet: subnet-0f1e2d3c4b5a69788
instance:
  type: c6id.2xlarge
  helper_ami: ami-0123456789abcdef0
  security_group: sg-0123456789abcdef0
  instance_profile: oha-%[1]s
failover:
  policy: confirmed
  notification_email: oncall@example.com
guest:
  cloud_config: |
    #cloud-config
    runcmd:
      - [echo, outposts-ha sanlab guest part]
`, workload, id, targetIQN, sanlab.GuestHost, sanlab.TargetPort, fromAWSLUN)
}

func TestSANBootFromAWS(t *testing.T) {
	ipxe := sanlab.NeedLab(t)
	needMoto(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), caseDeadline)
	defer cancel()
	lab := newLab(ctx, t, ipxe)

	// 1. The identity plan will derive, derived the way plan derives it, from
	// the answers parsed by the parser plan uses. The lab target admits it
	// and nothing else.
	workload := "sanlab-" + sanlab.NewToken()[:8] // unique: moto lives for the whole run
	id := uuid.New()
	tgtIQN := targetIQN(lab)
	answers := answersFor(workload, id, tgtIQN)
	parsed, err := spec.Parse([]byte(answers))
	require.NoError(t, err)
	ident, err := wizard.DeriveIdentity(parsed, id)
	require.NoError(t, err)
	iqn, err := sanboot.InitiatorIQN("", workload, id)
	require.NoError(t, err)
	require.Equal(t, iqn, ident.InitiatorIQN, "the default IQN authority")

	target, err := lab.AddTarget(ctx, sanlab.TargetSpec{IQN: tgtIQN, LUN: fromAWSLUN, Initiators: []string{ident.InitiatorIQN}})
	require.NoError(t, err)

	// 2. The real plan.
	dir := t.TempDir()
	answersPath := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(answersPath, []byte(answers), 0o600))
	planDir := filepath.Join(dir, "plan")
	p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answersPath, OutDir: planDir}, nil)
	require.NoError(t, err)
	require.Equal(t, wizard.FromAnswers, p.Source)
	require.Equal(t, ident.InitiatorIQN, p.Identity.InitiatorIQN, "plan must use the pinned identity")

	// 3. The recovery template, as plan wrote it to disk and as setup reads
	// it: unknown fields fail, so nothing plan writes is silently dropped.
	name := naming.LaunchTemplate(workload, naming.RoleRecovery)
	raw, err := os.ReadFile(filepath.Join(planDir, "launch-templates", name+".json"))
	require.NoError(t, err)
	var lt outposts.LaunchTemplate
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&lt))
	require.Equal(t, name, lt.LaunchTemplateName)
	planUD, err := os.ReadFile(filepath.Join(planDir, "user-data", "user-data.txt"))
	require.NoError(t, err)
	primary, err := os.ReadFile(filepath.Join(planDir, "launch-templates", naming.LaunchTemplate(workload, naming.RolePrimary)+".json"))
	require.NoError(t, err)
	assert.Contains(t, string(primary), `"UserData": "`+lt.LaunchTemplateData.UserData+`"`,
		"both servers boot the same user data: one identity, one LUN")

	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	client := ec2.NewFromConfig(cfg)
	created, err := client.CreateLaunchTemplate(ctx, lt.CreateInput())
	require.NoError(t, err)
	ltID := aws.ToString(created.LaunchTemplate.LaunchTemplateId)
	require.NotEmpty(t, ltID)
	t.Cleanup(func() {
		_, err := client.DeleteLaunchTemplate(context.Background(), &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(ltID)})
		assert.NoError(t, err, "delete launch template %s", ltID)
	})

	got, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(ltID), Versions: []string{"$Default"}})
	require.NoError(t, err)
	require.Len(t, got.LaunchTemplateVersions, 1)
	stored := got.LaunchTemplateVersions[0].LaunchTemplateData
	require.NotNil(t, stored)
	ud, err := base64.StdEncoding.DecodeString(aws.ToString(stored.UserData))
	require.NoError(t, err, "user data as stored by EC2")
	require.NotEmpty(t, ud)
	assert.LessOrEqual(t, len(ud), sanboot.MaxUserDataBytes)
	assert.Equal(t, string(planUD), string(ud), "EC2 must hold the user data plan wrote for review")

	// The qemu layout below models the stored interfaces: device index 0 is
	// the VPC interface, 1 the LNI, which iPXE numbers net0 and net1.
	require.Len(t, stored.NetworkInterfaces, 2)
	for i, nic := range stored.NetworkInterfaces {
		require.EqualValues(t, i, aws.ToInt32(nic.DeviceIndex), "interface %d", i)
	}
	require.Equal(t, 1, outposts.LNIDeviceIndex)

	// 4. What the AWS iPXE image runs.
	script, form, err := ipxeFromUserData(ud)
	require.NoError(t, err, "user data:\n%s", ud)
	t.Logf("user data from EC2: %d bytes, %s", len(ud), form)
	require.True(t, bytes.HasPrefix(script, []byte(ipxeMagic)))
	assert.Equal(t, "set initiator-iqn "+ident.InitiatorIQN, scriptLine(t, script, "set initiator-iqn "))
	assert.Equal(t, "sanboot "+sanboot.SANURI(targetPortal, fromAWSLUN, tgtIQN)+" || goto failed", scriptLine(t, script, "sanboot "))
	assert.Contains(t, scriptLine(t, script, "sanboot "), fmt.Sprintf(":%d:c:%s ", sanlab.TargetPort, tgtIQN), "LUN 12 is c in the SAN URI")
	assert.Equal(t, "dhcp --timeout 5000 net1 || goto failed", scriptLine(t, script, "dhcp "), "DHCP on the LNI")
	assert.NotContains(t, string(script), chapLinePrefix, "no CHAP was configured")

	// 5. Boot it as an Outposts server: net0 (VPC) cannot reach the SAN,
	// net1 (LNI) can.
	r, err := lab.Boot(ctx, sanlab.BootSpec{Script: script, Token: target.Token, NICs: outpostsNICs})
	require.NoError(t, err, "console:\n%s", r.Tail(20))
	t.Logf("%v", r)
	require.True(t, r.Passed, "%v; console:\n%s\ntgtd:\n%s", r, r.Tail(20), lab.TargetLog())
	assert.Equal(t, sanlab.ExitMarker, r.ExitCode)
	assert.Contains(t, r.Serial, sanlab.BootSectorBanner)
	assert.Contains(t, r.Serial, sanlab.MarkerLine(target.Token))
	assert.Contains(t, r.Serial, "net1", "iPXE must configure the LNI")
	assert.Empty(t, r.Line(sanboot.FailureMarker))
	assert.False(t, strings.Contains(r.Serial, "ipxe.org/"), "no iPXE error on the way: %s", r.IPXEErrorLine)
}
