package spec_test

// Unit tests, no fakes: negative tests of the answers file's parsing and
// validation. Each case starts from a valid answers file, changes one thing,
// and asserts the problem it must produce (the field, and words of the
// message), so that a check that is skipped or weakened fails here.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

const baseGeneric = `workload: db01
region: us-west-2
guest_os: linux
storage:
  vendor: generic
  protocol: iscsi
  boot:
    target: iqn.2003-01.org.linux-iscsi.san1:boot-db01
    portals: ["192.168.50.10:3260", "192.168.50.11"]
    lun: 1
    chap_secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/chap-AbCdEf
  data:
    - target: iqn.2003-01.org.linux-iscsi.san1:data-db01
      portals: ["192.168.50.10"]
      lun: 2
identity:
  uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01
outposts:
  primary_subnet: subnet-0a1b2c3d4e5f60718
  secondary_subnet: subnet-0f1e2d3c4b5a69788
instance:
  type: c6id.2xlarge
  helper_ami: ami-0123456789abcdef0
  security_group: sg-0123456789abcdef0
  instance_profile: oha-db01
lni:
  static:
    address: 192.168.50.20/24
    gateway: 192.168.50.1
failover:
  policy: confirmed
  notification_email: oncall@example.com
`

const baseONTAP = `workload: erp01
region: us-east-1
storage:
  vendor: ontap
  protocol: iscsi
  management:
    endpoint: https://ontap-cluster1.example.net
    username: oha-svc
    credentials:
      env: ONTAP_PASSWORD
    svm: svm_san1
  boot:
    volume: /vol/erp01_boot/lun0
  data:
    - volume: /vol/erp01_data/lun0
outposts:
  primary_subnet: subnet-01234567
  secondary_subnet: subnet-89abcdef
instance:
  type: c6id.4xlarge
  helper_ami: ami-0a1b2c3d4e5f60789
  security_group: sg-0a1b2c3d
  instance_profile: oha-erp01
failover:
  notification_email: storage-oncall@example.com
`

// problems parses and validates doc and returns its problems (nil if valid).
func problems(t *testing.T, doc string) spec.Problems {
	t.Helper()
	s, err := spec.Parse([]byte(doc))
	if err == nil {
		err = s.Validate()
	}
	if err == nil {
		return nil
	}
	var ps spec.Problems
	require.True(t, errors.As(err, &ps), "error is not Problems (would not exit 2): %v", err)
	return ps
}

func repl(t *testing.T, doc, old, new string) string {
	t.Helper()
	require.Contains(t, doc, old)
	return strings.Replace(doc, old, new, 1)
}

// problemsOn is the problems of doc on field only.
func problemsOn(t *testing.T, doc, field string) []spec.Problem {
	t.Helper()
	var out []spec.Problem
	for _, p := range problems(t, doc) {
		if p.Field == field {
			out = append(out, p)
		}
	}
	return out
}

// expect asserts that doc has a problem on field whose text contains every word.
func expect(t *testing.T, doc, field string, words ...string) spec.Problem {
	t.Helper()
	ps := problems(t, doc)
	for _, p := range ps {
		if p.Field == field {
			for _, w := range words {
				assert.Contains(t, p.Message+" (fix: "+p.Fix+")", w)
			}
			return p
		}
	}
	t.Fatalf("no problem on %s; got %v", field, ps)
	return spec.Problem{}
}

func TestBasesAreValid(t *testing.T) {
	require.Empty(t, problems(t, baseGeneric))
	require.Empty(t, problems(t, baseONTAP))
}

// Issue 9 item 6: integers are plain decimal; 017 was octal 15, 1_0 was 10.
func TestIntegersArePlainDecimal(t *testing.T) {
	for _, v := range []string{"017", "08", "0x1a", "0o17", "1_0", "+5", "'5'", `"5"`, "1e1", "1.0", "00", "-0x1"} {
		t.Run(v, func(t *testing.T) {
			p := expect(t, repl(t, baseGeneric, "    lun: 1\n", "    lun: "+v+"\n"), "storage.boot.lun", "plain decimal")
			assert.NotContains(t, p.Message, "storage.boot.lun")
		})
	}
	for _, v := range []string{"0", "10", "4095"} {
		require.Empty(t, problems(t, repl(t, baseGeneric, "    lun: 1\n", "    lun: "+v+"\n")), v)
	}
	expect(t, repl(t, baseGeneric, "  policy: confirmed\n", "  policy: confirmed\n  detection_periods: 03\n"), "failover.detection_periods", "plain decimal")
	expect(t, repl(t, baseGeneric, "  policy: confirmed\n", "  policy: confirmed\n  datapoints_to_alarm: 0x2\n"), "failover.datapoints_to_alarm", "plain decimal")
	expect(t, repl(t, baseGeneric, "      lun: 2\n", "      lun: 99999999999999999999\n"), "storage.data[0].lun", "out of range")
}

// Issue 9 item 7: guest.cloud_config follows the same rules as the rest of the file.
func TestCloudConfigSameRules(t *testing.T) {
	withCC := func(cc string) string {
		var b strings.Builder
		b.WriteString("guest:\n  cloud_config: |\n")
		for _, l := range strings.Split(strings.TrimSuffix(cc, "\n"), "\n") {
			b.WriteString("    " + l + "\n")
		}
		return baseGeneric + b.String()
	}
	require.Empty(t, problems(t, withCC("#cloud-config\npackages: [htop]\nusers:\n  - name: ops\n    lock_passwd: true\n")))

	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	expect(t, withCC(bomb), "guest.cloud_config", "aliases")
	expect(t, withCC("packages: [a]\npackages: [b]\n"), "guest.cloud_config.packages", "twice")
	expect(t, withCC("write_files:\n  - path: /a\n    path: /b\n"), "guest.cloud_config.write_files[0].path", "twice")
	expect(t, withCC("packages: [a]\n---\nruncmd: [ls]\n"), "guest.cloud_config", "more than one YAML document")

	secrets := map[string]string{
		"lxd:\n  init:\n    trust_password: s3cret\n":                                           "guest.cloud_config.lxd.init.trust_password",
		"rh_subscription:\n  activation-key: abc\n  org: 1\n":                                   "guest.cloud_config.rh_subscription.activation-key",
		"rh_subscription:\n  password: abc\n":                                                   "guest.cloud_config.rh_subscription.password",
		"chef:\n  validation_key: abc\n":                                                        "guest.cloud_config.chef.validation_key",
		"chef:\n  validation_cert: abc\n":                                                       "guest.cloud_config.chef.validation_cert",
		"landscape:\n  client:\n    registration_key: abc\n":                                    "guest.cloud_config.landscape.client.registration_key",
		"spacewalk:\n  activation_key: abc\n":                                                   "guest.cloud_config.spacewalk.activation_key",
		"mcollective:\n  conf:\n    private-cert: abc\n":                                        "guest.cloud_config.mcollective.conf.private-cert",
		"puppet:\n  csr_attributes:\n    custom_attributes:\n      1.2.840.113549.1.9.7: abc\n": "guest.cloud_config.puppet.csr_attributes.custom_attributes.1.2.840.113549.1.9.7",
		"puppet:\n  csr_attributes:\n    challengePassword: abc\n":                              "guest.cloud_config.puppet.csr_attributes.challengePassword",
		"ubuntu_pro:\n  token: abc\n":                                                           "guest.cloud_config.ubuntu_pro.token",
		"salt_minion:\n  private_key: abc\n":                                                    "guest.cloud_config.salt_minion.private_key",
		"users:\n  - name: a\n    plain_text_passwd: abc\n":                                     "guest.cloud_config.users[0].plain_text_passwd",
		// Behind an alias or a merge, the secret is still found.
		"x: &x {trust_password: abc}\nlxd:\n  init: *x\n": "guest.cloud_config.x.trust_password",
		// Values that are secrets whatever their key.
		"write_files:\n  - path: /k\n    content: \"-----BEGIN RSA PRIVATE KEY-----\\nabc\"\n": "guest.cloud_config.write_files[0].content",
		"apt:\n  http_proxy: http://user:hunter2@proxy:3128\n":                                 "guest.cloud_config.apt.http_proxy",
		"runcmd:\n  - mysql --password=hunter2\n":                                              "guest.cloud_config.runcmd[0]",
		"wireguard:\n  interfaces:\n    - content: \"[Interface]\\nPrivateKey = abc\"\n":       "guest.cloud_config.wireguard.interfaces[0].content",
	}
	for cc, field := range secrets {
		t.Run(field, func(t *testing.T) {
			p := expect(t, withCC(cc), field, "secret")
			assert.NotContains(t, p.String(), "hunter2")
		})
	}
}

