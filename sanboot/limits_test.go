package sanboot

// Unit tests, no fakes: the validation a mutation run found could be skipped
// unnoticed (issue 9 items 21-22). Each limit is tested on both sides of its
// edge, and each LNI check of IPXE.Validate on its own.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIPXEValidateLNI(t *testing.T) {
	static := func(addr, gw string) *LNI {
		s := &StaticAddress{Address: netip.MustParsePrefix(addr)}
		if gw != "" {
			s.Gateway = netip.MustParseAddr(gw)
		}
		return &LNI{Index: 1, Static: s}
	}
	bad := map[string]struct {
		lni   *LNI
		words string
	}{
		"index 0":              {&LNI{Index: 0}, "device index 0"},
		"index 8":              {&LNI{Index: 8}, "device index 8"},
		"negative timeout":     {&LNI{Index: 1, DHCPTimeout: -time.Second}, "out of range"},
		"timeout over 10m":     {&LNI{Index: 1, DHCPTimeout: 10*time.Minute + time.Nanosecond}, "out of range"},
		"no static address":    {&LNI{Index: 1, Static: &StaticAddress{}}, "give an IPv4 address"},
		"IPv6 static address":  {static("fd00::5/64", ""), "give an IPv4 address"},
		"prefix /7":            {static("10.0.0.5/7", ""), "/8 to /30"},
		"prefix /31":           {static("10.0.0.5/31", ""), "/8 to /30"},
		"network address":      {static("192.168.50.0/24", ""), "network address"},
		"broadcast address":    {static("192.168.50.255/24", ""), "broadcast address"},
		"gateway outside":      {static("192.168.50.20/24", "192.168.51.1"), "not an IPv4 address inside"},
		"gateway IPv6":         {static("192.168.50.20/24", "fd00::1"), "not an IPv4 address inside"},
		"gateway is itself":    {static("192.168.50.20/24", "192.168.50.20"), "own address"},
		"gateway is network":   {static("192.168.50.20/24", "192.168.50.0"), "network address"},
		"gateway is broadcast": {static("192.168.50.20/24", "192.168.50.255"), "broadcast address"},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			ip := fxIPXE()
			ip.LNI = c.lni
			_, err := RenderIPXE(*ip)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.words)
		})
	}
	good := map[string]struct {
		lni  *LNI
		line string
	}{
		"index 1":          {&LNI{Index: 1}, "ifopen net1 || goto failed"},
		"index 7":          {&LNI{Index: 7}, "ifopen net7 || goto failed"},
		"timeout 10m":      {&LNI{Index: 1, DHCPTimeout: 10 * time.Minute}, "dhcp --timeout 600000 net1 || goto failed"},
		"default timeout":  {&LNI{Index: 1}, "dhcp --timeout 5000 net1 || goto failed"},
		"prefix /8":        {static("10.0.0.5/8", ""), "set net1/netmask 255.0.0.0"},
		"prefix /30":       {static("10.0.0.5/30", "10.0.0.6"), "set net1/netmask 255.255.255.252"},
		"first host":       {static("192.168.50.1/24", ""), "set net1/ip 192.168.50.1"},
		"last host":        {static("192.168.50.254/24", "192.168.50.1"), "set net1/gateway 192.168.50.1"},
		"no gateway given": {static("192.168.50.20/24", ""), "set net1/ip 192.168.50.20"},
	}
	for name, c := range good {
		t.Run(name, func(t *testing.T) {
			ip := fxIPXE()
			ip.LNI = c.lni
			out, err := RenderIPXE(*ip)
			require.NoError(t, err)
			assert.Contains(t, string(out), "\n"+c.line+"\n")
		})
	}
}

