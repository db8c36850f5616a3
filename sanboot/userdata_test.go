// Tests of the multipart and user data assembly: golden files for every boot
// mode, the MIME round trip, the size limit, the rules per guest OS, and the
// cloud-init part handler run for real under python3 against a scratch
// directory (cloud-init itself is not installed here: the test calls the
// handler the way cloud-init's part-handler protocol does).
package sanboot

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func fxIPXE() *IPXE {
	return &IPXE{
		InitiatorIQN: fxInitiator, TargetIQN: fxBootIQN,
		Portals:       []Portal{pt("192.168.50.10", 3260), pt("192.168.50.11", 3260)},
		LUN:           0,
		CHAPSecretARN: fxCHAPARN,
		LNI:           &LNI{Index: 1},
		Filename:      `\EFI\redhat\shimx64.efi`,
	}
}

var fxCloudConfig = Part{ContentType: TypeCloudConfig, Filename: "site.yaml", Content: []byte("#cloud-config\ntimezone: Europe/Paris\n")}
var fxShell = Part{ContentType: TypeShellScript, Filename: "site.sh", Content: []byte("#!/bin/sh\necho 'site setup – done' >/var/log/site-setup.log\n")}

type userDataCase struct {
	name string
	spec func() UserDataSpec
}

func userDataCases() []userDataCase {
	return []userDataCase{
		{"sanboot-linux", func() UserDataSpec {
			iscsi, nvme := fxISCSI(), fxNVMe()
			nvme.HostNQN = fxHostNQN
			return UserDataSpec{Guest: Linux, IPXE: fxIPXE(), ISCSIData: &iscsi, NVMeData: &nvme, Extra: []Part{fxCloudConfig, fxShell}}
		}},
		{"sanboot-linux-bare", func() UserDataSpec { return UserDataSpec{Guest: Linux, IPXE: fxIPXE()} }},
		{"sanboot-windows", func() UserDataSpec {
			iscsi := fxISCSI()
			return UserDataSpec{Guest: Windows, IPXE: fxIPXE(), ISCSIData: &iscsi}
		}},
		{"localboot-iscsi-linux", func() UserDataSpec {
			lb, iscsi := fxLocalBootISCSI(), fxISCSI()
			return UserDataSpec{Guest: Linux, LocalBoot: &lb, ISCSIData: &iscsi, Extra: []Part{fxShell}}
		}},
		{"localboot-nvme-linux", func() UserDataSpec {
			lb, nvme := fxLocalBootNVMe(), fxNVMe()
			return UserDataSpec{Guest: Linux, LocalBoot: &lb, NVMeData: &nvme}
		}},
		{"localboot-nvme-windows", func() UserDataSpec {
			lb := fxLocalBootNVMe()
			iscsi := fxISCSI()
			iscsi.InitiatorIQN = fxInitiator
			return UserDataSpec{Guest: Windows, LocalBoot: &lb, ISCSIData: &iscsi}
		}},
	}
}

func TestUserDataGolden(t *testing.T) {
	for _, c := range userDataCases() {
		t.Run(c.name, func(t *testing.T) {
			res, err := UserData(c.spec())
			require.NoError(t, err)
			assert.LessOrEqual(t, len(res.UserData), MaxUserDataBytes)
			golden(t, "userdata/"+c.name+".txt", res.UserData)
			if res.WindowsDataVolumes != nil {
				golden(t, "userdata/"+c.name+".data-volumes.ps1", res.WindowsDataVolumes)
			}
			if res.Parts == nil {
				return
			}
			parsed, err := ParseMultipart(res.UserData)
			require.NoError(t, err)
			require.Len(t, parsed, len(res.Parts))
			for i, p := range parsed {
				assert.Equal(t, res.Parts[i].ContentType, p.ContentType)
				assert.Equal(t, res.Parts[i].Filename, p.Filename)
				body, err := UnpackPart(p)
				require.NoError(t, err)
				want := res.Parts[i].Content
				if p.ContentType == TypeLocalBoot || p.ContentType == TypePerBoot {
					want = stripComments(want)
				}
				assert.Equal(t, string(want), string(body), "part %s", p.Filename)
			}
		})
	}
}