// Issue 9 item 8 (second document) and the empty file.
func TestOneDocument(t *testing.T) {
	expect(t, baseGeneric+"---\nworkload: other\n", "(file)", "more than one YAML document")
	expect(t, baseGeneric+"---\n", "(file)", "more than one YAML document")
	expect(t, "", "(file)", "empty")
}

// Issue 9 item 8: a data volume identical to the boot volume, or to another data volume.
func TestDataVolumeNotBootVolume(t *testing.T) {
	same := repl(t, baseGeneric, "    - target: iqn.2003-01.org.linux-iscsi.san1:data-db01\n      portals: [\"192.168.50.10\"]\n      lun: 2\n",
		"    - target: iqn.2003-01.org.linux-iscsi.san1:boot-db01\n      portals: [\"192.168.50.10\"]\n      lun: 1\n")
	expect(t, same, "storage.data[0]", "boot volume")
	// Same target with another LUN is a different volume.
	require.Empty(t, problems(t, repl(t, same, "      lun: 1\n", "      lun: 3\n")))
	expect(t, repl(t, baseONTAP, "    - volume: /vol/erp01_data/lun0\n", "    - volume: /vol/erp01_boot/lun0\n"), "storage.data[0]", "boot volume")
	twice := repl(t, baseONTAP, "    - volume: /vol/erp01_data/lun0\n", "    - volume: /vol/erp01_data/lun0\n    - volume: /vol/erp01_data/lun0\n")
	expect(t, twice, "storage.data[1]", "storage.data[0]")
}

// Issue 9 item 8: portals that are not unicast hosts.
func TestPortalNotUnicast(t *testing.T) {
	for _, c := range []struct{ portal, words string }{
		{"255.255.255.255", "broadcast"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "this network"},
		{"127.0.0.1", "loopback"},
		{"240.0.0.1", "reserved"},
		{"224.0.0.1", "multicast"},
		{"[::1]:3260", "loopback"},
		{"[::ffff:192.168.50.10]", "IPv4-mapped"},
		// Known prefix (the static LNI's 192.168.50.0/24): its network and broadcast addresses.
		{"192.168.50.0", "network address"},
		{"192.168.50.255:3260", "broadcast address"},
	} {
		t.Run(c.portal, func(t *testing.T) {
			doc := repl(t, baseGeneric, `portals: ["192.168.50.10:3260", "192.168.50.11"]`, `portals: ["192.168.50.10:3260", "`+c.portal+`"]`)
			expect(t, doc, "storage.boot.portals[1]", c.words)
		})
	}
	// Outside the LNI's subnet, .0 and .255 can be hosts of a larger routed subnet.
	require.Empty(t, problems(t, repl(t, baseGeneric, `"192.168.50.11"]`, `"10.1.2.0"]`)))
}

// Issue 9 item 8 and item 21: the static LNI's own address and gateway.
func TestStaticLNI(t *testing.T) {
	for _, c := range []struct{ addr, gw, field, words string }{
		{"192.168.50.20/24", "192.168.50.20", "lni.static.gateway", "own address"},
		{"192.168.50.0/24", "192.168.50.1", "lni.static.address", "network address"},
		{"192.168.50.255/24", "192.168.50.1", "lni.static.address", "broadcast address"},
		{"192.168.50.20/24", "192.168.50.0", "lni.static.gateway", "network address"},
		{"192.168.50.20/24", "192.168.50.255", "lni.static.gateway", "broadcast address"},
		{"192.168.50.20/24", "192.168.51.1", "lni.static.gateway", "inside 192.168.50.0/24"},
		{"192.168.50.20/24", "fd00::1", "lni.static.gateway", "not an IPv4 address"},
		{"192.168.50.20/7", "192.168.50.1", "lni.static.address", "/8 to /30"},
		{"192.168.50.20/31", "192.168.50.21", "lni.static.address", "/8 to /30"},
	} {
		t.Run(c.addr+" "+c.gw, func(t *testing.T) {
			doc := repl(t, baseGeneric, "192.168.50.20/24", c.addr)
			doc = repl(t, doc, "gateway: 192.168.50.1\n", "gateway: "+c.gw+"\n")
			expect(t, doc, c.field, c.words)
		})
	}
	// The edges that are valid: /8 and /30, and the first and last host addresses.
	for _, a := range []string{"10.0.0.1/8", "192.168.50.1/30", "192.168.50.254/24"} {
		doc := repl(t, baseGeneric, "192.168.50.20/24", a)
		doc = repl(t, doc, "    gateway: 192.168.50.1\n", "")
		doc = repl(t, doc, `portals: ["192.168.50.10:3260", "192.168.50.11"]`, `portals: ["10.9.9.9"]`)
		doc = repl(t, doc, `portals: ["192.168.50.10"]`, `portals: ["10.9.9.9"]`)
		require.Empty(t, problems(t, doc), a)
	}
}

// Issue 9 item 8: ARNs with a made-up partition or Region.
func TestARNPartitionAndRegion(t *testing.T) {
	const good = "arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/chap-AbCdEf"
	for _, c := range []struct{ arn, words string }{
		{"arn:aws-made-up:secretsmanager:us-west-2:123456789012:secret:x", "partition"},
		{"arn:aws:secretsmanager:xx-east-1:123456789012:secret:x", "not an AWS Region"},
		{"arn:aws:secretsmanager:us-gov-west-1:123456789012:secret:x", "partition aws-us-gov"},
		{"arn:aws-cn:secretsmanager:us-west-2:123456789012:secret:x", "partition aws, not aws-cn"},
	} {
		expect(t, repl(t, baseGeneric, good, c.arn), "storage.boot.chap_secret_arn", c.words)
	}
	for _, ok := range []string{"arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x"} {
		require.Empty(t, problems(t, repl(t, baseGeneric, good, ok)), ok)
	}
}