func TestIPXEValidateLimits(t *testing.T) {
	render := func(f func(*IPXE)) ([]byte, error) {
		ip := fxIPXE()
		f(ip)
		return RenderIPXE(*ip)
	}
	out, err := render(func(c *IPXE) { c.LUN = MaxSANLUN })
	require.NoError(t, err)
	assert.Contains(t, string(out), "::3260:7fff:"+fxBootIQN, "LUN 16383 in flat-space addressing")
	for _, lun := range []int{-1, MaxSANLUN + 1} {
		_, err = render(func(c *IPXE) { c.LUN = lun })
		require.ErrorContains(t, err, "out of range 0-16383")
	}
	portals := func(n int) []Portal {
		ps := make([]Portal, n)
		for i := range ps {
			ps[i] = pt(fmt.Sprintf("192.168.50.%d", 100+i), 3260)
		}
		return ps
	}
	// The fixture boots UEFI (it has a filename): at most MaxUEFIBootPaths.
	out, err = render(func(c *IPXE) { c.Portals = portals(MaxUEFIBootPaths) })
	require.NoError(t, err)
	assert.Equal(t, MaxUEFIBootPaths, strings.Count(string(out), "iscsi:"))
	_, err = render(func(c *IPXE) { c.Portals = portals(MaxUEFIBootPaths + 1) })
	require.ErrorContains(t, err, "5 boot portals: a UEFI SAN boot is proved with at most 4 paths; list at most 4 boot portals")
	_, err = render(func(c *IPXE) { c.Portals = portals(MaxPortals + 1) })
	require.ErrorContains(t, err, "9 portals")
	_, err = render(func(c *IPXE) { c.Portals = nil })
	require.ErrorContains(t, err, "no portals")
	_, err = render(func(c *IPXE) { c.CHAPSecretARN = "arn:aws:secretsmanager:xx-east-1:123456789012:secret:x" })
	require.ErrorContains(t, err, "CHAP secret")
	_, err = render(func(c *IPXE) { c.Filename = `EFI\x` })
	require.ErrorContains(t, err, "UEFI filename")
	_, err = render(func(c *IPXE) { c.TargetIQN = "IQN.2024-01.x" })
	require.ErrorContains(t, err, "target IQN")
	_, err = render(func(c *IPXE) { c.InitiatorIQN = "" })
	require.ErrorContains(t, err, "initiator IQN")
}

// 223-byte names: the longest valid IQN and NQN pass, one byte more does not.
func TestNameLengthLimit(t *testing.T) {
	iqn := func(n int) string { p := "iqn.2024-01.com.example:"; return p + strings.Repeat("a", n-len(p)) }
	nqn := func(n int) string { p := "nqn.2024-01.com.example:"; return p + strings.Repeat("a", n-len(p)) }
	require.NoError(t, ValidateIQN(iqn(MaxNameLen)))
	require.ErrorContains(t, ValidateIQN(iqn(MaxNameLen+1)), "224 bytes")
	require.NoError(t, ValidateNQN(nqn(MaxNameLen)))
	require.ErrorContains(t, ValidateNQN(nqn(MaxNameLen+1)), "224 bytes")
}