func TestUserDataLayout(t *testing.T) {
	spec := userDataCases()[0].spec()
	res, err := UserData(spec)
	require.NoError(t, err)
	var types []string
	for _, p := range res.Parts {
		types = append(types, p.ContentType)
	}
	assert.Equal(t, []string{TypePartHandler, TypeIPXE, TypePerBoot, TypePerBoot, TypeCloudConfig, TypePerInstance}, types)
	ipxe, err := RenderIPXE(*spec.IPXE)
	require.NoError(t, err)
	parsed, err := ParseMultipart(res.UserData)
	require.NoError(t, err)
	assert.Equal(t, string(ipxe), string(parsed[1].Content), "iPXE reads its part as it is: never packed")
	assert.Equal(t, string(fxCloudConfig.Content), string(parsed[4].Content))
	// The data-volume script knows the boot target, so it rescans the boot session.
	assert.Contains(t, string(res.Parts[2].Content), "\nattach "+shQuote(fxDataIQN))
	bootShared := spec
	iscsi := fxISCSI()
	iscsi.Targets[0].IQN = fxBootIQN
	bootShared.ISCSIData = &iscsi
	res, err = UserData(bootShared)
	require.NoError(t, err)
	assert.Contains(t, string(res.Parts[2].Content), "\nrescan "+shQuote(fxBootIQN)+" '1 2'\n")

	win, err := UserData(userDataCases()[2].spec())
	require.NoError(t, err)
	assert.Equal(t, string(ipxe), string(win.UserData), "Windows gets the bare iPXE script")
	assert.Nil(t, win.Parts)
	assert.Contains(t, string(win.WindowsDataVolumes), "Connect-IscsiTarget")
	assert.Len(t, win.Notes, 1)

	lb, err := UserData(userDataCases()[3].spec())
	require.NoError(t, err)
	assert.Contains(t, strings.Join(lb.Notes, "\n"), "copy of its boot volume on instance store")
}

func TestUserDataRules(t *testing.T) {
	iscsi, nvme := fxISCSI(), fxNVMe()
	lbISCSI, lbNVMe := fxLocalBootISCSI(), fxLocalBootNVMe()
	otherIQN := iscsi
	otherIQN.InitiatorIQN = "iqn.2006-03.com.amazon.aws:outposts-ha.web01.00000000-0000-4000-8000-000000000001"
	otherNQN := nvme
	otherNQN.HostNQN = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000001"
	cases := map[string]struct {
		spec UserDataSpec
		want string
	}{
		"no guest":               {UserDataSpec{IPXE: fxIPXE()}, `guest OS ""`},
		"no boot":                {UserDataSpec{Guest: Linux}, "exactly one boot"},
		"two boots":              {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), LocalBoot: &lbISCSI}, "exactly one boot"},
		"new IQN for data":       {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), ISCSIData: &otherIQN}, "a workload has one iSCSI identity"},
		"new IQN localboot":      {UserDataSpec{Guest: Linux, LocalBoot: &lbISCSI, ISCSIData: &otherIQN}, "one iSCSI identity"},
		"new NQN localboot":      {UserDataSpec{Guest: Linux, LocalBoot: &lbNVMe, NVMeData: &otherNQN}, "one NVMe identity"},
		"windows NVMe":           {UserDataSpec{Guest: Windows, IPXE: fxIPXE(), NVMeData: &nvme}, "Windows has no NVMe/TCP initiator"},
		"windows extra":          {UserDataSpec{Guest: Windows, IPXE: fxIPXE(), Extra: []Part{fxShell}}, "Windows does not run parts"},
		"bad iPXE":               {UserDataSpec{Guest: Linux, IPXE: &IPXE{InitiatorIQN: fxInitiator}}, "iPXE script: target IQN"},
		"bad localboot":          {UserDataSpec{Guest: Linux, LocalBoot: &LocalBoot{Protocol: "fc"}}, "localboot script"},
		"cloud-config on helper": {UserDataSpec{Guest: Linux, LocalBoot: &lbISCSI, Extra: []Part{fxCloudConfig}}, "would apply to the helper too"},
		"shell without #!":       {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeShellScript, Filename: "x.sh", Content: []byte("echo hi\n")}}}, "must start with #!"},
		"boothook":               {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: "text/cloud-boothook", Filename: "b.sh", Content: []byte("#!/bin/sh\n")}}}, `type "text/cloud-boothook"`},
		"name clash":             {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{fxShell, fxShell}}, "unique name"},
		"our name":               {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeShellScript, Filename: "sanboot.ipxe", Content: []byte("#!/bin/sh\n")}}}, "unique name"},
		"header injection":       {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeShellScript, Filename: "a.sh\"\nContent-Type: text/x-shellscript", Content: []byte("#!/bin/sh\n")}}}, "file name"},
		"NUL":                    {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeShellScript, Filename: "a.sh", Content: []byte("#!/bin/sh\x00")}}}, "NUL"},
		"CR":                     {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeShellScript, Filename: "a.sh", Content: []byte("#!/bin/sh\r\n")}}}, "carriage return"},
		"not UTF-8":              {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeShellScript, Filename: "a.sh", Content: []byte("#!/bin/sh\n\xff")}}}, "not UTF-8"},
		"too big": {UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeCloudConfig, Filename: "big.yaml",
			Content: []byte("#cloud-config\n" + strings.Repeat("# padding padding padding padding\n", 500))}}}, "EC2 takes at most 16384"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := UserData(c.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Equal(t, UserDataResult{}, res)
		})
	}
}

