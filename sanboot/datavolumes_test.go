// Tests of the data-volume renderers: golden files for every rendered script,
// a table of bad inputs per renderer, the structure that keeps secrets out,
// and benchmarks. The scripts' behaviour runs in sandboxes (the sandbox type
// below): real bash and python3, stub SAN tools that log their argv (there is
// no iSCSI/NVMe initiator here to drive), a fake sysfs, and a pseudo-terminal
// standing in for /dev/nvme-fabrics.
package sanboot

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test ./sanboot -update and review the diff")
	assert.Equal(t, string(want), string(got), "rendered output differs from %s (go test ./sanboot -update, then review)", path)
}

// Fixtures shared by the tests of this package.
const (
	fxInitiator = "iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	fxHostNQN   = "nqn.2014-08.org.nvmexpress:uuid:7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10"
	fxBootIQN   = "iqn.1992-08.com.netapp:sn.4f6b:vs.3"
	fxDataIQN   = "iqn.1992-08.com.netapp:sn.4f6b:vs.7"
	fxPureIQN   = "iqn.2010-06.com.purestorage:flasharray.5a1b2c3d4e5f"
	fxSubNQN    = "nqn.2010-06.com.purestorage:flasharray.5a1b2c3d4e5f"
	fxBootNQN   = "nqn.1992-08.com.netapp:sn.4f6b:subsystem.boot01"
	fxCHAPARN   = "arn:aws:secretsmanager:us-west-2:123456789012:secret:outposts-ha/web01/chap-AbCdEf"
	fxDHCHAPARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:outposts-ha/web01/dhchap-GhIjKl"
)

func pt(s string, port uint16) Portal { return Portal{Addr: netip.MustParseAddr(s), Port: port} }

func fxISCSI() ISCSIVolumes {
	return ISCSIVolumes{
		InitiatorIQN: fxInitiator,
		Targets: []ISCSITarget{
			{IQN: fxDataIQN, Portals: []Portal{pt("192.168.50.10", 3260), pt("192.168.50.11", 3260)}, LUNs: []int{1, 2}, CHAPSecretARN: fxCHAPARN},
			{IQN: fxPureIQN, Portals: []Portal{pt("fd00:50::21", 3260)}, LUNs: []int{10}},
		},
	}
}

func fxNVMe() NVMeVolumes {
	return NVMeVolumes{
		HostNQN: fxHostNQN,
		Subsystems: []NVMeSubsystem{
			{NQN: fxSubNQN, Portals: []Portal{pt("192.168.60.10", 4420), pt("192.168.60.11", 4420)}, Namespaces: []int{1, 2}, DHCHAPSecretARN: fxDHCHAPARN},
		},
	}
}

// renderCase is one named rendering, shared by the golden, shellcheck and
// structure tests.
type renderCase struct {
	name   string // golden file name
	render func() ([]byte, error)
}

func dataVolumeCases() []renderCase {
	return []renderCase{
		{"linux-iscsi-chap-multipath.sh", func() ([]byte, error) { return RenderLinuxISCSI(fxISCSI()) }},
		{"linux-iscsi-plain.sh", func() ([]byte, error) {
			v := fxISCSI()
			v.Targets = v.Targets[1:]
			return RenderLinuxISCSI(v)
		}},
		{"linux-iscsi-boot-target-odd-port.sh", func() ([]byte, error) {
			v := fxISCSI()
			v.BootTargetIQN = fxDataIQN
			v.Targets[1].Portals = []Portal{pt("192.168.50.30", 3261)}
			return RenderLinuxISCSI(v)
		}},
		{"linux-nvme-dhchap-multipath.sh", func() ([]byte, error) { return RenderLinuxNVMe(fxNVMe()) }},
		{"linux-nvme-plain.sh", func() ([]byte, error) {
			v := fxNVMe()
			v.Subsystems[0].DHCHAPSecretARN = ""
			v.Subsystems[0].Portals = v.Subsystems[0].Portals[:1]
			return RenderLinuxNVMe(v)
		}},
	}
}

func windowsCases() []renderCase {
	return []renderCase{
		{"windows-iscsi-chap-mpio.ps1", func() ([]byte, error) { return RenderWindowsISCSI(fxISCSI()) }},
		{"windows-iscsi-boot-target.ps1", func() ([]byte, error) {
			v := fxISCSI()
			v.BootTargetIQN = fxDataIQN
			v.Targets = v.Targets[:1]
			return RenderWindowsISCSI(v)
		}},
	}
}

func TestDataVolumeGolden(t *testing.T) {
	for _, c := range append(dataVolumeCases(), windowsCases()...) {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.render()
			require.NoError(t, err)
			golden(t, c.name, got)
		})
	}
}