func TestDataVolumeLimits(t *testing.T) {
	iscsi := func(targets, portals, lunsPer int) ISCSIVolumes {
		v := ISCSIVolumes{InitiatorIQN: fxInitiator}
		lun := 0
		for i := 0; i < targets; i++ {
			tg := ISCSITarget{IQN: fmt.Sprintf("iqn.2024-01.com.example:t%d", i)}
			for j := 0; j < portals; j++ {
				tg.Portals = append(tg.Portals, pt(fmt.Sprintf("192.168.50.%d", 10+j), 3260))
			}
			for j := 0; j < lunsPer; j++ {
				tg.LUNs = append(tg.LUNs, lun)
				lun++
			}
			v.Targets = append(v.Targets, tg)
		}
		return v
	}
	require.NoError(t, iscsi(MaxTargets, 1, 1).Validate())
	require.ErrorContains(t, iscsi(MaxTargets+1, 1, 1).Validate(), "9 iSCSI data targets")
	require.NoError(t, iscsi(1, MaxPortals, 1).Validate())
	require.ErrorContains(t, iscsi(1, MaxPortals+1, 1).Validate(), "9 portals")
	require.NoError(t, iscsi(8, 1, 8).Validate()) // 64 LUNs
	v := iscsi(8, 1, 8)
	v.Targets[7].LUNs = append(v.Targets[7].LUNs, 4000)
	require.ErrorContains(t, v.Validate(), "65 data LUNs")
	v = iscsi(1, 1, 1)
	v.Targets[0].LUNs = []int{MaxSANLUN}
	require.NoError(t, v.Validate())
	v.Targets[0].LUNs = []int{MaxSANLUN + 1}
	require.ErrorContains(t, v.Validate(), "out of range 0-16383")

	nvme := func(subs, nsPer int) NVMeVolumes {
		v := NVMeVolumes{HostNQN: fxHostNQN}
		ns := 1
		for i := 0; i < subs; i++ {
			s := NVMeSubsystem{NQN: fmt.Sprintf("nqn.2024-01.com.example:s%d", i), Portals: []Portal{pt("192.168.60.10", 4420)}}
			for j := 0; j < nsPer; j++ {
				s.Namespaces = append(s.Namespaces, ns)
				ns++
			}
			v.Subsystems = append(v.Subsystems, s)
		}
		return v
	}
	require.NoError(t, nvme(MaxTargets, 8).Validate())
	require.ErrorContains(t, nvme(MaxTargets+1, 1).Validate(), "9 NVMe subsystems")
	n := nvme(8, 8)
	n.Subsystems[0].Namespaces = append(n.Subsystems[0].Namespaces, 1000)
	require.ErrorContains(t, n.Validate(), "65 namespaces")
	n = nvme(1, 1)
	n.Subsystems[0].Namespaces = []int{MaxNSID}
	require.NoError(t, n.Validate())
	n.Subsystems[0].Namespaces = []int{MaxNSID + 1}
	require.ErrorContains(t, n.Validate(), "out of range")

	lb := fxLocalBootISCSI()
	lb.LUN = MaxLocalBootLUN
	require.NoError(t, lb.Validate())
	lbn := fxLocalBootNVMe()
	lbn.LUN = MaxNSID
	require.NoError(t, lbn.Validate())
	lbn.LUN = MaxNSID + 1
	require.ErrorContains(t, lbn.Validate(), "out of range")
}

// The Windows script turns MPIO on exactly when a data target other than the
// boot target has more than one portal; Linux turns dm-multipath on likewise.
func TestMultipathDecisionForDataTargets(t *testing.T) {
	two := []Portal{pt("192.168.50.10", 3260), pt("192.168.50.11", 3260)}
	one := []Portal{pt("192.168.50.10", 3260)}
	cases := []struct {
		name    string
		targets []ISCSITarget
		boot    string
		want    bool
	}{
		{"data target with two portals", []ISCSITarget{{IQN: fxDataIQN, Portals: two, LUNs: []int{1}}}, "", true},
		{"data targets with one portal each", []ISCSITarget{{IQN: fxDataIQN, Portals: one, LUNs: []int{1}}, {IQN: fxPureIQN, Portals: one, LUNs: []int{2}}}, "", false},
		{"only the boot target has two portals", []ISCSITarget{{IQN: fxBootIQN, Portals: two, LUNs: []int{1}}, {IQN: fxDataIQN, Portals: one, LUNs: []int{2}}}, fxBootIQN, false},
		{"second data target has two portals", []ISCSITarget{{IQN: fxBootIQN, Portals: two, LUNs: []int{1}}, {IQN: fxDataIQN, Portals: one, LUNs: []int{2}}, {IQN: fxPureIQN, Portals: two, LUNs: []int{3}}}, fxBootIQN, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := ISCSIVolumes{InitiatorIQN: fxInitiator, Targets: c.targets, BootTargetIQN: c.boot}
			win, err := RenderWindowsISCSI(v)
			require.NoError(t, err)
			assert.Contains(t, string(win), fmt.Sprintf("\n$Multipath = $%t\n", c.want))
			onOff := map[bool]string{true: "on", false: "off"}[c.want]
			assert.Contains(t, string(win), "MPIO "+onOff+"\"")
			linux, err := RenderLinuxISCSI(v)
			require.NoError(t, err)
			assert.Contains(t, string(linux), "dm-multipath "+onOff+"\"")
			for _, tg := range c.targets {
				assert.Contains(t, string(win), fmt.Sprintf("Iqn = %s; SecretArn = ''; Boot = $%t;", psQuote(tg.IQN), tg.IQN == c.boot))
			}
		})
	}
}