// Issue 9 items 8 and 14: the management endpoint.
func TestEndpoint(t *testing.T) {
	const ep = "https://ontap-cluster1.example.net"
	for _, c := range []struct{ endpoint, words string }{
		{"https://ontap-cluster1.example.net:0", "out of range"},
		{"https://ontap-cluster1.example.net:65536", "out of range"},
		{"https://ontap-cluster1.example.net:99999", "out of range"},
		{"https://ontap-cluster1.example.net:0443", "out of range"},
		{"https://ontаp-cluster1.example.net", "not plain ASCII"},  // Cyrillic а
		{"https://ontap\u200b-cluster1.example.net", "zero-width"}, // zero-width space
		{"https://ontap\u202e-cluster1.example.net", "bidi"},       // right-to-left override
		{"https://ontap_cluster1.example.net", "not a valid host name"},
		{"https://10.20.30.300", "not a valid IPv4 address"},
		{"https://255.255.255.255", "not a unicast"},
		{"http://ontap-cluster1.example.net", "https"},
		{"https://ontap-cluster1.example.net/api", "path"},
		{"https://ontap-cluster1.example.net#x", "fragment"},
	} {
		t.Run(c.endpoint, func(t *testing.T) {
			expect(t, repl(t, baseONTAP, ep, c.endpoint), "storage.management.endpoint", c.words)
		})
	}
	label := func(n int) string { return strings.Repeat("a", n) }
	host253 := label(63) + "." + label(63) + "." + label(63) + "." + label(61)
	require.Empty(t, problems(t, repl(t, baseONTAP, ep, "https://"+host253)))
	expect(t, repl(t, baseONTAP, ep, "https://"+host253+"a"), "storage.management.endpoint", "longer than 253")
	expect(t, repl(t, baseONTAP, ep, "https://"+label(64)+".example.net"), "storage.management.endpoint", "not a valid host name")
	expect(t, repl(t, baseONTAP, ep, "https://a~b.example.net"), "storage.management.endpoint", "not a valid host name")
	expect(t, repl(t, baseONTAP, ep, "https://a!b.example.net"), "storage.management.endpoint", "not a valid host name")
	expect(t, repl(t, baseONTAP, ep, "https://a b.example.net"), "storage.management.endpoint", "not plain ASCII")
	expect(t, repl(t, baseONTAP, ep, "https://#@x"), "storage.management.endpoint", "fragment")
	expect(t, repl(t, baseONTAP, ep, "https://[fd00::5"), "storage.management.endpoint", "not an https://host[:port] URL")
	expect(t, repl(t, baseONTAP, ep, "https://[::1]"), "storage.management.endpoint", "not a unicast")
	expect(t, repl(t, baseONTAP, ep, "https://ontap-cluster1.example.net?x=1"), "storage.management.endpoint", "path or query")
	expect(t, repl(t, baseONTAP, ep, "'https://ontap-cluster1.example.net:'"), "storage.management.endpoint", "out of range")
	for _, ok := range []string{"https://ontap-cluster1.example.net/", "https://ontap-cluster1.example.net:1", "https://ontap-cluster1.example.net:65535", "https://10.0.0.5", "https://[fd00::5]:8443", "https://xn--ontp-cluster-p5a.example.net"} {
		require.Empty(t, problems(t, repl(t, baseONTAP, ep, ok)), ok)
	}
	// A secret in the user info or the fragment is refused and never echoed.
	for _, bad := range []string{"https://admin:hunter2@ontap-cluster1.example.net", "https://hunter2@ontap-cluster1.example.net", "https://ontap-cluster1.example.net#hunter2", "https://ontap-cluster1.example.net/#token=hunter2"} {
		ps := problems(t, repl(t, baseONTAP, ep, bad))
		require.NotEmpty(t, ps, bad)
		assert.Equal(t, "storage.management.endpoint", ps[0].Field)
		assert.NotContains(t, ps.Error(), "hunter2", bad)
	}
}

// Issue 10 item 4: a Region that is not a real AWS Region is refused.
func TestRegionIsReal(t *testing.T) {
	expect(t, repl(t, baseGeneric, "region: us-west-2", "region: xx-east-1"), "region", "not an AWS Region")
	expect(t, repl(t, baseGeneric, "region: us-west-2", "region: us-wset-2"), "region", "did you mean us-west-2?")
	for _, r := range []string{"us-gov-west-1", "cn-northwest-1", "ap-southeast-7", "mx-central-1", "eu-isoe-west-1"} {
		require.Empty(t, problems(t, repl(t, baseGeneric, "region: us-west-2", "region: "+r)), r)
	}
	require.NoError(t, spec.ValidateRegion("eu-west-1"))
	err := spec.ValidateRegion("xx-east-1")
	var fe *spec.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Message, "not an AWS Region")
}

// Issue 10 item 8: messages name the subject once, with one fix, in the answers file's terms.
func TestMessages(t *testing.T) {
	portal := func(p string) string {
		return repl(t, baseGeneric, `portals: ["192.168.50.10:3260", "192.168.50.11"]`, `portals: ["`+p+`"]`)
	}
	p := expect(t, portal("10.20.30.300"), "storage.boot.portals[0]", "not a valid IPv4 address")
	assert.NotContains(t, p.String(), "bracket")
	expect(t, portal("10.20.30.3:70000"), "storage.boot.portals[0]", "out of range", "1-65535")
	expect(t, portal("10.20.30.3:0"), "storage.boot.portals[0]", "out of range")
	expect(t, portal("san1.example.net"), "storage.boot.portals[0]", "host name", "only IP literals work at boot")
	expect(t, portal("san1.example.net:3260"), "storage.boot.portals[0]", "host name")

	// Vendor-specific advice only for that vendor.
	expect(t, repl(t, baseONTAP, "volume: /vol/erp01_boot/lun0", "volume: erp01_boot"), "storage.boot.volume", "/vol/VOLUME/LUN")
	pure := repl(t, baseONTAP, "vendor: ontap", "vendor: alletra")
	pure = repl(t, pure, "    svm: svm_san1\n", "")
	require.Empty(t, problems(t, repl(t, pure, "/vol/erp01_boot/lun0", "erp01-boot")))
	p = expect(t, repl(t, pure, "    volume: /vol/erp01_boot/lun0\n", "    volume: \"\"\n"), "storage.boot.volume", "is empty")
	assert.NotContains(t, p.String(), "ONTAP")
	assert.NotContains(t, p.String(), "/vol/")

	// An unknown vendor is one problem, with no knock-on errors.
	ps := problems(t, repl(t, baseONTAP, "vendor: ontap", "vendor: netapp"))
	require.Len(t, ps, 1, "%v", ps)
	assert.Equal(t, "storage.vendor", ps[0].Field)
	ps = problems(t, repl(t, baseGeneric, "protocol: iscsi", "protocol: fc"))
	require.Len(t, ps, 1, "%v", ps)

	// YAML problems in the answers file's language.
	p = expect(t, repl(t, baseGeneric, "    portals:", "    portal:"), "storage.boot.portal", "not a key", "did you mean `portals`?")
	assert.NotContains(t, p.String(), "spec.Volume")
	expect(t, repl(t, baseGeneric, "  primary_subnet:", "  primary_subnte:"), "outposts.primary_subnte", "did you mean `primary_subnet`?")
	expect(t, repl(t, baseGeneric, "workload: db01\n", "workload: db01\nportals: [\"1.2.3.4\"]\n"), "portals", "belongs under storage.boot")
	expect(t, repl(t, baseGeneric, "  vendor: generic\n", "\tvendor: generic\n"), "(file)", "line 5", "tabs are not allowed for indentation, use spaces")
	expect(t, repl(t, baseGeneric, `portals: ["192.168.50.10:3260", "192.168.50.11"]`, `portals: "192.168.50.10"`), "storage.boot.portals", "must be a list")
	expect(t, repl(t, baseGeneric, "  vendor: generic\n", "  vendor: [generic]\n"), "storage.vendor", "must be text")
	expect(t, repl(t, baseGeneric, "  static:\n", "  static: yes\n  x:\n"), "lni.static", "must be a mapping")
	expect(t, repl(t, baseGeneric, "workload: db01\n", "workload: db01\nworkload: db02\n"), "workload", "twice", "lines 1 and 2")

	// Every message names its subject once: never the field path again, never "fix:" twice.
	cases := []string{portal("10.20.30.300"), portal("10.20.30.3:70000"), portal("san1.example.net"), repl(t, baseGeneric, "region: us-west-2", "region: xx-east-1")}
	for _, doc := range cases {
		for _, p := range problems(t, doc) {
			assert.NotContains(t, p.Message, p.Field)
			assert.NotContains(t, p.Message, "portal \"", "the message repeats the subject: %s", p)
			assert.NotEmpty(t, p.Fix, "%s has no fix", p)
			assert.Equal(t, 1, strings.Count(p.String(), "fix:"), "%s", p)
		}
	}
}