func TestRenderLinuxISCSIBadInput(t *testing.T) {
	cases := map[string]struct {
		edit func(*ISCSIVolumes)
		want string
	}{
		"no initiator":           {func(v *ISCSIVolumes) { v.InitiatorIQN = "" }, "initiator IQN is empty"},
		"initiator with newline": {func(v *ISCSIVolumes) { v.InitiatorIQN = fxInitiator + "\nreboot" }, "initiator IQN"},
		"initiator with quote":   {func(v *ISCSIVolumes) { v.InitiatorIQN = fxInitiator + "'$(reboot)'" }, "initiator IQN"},
		"bad boot target":        {func(v *ISCSIVolumes) { v.BootTargetIQN = "iqn bad" }, "boot target IQN"},
		"no targets":             {func(v *ISCSIVolumes) { v.Targets = nil }, "no iSCSI data targets"},
		"too many targets": {func(v *ISCSIVolumes) {
			for len(v.Targets) <= MaxTargets {
				t := v.Targets[0]
				t.IQN = t.IQN + "x"
				v.Targets = append(v.Targets, t)
			}
		}, "at most 8"},
		"target with semicolon": {func(v *ISCSIVolumes) { v.Targets[0].IQN = fxDataIQN + ";reboot" }, "data target 1 IQN"},
		"uppercase target":      {func(v *ISCSIVolumes) { v.Targets[0].IQN = strings.ToUpper(fxDataIQN) }, "uppercase"},
		"duplicate target":      {func(v *ISCSIVolumes) { v.Targets[1].IQN = fxDataIQN }, "listed twice"},
		"target is initiator":   {func(v *ISCSIVolumes) { v.Targets[0].IQN = fxInitiator }, "is the initiator IQN"},
		"no portals":            {func(v *ISCSIVolumes) { v.Targets[0].Portals = nil }, "has no portals"},
		"zero portal":           {func(v *ISCSIVolumes) { v.Targets[0].Portals = []Portal{{}} }, "incomplete"},
		"port zero":             {func(v *ISCSIVolumes) { v.Targets[0].Portals[0].Port = 0 }, "incomplete"},
		"zoned portal": {func(v *ISCSIVolumes) {
			v.Targets[0].Portals[0] = Portal{Addr: netip.MustParseAddr("fe80::1%eth1"), Port: 3260}
		}, "zone"},
		"mapped v4 portal": {func(v *ISCSIVolumes) { v.Targets[0].Portals[0] = pt("::ffff:192.168.50.10", 3260) }, "write it as 192.168.50.10"},
		"unspecified":      {func(v *ISCSIVolumes) { v.Targets[0].Portals[0] = pt("0.0.0.0", 3260) }, "not a unicast"},
		"multicast":        {func(v *ISCSIVolumes) { v.Targets[0].Portals[0] = pt("239.1.1.1", 3260) }, "not a unicast"},
		"duplicate portal": {func(v *ISCSIVolumes) { v.Targets[0].Portals[1] = v.Targets[0].Portals[0] }, "listed twice"},
		"too many portals": {func(v *ISCSIVolumes) {
			for i := 0; i <= MaxPortals; i++ {
				v.Targets[0].Portals = append(v.Targets[0].Portals, pt("10.0.0.1", uint16(4000+i)))
			}
		}, "at most 8"},
		"no LUNs":        {func(v *ISCSIVolumes) { v.Targets[0].LUNs = nil }, "has no LUNs"},
		"negative LUN":   {func(v *ISCSIVolumes) { v.Targets[0].LUNs = []int{-1} }, "out of range 0-16383"},
		"huge LUN":       {func(v *ISCSIVolumes) { v.Targets[0].LUNs = []int{16384} }, "out of range 0-16383"},
		"duplicate LUN":  {func(v *ISCSIVolumes) { v.Targets[0].LUNs = []int{3, 3} }, "LUN 3 is listed twice"},
		"secret not ARN": {func(v *ISCSIVolumes) { v.Targets[0].CHAPSecretARN = "web01-chap" }, "CHAP secret"},
		"secret with space": {func(v *ISCSIVolumes) {
			v.Targets[0].CHAPSecretARN = fxCHAPARN + " ; reboot"
		}, "CHAP secret"},
		"too many LUNs": {func(v *ISCSIVolumes) {
			for i := 100; i < 100+MaxVolumesPerHost; i++ {
				v.Targets[0].LUNs = append(v.Targets[0].LUNs, i)
			}
		}, "data LUNs: at most 64"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			v := fxISCSI()
			c.edit(&v)
			for _, render := range []func(ISCSIVolumes) ([]byte, error){RenderLinuxISCSI, RenderWindowsISCSI} {
				out, err := render(v)
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.want)
				assert.Nil(t, out)
			}
		})
	}
}

func TestRenderLinuxNVMeBadInput(t *testing.T) {
	cases := map[string]struct {
		edit func(*NVMeVolumes)
		want string
	}{
		"no host NQN":          {func(v *NVMeVolumes) { v.HostNQN = "" }, "host NQN is empty"},
		"host NQN with dollar": {func(v *NVMeVolumes) { v.HostNQN = fxHostNQN + "$(reboot)" }, "host NQN"},
		"uuid NQN uppercase":   {func(v *NVMeVolumes) { v.HostNQN = strings.ToUpper(fxHostNQN) }, "uppercase"},
		"no subsystems":        {func(v *NVMeVolumes) { v.Subsystems = nil }, "no NVMe subsystems"},
		"subsystem newline":    {func(v *NVMeVolumes) { v.Subsystems[0].NQN = fxSubNQN + "\nreboot" }, "subsystem 1 NQN"},
		"subsystem is host":    {func(v *NVMeVolumes) { v.Subsystems[0].NQN = fxHostNQN }, "is the host NQN"},
		"duplicate subsystem": {func(v *NVMeVolumes) {
			v.Subsystems = append(v.Subsystems, v.Subsystems[0])
		}, "listed twice"},
		"no portals":        {func(v *NVMeVolumes) { v.Subsystems[0].Portals = nil }, "has no portals"},
		"namespace zero":    {func(v *NVMeVolumes) { v.Subsystems[0].Namespaces = []int{0} }, "out of range 1-4294967294"},
		"broadcast NSID":    {func(v *NVMeVolumes) { v.Subsystems[0].Namespaces = []int{0xFFFFFFFF} }, "out of range"},
		"no namespaces":     {func(v *NVMeVolumes) { v.Subsystems[0].Namespaces = nil }, "has no namespace IDs"},
		"duplicate NSID":    {func(v *NVMeVolumes) { v.Subsystems[0].Namespaces = []int{2, 2} }, "listed twice"},
		"bad secret":        {func(v *NVMeVolumes) { v.Subsystems[0].DHCHAPSecretARN = "arn:aws:s3:::bucket" }, "DH-HMAC-CHAP secret"},
		"duplicate portals": {func(v *NVMeVolumes) { v.Subsystems[0].Portals[1] = v.Subsystems[0].Portals[0] }, "listed twice"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			v := fxNVMe()
			c.edit(&v)
			out, err := RenderLinuxNVMe(v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Nil(t, out)
		})
	}
}

