package tui

// Screen tests with teatest: the real huh form runs in a bubbletea program
// with a pinned terminal size and colour profile; the rendered screen is
// compared with a golden file (go test ./wizard/tui -update regenerates it).

import (
	"bytes"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

// host embeds a form the way a bubbletea program does and quits when the form
// is done (a bare huh.Form only quits when run through Form.Run).
type host struct{ form *huh.Form }

func (h host) Init() tea.Cmd { return h.form.Init() }

func (h host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := h.form.Update(msg)
	h.form = m.(*huh.Form)
	if h.form.State != huh.StateNormal {
		return h, tea.Quit
	}
	return h, cmd
}

func (h host) View() string { return h.form.View() }

func stepForm(t *testing.T, name string, a *answers) *huh.Form {
	t.Helper()
	for _, st := range steps() {
		if st.name == name {
			f := st.form(a)
			require.NotNil(t, f)
			return f
		}
	}
	t.Fatalf("no step %q", name)
	return nil
}

func TestWorkloadStepScreen(t *testing.T) {
	a := &answers{s: specDefaults()}
	tm := teatest.NewTestModel(t, host{stepForm(t, "workload", a)}, teatest.WithInitialTermSize(100, 30))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Workload name")) },
		teatest.WithDuration(5*time.Second))
	// An uppercase name is refused on the screen with the answers-file message.
	tm.Type("Web01")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("must be lowercase")) },
		teatest.WithDuration(5*time.Second))
	for range "Web01" {
		tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
	}
	tm.Type("web01")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	// huh moves focus through a command: wait for it, as a person would, before typing on.
	waitFocus(t, tm, "AWS Region")
	tm.Type("us-west-2")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFocus(t, tm, "Guest operating system")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter}) // linux
	// The program ends when the form completes; the answers are in the spec.
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	assert.Equal(t, "web01", a.s.Workload)
	assert.Equal(t, "us-west-2", a.s.Region)
	assert.Equal(t, "linux", a.s.GuestOS)
}

func waitFocus(t *testing.T, tm *teatest.TestModel, title string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("┃ "+title)) },
		teatest.WithDuration(5*time.Second))
}

func TestReviewScreenGolden(t *testing.T) {
	a := &answers{s: specDefaults(), portals: "192.168.50.10, 192.168.50.11", lun: "26", lniMode: "dhcp"}
	a.s.Workload, a.s.Region = "web01", "us-west-2"
	a.s.Storage.Vendor, a.s.Storage.Protocol = "generic", "iscsi"
	a.s.Storage.Boot.Target = "iqn.2003-01.org.linux-iscsi.san1:boot-web01"
	a.s.Outposts.PrimarySubnet, a.s.Outposts.SecondarySubnet = "subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"
	a.s.Instance.Type, a.s.Instance.HelperAMI = "c6id.2xlarge", "ami-0123456789abcdef0"
	a.s.Failover.NotificationEmail = "ops@example.com"
	// The screen as a person first sees it: driven through Update, rendered by
	// View, compared with the golden file.
	var m tea.Model = host{stepForm(t, "review", a).WithShowHelp(false)}
	cmd := m.Init()
	_ = cmd // field focus commands; the first frame does not depend on them
	m, _ = m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	out := []byte(m.View())
	assert.Contains(t, string(out), "Write the answers file and render the plan?")
	assert.Contains(t, string(out), "workload web01 in us-west-2")
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyLeft})
	_, quit := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	assert.True(t, a.confirm, "the operator confirmed")
	assert.NotNil(t, quit)
	teatest.RequireEqualOutput(t, out)
}