// Issue 9 item 9: a bad value is echoed only as a short prefix.
func TestShortEcho(t *testing.T) {
	long := strings.Repeat("z", 5000)
	for _, c := range []struct{ old, field string }{
		{"type: c6id.2xlarge", "instance.type"},
		{"workload: db01", "workload"},
		{"region: us-west-2", "region"},
		{"notification_email: oncall@example.com", "failover.notification_email"},
		{"uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01", "identity.uuid"},
		{"target: iqn.2003-01.org.linux-iscsi.san1:boot-db01", "storage.boot.target"},
		{`"192.168.50.11"`, "storage.boot.portals[1]"},
		{"arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/chap-AbCdEf", "storage.boot.chap_secret_arn"},
	} {
		key, _, _ := strings.Cut(c.old, ": ")
		val := key + ": " + long
		if strings.HasPrefix(c.old, `"`) {
			val = `"` + long + `"`
		}
		if strings.HasPrefix(c.old, "arn:") {
			val = "arn:aws:secretsmanager:us-west-2:123456789012:secret:" + long + "%"
		}
		p := expect(t, repl(t, baseGeneric, c.old, val), c.field)
		assert.Less(t, len(p.String()), 600, "%s echoes too much: %d bytes", c.field, len(p.String()))
	}
}

// Issue 11: each vendor's LUN range, inside what the SAN URI carries.
func TestVendorLUNRanges(t *testing.T) {
	lun := func(vendor string, n int) string {
		doc := repl(t, baseONTAP, "vendor: ontap", "vendor: "+vendor)
		return repl(t, doc, "    volume: /vol/erp01_boot/lun0\n", fmt.Sprintf("    volume: /vol/erp01_boot/lun0\n    lun: %d\n", n))
	}
	for _, c := range []struct {
		vendor string
		lo, hi int
	}{
		{"ontap", 0, 4095},
		{"pure", 1, 4095},
		{"alletra", 0, 16383},
		{"powerstore", 0, sanboot.MaxSANLUN},
	} {
		t.Run(c.vendor, func(t *testing.T) {
			assert.Empty(t, problemsOn(t, lun(c.vendor, c.lo), "storage.boot.lun"))
			assert.Empty(t, problemsOn(t, lun(c.vendor, c.hi), "storage.boot.lun"))
			expect(t, lun(c.vendor, c.hi+1), "storage.boot.lun", "out of range", fmt.Sprintf("%d-%d", c.lo, c.hi))
			if c.lo > 0 {
				expect(t, lun(c.vendor, c.lo-1), "storage.boot.lun", "out of range")
			}
		})
	}
}

// Issue 9 items 21: the off-by-one at every limit of the answers file.
func TestLimits(t *testing.T) {
	lun := func(n int) string { return repl(t, baseGeneric, "    lun: 1\n", fmt.Sprintf("    lun: %d\n", n)) }
	require.Empty(t, problems(t, lun(0)))
	require.Empty(t, problems(t, lun(4095)))
	require.Empty(t, problems(t, lun(sanboot.MaxSANLUN)), "the generic vendor takes what the SAN URI carries")
	expect(t, lun(sanboot.MaxSANLUN+1), "storage.boot.lun", "out of range", "0-16383")
	expect(t, lun(-1), "storage.boot.lun", "out of range")

	portals := func(n int) string {
		ps := make([]string, n)
		for i := range ps {
			ps[i] = fmt.Sprintf(`"192.168.50.%d"`, 100+i)
		}
		return repl(t, baseGeneric, `portals: ["192.168.50.10:3260", "192.168.50.11"]`, "portals: ["+strings.Join(ps, ", ")+"]")
	}
	// A BIOS boot (no uefi_filename) fits two paths in the iBFT, and no third.
	require.Empty(t, problems(t, portals(2)))
	expect(t, portals(3), "storage.boot.portals", "lists 3 portals", "iBFT of at most 768 bytes", "list at most 2 boot portals")
	uefi := func(n int) string {
		return repl(t, portals(n), "guest_os: linux\n", "guest_os: linux\nboot:\n  uefi_filename: \\EFI\\redhat\\shimx64.efi\n")
	}
	require.Empty(t, problems(t, uefi(sanboot.MaxUEFIBootPaths)))
	expect(t, uefi(sanboot.MaxUEFIBootPaths+1), "storage.boot.portals", "UEFI SAN boot is proved with at most 4 paths")
	expect(t, portals(spec.MaxPortals+1), "storage.boot.portals", "lists 9 portals")

	data := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "    - target: iqn.2003-01.org.linux-iscsi.san1:data-db01\n      portals: [\"192.168.50.10\"]\n      lun: %d\n", 10+i)
		}
		return repl(t, baseGeneric, "    - target: iqn.2003-01.org.linux-iscsi.san1:data-db01\n      portals: [\"192.168.50.10\"]\n      lun: 2\n", b.String())
	}
	require.Empty(t, problems(t, data(spec.MaxDataVolumes)))
	expect(t, data(spec.MaxDataVolumes+1), "storage.data", "has 17 volumes")

	periods := func(n, dp int) string {
		s := fmt.Sprintf("  policy: confirmed\n  detection_periods: %d\n", n)
		if dp != 0 {
			s += fmt.Sprintf("  datapoints_to_alarm: %d\n", dp)
		}
		return repl(t, baseGeneric, "  policy: confirmed\n", s)
	}
	require.Empty(t, problems(t, periods(2, 0)))
	require.Empty(t, problems(t, periods(10, 0)))
	require.Empty(t, problems(t, periods(10, 10)))
	require.Empty(t, problems(t, periods(3, 1)))
	expect(t, periods(1, 0), "failover.detection_periods", "out of range")
	expect(t, periods(11, 0), "failover.detection_periods", "out of range")
	expect(t, periods(3, 4), "failover.datapoints_to_alarm", "between 1 and")
	expect(t, periods(3, -1), "failover.datapoints_to_alarm", "between 1 and")

	// 223-byte names: the longest valid target IQN passes, one byte more does not.
	prefix := "iqn.2003-01.org.linux-iscsi.san1:"
	iqn := func(n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	// (Under UEFI: a BIOS boot cannot carry so long a name in its iBFT at all.)
	uefiGeneric := repl(t, baseGeneric, "guest_os: linux\n", "guest_os: linux\nboot:\n  uefi_filename: \\EFI\\redhat\\shimx64.efi\n")
	require.Empty(t, problems(t, repl(t, uefiGeneric, "iqn.2003-01.org.linux-iscsi.san1:boot-db01", iqn(223))))
	expect(t, repl(t, uefiGeneric, "iqn.2003-01.org.linux-iscsi.san1:boot-db01", iqn(224)), "storage.boot.target", "224 bytes")
	expect(t, repl(t, baseGeneric, "iqn.2003-01.org.linux-iscsi.san1:boot-db01", iqn(223)), "storage.boot.portals", "iBFT", "shorten identity.iqn_authority, the workload name or the target name, or boot UEFI")

	// The answers file size: MaxAnswersSize passes the size check, one byte more does not.
	pad := func(n int) []byte {
		b := []byte(baseGeneric)
		return append(b, []byte("#"+strings.Repeat("x", n-len(b)-2)+"\n")...)
	}
	_, err := spec.Parse(pad(spec.MaxAnswersSize))
	require.NoError(t, err)
	_, err = spec.Parse(pad(spec.MaxAnswersSize + 1))
	var ps spec.Problems
	require.ErrorAs(t, err, &ps)
	assert.Contains(t, ps[0].Message, "the limit is")
}