// TestSecretsNeverInScripts: the renderers take secret ARNs, never secret
// values, so a value cannot reach the output. This pins the structure that
// keeps the values off every command line at run time.
func TestSecretsNeverInScripts(t *testing.T) {
	linux, err := RenderLinuxISCSI(fxISCSI())
	require.NoError(t, err)
	s := string(linux)
	// The secret flows in exactly one pipe: AWS CLI stdout into the parser's stdin.
	assert.Equal(t, 1, strings.Count(s, `secret "$1" | python3 -c "$CHAP_PY" "$CONF"`))
	assert.Contains(t, s, "--query SecretString --output text")
	// iscsiadm never gets a credential value: only authmethod and startup are set with -v.
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "iscsiadm") && strings.Contains(line, " -v ") {
			assert.Regexp(t, `-n (node\.session\.auth\.authmethod -v None|node\.startup -v automatic)$`, line)
		}
	}
	assert.NotContains(t, s, "eval")
	assert.NotContains(t, s, "set -x")
	// The parser writes the credentials into iscsid.conf with mode 0600 and the
	// original comes back on every exit.
	assert.Contains(t, s, "0o600")
	assert.Contains(t, s, "trap restore_conf EXIT")

	nvme, err := RenderLinuxNVMe(fxNVMe())
	require.NoError(t, err)
	n := string(nvme)
	assert.NotContains(t, n, "--dhchap-secret")
	assert.NotContains(t, n, "--dhchap-ctrl-secret")
	assert.NotContains(t, n, "-S ")
	assert.Equal(t, 1, strings.Count(n, `secret "$arn" | python3 -c "$FABRICS_PY"`))

	ps, err := RenderWindowsISCSI(fxISCSI())
	require.NoError(t, err)
	w := string(ps)
	assert.Contains(t, w, "Get-SECSecretValue -SecretId $t.SecretArn")
	for _, child := range []string{"iscsicli", "Start-Process", "cmd.exe", "Invoke-Expression", "& "} {
		assert.NotContains(t, w, child, "the CHAP secret must stay inside the PowerShell process")
	}
}

// TestOneIdentity: the scripts write the workload's identity and no other, and
// only when the guest has a different one (trap: a new IQN per data-volume pass).
func TestOneIdentity(t *testing.T) {
	out, err := RenderLinuxISCSI(fxISCSI())
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, "readonly INITIATOR="+shQuote(fxInitiator))
	assert.Contains(t, s, `if [[ $cur == "$INITIATOR" ]]; then return 0; fi`)
	assert.NotContains(t, s, "iscsi-iname", "never generate a new IQN")
	assert.Equal(t, 1, strings.Count(s, "InitiatorName=%s"))

	out, err = RenderLinuxNVMe(fxNVMe())
	require.NoError(t, err)
	assert.Contains(t, string(out), "readonly HOSTNQN="+shQuote(fxHostNQN))
	assert.Contains(t, string(out), "readonly HOSTID='7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10'")
	assert.NotContains(t, string(out), "gen-hostnqn")
}

func TestHostID(t *testing.T) {
	assert.Equal(t, "7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10", hostID(fxHostNQN))
	a, b := hostID("nqn.2024-01.com.example:host-a"), hostID("nqn.2024-01.com.example:host-b")
	assert.NotEqual(t, a, b)
	assert.Equal(t, a, hostID("nqn.2024-01.com.example:host-a"), "derived host IDs are stable")
}

func TestNoFullUpdateNoUnconditionalSemanage(t *testing.T) {
	for _, c := range dataVolumeCases() {
		out, err := c.render()
		require.NoError(t, err)
		s := string(out)
		for _, bad := range []string{"dnf update", "yum update", "dnf upgrade", "apt-get upgrade", "|| (", "||("} {
			assert.NotContains(t, s, bad, c.name)
		}
		hasOdd := c.name == "linux-iscsi-boot-target-odd-port.sh"
		assert.Equal(t, hasOdd, strings.Contains(s, "\nselinux_port "), "%s: semanage only for non-default ports", c.name)
	}
}

func TestQuoting(t *testing.T) {
	assert.Equal(t, `'it'\''s'`, shQuote("it's"))
	assert.Equal(t, `''`, shQuote(""))
	assert.Equal(t, `'it''s'`, psQuote("it's"))
	assert.Equal(t, "'a\u2019\u2019b'", psQuote("a\u2019b"))
}

