// Tests of the LocalBoot renderer: golden files, bad inputs, and a sandbox run
// (real bash, stub SAN tools and a stub localboot helper; see sandbox in
// datavolumes_test.go).
package sanboot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fxLocalBootISCSI() LocalBoot {
	return LocalBoot{
		Protocol: ProtocolISCSI, Initiator: fxInitiator, Target: fxBootIQN,
		Portals: []Portal{pt("192.168.50.10", 3260), pt("192.168.50.11", 3260)}, LUN: 0, SecretARN: fxCHAPARN,
	}
}

func fxLocalBootNVMe() LocalBoot {
	return LocalBoot{
		Protocol: ProtocolNVMeTCP, Initiator: fxHostNQN, Target: fxBootNQN,
		Portals: []Portal{pt("192.168.60.10", 4420)}, LUN: 1,
	}
}

func localBootCases() []renderCase {
	return []renderCase{
		{"localboot-iscsi.sh", func() ([]byte, error) { return RenderLocalBoot(fxLocalBootISCSI()) }},
		{"localboot-nvme.sh", func() ([]byte, error) { return RenderLocalBoot(fxLocalBootNVMe()) }},
	}
}

func TestLocalBootGolden(t *testing.T) {
	for _, c := range localBootCases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.render()
			require.NoError(t, err)
			golden(t, c.name, got)
		})
	}
}

func TestLocalBootEnding(t *testing.T) {
	out, err := RenderLocalBoot(fxLocalBootISCSI())
	require.NoError(t, err)
	s := string(out)
	assert.True(t, strings.HasSuffix(s, "exec \"${R}/usr/local/bin/localboot\" --target "+shQuote(fxBootIQN)+" --lun 0\n"), s)
	assert.Contains(t, s, "its running root is re-creatable, not durable")
	assert.Contains(t, s, "readonly MARK=OUTPOSTS-HA-LOCALBOOT\n")

	out, err = RenderLocalBoot(fxLocalBootNVMe())
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(out), "--target "+shQuote(fxBootNQN)+"\n"), "no --lun for NVMe")
}

func TestRenderLocalBootBadInput(t *testing.T) {
	cases := map[string]struct {
		edit func(*LocalBoot)
		want string
	}{
		"no protocol":         {func(l *LocalBoot) { l.Protocol = "" }, `LocalBoot protocol ""`},
		"fc":                  {func(l *LocalBoot) { l.Protocol = "fc" }, `protocol "fc"`},
		"NQN for iSCSI":       {func(l *LocalBoot) { l.Initiator = fxHostNQN }, "LocalBoot initiator IQN"},
		"IQN for NVMe":        {func(l *LocalBoot) { l.Protocol = ProtocolNVMeTCP; l.Target = fxBootNQN }, "LocalBoot initiator NQN"},
		"target with newline": {func(l *LocalBoot) { l.Target = fxBootIQN + "\n/bin/sh" }, "LocalBoot target IQN"},
		"target with quote":   {func(l *LocalBoot) { l.Target = fxBootIQN + "'" }, "LocalBoot target IQN"},
		"LUN out of range":    {func(l *LocalBoot) { l.LUN = MaxLocalBootLUN + 1 }, "LocalBoot LUN 4096 is out of range 0-4095"},
		"NVMe namespace 0": {func(l *LocalBoot) {
			*l = fxLocalBootNVMe()
			l.LUN = 0
		}, "LocalBoot namespace ID 0 is out of range"},
		"no portals":        {func(l *LocalBoot) { l.Portals = nil }, "LocalBoot target has no portals"},
		"duplicate portals": {func(l *LocalBoot) { l.Portals[1] = l.Portals[0] }, "listed twice"},
		"bad secret":        {func(l *LocalBoot) { l.SecretARN = "chap" }, "LocalBoot secret"},
		"same target":       {func(l *LocalBoot) { l.Target = fxInitiator }, "is the initiator"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			l := fxLocalBootISCSI()
			c.edit(&l)
			out, err := RenderLocalBoot(l)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Nil(t, out)
		})
	}
}

func TestLocalBootScriptRuns(t *testing.T) {
	t.Parallel()
	sb := iscsiSandbox(t)
	sb.write("luns/"+fxBootIQN, "0")
	require.NoError(t, os.MkdirAll(filepath.Join(sb.root, "usr/local/bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sb.root, "usr/local/bin/localboot"),
		[]byte("#!/bin/bash\nprintf 'localboot %s\\n' \"$*\" >>\"$OUTPOSTS_HA_ROOT/calls.log\"\n"), 0o755))
	script, err := RenderLocalBoot(fxLocalBootISCSI())
	require.NoError(t, err)
	out, code := sb.run(script)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, LocalBootOKMarker+": boot volume attached")
	calls := sb.calls()
	assert.True(t, strings.HasSuffix(calls, "localboot --target "+fxBootIQN+" --lun 0\n"), calls)
	assert.Equal(t, 2, strings.Count(calls, "--login"))
	assert.NotContains(t, calls, fxCHAPPassword)

	// Attaching fails: the helper is never started.
	sb2 := iscsiSandbox(t)
	out, code = sb2.run(script, "FAIL_LOGIN=192.168.50.10:3260")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, out, LocalBootFailedMarker)
	assert.NotContains(t, sb2.calls(), "localboot --target")
}

func BenchmarkRenderLocalBoot(b *testing.B) {
	l := fxLocalBootISCSI()
	for b.Loop() {
		if _, err := RenderLocalBoot(l); err != nil {
			b.Fatal(err)
		}
	}
}