// Issue 9 item 10: the bounded reader refuses what is not a regular file,
// before reading, and never blocks on a FIFO.
func TestReadRegularFile(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "a.yaml")
	require.NoError(t, os.WriteFile(ok, []byte("12345"), 0o600))
	got, err := spec.ReadRegularFile(ok, 5)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(got))
	_, err = spec.ReadRegularFile(ok, 4)
	require.ErrorIs(t, err, spec.ErrTooLarge)

	// A link to a regular file is followed.
	link := filepath.Join(dir, "link.yaml")
	require.NoError(t, os.Symlink(ok, link))
	_, err = spec.ReadRegularFile(link, 5)
	require.NoError(t, err)

	// A sparse 10 GB file is refused from its size, without reading it.
	sparse := filepath.Join(dir, "sparse")
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(10<<30))
	require.NoError(t, f.Close())
	_, err = spec.ReadRegularFile(sparse, spec.MaxAnswersSize)
	require.ErrorIs(t, err, spec.ErrTooLarge)

	// A FIFO with no writer: refused at once (a blocking open would hang here forever).
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	_, err = spec.ReadRegularFile(fifo, spec.MaxAnswersSize)
	require.ErrorIs(t, err, spec.ErrNotRegular)
	assert.Contains(t, err.Error(), "FIFO")

	for _, p := range []string{"/dev/zero", "/dev/null", dir} {
		_, err = spec.ReadRegularFile(p, spec.MaxAnswersSize)
		require.ErrorIs(t, err, spec.ErrNotRegular, p)
	}

	// The answers-file reader turns these into Problems (exit 2).
	_, err = spec.ReadAnswersFile(fifo)
	var ps spec.Problems
	require.ErrorAs(t, err, &ps)
	_, err = spec.ReadAnswersFile(sparse)
	require.ErrorAs(t, err, &ps)
	_, err = spec.ReadAnswersFile(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)

	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte(baseGeneric), 0o600))
	s, err := spec.LoadFile(good)
	require.NoError(t, err)
	assert.Equal(t, "db01", s.Workload)
}

// Inline secrets in the answers file itself, including behind an alias.
func TestInlineSecrets(t *testing.T) {
	for _, doc := range []string{
		repl(t, baseONTAP, "      env: ONTAP_PASSWORD\n", "      password: hunter2\n"),
		repl(t, baseONTAP, "      env: ONTAP_PASSWORD\n", "      api_token: hunter2\n"),
		"x: &x {password: hunter2}\n" + baseONTAP,
	} {
		ps := problems(t, doc)
		require.NotEmpty(t, ps)
		assert.Contains(t, ps.Error(), "secret inline")
		assert.NotContains(t, ps.Error(), "hunter2")
	}
}

// Aliases and merges in the answers file: a bomb is refused, a small merge works.
func TestAliases(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	ps := problems(t, bomb+baseGeneric)
	require.NotEmpty(t, ps)
	merged := repl(t, baseGeneric, "  data:\n    - target:", "  data:\n    - &d\n      target:")
	merged = repl(t, merged, "identity:\n", "    - <<: *d\n      lun: 3\nidentity:\n")
	require.Empty(t, problems(t, merged))
}

// Keys left empty take their defaults; they are not type errors.
func TestEmptyValuesAreDefaults(t *testing.T) {
	doc := repl(t, baseGeneric, "  instance_profile: oha-db01\n", "  instance_profile: oha-db01\n  key_pair: ~\n")
	doc = repl(t, doc, "  policy: confirmed\n", "  policy: confirmed\n  detection_periods:\n")
	s, err := spec.Parse([]byte(doc))
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	assert.Equal(t, spec.DefaultPeriods, s.Failover.DetectionPeriods)
}

// A YAML error without tabs says what YAML said, and nothing about tabs.
func TestYAMLErrorWithoutTabs(t *testing.T) {
	p := expect(t, repl(t, baseGeneric, "workload: db01\n", "workload: [db01\n"), "(file)", "is not valid YAML")
	assert.NotContains(t, p.String(), "tab")
	// A tab inside a value is not indentation.
	require.Empty(t, problems(t, repl(t, baseGeneric, "  policy: confirmed\n", "  policy: confirmed # a\tcomment\n")))
}

// Suggestions for unknown keys: close spellings only, else where the key
// belongs, else the keys that exist here.
func TestUnknownKeySuggestions(t *testing.T) {
	p := expect(t, repl(t, baseGeneric, "    lun: 1\n", "    lan: 1\n"), "storage.boot.lan", "did you mean `lun`?")
	p = expect(t, repl(t, baseGeneric, "    lun: 1\n", "    lxnx: 1\n"), "storage.boot.lxnx", "chap_secret_arn, lun, portal_targets, portals, target, volume")
	assert.NotContains(t, p.Fix, "did you mean")
	p = expect(t, repl(t, baseGeneric, "workload: db01\n", "workload: db01\nfoo: 1\n"), "foo", "the keys under the top level are boot, failover")
	assert.NotContains(t, p.Fix, "belongs under")
	expect(t, repl(t, baseGeneric, "  primary_subnet:", "  primary_subnetxy:"), "outposts.primary_subnetxy", "did you mean `primary_subnet`?")
	p = expect(t, repl(t, baseGeneric, "  primary_subnet:", "  primary_subnetxyz:"), "outposts.primary_subnetxyz", "the keys under outposts are")
	assert.Equal(t, []string{"storage.boot", "storage.data[]"}, spec.SchemaPaths("lun"))
	assert.Empty(t, spec.SchemaPaths("nothing"))
	assert.Contains(t, spec.SchemaKeys(), "storage.data[].chap_secret_arn")
	assert.NotContains(t, spec.SchemaKeys(), "storage.boot.portals[]")
}