func TestBootTargetRescanned(t *testing.T) {
	v := fxISCSI()
	v.BootTargetIQN = fxDataIQN
	out, err := RenderLinuxISCSI(v)
	require.NoError(t, err)
	s := string(out)
	assert.Contains(t, s, "\nrescan "+shQuote(fxDataIQN)+" '1 2'\n")
	assert.NotContains(t, s, "\nattach "+shQuote(fxDataIQN))
	assert.NotContains(t, s, "\nmultipath_on\n", "the other target has one portal")
	assert.NotContains(t, s, "need_cli aws", "the boot target's CHAP is the boot session's")
}

func BenchmarkRenderLinuxISCSI(b *testing.B) {
	v := fxISCSI()
	for b.Loop() {
		if _, err := RenderLinuxISCSI(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderLinuxNVMe(b *testing.B) {
	v := fxNVMe()
	for b.Loop() {
		if _, err := RenderLinuxNVMe(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderWindowsISCSI(b *testing.B) {
	v := fxISCSI()
	for b.Loop() {
		if _, err := RenderWindowsISCSI(v); err != nil {
			b.Fatal(err)
		}
	}
}

// sandbox runs a generated script against a scratch root: OUTPOSTS_HA_ROOT
// relocates every path, PATH holds only stubs and the few real tools the
// scripts use, and every stub appends its argv to calls.log.
type sandbox struct {
	t    *testing.T
	root string
	bin  string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	testenv.NeedTool(t, "bash")
	py := testenv.NeedTool(t, "python3")
	real, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output()
	require.NoError(t, err)
	sb := &sandbox{t: t, root: t.TempDir()}
	sb.bin = filepath.Join(sb.root, "stub-bin")
	require.NoError(t, os.MkdirAll(sb.bin, 0o755))
	for _, tool := range []string{"cp", "mv", "mkdir", "chmod", "rm", "cat"} {
		p, err := exec.LookPath(tool)
		require.NoError(t, err)
		require.NoError(t, os.Symlink(p, filepath.Join(sb.bin, tool)))
	}
	// python3 logs its argv too, then runs for real: the parsers are under test.
	sb.stub("python3", `exec `+shQuote(strings.TrimSpace(string(real)))+` "$@"`)
	sb.stub("systemctl", "")
	sb.stub("sleep", "")
	sb.stub("modprobe", "")
	return sb
}

// stub writes an executable that logs "name argv..." and then runs body.
func (sb *sandbox) stub(name, body string) {
	sb.t.Helper()
	script := "#!/bin/bash\nprintf '%s\\n' \"" + name + " $*\" >>\"$OUTPOSTS_HA_ROOT/calls.log\"\n" + body + "\n"
	require.NoError(sb.t, os.WriteFile(filepath.Join(sb.bin, name), []byte(script), 0o755))
}

func (sb *sandbox) write(rel, content string) {
	sb.t.Helper()
	p := filepath.Join(sb.root, rel)
	require.NoError(sb.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(sb.t, os.WriteFile(p, []byte(content), 0o644))
}

func (sb *sandbox) read(rel string) string {
	sb.t.Helper()
	b, err := os.ReadFile(filepath.Join(sb.root, rel))
	require.NoError(sb.t, err)
	return string(b)
}

func (sb *sandbox) calls() string {
	b, err := os.ReadFile(filepath.Join(sb.root, "calls.log"))
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(sb.t, err)
	return string(b)
}

// run executes the script with bash; it returns the combined output and the exit code.
func (sb *sandbox) run(script []byte, env ...string) (string, int) {
	sb.t.Helper()
	path := filepath.Join(sb.root, "script.sh")
	require.NoError(sb.t, os.WriteFile(path, script, 0o700))
	bash, err := exec.LookPath("bash")
	require.NoError(sb.t, err)
	cmd := exec.Command(bash, path)
	cmd.Env = append([]string{"PATH=" + sb.bin, "OUTPOSTS_HA_ROOT=" + sb.root, "LC_ALL=C"}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(sb.t, err)
	}
	return string(out), code
}

// iscsiadmStub imitates the parts of iscsiadm the script uses: static node
// records (a record copies the auth defaults of iscsid.conf, like -o new),
// login (a session, a connection and one block device per LUN listed in
// luns/<target> appear in the fake sysfs), and rescan.
const iscsiadmStub = `R=$OUTPOSTS_HA_ROOT
mode='' target='' portal='' op='' name='' value='' login=0
while (($#)); do
	case $1 in
	-m) mode=$2; shift 2 ;;
	-T) target=$2; shift 2 ;;
	-p) portal=$2; shift 2 ;;
	-o) op=$2; shift 2 ;;
	-n) name=$2; shift 2 ;;
	-v) value=$2; shift 2 ;;
	-r) shift 2 ;;
	--login) login=1; shift ;;
	--rescan) shift ;;
	*) echo "iscsiadm stub: unexpected argument $1" >&2; exit 7 ;;
	esac
done
[[ $mode == session ]] && exit 0
rec="$R/records/$target@$portal"
if ((login)); then
	[[ -f $rec ]] || { echo "iscsiadm stub: no record" >&2; exit 21; }
	if [[ $portal == "${FAIL_LOGIN:-none}" ]]; then echo "iscsiadm stub: login refused" >&2; exit 24; fi
	n=1
	while [[ -e $R/sys/class/iscsi_session/session$n ]]; do n=$((n + 1)); done
	a=${portal%:*}; a=${a#[}; a=${a%]}
	s=$R/sys/class/iscsi_session/session$n
	mkdir -p "$s" "$R/sys/class/iscsi_connection/connection$n:0"
	echo "$target" >"$s/targetname"
	echo "$a" >"$R/sys/class/iscsi_connection/connection$n:0/persistent_address"
	echo "${portal##*:}" >"$R/sys/class/iscsi_connection/connection$n:0/persistent_port"
	if [[ -f $R/luns/$target ]]; then
		for lun in $(<"$R/luns/$target"); do mkdir -p "$s/device/target$n:0:0/$n:0:0:$lun/block/sd$n$lun"; done
	fi
	exit 0
fi
case $op in
'') [[ -f $rec ]] && exit 0; exit 21 ;;
new)
	mkdir -p "$R/records"
	: >"$rec"
	while IFS= read -r line; do
		if [[ $line == node.session.auth.* ]]; then echo "$line" >>"$rec"; fi
	done <"$R/etc/iscsi/iscsid.conf"
	;;
delete) rm -f "$rec" ;;
update) echo "$name = $value" >>"$rec" ;;
esac
exit 0`

const (
	fxCHAPUser     = "chapuser-web01"
	fxCHAPPassword = "Sup3r-S3cret-PW!"
	fxMutualUser   = "array-sn-4f6b"
	fxMutualPW     = "Mutu4l-S3cret#9"
	fxIscsidConf   = "# stock iscsid.conf\nnode.startup = manual\n#node.session.auth.username = username\nnode.session.timeo.replacement_timeout = 120\n"
)

func iscsiSandbox(t *testing.T) *sandbox {
	sb := newSandbox(t)
	sb.stub("iscsiadm", iscsiadmStub)
	sb.stub("aws", `cat "$OUTPOSTS_HA_ROOT/secret.json"`)
	sb.stub("multipath", "")
	sb.stub("mpathconf", `echo "defaults { find_multipaths yes }" >"$OUTPOSTS_HA_ROOT/etc/multipath.conf"`)
	sb.write("etc/iscsi/iscsid.conf", fxIscsidConf)
	sb.write("etc/iscsi/initiatorname.iscsi", "InitiatorName=iqn.1994-05.com.redhat:5e7d1c9a0b2\n")
	sb.write("secret.json", `{"userid":"`+fxCHAPUser+`","password":"`+fxCHAPPassword+`","mutual_userid":"`+fxMutualUser+`","mutual_password":"`+fxMutualPW+`"}`)
	sb.write("luns/"+fxDataIQN, "1 2")
	sb.write("luns/"+fxPureIQN, "10")
	return sb
}

func TestLinuxISCSIScriptRuns(t *testing.T) {
	t.Parallel()
	sb := iscsiSandbox(t)
	script, err := RenderLinuxISCSI(fxISCSI())
	require.NoError(t, err)

	out, code := sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, DataVolumesOKMarker+": 2 iSCSI targets, 3 LUNs, 5 paths, dm-multipath on")
	assert.NotContains(t, out, DataVolumesFailedMarker)

	// One identity: the workload's IQN replaced the image's, and iscsid restarted to use it.
	assert.Equal(t, "InitiatorName="+fxInitiator+"\n", sb.read("etc/iscsi/initiatorname.iscsi"))
	calls := sb.calls()
	assert.Contains(t, calls, "systemctl restart iscsid.service")
	// CHAP reached the node records of the CHAP target, through iscsid.conf defaults...
	for _, p := range []string{"192.168.50.10:3260", "192.168.50.11:3260"} {
		rec := sb.read("records/" + fxDataIQN + "@" + p)
		assert.Contains(t, rec, "node.session.auth.authmethod = CHAP\n")
		assert.Contains(t, rec, "node.session.auth.password = "+fxCHAPPassword+"\n")
		assert.Contains(t, rec, "node.session.auth.password_in = "+fxMutualPW+"\n")
		assert.Contains(t, rec, "node.startup = automatic\n")
	}
	// ...not the other target's, and iscsid.conf is back as it was.
	rec := sb.read("records/" + fxPureIQN + "@[fd00:50::21]:3260")
	assert.Equal(t, "node.session.auth.authmethod = None\nnode.startup = automatic\n", rec)
	assert.Equal(t, fxIscsidConf, sb.read("etc/iscsi/iscsid.conf"))
	assert.NoFileExists(t, filepath.Join(sb.root, "etc/iscsi/iscsid.conf.outposts-ha"))
	assert.NoFileExists(t, filepath.Join(sb.root, "etc/iscsi/iscsid.conf.new"))
	// No secret value on any command line (every stub and python3 log their argv), or in the output.
	for _, v := range []string{fxCHAPUser, fxCHAPPassword, fxMutualUser, fxMutualPW} {
		assert.NotContains(t, calls, v)
		assert.NotContains(t, out, v)
	}
	assert.Contains(t, calls, "aws secretsmanager get-secret-value --region us-west-2 --secret-id "+fxCHAPARN)
	assert.Contains(t, calls, "systemctl enable --now multipathd.service")
	assert.Equal(t, 3, strings.Count(calls, "--login"))

	// Run again: nothing to do, nothing redone.
	require.NoError(t, os.Remove(filepath.Join(sb.root, "calls.log")))
	out, code = sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, DataVolumesOKMarker)
	assert.Contains(t, out, "already logged in")
	calls = sb.calls()
	for _, again := range []string{"--login", "-o new", "restart iscsid", "get-secret-value"} {
		assert.NotContains(t, calls, again)
	}
}

func TestLinuxISCSIScriptStopsAtFirstError(t *testing.T) {
	t.Parallel()
	sb := iscsiSandbox(t)
	script, err := RenderLinuxISCSI(fxISCSI())
	require.NoError(t, err)
	out, code := sb.run(script, "FAIL_LOGIN=192.168.50.11:3260")
	assert.Equal(t, 24, code, "the failing command's status: %s", out)
	assert.Contains(t, out, DataVolumesFailedMarker+": line ")
	assert.Contains(t, out, `iscsiadm -m node -T "$t" -p "${p%%=*}" --login`)
	assert.NotContains(t, out, DataVolumesOKMarker)
	// It stopped there: the second target was never touched, and iscsid.conf is restored.
	assert.NotContains(t, sb.calls(), fxPureIQN)
	assert.Equal(t, fxIscsidConf, sb.read("etc/iscsi/iscsid.conf"))
}

func TestLinuxISCSIScriptChecksBeforeChanging(t *testing.T) {
	t.Parallel()
	sb := iscsiSandbox(t)
	require.NoError(t, os.Remove(filepath.Join(sb.bin, "aws")))
	require.NoError(t, os.Remove(filepath.Join(sb.bin, "iscsiadm")))
	sb.stub("dnf", "")
	script, err := RenderLinuxISCSI(fxISCSI())
	require.NoError(t, err)
	out, code := sb.run(script)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, DataVolumesFailedMarker+": aws is missing: the AWS CLI reads the CHAP secret")
	assert.Empty(t, sb.calls(), "nothing may run before the preflight passes")
}

func TestLinuxISCSIScriptInstallsOnlyWhatIsMissing(t *testing.T) {
	t.Parallel()
	sb := iscsiSandbox(t)
	stub, err := os.ReadFile(filepath.Join(sb.bin, "iscsiadm"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(sb.bin, "iscsiadm")))
	sb.write("pkg/iscsiadm", string(stub))
	sb.stub("dnf", `if [[ $* == "install -y iscsi-initiator-utils" ]]; then cp "$OUTPOSTS_HA_ROOT/pkg/iscsiadm" "$OUTPOSTS_HA_ROOT/stub-bin/iscsiadm"; chmod 0755 "$OUTPOSTS_HA_ROOT/stub-bin/iscsiadm"; fi`)
	v := fxISCSI()
	v.Targets = v.Targets[1:]
	script, err := RenderLinuxISCSI(v)
	require.NoError(t, err)
	out, code := sb.run(script)
	require.Equal(t, 0, code, out)
	calls := sb.calls()
	assert.Equal(t, 1, strings.Count(calls, "dnf "), calls)
	assert.Contains(t, calls, "dnf install -y iscsi-initiator-utils\n")
}

func TestLinuxISCSIScriptWaitIsBounded(t *testing.T) {
	t.Parallel()
	sb := iscsiSandbox(t)
	require.NoError(t, os.Remove(filepath.Join(sb.root, "luns", fxPureIQN)))
	v := fxISCSI()
	v.Targets = v.Targets[1:]
	script, err := RenderLinuxISCSI(v)
	require.NoError(t, err)
	out, code := sb.run(script)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, DataVolumesFailedMarker+": target "+fxPureIQN+" after 120 s: LUN 10 (0 of 1 paths)")
	assert.Equal(t, 60, strings.Count(sb.calls(), "sleep 2"))
}

func TestLinuxISCSIScriptRescansBootSession(t *testing.T) {
	t.Parallel()
	sb := iscsiSandbox(t)
	// The boot session (made by the initramfs from the iBFT) is already there.
	sb.write("sys/class/iscsi_session/session1/targetname", fxDataIQN+"\n")
	sb.write("sys/class/iscsi_connection/connection1:0/persistent_address", "192.168.50.10\n")
	sb.write("sys/class/iscsi_connection/connection1:0/persistent_port", "3260\n")
	for _, lun := range []string{"0", "1", "2"} {
		require.NoError(t, os.MkdirAll(filepath.Join(sb.root, "sys/class/iscsi_session/session1/device/target1:0:0/1:0:0:"+lun+"/block/sda"+lun), 0o755))
	}
	sb.write("etc/iscsi/initiatorname.iscsi", "InitiatorName="+fxInitiator+"\n")
	v := fxISCSI()
	v.BootTargetIQN = fxDataIQN
	script, err := RenderLinuxISCSI(v)
	require.NoError(t, err)
	out, code := sb.run(script)
	require.Equal(t, 0, code, out)
	calls := sb.calls()
	assert.Contains(t, calls, "iscsiadm -m session -r 1 --rescan")
	assert.NotContains(t, calls, "-T "+fxDataIQN, "no second session to the boot target")
	assert.NotContains(t, calls, "restart iscsid", "the identity was already right")
	assert.NotContains(t, calls, "get-secret-value")
}

// nvmeStub imitates nvme connect: a live controller and one block device per
// namespace listed in ns/<nqn> appear in the fake sysfs.
const nvmeStub = `R=$OUTPOSTS_HA_ROOT
[[ $1 == connect ]] || exit 0
shift
while (($#)); do
	case $1 in
	-t) shift 2 ;;
	-a) a=$2; shift 2 ;;
	-s) p=$2; shift 2 ;;
	-n) nqn=$2; shift 2 ;;
	-q) [[ $2 == "$(<"$R/etc/nvme/hostnqn")" ]] || exit 9; shift 2 ;;
	-I) shift 2 ;;
	*) echo "nvme stub: unexpected argument $1" >&2; exit 7 ;;
	esac
done
n=0
while [[ -e $R/sys/class/nvme/nvme$n ]]; do n=$((n + 1)); done
c=$R/sys/class/nvme/nvme$n
mkdir -p "$c"
echo "$nqn" >"$c/subsysnqn"
echo "traddr=$a,trsvcid=$p,src_addr=192.168.60.99" >"$c/address"
echo live >"$c/state"
for ns in $(<"$R/ns/$nqn"); do
	b=$R/sys/block/nvme0n$ns
	mkdir -p "$b/device"
	echo "$ns" >"$b/nsid"
	echo "$nqn" >"$b/device/subsysnqn"
done`

func nvmeSandbox(t *testing.T) *sandbox {
	sb := newSandbox(t)
	sb.stub("nvme", nvmeStub)
	sb.write("ns/"+fxSubNQN, "1 2")
	sb.write("sys/module/nvme_core/parameters/multipath", "Y\n")
	return sb
}

func TestLinuxNVMeScriptRuns(t *testing.T) {
	t.Parallel()
	sb := nvmeSandbox(t)
	v := fxNVMe()
	v.Subsystems[0].DHCHAPSecretARN = ""
	script, err := RenderLinuxNVMe(v)
	require.NoError(t, err)
	out, code := sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, DataVolumesOKMarker+": 1 NVMe subsystem, 2 namespaces, 2 controllers, native multipath")
	assert.Equal(t, fxHostNQN+"\n", sb.read("etc/nvme/hostnqn"))
	assert.Equal(t, "7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10\n", sb.read("etc/nvme/hostid"))
	assert.Equal(t, "nvme_tcp\n", sb.read("etc/modules-load.d/outposts-ha-nvme-tcp.conf"))
	calls := sb.calls()
	assert.Contains(t, calls, "modprobe nvme_tcp")
	assert.Contains(t, calls, "nvme connect -t tcp -a 192.168.60.11 -s 4420 -n "+fxSubNQN+" -q "+fxHostNQN+" -I 7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10")

	require.NoError(t, os.Remove(filepath.Join(sb.root, "calls.log")))
	out, code = sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "already connected")
	assert.NotContains(t, sb.calls(), "nvme connect")
}

func TestLinuxNVMeScriptRefusesDuplicatePaths(t *testing.T) {
	t.Parallel()
	sb := nvmeSandbox(t)
	sb.write("sys/module/nvme_core/parameters/multipath", "N\n")
	v := fxNVMe()
	v.Subsystems[0].DHCHAPSecretARN = ""
	script, err := RenderLinuxNVMe(v)
	require.NoError(t, err)
	out, code := sb.run(script)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "native NVMe multipath is off")
	assert.NotContains(t, sb.calls(), "nvme connect")
}