// The 16 KiB user data limit: exactly MaxUserDataBytes passes, one byte more does not.
func TestUserDataSizeLimit(t *testing.T) {
	with := func(n int) (UserDataResult, error) {
		content := "#cloud-config\n#" + strings.Repeat("x", n) + "\n"
		return UserData(UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{{ContentType: TypeCloudConfig, Filename: "site.yaml", Content: []byte(content)}}})
	}
	base, err := with(0)
	require.NoError(t, err)
	n := MaxUserDataBytes - len(base.UserData)
	res, err := with(n)
	require.NoError(t, err)
	require.Len(t, res.UserData, MaxUserDataBytes, "one content byte must be one user data byte for this test")
	_, err = with(n + 1)
	require.ErrorContains(t, err, "16385 bytes")

	require.NoError(t, checkSize(make([]byte, MaxUserDataBytes)))
	require.Error(t, checkSize(make([]byte, MaxUserDataBytes+1)))
}

// Portals that are not unicast hosts, and the reasons given for typos.
func TestParsePortalRefusals(t *testing.T) {
	for in, words := range map[string]string{
		"255.255.255.255":     "broadcast",
		"127.0.0.1:3260":      "loopback",
		"[::1]":               "loopback",
		"240.1.2.3":           "reserved",
		"0.1.2.3":             "this network",
		"0.0.0.0":             "unspecified",
		"[::]:3260":           "unspecified",
		"239.1.1.1":           "multicast",
		"[::ffff:192.0.2.1]":  "IPv4-mapped",
		"::ffff:192.0.2.1":    "IPv4-mapped",
		"10.20.30.300":        "not a valid IPv4 address",
		"10.20.30.300:3260":   "not a valid IPv4 address",
		"10.20.30":            "not a valid IPv4 address",
		"010.20.30.3":         "not a valid IPv4 address",
		"10.20.30.3:70000":    "out of range: use 1-65535",
		"10.20.30.3:0":        "out of range",
		"10.20.30.3:03260":    "leading zero",
		"10.20.30.3:x":        "not a number",
		"10.20.30.3:":         "not a number",
		"san1.example.net":    "only IP literals work at boot",
		"san1:3260":           "only IP literals work at boot",
		"[fd00::1":            "no closing",
		"[fd00::1]x":          "text after",
		"[192.168.1.1]":       "only IPv6 goes in brackets",
		"fe80::1%eth0":        "zone",
		"[fe80::1%eth0]:3260": "zone",
		"192.168.1.1 ":        "white space",
		"":                    "empty",
		"fd00:::1":            "",
	} {
		_, err := ParsePortal(in, ISCSIPort)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), words, in)
		assert.NotContains(t, err.Error(), "portal portal", in)
	}
	for in, want := range map[string]string{
		"192.168.50.10":       "192.168.50.10:3260",
		"192.168.50.10:1":     "192.168.50.10:1",
		"192.168.50.10:65535": "192.168.50.10:65535",
		"[fd00::1]":           "[fd00::1]:3260",
		"[fd00::1]:4420":      "[fd00::1]:4420",
		"fd00::1":             "[fd00::1]:3260",
		"169.254.10.1":        "169.254.10.1:3260",
	} {
		p, err := ParsePortal(in, ISCSIPort)
		require.NoError(t, err, in)
		assert.Equal(t, want, p.String())
	}
	subnet := netip.MustParsePrefix("192.168.50.20/24")
	require.ErrorContains(t, CheckPortalInSubnet(pt("192.168.50.0", 3260), subnet), "network address")
	require.ErrorContains(t, CheckPortalInSubnet(pt("192.168.50.255", 3260), subnet), "broadcast address")
	require.NoError(t, CheckPortalInSubnet(pt("192.168.50.1", 3260), subnet))
	require.NoError(t, CheckPortalInSubnet(pt("192.168.50.254", 3260), subnet))
	require.NoError(t, CheckPortalInSubnet(pt("10.0.0.0", 3260), subnet))
}