// Line breaks and control characters are refused in every one-line field;
// cloud_config may hold line breaks and tabs, but no other control character.
func TestControlCharacters(t *testing.T) {
	for _, c := range []struct{ old, new, field, words string }{
		{"type: c6id.2xlarge", `type: "c6id.2xlarge\nreboot"`, "instance.type", "line break"},
		{"type: c6id.2xlarge", `type: "c6id.2xlarge\r"`, "instance.type", "line break"},
		{"type: c6id.2xlarge", `type: "c6id\u0000"`, "instance.type", "control character"},
		{"type: c6id.2xlarge", `type: "c6id\u2028x"`, "instance.type", "control character"},
		{`"192.168.50.11"`, `"192.168.50.11\u001b[2J"`, "storage.boot.portals[1]", "control character"},
		{"primary_subnet: subnet-0a1b2c3d4e5f60718", `primary_subnet: "subnet-0a1b2c3d4e5f60718\u0007"`, "outposts.primary_subnet", "control character"},
	} {
		ps := problems(t, repl(t, baseGeneric, c.old, c.new))
		require.Len(t, ps, 1, "%v", ps)
		assert.Equal(t, c.field, ps[0].Field)
		assert.Contains(t, ps[0].Message, c.words)
	}
	cc := baseGeneric + "guest:\n  cloud_config: \"#cloud-config\\nruncmd:\\n\\t- [ls]\\n\"\n"
	require.Empty(t, problems(t, strings.Replace(cc, `\t- [ls]`, `  - [ls] # a\ttab\r\n`, 1)))
	ps := problems(t, strings.Replace(cc, `\t- [ls]`, `  - [\u0007ls]`, 1))
	require.Len(t, ps, 1, "%v", ps)
	assert.Equal(t, "guest.cloud_config", ps[0].Field)
	assert.Contains(t, ps[0].Message, "control character")
}

// NVMe/TCP data volumes on Windows are refused; an NVMe/TCP Windows boot alone is not refused for that.
func TestWindowsNVMeData(t *testing.T) {
	doc := repl(t, baseGeneric, "guest_os: linux", "guest_os: windows")
	doc = repl(t, doc, "protocol: iscsi", "protocol: nvme-tcp")
	doc = strings.ReplaceAll(doc, "iqn.2003-01.org.linux-iscsi.san1:", "nqn.2003-01.org.linux-nvme.san1:")
	doc = repl(t, doc, "lni:\n  static:\n    address: 192.168.50.20/24\n    gateway: 192.168.50.1\n", "")
	expect(t, doc, "storage.data", "not supported on Windows")
	noData := repl(t, doc, "  data:\n    - target: nqn.2003-01.org.linux-nvme.san1:data-db01\n      portals: [\"192.168.50.10\"]\n      lun: 2\n", "")
	for _, p := range problems(t, noData) {
		assert.NotEqual(t, "storage.data", p.Field)
	}
}