const (
	fxHostKey = "DHHC-1:01:9xSbm0RWlRBUJk6dk6ZQ8nXYsDcm2GkvLjqcyLeLSWDyAmjf:"
	fxCtrlKey = "DHHC-1:01:qW5mNwX5BlZOjJbY6n9i3RqnYwEoA6vTj0uS8yrW1jIwBgbf:"
)

// fakeFabrics stands in for /dev/nvme-fabrics with a pseudo-terminal in raw
// mode: the script's parser writes the connect options to the slave side, as
// it would to the kernel, and this side answers like the kernel does
// ("instance=N,cntlid=M") after adding the controller to the fake sysfs.
func fakeFabrics(t *testing.T, sb *sandbox, nsids string) <-chan string {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		if testenv.Required() {
			t.Fatalf("no pseudo-terminals here, and make test requires every tool: %v", err)
		}
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	ioctl := func(req uintptr, arg unsafe.Pointer) {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), req, uintptr(arg)); e != 0 {
			t.Fatalf("ioctl %#x: %v", req, e)
		}
	}
	var unlock int32
	ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock))
	var n uint32
	ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n))
	var tio syscall.Termios
	ioctl(syscall.TCGETS, unsafe.Pointer(&tio))
	tio.Lflag &^= syscall.ECHO | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	tio.Iflag &^= syscall.ICRNL | syscall.INLCR | syscall.IXON
	tio.Oflag &^= syscall.OPOST
	tio.Cc[syscall.VMIN], tio.Cc[syscall.VTIME] = 1, 0
	ioctl(syscall.TCSETS, unsafe.Pointer(&tio))
	require.NoError(t, os.MkdirAll(filepath.Join(sb.root, "dev"), 0o755))
	require.NoError(t, os.Symlink(fmt.Sprintf("/dev/pts/%d", n), filepath.Join(sb.root, "dev", "nvme-fabrics")))

	got := make(chan string, 8)
	go func() {
		defer close(got)
		buf := make([]byte, 4096)
		for instance := 10; instance < 18; {
			k, err := master.Read(buf)
			if err != nil {
				// EIO while no process holds the slave open, and at Close: stop when closed.
				if errors.Is(err, os.ErrClosed) {
					return
				}
				time.Sleep(time.Millisecond)
				continue
			}
			opts := string(buf[:k])
			fields := map[string]string{}
			for _, f := range strings.Split(opts, ",") {
				k, v, _ := strings.Cut(f, "=")
				fields[k] = v
			}
			c := filepath.Join(sb.root, "sys/class/nvme", fmt.Sprintf("nvme%d", instance))
			os.MkdirAll(c, 0o755)
			os.WriteFile(filepath.Join(c, "subsysnqn"), []byte(fields["nqn"]+"\n"), 0o644)
			os.WriteFile(filepath.Join(c, "address"), []byte("traddr="+fields["traddr"]+",trsvcid="+fields["trsvcid"]+"\n"), 0o644)
			os.WriteFile(filepath.Join(c, "state"), []byte("live\n"), 0o644)
			for _, ns := range strings.Fields(nsids) {
				b := filepath.Join(sb.root, "sys/block", "nvme1n"+ns)
				os.MkdirAll(filepath.Join(b, "device"), 0o755)
				os.WriteFile(filepath.Join(b, "nsid"), []byte(ns+"\n"), 0o644)
				os.WriteFile(filepath.Join(b, "device", "subsysnqn"), []byte(fields["nqn"]+"\n"), 0o644)
			}
			got <- opts
			fmt.Fprintf(master, "instance=%d,cntlid=%d\n", instance, instance+1)
			instance++
		}
	}()
	return got
}