func TestSecretARNPartitionAndRegion(t *testing.T) {
	for arn, words := range map[string]string{
		"arn:aws-moon:secretsmanager:us-west-2:123456789012:secret:x":                      "partition",
		"arn:aws:secretsmanager:xx-east-1:123456789012:secret:x":                           "not an AWS Region",
		"arn:aws:secretsmanager:us-gov-west-1:123456789012:secret:x":                       "partition aws-us-gov, not aws",
		"arn:aws-us-gov:secretsmanager:us-east-1:123456789012:secret:x":                    "partition aws, not aws-us-gov",
		"arn:aws:secretsmanager:us-west-2:12345678901:secret:x":                            "not a Secrets Manager ARN",
		"arn:aws:secretsmanager:us-west-2:123456789012:secret:x y":                         "not a Secrets Manager ARN",
		"arn:aws:secretsmanager:us-west-2:123456789012:secret:" + strings.Repeat("a", 600): "...",
	} {
		err := ValidateSecretARN(arn)
		require.Error(t, err, arn)
		assert.Contains(t, err.Error(), words, arn)
		assert.Less(t, len(err.Error()), 200, "echoes too much")
	}
	for _, arn := range []string{fxCHAPARN, "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x", "arn:aws-iso-b:secretsmanager:us-isob-east-1:123456789012:secret:x", "arn:aws-eusc:secretsmanager:eusc-de-east-1:123456789012:secret:x"} {
		require.NoError(t, ValidateSecretARN(arn), arn)
	}
	p, ok := RegionPartition("us-west-2")
	assert.True(t, ok)
	assert.Equal(t, "aws", p)
	_, ok = RegionPartition("xx-east-1")
	assert.False(t, ok)
	assert.Equal(t, "us-west-2", SuggestRegion("us-wset-2"))
	assert.Equal(t, "", SuggestRegion("mars-north-9"))
}

func TestQuoteShort(t *testing.T) {
	assert.Equal(t, `"abc"`, QuoteShort("abc"))
	exact := strings.Repeat("a", QuoteShortLen)
	assert.Equal(t, `"`+exact+`"`, QuoteShort(exact))
	assert.Equal(t, `"`+exact+`"...`, QuoteShort(exact+"b"))
	// The cut never splits a rune.
	s := strings.Repeat("a", QuoteShortLen-1) + "é" + "zz"
	assert.Equal(t, `"`+strings.Repeat("a", QuoteShortLen-1)+`"...`, QuoteShort(s))
	// Invalid UTF-8 with no rune start at all: cut to nothing, never out of bounds.
	assert.Equal(t, `""...`, QuoteShort(strings.Repeat("\x80", 50)))
}

func TestEditDistance(t *testing.T) {
	assert.Equal(t, 0, EditDistance("portals", "portals"))
	assert.Equal(t, 1, EditDistance("portal", "portals"))
	assert.Equal(t, 2, EditDistance("us-wset-2", "us-west-2"))
	assert.Equal(t, 3, EditDistance("kitten", "sitting"))
	assert.Equal(t, 99, EditDistance(strings.Repeat("a", 65), "b"))
	assert.Equal(t, 0, EditDistance(strings.Repeat("a", 65), strings.Repeat("a", 65)))
}

func TestInitiatorIQNAndHostNQN(t *testing.T) {
	id := uuid.MustParse("7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10")
	iqn, err := InitiatorIQN("", "web01", id)
	require.NoError(t, err)
	assert.Equal(t, fxInitiator, iqn)
	iqn, err = InitiatorIQN("iqn.2024-01.com.example", "web01", id)
	require.NoError(t, err)
	assert.Equal(t, "iqn.2024-01.com.example:outposts-ha.web01."+id.String(), iqn)
	_, err = InitiatorIQN("iqn.2024-13.com.example", "web01", id)
	require.ErrorContains(t, err, "iqn authority")
	_, err = InitiatorIQN("", "Web01", id)
	require.ErrorContains(t, err, "workload name")
	_, err = InitiatorIQN("", "web01", uuid.Nil)
	require.ErrorContains(t, err, "nil UUID")
	long := "iqn.2024-01." + strings.Repeat("a", 170) + ".com"
	_, err = InitiatorIQN(long, "web01", id)
	require.ErrorContains(t, err, "generated IQN")
	nqn, err := HostNQN(id)
	require.NoError(t, err)
	assert.Equal(t, fxHostNQN, nqn)
	_, err = HostNQN(uuid.Nil)
	require.ErrorContains(t, err, "nil UUID")
}