func TestUserDataNotesSharedLocalBootTarget(t *testing.T) {
	lb := fxLocalBootISCSI()
	iscsi := fxISCSI()
	iscsi.Targets[1].IQN = fxBootIQN
	res, err := UserData(UserDataSpec{Guest: Linux, LocalBoot: &lb, ISCSIData: &iscsi})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(res.Notes, "\n"), "share target "+fxBootIQN)
}

func TestMultipartRoundTrip(t *testing.T) {
	parts := []Part{
		{ContentType: "text/plain", Filename: "a.txt", Content: []byte("no final newline")},
		{ContentType: "text/plain", Filename: "b.txt", Content: []byte("two\n\nblank lines\n\n")},
		{ContentType: "text/plain", Filename: "c.txt", Content: []byte("--not-a-boundary\n--==outposts-ha-0000==\nünïcode\n")},
	}
	doc, err := Multipart(parts)
	require.NoError(t, err)
	again, err := Multipart(parts)
	require.NoError(t, err)
	assert.Equal(t, doc, again, "deterministic")
	got, err := ParseMultipart(doc)
	require.NoError(t, err)
	assert.Equal(t, parts, got)
	assert.Contains(t, string(doc), `Content-Type: text/plain; charset="utf-8"`+"\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit")

	_, err = Multipart(nil)
	assert.ErrorContains(t, err, "at least one part")
	_, err = Multipart([]Part{{ContentType: "Text/Plain", Filename: "a", Content: []byte("x")}})
	assert.ErrorContains(t, err, "content type")
	_, err = Multipart([]Part{{ContentType: "text/plain", Filename: "a", Content: nil}})
	assert.ErrorContains(t, err, "is empty")
}

func TestBoundaryNeverInParts(t *testing.T) {
	sum := bytes.Repeat([]byte{0xab}, 32)
	first, err := pickBoundary(sum, nil)
	require.NoError(t, err)
	parts := []Part{{ContentType: "text/plain", Filename: "evil.txt", Content: []byte("x\n--" + first + "\ny\n")}}
	b, err := pickBoundary(sum, parts)
	require.NoError(t, err)
	assert.NotEqual(t, first, b)
	assert.NotContains(t, string(parts[0].Content), b)
}

func TestStripComments(t *testing.T) {
	in := "#!/bin/bash\n# comment\n\t# indented\necho '#not a comment'\nx=1 # trailing stays\n"
	assert.Equal(t, "#!/bin/bash\necho '#not a comment'\nx=1 # trailing stays\n", string(stripComments([]byte(in))))
}