func TestLinuxNVMeScriptDHCHAPKeysNeverOnArgv(t *testing.T) {
	t.Parallel()
	sb := nvmeSandbox(t)
	sb.stub("aws", `cat "$OUTPOSTS_HA_ROOT/secret.json"`)
	sb.write("secret.json", `{"dh_chap_host_key":"`+fxHostKey+`","dh_chap_ctrl_key":"`+fxCtrlKey+`"}`)
	got := fakeFabrics(t, sb, "1 2")
	script, err := RenderLinuxNVMe(fxNVMe())
	require.NoError(t, err)
	out, code := sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, DataVolumesOKMarker)
	for _, a := range []string{"192.168.60.10", "192.168.60.11"} {
		opts := <-got
		assert.Equal(t, "nqn="+fxSubNQN+",transport=tcp,traddr="+a+",trsvcid=4420,hostnqn="+fxHostNQN+
			",hostid=7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10,dhchap_secret="+fxHostKey+",dhchap_ctrl_secret="+fxCtrlKey, opts)
	}
	calls := sb.calls()
	assert.Contains(t, calls, "aws secretsmanager get-secret-value --region us-west-2 --secret-id "+fxDHCHAPARN)
	for _, k := range []string{fxHostKey, fxCtrlKey} {
		assert.NotContains(t, calls, k, "a key on a command line")
		assert.NotContains(t, out, k, "a key in the log")
	}
	assert.NotContains(t, calls, "nvme connect")
}

