// The step the AWS iPXE image takes before it runs user data, done in Go for
// the SAN boot lab: take the text/ipxe part out of multipart user data. The
// e2e test TestSANBootFromAWS uses it on the user data read back from EC2
// (moto). Its unit tests here have no build tag and no tools: they run in the
// ordinary `go test ./...` tier, against documents the real renderer
// (sanboot.UserData) writes and hand-written ones it must refuse. No fakes.

package sanlab_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/sanboot"
)

// ipxeMagic starts every script iPXE executes.
const ipxeMagic = "#!ipxe"

// ipxeFromUserData returns the iPXE script inside EC2 user data, exactly as
// the bytes stand, and says which form the user data had.
//
// Why this mirrors production, and is the only difference from it: a SAN-boot
// instance starts the AWS iPXE AMI, which reads the instance's user data and
// runs the part typed text/ipxe of a multipart document (the cloud-init part
// handler in the same document hides that part from the workload's OS, which
// reads the rest once the LUN has booted). A bare script (Windows guests, and
// plan before the multipart renderer) runs as it is. Upstream iPXE, which the
// lab boots, has no MIME parser: fed the whole document it would refuse it as
// not a script. So the lab does the image's one step here with the standard
// library, independent of the renderer under test, and boots the part's bytes
// unchanged.
//
// It is strict where the image's behaviour is unverified: exactly one
// text/ipxe part, and only identity transfer encodings (7bit, 8bit or none),
// so that the lab never boots bytes the image might read differently.
func ipxeFromUserData(ud []byte) (script []byte, form string, err error) {
	if bytes.HasPrefix(ud, []byte(ipxeMagic)) {
		return ud, "bare iPXE script", nil
	}
	msg, err := mail.ReadMessage(bytes.NewReader(ud))
	if err != nil {
		return nil, "", fmt.Errorf("user data is neither an iPXE script (no %s) nor a MIME document: %w", ipxeMagic, err)
	}
	ct := msg.Header.Get("Content-Type")
	if ct == "" {
		return nil, "", fmt.Errorf("user data is neither an iPXE script (no %s) nor a MIME document (no Content-Type)", ipxeMagic)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, "", fmt.Errorf("user data MIME content type: %w", err)
	}
	if !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return nil, "", fmt.Errorf("user data is MIME %q, not multipart with a boundary: no iPXE script in it", mt)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	var found [][]byte
	for i := 1; ; i++ {
		// NextRawPart: the body as written, never decoded behind our back.
		p, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("user data part %d: %w", i, err)
		}
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return nil, "", fmt.Errorf("user data part %d content type: %w", i, err)
		}
		types = append(types, ct)
		if ct != sanboot.TypeIPXE {
			continue
		}
		switch cte := strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))); cte {
		case "", "7bit", "8bit":
		default:
			return nil, "", fmt.Errorf("user data part %d (%s) has transfer encoding %q: the lab boots only parts the image reads as they stand", i, ct, cte)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return nil, "", fmt.Errorf("user data part %d: %w", i, err)
		}
		found = append(found, body)
	}
	form = fmt.Sprintf("multipart, %d parts: %s", len(types), strings.Join(types, ", "))
	if len(found) != 1 {
		return nil, form, fmt.Errorf("user data has %d %s parts, want exactly one (%s)", len(found), sanboot.TypeIPXE, form)
	}
	if !bytes.HasPrefix(found[0], []byte(ipxeMagic)) {
		return nil, form, fmt.Errorf("the %s part does not start with %s", sanboot.TypeIPXE, ipxeMagic)
	}
	return found[0], form, nil
}

func TestIPXEFromUserData(t *testing.T) {
	iqn, err := sanboot.InitiatorIQN("", "fromaws", uuid.New())
	require.NoError(t, err)
	boot := sanboot.IPXE{
		InitiatorIQN: iqn,
		TargetIQN:    "iqn.2026-11.test.outposts-ha:fromaws",
		Portals:      []sanboot.Portal{{Addr: netip.MustParseAddr("10.0.2.2"), Port: 3260}},
		LUN:          12,
		LNI:          &sanboot.LNI{Index: 1},
	}
	script, err := sanboot.RenderIPXE(boot)
	require.NoError(t, err)

	t.Run("linux user data from the real renderer", func(t *testing.T) {
		res, err := sanboot.UserData(sanboot.UserDataSpec{Guest: sanboot.Linux, IPXE: &boot, Extra: []sanboot.Part{
			{ContentType: sanboot.TypeCloudConfig, Filename: "site.yaml", Content: []byte("#cloud-config\nruncmd:\n  - [echo, " + ipxeMagic + "]\n")},
			{ContentType: sanboot.TypeShellScript, Filename: "site.sh", Content: []byte("#!/bin/sh\necho '" + ipxeMagic + "'\n")},
		}})
		require.NoError(t, err)
		require.False(t, bytes.HasPrefix(res.UserData, []byte(ipxeMagic)), "a Linux guest gets multipart user data")
		got, form, err := ipxeFromUserData(res.UserData)
		require.NoError(t, err)
		assert.Equal(t, string(script), string(got), "the part must be RenderIPXE's bytes, unchanged")
		assert.Contains(t, form, "multipart, 4 parts: "+sanboot.TypePartHandler+", "+sanboot.TypeIPXE+", ")
	})
	t.Run("windows user data is the bare script", func(t *testing.T) {
		res, err := sanboot.UserData(sanboot.UserDataSpec{Guest: sanboot.Windows, IPXE: &boot})
		require.NoError(t, err)
		got, form, err := ipxeFromUserData(res.UserData)
		require.NoError(t, err)
		assert.Equal(t, script, got)
		assert.Equal(t, "bare iPXE script", form)
	})

	doc := func(parts ...string) []byte {
		b := "Content-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n"
		for _, p := range parts {
			b += "--XX\n" + p + "\n"
		}
		return []byte(b + "--XX--\n")
	}
	ipxePart := "Content-Type: text/ipxe; charset=\"us-ascii\"\n\n#!ipxe\nsanboot iscsi:10.0.2.2::3260:c:iqn.x:y\n"
	shellPart := "Content-Type: text/x-shellscript\n\n#!/bin/sh\ntrue\n"

	got, _, err := ipxeFromUserData(doc(shellPart, ipxePart))
	require.NoError(t, err, "a hand-written document with LF line ends")
	assert.Equal(t, "#!ipxe\nsanboot iscsi:10.0.2.2::3260:c:iqn.x:y\n", string(got), "the line break before the boundary is the boundary's")

	for _, tc := range []struct {
		name string
		ud   []byte
		want string
	}{
		{"no iPXE part", doc(shellPart), "has 0 text/ipxe parts"},
		{"two iPXE parts", doc(ipxePart, shellPart, ipxePart), "has 2 text/ipxe parts"},
		{"base64 iPXE part", doc("Content-Type: text/ipxe\nContent-Transfer-Encoding: base64\n\nIyFpcHhlCg=="), `transfer encoding "base64"`},
		{"iPXE part that is not a script", doc("Content-Type: text/ipxe\n\necho hi\n"), "does not start with #!ipxe"},
		{"not multipart", []byte("Content-Type: text/plain\n\n#!ipxe\n"), `MIME "text/plain"`},
		{"cloud-config alone", []byte("#cloud-config\nruncmd: []\n"), "neither an iPXE script"},
		{"script with a leading blank line", []byte("\n#!ipxe\nexit\n"), "neither an iPXE script"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ipxeFromUserData(tc.ud)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