// One change per case, every check of Validate: the package's own negative
// tests, so that a mutation run of internal/spec alone sees each check fail.
func TestEveryCheck(t *testing.T) {
	g, o := baseGeneric, baseONTAP
	const ontapEnv = "      env: ONTAP_PASSWORD\n"
	pure := repl(t, repl(t, repl(t, o, "vendor: ontap", "vendor: pure"), "    username: oha-svc\n", ""), "    svm: svm_san1\n", "")
	cases := []struct {
		name, doc, field, words string
	}{
		{"empty workload", repl(t, g, "workload: db01", "workload: ''"), "workload", "empty"},
		{"bad workload", repl(t, g, "workload: db01", "workload: Db01"), "workload", "use lowercase"},
		{"empty region", repl(t, g, "region: us-west-2", "region: ''"), "region", "is empty"},
		{"bad guest os", repl(t, g, "guest_os: linux", "guest_os: plan9"), "guest_os", "linux or windows"},
		{"two credential sources: secret_arn and env", repl(t, o, ontapEnv, ontapEnv+"      secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:x\n"), "storage.management.credentials", "more than one"},
		{"two credential sources: env and prompt", repl(t, o, ontapEnv, ontapEnv+"      prompt: true\n"), "storage.management.credentials", "more than one"},
		{"two credential sources: secret_arn and prompt", repl(t, o, ontapEnv, "      prompt: true\n      secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:x\n"), "storage.management.credentials", "more than one"},
		{"no credential source", repl(t, o, ontapEnv, "      prompt: false\n"), "storage.management.credentials", "names no credential source"},
		{"bad credential arn", repl(t, o, ontapEnv, "      secret_arn: arn:aws:s3:::x\n"), "storage.management.credentials.secret_arn", "Secrets Manager ARN"},
		{"bad env name", repl(t, o, ontapEnv, "      env: array_password\n"), "storage.management.credentials.env", "environment variable"},
		{"no management", repl(t, o, "  management:\n    endpoint: https://ontap-cluster1.example.net\n    username: oha-svc\n    credentials:\n"+ontapEnv+"    svm: svm_san1\n", ""), "storage.management", "is missing"},
		{"empty endpoint", repl(t, o, "endpoint: https://ontap-cluster1.example.net", "endpoint: ''"), "storage.management.endpoint", "is empty"},
		{"missing username", repl(t, o, "    username: oha-svc\n", ""), "storage.management.username", "is empty"},
		{"bad username", repl(t, o, "username: oha-svc", "username: 'oha svc'"), "storage.management.username", "characters arrays do not accept"},
		{"pure with username", repl(t, pure, "    credentials:\n", "    username: x\n    credentials:\n"), "storage.management.username", "not used by Pure"},
		{"missing svm", repl(t, o, "    svm: svm_san1\n", ""), "storage.management.svm", "storage VM"},
		{"bad svm", repl(t, o, "svm: svm_san1", "svm: 'svm san1'"), "storage.management.svm", "not an SVM name"},
		{"svm on pure", repl(t, pure, "    credentials:\n", "    svm: x\n    credentials:\n"), "storage.management.svm", "only applies to NetApp ONTAP"},
		{"generic with management", repl(t, g, "  protocol: iscsi\n", "  protocol: iscsi\n  management:\n    endpoint: https://a.example.net\n"), "storage.management", "no management API"},
		{"generic with volume", repl(t, g, "    lun: 1\n", "    lun: 1\n    volume: x\n"), "storage.boot.volume", "not used by the generic vendor"},
		{"generic without target", repl(t, g, "    target: iqn.2003-01.org.linux-iscsi.san1:boot-db01\n", ""), "storage.boot.target", "is empty"},
		{"generic without portals", repl(t, g, `    portals: ["192.168.50.10:3260", "192.168.50.11"]`+"\n", ""), "storage.boot.portals", "is empty"},
		{"generic without lun", repl(t, g, "    lun: 1\n", ""), "storage.boot.lun", "is missing"},
		{"bad volume name", repl(t, pure, "/vol/erp01_boot/lun0", "erp01 boot"), "storage.boot.volume", "characters array volume names cannot have"},
		{"ONTAP path too deep", repl(t, o, "/vol/erp01_boot/lun0", "/vol/a/b/c/d"), "storage.boot.volume", "/vol/VOLUME/LUN"},
		{"bad IQN", repl(t, g, "iqn.2003-01.org.linux-iscsi.san1:boot-db01", "iqn.2003-13.org.x:y"), "storage.boot.target", "iqn.YYYY-MM"},
		{"uppercase IQN", repl(t, g, "iqn.2003-01.org.linux-iscsi.san1:boot-db01", "iqn.2003-01.org.Linux:y"), "storage.boot.target", "lowercase"},
		{"NQN on iscsi", repl(t, g, "iqn.2003-01.org.linux-iscsi.san1:boot-db01", "nqn.2003-01.org.x:y"), "storage.boot.target", "set protocol: nvme-tcp"},
		{"duplicate portal", repl(t, g, `"192.168.50.11"]`, `"192.168.50.10"]`), "storage.boot.portals[1]", "repeats portal 0"},
		{"bad chap arn", repl(t, g, "chap_secret_arn: arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/chap-AbCdEf", "chap_secret_arn: x"), "storage.boot.chap_secret_arn", "Secrets Manager ARN"},
		{"bad uuid", repl(t, g, "uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01", "uuid: x"), "identity.uuid", "not a UUID"},
		{"uuid without dashes", repl(t, g, "uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01", "uuid: 2f0e4c559b3a4c1e8d7a5a6b7c8d9e01"), "identity.uuid", "not a UUID"},
		{"nil uuid", repl(t, g, "uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01", "uuid: 00000000-0000-0000-0000-000000000000"), "identity.uuid", "nil UUID"},
		{"uppercase uuid", repl(t, g, "uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01", "uuid: 2F0E4C55-9b3a-4c1e-8d7a-5a6b7c8d9e01"), "identity.uuid", "lowercase"},
		{"bad iqn authority", repl(t, g, "identity:\n", "identity:\n  iqn_authority: iqn.2024-01.example:x\n"), "identity.iqn_authority", "iqn.YYYY-MM"},
		{"empty subnet", repl(t, g, "primary_subnet: subnet-0a1b2c3d4e5f60718", "primary_subnet: ''"), "outposts.primary_subnet", "is empty"},
		{"bad subnet", repl(t, g, "secondary_subnet: subnet-0f1e2d3c4b5a69788", "secondary_subnet: sn-1"), "outposts.secondary_subnet", "not a subnet ID"},
		{"same subnet", repl(t, g, "secondary_subnet: subnet-0f1e2d3c4b5a69788", "secondary_subnet: subnet-0a1b2c3d4e5f60718"), "outposts.secondary_subnet", "N+1 needs two servers"},
		{"bad outpost", repl(t, g, "  secondary_subnet: subnet-0f1e2d3c4b5a69788\n", "  secondary_subnet: subnet-0f1e2d3c4b5a69788\n  secondary_outpost: op-1\n"), "outposts.secondary_outpost", "Outpost ID"},
		{"same outpost", repl(t, g, "  secondary_subnet: subnet-0f1e2d3c4b5a69788\n", "  secondary_subnet: subnet-0f1e2d3c4b5a69788\n  primary_outpost: op-0123456789abcdef0\n  secondary_outpost: op-0123456789abcdef0\n"), "outposts.secondary_outpost", "same Outpost"},
		{"automatic without primary outpost", repl(t, g, "  policy: confirmed\n", "  policy: automatic\n  automatic_risk_acknowledgement: \""+spec.AutomaticAck+"\"\n"), "outposts.primary_outpost", "required by the automatic policy"},
		{"empty instance type", repl(t, g, "type: c6id.2xlarge", "type: ''"), "instance.type", "is empty"},
		{"bad instance type", repl(t, g, "type: c6id.2xlarge", "type: huge"), "instance.type", "not an EC2 instance type"},
		{"bad ami", repl(t, g, "helper_ami: ami-0123456789abcdef0", "helper_ami: ipxe"), "instance.helper_ami", "AMI ID"},
		{"bad security group", repl(t, g, "security_group: sg-0123456789abcdef0", "security_group: default"), "instance.security_group", "security group ID"},
		{"bad profile", repl(t, g, "instance_profile: oha-db01", "instance_profile: 'a b'"), "instance.instance_profile", "instance profile name"},
		{"bad key pair", repl(t, g, "  instance_profile: oha-db01\n", "  instance_profile: oha-db01\n  key_pair: 'a\"b'\n"), "instance.key_pair", "key pair name"},
		{"gateway outside subnet", repl(t, g, "gateway: 192.168.50.1", "gateway: 10.0.0.1"), "lni.static.gateway", "give the SAN VLAN's gateway"},
		{"role too long", repl(t, g, "  instance_profile: oha-db01\n", "  instance_profile: oha-db01\n  instance_profile_role: "+strings.Repeat("r", 65)+"\n"), "instance.instance_profile_role", "at most 64"},
		{"bad role", repl(t, g, "  instance_profile: oha-db01\n", "  instance_profile: oha-db01\n  instance_profile_role: 'a b'\n"), "instance.instance_profile_role", "IAM role name"},
		{"profile too long without role", repl(t, g, "instance_profile: oha-db01", "instance_profile: "+strings.Repeat("p", 65)), "instance.instance_profile_role", "longer than a role name"},
		{"dhcp timeout with static", repl(t, g, "lni:\n", "lni:\n  dhcp_timeout: 5s\n"), "lni.dhcp_timeout", "together with lni.static"},
		{"bad static address", repl(t, g, "address: 192.168.50.20/24", "address: 192.168.50.20"), "lni.static.address", "not an IPv4 address with a prefix"},
		{"IPv6 static address", repl(t, g, "address: 192.168.50.20/24", "address: fd00::5/64"), "lni.static.address", "not an IPv4 address with a prefix"},
		{"bad uefi path", repl(t, g, "failover:\n", "boot:\n  uefi_filename: 'EFI/x'\nfailover:\n"), "boot.uefi_filename", "UEFI path"},
		{"bad policy", repl(t, g, "policy: confirmed", "policy: yolo"), "failover.policy", "confirmed"},
		{"automatic without acknowledgement", repl(t, g, "policy: confirmed", "policy: automatic"), "failover.automatic_risk_acknowledgement", "to accept, set it to exactly"},
		{"acknowledgement without automatic", repl(t, g, "  policy: confirmed\n", "  policy: confirmed\n  automatic_risk_acknowledgement: \""+spec.AutomaticAck+"\"\n"), "failover.automatic_risk_acknowledgement", "policy is not automatic"},
		{"empty email", repl(t, g, "notification_email: oncall@example.com", "notification_email: ''"), "failover.notification_email", "is empty"},
		{"bad email", repl(t, g, "notification_email: oncall@example.com", "notification_email: 'Ops <o@example.com>'"), "failover.notification_email", "plain email"},
		{"cloud_config on windows", repl(t, repl(t, g, "guest_os: linux", "guest_os: windows"), "failover:\n", "guest:\n  cloud_config: 'a: 1'\nfailover:\n"), "guest.cloud_config", "not run on Windows"},
		{"cloud_config not a mapping", g + "guest:\n  cloud_config: just text\n", "guest.cloud_config", "not a YAML mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expect(t, c.doc, c.field, c.words) })
	}
	// Name length edges: a 64-character role, or a 64-character profile without a role, pass.
	require.Empty(t, problems(t, repl(t, g, "  instance_profile: oha-db01\n", "  instance_profile: oha-db01\n  instance_profile_role: "+strings.Repeat("r", 64)+"\n")))
	require.Empty(t, problems(t, repl(t, g, "instance_profile: oha-db01", "instance_profile: "+strings.Repeat("p", 64))))
	// Checks that apply to LocalBoot (NVMe/TCP) only.
	nv := repl(t, g, "protocol: iscsi", "protocol: nvme-tcp")
	nv = strings.ReplaceAll(nv, "iqn.2003-01.org.linux-iscsi.san1:", "nqn.2003-01.org.linux-nvme.san1:")
	nv = repl(t, nv, "    lun: 1\n", "    lun: 0\n")
	expect(t, nv, "storage.boot.lun", "namespace ID in 1-4095")
	expect(t, nv, "lni.static", "only applies to iSCSI SAN boot")
	nv = repl(t, nv, "lni:\n  static:\n    address: 192.168.50.20/24\n    gateway: 192.168.50.1\n", "")
	nv = repl(t, nv, "    lun: 0\n", "    lun: 1\n")
	require.Empty(t, problems(t, nv))
	expect(t, repl(t, nv, "nqn.2003-01.org.linux-nvme.san1:boot-db01", "iqn.2003-01.org.x:y"), "storage.boot.target", "is an IQN, but storage.protocol is nvme-tcp")
	p := expect(t, repl(t, nv, "nqn.2003-01.org.linux-nvme.san1:boot-db01", "nqn.2003-01.org.X:y"), "storage.boot.target", "uppercase")
	assert.Equal(t, "write it in lowercase", p.Fix)
	p = expect(t, repl(t, nv, "nqn.2003-01.org.linux-nvme.san1:boot-db01", "nqn.2003-13.org.x:y"), "storage.boot.target", "nqn.YYYY-MM")
	assert.Equal(t, "give the subsystem NQN the array reports", p.Fix)
	expect(t, nv+"boot:\n  uefi_filename: '\\EFI\\x.efi'\n", "boot.uefi_filename", "only applies to iSCSI SAN boot")
	expect(t, nv+"guest:\n  cloud_config: 'a: 1'\n", "guest.cloud_config", "would also run on the LocalBoot helper")
	// DHCP timeout limits: 1s and 10m pass, just outside does not.
	dh := repl(t, g, "lni:\n  static:\n    address: 192.168.50.20/24\n    gateway: 192.168.50.1\n", "lni:\n  dhcp_timeout: X\n")
	for _, ok := range []string{"1s", "10m"} {
		require.Empty(t, problems(t, strings.Replace(dh, "X", ok, 1)), ok)
	}
	for _, bad := range []string{"999ms", "10m1s"} {
		expect(t, strings.Replace(dh, "X", bad, 1), "lni.dhcp_timeout", "out of range")
	}
	expect(t, strings.Replace(dh, "X", "soon", 1), "lni.dhcp_timeout", "not a duration")
	// Problems print as field: message (fix: ...), and Fields lists them.
	ps := problems(t, repl(t, g, "workload: db01", "workload: ''"))
	assert.Equal(t, []string{"workload"}, ps.Fields())
	assert.True(t, strings.HasPrefix(ps.Error(), "the answers have 1 problem(s):\n  - workload: is empty (fix: "), ps.Error())
	assert.Equal(t, "x: y", spec.Problem{Field: "x", Message: "y"}.String())
}

// The expected type is named in the answers file's words.
func TestExpectedTypes(t *testing.T) {
	g, o := baseGeneric, baseONTAP
	for _, c := range []struct{ doc, field, words string }{
		{repl(t, g, "    lun: 1\n", "    lun: [1]\n"), "storage.boot.lun", "is a list but must be a whole number"},
		{repl(t, g, "    lun: 1\n", "    lun: 1.5\n"), "storage.boot.lun", "plain decimal"},
		{repl(t, o, "      env: ONTAP_PASSWORD\n", "      prompt: yes\n"), "storage.management.credentials.prompt", "is text but must be true or false"},
		{repl(t, o, "      env: ONTAP_PASSWORD\n", "      prompt: 1\n"), "storage.management.credentials.prompt", "is a number but must be true or false"},
		{repl(t, o, "      env: ONTAP_PASSWORD\n", "      prompt: {a: 1}\n"), "storage.management.credentials.prompt", "is a mapping but must be true or false"},
		{repl(t, g, "lni:\n  static:\n    address: 192.168.50.20/24\n    gateway: 192.168.50.1\n", "lni: true\n"), "lni", "is true/false but must be a mapping of keys"},
		{repl(t, g, "workload: db01", "workload: {a: 1}"), "workload", "is a mapping but must be text"},
		{repl(t, g, "  data:\n", "  data: 3\n  x:\n"), "storage.data", "is a number but must be a list"},
		{repl(t, g, "    lun: 1\n", "    ? [a]\n    : 1\n"), "storage.boot", "has a key that is a list"},
		{repl(t, g, "    lun: 1\n", "    lun: 1\n    <<: 5\n"), "(file)", "is not valid YAML: map merge requires map"},
		{"- a\n- b\n", "(file)", "is a list but must be a mapping of keys"},
	} {
		expect(t, c.doc, c.field, c.words)
	}
	// A merge of a list of mappings applies each; the explicit key wins.
	m := repl(t, g, "identity:\n", "x_defaults: &p {portals: [\"192.168.50.10\"]}\nidentity:\n")
	ps := problems(t, m)
	require.NotEmpty(t, ps)
	assert.Equal(t, "x_defaults", ps[0].Field)
	merged := repl(t, g, "  data:\n    - target:", "  data:\n    - &d\n      target:")
	merged = repl(t, merged, "identity:\n", "    - <<: [*d]\n      lun: 3\nidentity:\n")
	require.Empty(t, problems(t, merged))
	expect(t, repl(t, merged, "      lun: 3\n", "      lun: 3\n      lum: 4\n"), "storage.data[1].lum", "did you mean `lun`?")
}

func TestFieldValidators(t *testing.T) {
	require.NoError(t, spec.ValidateEndpoint("https://array1.example.net"))
	err := spec.ValidateEndpoint("https://admin:hunter2@array1.example.net")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Contains(t, err.Error(), "is not shown): remove user:password@")
	require.NoError(t, spec.ValidatePortal("192.168.50.10"))
	require.NoError(t, spec.ValidatePortal("[fd00::1]:4420"))
	err = spec.ValidatePortal("10.20.30.300")
	var fe *spec.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, `"10.20.30.300" is not a valid IPv4 address`, fe.Message)
	assert.Contains(t, fe.Fix, "IP[:port]")
	assert.Equal(t, fe.Message+": "+fe.Fix, err.Error())
	assert.Equal(t, "m", (&spec.FieldError{Message: "m"}).Error())
}