func TestLinuxNVMeScriptRejectsBadKey(t *testing.T) {
	t.Parallel()
	sb := nvmeSandbox(t)
	sb.stub("aws", `cat "$OUTPOSTS_HA_ROOT/secret.json"`)
	sb.write("secret.json", `{"dh_chap_host_key":"not-a-key,dhchap_ctrl_secret=x"}`)
	script, err := RenderLinuxNVMe(fxNVMe())
	require.NoError(t, err)
	out, code := sb.run(script)
	assert.NotEqual(t, 0, code, out)
	assert.Contains(t, out, "DH-HMAC-CHAP secret field dh_chap_host_key: missing, or not a DHHC-1:NN:<base64>: key")
	assert.Contains(t, out, DataVolumesFailedMarker)
	assert.NotContains(t, out, "not-a-key")
}

// Issue 11: a LUN above 255 is found under the number Linux gives it
// (0x4000|LUN, the flat-space first level as the array reports it), and a
// sysfs entry under the bare number is not taken for it. Fake parts: the
// iscsiadm stub and a scratch sysfs, as in the other sandbox tests.
func TestLinuxISCSIScriptFindsFlatSpaceLUN(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sysfs string
		ok    bool
	}{{"16641", true}, {"257", false}} {
		sb := iscsiSandbox(t)
		sb.write("luns/"+fxPureIQN, c.sysfs)
		v := fxISCSI()
		v.Targets = v.Targets[1:]
		v.Targets[0].LUNs = []int{257}
		script, err := RenderLinuxISCSI(v)
		require.NoError(t, err)
		out, code := sb.run(script)
		if c.ok {
			assert.Equal(t, 0, code, out)
			assert.Contains(t, out, DataVolumesOKMarker)
		} else {
			assert.Equal(t, 1, code, out)
			assert.Contains(t, out, "LUN 257 (0 of 1 paths)")
		}
	}
}