func TestEFIPathLength(t *testing.T) {
	p := func(n int) string { return `\EFI\` + strings.Repeat("a", n-5) }
	require.NoError(t, ValidateEFIPath(p(255)))
	require.Error(t, ValidateEFIPath(p(256)))
}

// Extra iSCSI ports are set up in ascending order (one semanage call per port).
func TestSortedPorts(t *testing.T) {
	assert.Equal(t, []int{860, 3261, 3262}, sortedPorts(map[uint16]bool{3262: true, 860: true, 3261: true}))
	assert.Empty(t, sortedPorts(nil))
}

func TestIPXEWithoutLNI(t *testing.T) {
	ip := fxIPXE()
	ip.LNI = nil
	out, err := RenderIPXE(*ip)
	require.NoError(t, err)
	assert.Contains(t, string(out), "\ndhcp || goto failed\n")
	assert.NotContains(t, string(out), "ifclose")
}

func TestIQNForms(t *testing.T) {
	for _, ok := range []string{"eui.02004567a425678d", "naa.52004567ba64678d", "naa.52004567ba64678d52004567ba64678d"} {
		require.NoError(t, ValidateIQN(ok), ok)
	}
	for bad, words := range map[string]string{
		"eui.02004567a425678":   "eui. followed by 16 hex digits",
		"naa.52004567ba64678d5": "naa. followed by 16 or 32 hex digits",
		"iqn.2024-01.a..b":      "iqn.YYYY-MM",
		"x.2024-01.a":           "must start with iqn., eui. or naa.",
	} {
		require.ErrorContains(t, ValidateIQN(bad), words, bad)
	}
	_, err := ParsePortal("10.0.0.1/24", ISCSIPort)
	require.ErrorContains(t, err, "is not IP[:port]")
}

func TestNotesSharedLocalBootSubsystem(t *testing.T) {
	lb := fxLocalBootNVMe()
	nvme := fxNVMe()
	nvme.Subsystems[0].NQN = fxBootNQN
	res, err := UserData(UserDataSpec{Guest: Linux, LocalBoot: &lb, NVMeData: &nvme})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(res.Notes, "\n"), "share target "+fxBootNQN)
	nvme = fxNVMe()
	res, err = UserData(UserDataSpec{Guest: Linux, LocalBoot: &lb, NVMeData: &nvme})
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(res.Notes, "\n"), "share target")
}

func TestPortalInSmallSubnets(t *testing.T) {
	require.ErrorContains(t, CheckPortalInSubnet(pt("10.0.0.4", 3260), netip.MustParsePrefix("10.0.0.5/30")), "network address")
	require.ErrorContains(t, CheckPortalInSubnet(pt("10.0.0.7", 3260), netip.MustParsePrefix("10.0.0.5/30")), "broadcast address")
	// /31 and /32 have no network or broadcast address to refuse.
	require.NoError(t, CheckPortalInSubnet(pt("10.0.0.4", 3260), netip.MustParsePrefix("10.0.0.5/31")))
	require.NoError(t, CheckPortalInSubnet(pt("fd00::", 3260), netip.MustParsePrefix("10.0.0.5/24")))
}

func TestRegionHelpers(t *testing.T) {
	assert.True(t, IsPartition("aws-cn"))
	assert.True(t, IsPartition("aws"))
	assert.False(t, IsPartition("aws-moon"))
	assert.False(t, IsPartition(""))
	require.ErrorContains(t, ValidateSecretARN("arn:aws-moon:secretsmanager:us-west-2:123456789012:secret:x"), "is not an AWS partition")
	// Ties go to the first Region in sorted order; three edits away is too far.
	assert.Equal(t, "us-west-1", SuggestRegion("us-west-9"))
	assert.Equal(t, "us-west-2", SuggestRegion("US-WEST-22 "))
	assert.Equal(t, "", SuggestRegion("us-west-2222"))
	assert.Contains(t, Regions(), "eusc-de-east-1")
	assert.Len(t, Regions(), len(regionPartitions))
	assert.Equal(t, 64, EditDistance("a", strings.Repeat("x", 64)))
	assert.Equal(t, 64, EditDistance(strings.Repeat("x", 64), "a"))
	assert.Equal(t, 99, EditDistance("a", strings.Repeat("x", 65)))
	assert.Equal(t, 99, EditDistance(strings.Repeat("x", 65), "a"))
}

func TestMultipartNamesThePart(t *testing.T) {
	ok := Part{ContentType: "text/plain", Filename: "a.txt", Content: []byte("x\n")}
	_, err := Multipart([]Part{ok, {ContentType: "Text/Plain", Filename: "b.txt", Content: []byte("x\n")}})
	require.ErrorContains(t, err, "part 2 content type")
	_, err = Multipart([]Part{ok, ok, {ContentType: "text/plain", Filename: "b c", Content: []byte("x\n")}})
	require.ErrorContains(t, err, "part 3 file name")
	_, err = Multipart([]Part{ok, {ContentType: "text/plain", Filename: "c.txt", Content: []byte("x\r\n")}})
	require.ErrorContains(t, err, "part 2 (c.txt) contains a carriage return")
}

// Non-ASCII text is sent as 8bit UTF-8, ASCII as 7bit; U+0080 is the first non-ASCII rune.
func TestMultipartEncoding(t *testing.T) {
	doc, err := Multipart([]Part{{ContentType: "text/plain", Filename: "a.txt", Content: []byte("\u0080\n")}})
	require.NoError(t, err)
	assert.Contains(t, string(doc), "charset=\"utf-8\"\nMIME-Version: 1.0\nContent-Transfer-Encoding: 8bit")
	doc, err = Multipart([]Part{{ContentType: "text/plain", Filename: "a.txt", Content: []byte("\x7f\n")}})
	require.NoError(t, err)
	assert.Contains(t, string(doc), "Content-Transfer-Encoding: 7bit")
	assert.True(t, isASCII([]byte{0x7f}))
	assert.False(t, isASCII([]byte{0x80}))
}

// The boundary is re-derived at most 16 times: content holding all 16 derivations is refused.
func TestBoundaryTriesAreBounded(t *testing.T) {
	sum := bytes.Repeat([]byte{0xcd}, 32)
	var all []string
	s := sum
	for try := 0; try < 16; try++ {
		all = append(all, "--==outposts-ha-"+hex.EncodeToString(s[:12])+"==")
		next := sha256.Sum256(append(append([]byte{}, s...), byte(try)))
		s = next[:]
	}
	parts := []Part{{ContentType: "text/plain", Filename: "evil.txt", Content: []byte(strings.Join(all, "\n") + "\n")}}
	_, err := pickBoundary(append([]byte{}, sum...), parts)
	require.ErrorContains(t, err, "after 16 tries")
	// Fifteen of them: the sixteenth derivation is used.
	parts[0].Content = []byte(strings.Join(all[:15], "\n") + "\n")
	b, err := pickBoundary(append([]byte{}, sum...), parts)
	require.NoError(t, err)
	assert.Equal(t, all[15], "--"+b)
}

// Packed scripts wrap base64 at 76 columns with no empty line, also when the
// encoding is an exact multiple of 76.
func TestPackWrapsWithoutEmptyLines(t *testing.T) {
	found := false
	seed := sha256.Sum256([]byte("pack"))
	script := []byte{}
	for n := 0; n < 400 && !found; n++ {
		seed = sha256.Sum256(seed[:])
		script = append(script, []byte(hex.EncodeToString(seed[:4]))...)
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = w.Write(script)
		_ = w.Close()
		if len(base64.StdEncoding.EncodeToString(z.Bytes()))%76 != 0 {
			continue
		}
		found = true
		out := string(pack(script))
		assert.NotContains(t, out, "\n\n")
		for _, l := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(out, PackedMarker), "\n"), "\n") {
			assert.LessOrEqual(t, len(l), 76)
		}
		back, err := UnpackPart(Part{Content: pack(script)})
		require.NoError(t, err)
		assert.Equal(t, script, back)
	}
	require.True(t, found, "no script length gave an encoding that is a multiple of 76")
}

func TestExtraPartNamesThePart(t *testing.T) {
	ok := Part{ContentType: TypeShellScript, Filename: "a.sh", Content: []byte("#!/bin/sh\n")}
	_, err := UserData(UserDataSpec{Guest: Linux, IPXE: fxIPXE(), Extra: []Part{ok, {ContentType: TypeShellScript, Filename: "a.sh", Content: []byte("#!/bin/sh\n")}}})
	require.ErrorContains(t, err, "extra part 2 file name")
}