func TestReadRegularFileKinds(t *testing.T) {
	dir := t.TempDir()
	_, err := spec.ReadRegularFile(filepath.Join(dir, "missing"), 10)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = spec.ReadRegularFile("/dev/null", 10)
	require.ErrorContains(t, err, "a character device")
	_, err = spec.ReadRegularFile(dir, 10)
	require.ErrorContains(t, err, "a folder")
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	_, err = spec.ReadRegularFile(sock, 10)
	require.ErrorContains(t, err, "a socket")
	// LoadFile reports parse and validation problems as Problems.
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("workload: [\n"), 0o600))
	_, err = spec.LoadFile(bad)
	var ps spec.Problems
	require.ErrorAs(t, err, &ps)
	require.NoError(t, os.WriteFile(bad, []byte(repl(t, baseGeneric, "workload: db01", "workload: ''")), 0o600))
	_, err = spec.LoadFile(bad)
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, "workload", ps[0].Field)
	_, err = spec.LoadFile(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// Issue 11: a target name per portal, for arrays that give each node or port
// its own IQN.
func TestPortalTargets(t *testing.T) {
	two := `portals: ["192.168.50.10:3260", "192.168.50.11"]`
	with := func(v string) string {
		return repl(t, baseGeneric, two, two+"\n    portal_targets: "+v)
	}
	require.Empty(t, problems(t, with(`[iqn.2003-01.org.linux-iscsi.san1:node-a, iqn.2003-01.org.linux-iscsi.san1:node-b]`)))
	expect(t, with(`[iqn.2003-01.org.linux-iscsi.san1:node-a]`), "storage.boot.portal_targets", "lists 1 names for 2 portals", "one target IQN per portal")
	expect(t, with(`[iqn.2003-01.org.linux-iscsi.san1:node-a, IQN.x]`), "storage.boot.portal_targets[1]", "uppercase")
	// The names count in the iBFT: long ones can make two BIOS paths too many.
	long := "iqn.2003-01.org.linux-iscsi.san1:" + strings.Repeat("n", 120)
	expect(t, with("["+long+"-a, "+long+"-b]"), "storage.boot.portals", "iBFT")
}