// Issue 11: a data target whose portals serve their own target names (PowerStore,
// HPE): every portal is logged in to under its own name, and the LUN's paths are
// counted over all of them. Fake parts: the iscsiadm stub and a scratch sysfs.
func TestLinuxISCSIScriptPerPortalTargetNames(t *testing.T) {
	t.Parallel()
	const nodeB = "iqn.1992-08.com.netapp:sn.4f6b:vs.8"
	sb := iscsiSandbox(t)
	sb.write("luns/"+nodeB, "1 2")
	v := fxISCSI()
	v.Targets = v.Targets[:1]
	v.Targets[0].Portals[1].Target = nodeB
	script, err := RenderLinuxISCSI(v)
	require.NoError(t, err)
	assert.Contains(t, string(script), "'192.168.50.11:3260="+nodeB+"'")
	out, code := sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "logging in to "+fxDataIQN+" via 192.168.50.10:3260")
	assert.Contains(t, out, "logging in to "+nodeB+" via 192.168.50.11:3260")
	assert.FileExists(t, filepath.Join(sb.root, "records", fxDataIQN+"@192.168.50.10:3260"))
	assert.FileExists(t, filepath.Join(sb.root, "records", nodeB+"@192.168.50.11:3260"))
	assert.NoFileExists(t, filepath.Join(sb.root, "records", fxDataIQN+"@192.168.50.11:3260"))

	// Run again: both sessions are found under their own names.
	out, code = sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, nodeB+" via 192.168.50.11:3260: already logged in")

	bad := fxISCSI()
	bad.Targets[0].Portals[1].Target = "IQN.bad"
	require.ErrorContains(t, bad.Validate(), "target IQN")
}
