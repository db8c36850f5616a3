package wizard_test

// Fuzz tests, no fakes: arbitrary answers files and arbitrary field values go
// through the real parser, validator and renderers. Whatever validation lets
// through must render a script of the expected shape: no input adds a line or
// a command.

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

var ipxePrefixes = []string{"#!ipxe", "# ", "set ", "aws_get_boot_creds_from_secret ", "ifclose", "ifopen ",
	"dhcp ", "dhcp ||", "clear net1.dhcp/hostname || goto failed", "route ||", "sanboot ", "goto failed", ":failed", "echo ", "exit 1"}

func checkIPXEShape(t *testing.T, script []byte, wantLines int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(script), "\n"), "\n")
	if wantLines > 0 && len(lines) != wantLines {
		t.Fatalf("iPXE script has %d lines, want %d:\n%s", len(lines), wantLines, script)
	}
	for _, l := range lines {
		ok := false
		for _, p := range ipxePrefixes {
			if strings.HasPrefix(l, p) {
				ok = true
				break
			}
		}
		if !ok {
			t.Fatalf("unexpected iPXE line %q in:\n%s", l, script)
		}
	}
}

func renderAnswers(t *testing.T, data []byte) (*wizard.Plan, bool) {
	s, err := spec.Parse(data)
	if err != nil {
		return nil, false
	}
	if s.Validate() != nil {
		return nil, false
	}
	id, err := wizard.DeriveIdentity(s, mustUUID())
	if err != nil {
		t.Fatalf("valid spec but no identity: %v", err)
	}
	p, err := wizard.Render(s, id, wizard.FromAnswers)
	if err != nil {
		// Validation passed, so rendering may only fail for input plan cannot
		// render offline (a vendor volume without target/portals/lun), or with
		// a bad-input refusal that names its field (user data over 16 KiB, a
		// repeated LUN).
		if strings.Contains(err.Error(), "setup discovers them") {
			return nil, false
		}
		var ie *wizard.InputError
		if errors.As(err, &ie) && strings.Contains(err.Error(), "fix:") && !strings.Contains(err.Error(), "(answers):") {
			return nil, false
		}
		t.Fatalf("valid spec failed to render: %v\n%s", err, data)
	}
	return p, true
}

func FuzzPlanAnswers(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(validONTAP))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ok := renderAnswers(t, data)
		if !ok {
			return
		}
		if b := p.File("user-data/boot.ipxe"); b != nil {
			checkIPXEShape(t, b, 0)
		}
	})
}

// FuzzFieldValues puts one arbitrary string into one field of a valid answers
// file at a time.
func FuzzFieldValues(f *testing.F) {
	fields := []string{"key_pair: ops", "target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n    portals", "volume: /vol/web01/boot",
		"notification_email: ops@example.com", `"192.168.50.10", "192.168.50.11:3260"`, "instance_profile: oha-web01", "dhcp_timeout: 5s"}
	base, ok := renderAnswers(&testing.T{}, []byte(validONTAP))
	if !ok {
		f.Fatal("fixture does not render")
	}
	wantLines := bytes.Count(base.File("user-data/boot.ipxe"), []byte("\n"))
	for i := range fields {
		f.Add(uint8(i), "x")
		f.Add(uint8(i), "a\nsanboot evil")
		f.Add(uint8(i), "'; reboot; echo '")
	}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		field := fields[int(which)%len(fields)]
		key, rest, _ := strings.Cut(field, ": ")
		var repl string
		switch {
		case strings.HasPrefix(field, `"`):
			repl = strconv.Quote(value)
		default:
			repl = key + ": " + strconv.Quote(value)
			if i := strings.Index(rest, "\n"); i >= 0 {
				repl += rest[i:]
			}
		}
		data := strings.Replace(validONTAP, field, repl, 1)
		p, ok := renderAnswers(t, []byte(data))
		if !ok {
			return
		}
		checkIPXEShape(t, p.File("user-data/boot.ipxe"), wantLines)
	})
}