// TestPartHandler runs the part handler under python3 the way cloud-init
// calls a part handler (list_types, __begin__, one call per part, __end__),
// against a scratch directory, with and without the LocalBoot helper.
func TestPartHandler(t *testing.T) {
	t.Parallel()
	py := testenv.NeedTool(t, "python3")
	res, err := UserData(userDataCases()[3].spec()) // LocalBoot, iSCSI data, operator shell
	require.NoError(t, err)
	parsed, err := ParseMultipart(res.UserData)
	require.NoError(t, err)
	dir := t.TempDir()
	handler := filepath.Join(dir, "handler.py")
	require.NoError(t, os.WriteFile(handler, parsed[0].Content, 0o644))
	for i, p := range parsed[1:] {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "part"+string(rune('0'+i))), p.Content, 0o644))
	}
	const driver = `
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("h", sys.argv[1])
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)
h.SCRIPTS = sys.argv[2]
h.HELPER = sys.argv[3]
assert h.list_types() == ["text/ipxe", "text/x-outposts-ha-localboot", "text/x-outposts-ha-per-boot", "text/x-outposts-ha-per-instance"]
h.handle_part(None, "__begin__", None, None)
args = sys.argv[4:]
for i in range(0, len(args), 3):
    with open(args[i + 2]) as f:
        h.handle_part(None, args[i], args[i + 1], f.read())
h.handle_part(None, "__end__", None, None)
`
	run := func(t *testing.T, scripts, helper string) {
		args := []string{"-c", driver, handler, scripts, helper}
		for i, p := range parsed[1:] {
			args = append(args, p.ContentType, p.Filename, filepath.Join(dir, "part"+string(rune('0'+i))))
		}
		out, err := exec.Command(py, args...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	helper := filepath.Join(dir, "localboot")
	stale := func(scripts string) {
		require.NoError(t, os.MkdirAll(filepath.Join(scripts, "per-boot"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(scripts, "per-boot", "outposts-ha-old.sh"), []byte("#!/bin/sh\n"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(scripts, "per-boot", "site-own.sh"), []byte("#!/bin/sh\n"), 0o700))
	}
	list := func(scripts string) []string {
		var names []string
		for _, sub := range []string{"per-boot", "per-instance"} {
			es, _ := os.ReadDir(filepath.Join(scripts, sub))
			for _, e := range es {
				info, err := e.Info()
				require.NoError(t, err)
				if strings.HasPrefix(e.Name(), "outposts-ha-") {
					assert.Equal(t, os.FileMode(0o700), info.Mode().Perm(), e.Name())
				}
				names = append(names, sub+"/"+e.Name())
			}
		}
		return names
	}

	t.Run("workload OS", func(t *testing.T) {
		scripts := filepath.Join(dir, "os")
		stale(scripts)
		run(t, scripts, helper) // no helper file
		assert.Equal(t, []string{"per-boot/outposts-ha-data-volumes-iscsi.sh", "per-boot/site-own.sh", "per-instance/outposts-ha-site.sh"}, list(scripts))
		got, err := os.ReadFile(filepath.Join(scripts, "per-boot/outposts-ha-data-volumes-iscsi.sh"))
		require.NoError(t, err)
		assert.Equal(t, string(stripComments(res.Parts[2].Content)), string(got))
		got, err = os.ReadFile(filepath.Join(scripts, "per-instance/outposts-ha-site.sh"))
		require.NoError(t, err)
		assert.Equal(t, string(fxShell.Content), string(got), "the operator's script arrives byte for byte")
	})
	t.Run("LocalBoot helper", func(t *testing.T) {
		scripts := filepath.Join(dir, "helper")
		stale(scripts)
		require.NoError(t, os.WriteFile(helper, []byte("#!/bin/sh\n"), 0o755))
		run(t, scripts, helper)
		assert.Equal(t, []string{"per-boot/outposts-ha-localboot.sh", "per-boot/site-own.sh"}, list(scripts))
		got, err := os.ReadFile(filepath.Join(scripts, "per-boot/outposts-ha-localboot.sh"))
		require.NoError(t, err)
		assert.Equal(t, string(stripComments(res.Parts[1].Content)), string(got))
	})
}

func BenchmarkRenderUserData(b *testing.B) {
	for _, c := range userDataCases() {
		spec := c.spec()
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := UserData(spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRenderIPXE(b *testing.B) {
	c := *fxIPXE()
	for b.Loop() {
		if _, err := RenderIPXE(c); err != nil {
			b.Fatal(err)
		}
	}
}
