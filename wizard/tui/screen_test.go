package tui

// Screen tests with teatest: the real wizard model (real huh forms, real
// validation, no fakes) runs in a bubbletea program with a pinned terminal
// size and colour profile. Goldens: go test ./wizard/tui -update regenerates.

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

func init() { lipgloss.SetColorProfile(termenv.Ascii) }

const chapARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:oha/web01-chap-QrStUv"

// fixture is a complete generic iSCSI workload with CHAP, a static LNI and
// both Outposts.
func fixture(savePath string) *answers {
	a := newAnswers(fixedUUID, savePath)
	a.s.Workload, a.s.Region = "web01", "us-west-2"
	a.s.Storage.Boot.Target = "iqn.2003-01.org.linux-iscsi.san1:boot-web01"
	a.s.Storage.Boot.CHAPSecretARN = chapARN
	a.boot = volText{portals: "192.168.50.10, 192.168.50.11:3260", lun: "26"}
	a.s.Outposts = spec.Outposts{PrimarySubnet: "subnet-0a1b2c3d4e5f60718", SecondarySubnet: "subnet-0f1e2d3c4b5a69788",
		PrimaryOutpost: "op-0123456789abcdef0", SecondaryOutpost: "op-0fedcba9876543210"}
	a.s.Instance = spec.Instance{Type: "c6id.2xlarge", HelperAMI: "ami-0123456789abcdef0", SecurityGroup: "sg-0123456789abcdef0",
		InstanceProfile: "oha-web01", InstanceProfileRole: "oha-web01-role"}
	a.lniMode, a.lniAddr, a.lniGW = "static", "192.168.50.20/24", "192.168.50.1"
	a.s.Failover.NotificationEmail = "ops@example.com"
	return a
}

func waitScreen(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
		teatest.WithDuration(10*time.Second))
}

// waitFocus waits until title is the focused field (huh marks it with ┃).
func waitFocus(t *testing.T, tm *teatest.TestModel, title string) {
	t.Helper()
	waitScreen(t, tm, "┃ "+title)
}

// Item 1: Enter on the final screen selects Yes: the answers are saved and
// the plan can be rendered. On the old code Enter selected No.
func TestFinalScreenEnterSaves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web01.yaml")
	a := fixture(path)
	m := newModel(a)
	m.enter("review")
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 50))
	waitFocus(t, tm, "Write the answers file and render the plan?")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*model)
	require.True(t, fm.done)
	assert.True(t, a.confirm)
	var out bytes.Buffer
	s, err := finish(a, &out)
	require.NoError(t, err)
	assert.Equal(t, "web01", s.Workload)
	assert.Contains(t, out.String(), "Saved the answers to "+path)
	assert.FileExists(t, path)
}

// Item 1: choosing No says cancelled and offers to save; Enter there saves.
func TestFinalScreenNoOffersToSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web01.yaml")
	a := fixture(path)
	m := newModel(a)
	m.enter("review")
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 50))
	waitFocus(t, tm, "Write the answers file and render the plan?")
	tm.Send(tea.KeyMsg{Type: tea.KeyRight}) // No
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFocus(t, tm, "Cancelled. Save the answers you typed to")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*model)
	require.True(t, fm.done)
	var out bytes.Buffer
	_, err := finish(a, &out)
	require.ErrorIs(t, err, ErrCancelled)
	assert.Contains(t, out.String(), "cancelled")
	assert.FileExists(t, path)
}

// Item 4: esc, and shift+tab on a page's first field, go back a page with
// the answers kept; a Region that is not real is refused on the screen.
func TestBackKeepsAnswers(t *testing.T) {
	a := newAnswers(fixedUUID, "")
	tm := teatest.NewTestModel(t, newModel(a), teatest.WithInitialTermSize(100, 40))
	waitFocus(t, tm, "Workload name")
	tm.Type("web01")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFocus(t, tm, "AWS Region")
	tm.Type("xx-east-1")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "is not an AWS Region")
	for range "xx-east-1" {
		tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
	}
	tm.Type("us-west-2")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFocus(t, tm, "Guest operating system")
	tm.Send(tea.KeyMsg{Type: tea.KeyDown}) // windows
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "storage (page 2 of")

	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	waitScreen(t, tm, "workload (page 1 of")
	// Forward again with Enter only: every answer was kept.
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFocus(t, tm, "AWS Region")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFocus(t, tm, "Guest operating system")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitScreen(t, tm, "storage (page 2 of")
	// shift+tab on the first field of a page goes back too.
	tm.Send(tea.KeyMsg{Type: tea.KeyShiftTab})
	waitScreen(t, tm, "workload (page 1 of")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*model)
	assert.True(t, fm.aborted)
	assert.Equal(t, "workload", fm.step)
	screen := ansi.Strip(fm.form.View())
	assert.Contains(t, screen, "web01")
	assert.Contains(t, screen, "us-west-2")
	assert.Equal(t, "web01", a.s.Workload)
	assert.Equal(t, "us-west-2", a.s.Region)
	assert.Equal(t, "windows", a.s.GuestOS)
}

// Item 6: the review shows everything that decides the boot.
func TestReviewScreenGolden(t *testing.T) {
	a := fixture("")
	m := newModel(a)
	m.enter("review")
	_ = m.Init() // focuses the question; its commands only ask for the window size
	var tm tea.Model = m
	tm, _ = tm.Update(tea.WindowSizeMsg{Width: 100, Height: 50})
	out := ansi.Strip(tm.View())
	for _, want := range []string{
		"LUN 26, encoded as hex 1a in the iPXE SAN URI",
		"iscsi:192.168.50.10::3260:1a:iqn.2003-01.org.linux-iscsi.san1:boot-web01",
		"CHAP " + chapARN,
		"static 192.168.50.20/24, gateway 192.168.50.1",
		"Outpost op-0123456789abcdef0", "Outpost op-0fedcba9876543210",
		"oha-web01, role oha-web01-role",
		"Write the answers file and render the plan?",
	} {
		assert.Contains(t, out, want)
	}
	teatest.RequireEqualOutput(t, []byte(out))
}

// Item 6: wrapped at the terminal width, never inside an address.
func TestReviewWrapsWithoutBreakingAddresses(t *testing.T) {
	a := fixture("")
	for _, width := range []int{60, 80, 120} {
		text := review(a, width)
		whole := []string{chapARN, "iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.11:3260",
			"iscsi:192.168.50.11::3260:1a:iqn.2003-01.org.linux-iscsi.san1:boot-web01", "subnet-0f1e2d3c4b5a69788"}
		for _, w := range whole {
			assert.Contains(t, text, w, "width %d", width)
		}
		for _, l := range strings.Split(text, "\n") {
			if len(l) > width {
				// Only a single unbreakable word may pass the width.
				assert.NotContains(t, strings.TrimSpace(l[labelWidth:]), " ", "width %d: %q", width, l)
			}
		}
	}
}

// Item 6: NVMe/TCP speaks of namespace IDs and shows no iPXE URI; data
// volumes are listed one entry each.
func TestReviewNVMeAndDataVolumes(t *testing.T) {
	a := fixture("")
	a.s.Storage.Protocol = "nvme-tcp"
	a.s.Storage.Boot.Target = "nqn.2010-06.com.purestorage:flasharray.1a2b3c4d5e6f7a8b"
	a.s.Storage.Boot.CHAPSecretARN = ""
	a.boot.portals = "192.168.60.10"
	a.setDataCount(1)
	a.dataN = "1"
	a.dataVols[0].Target = a.s.Storage.Boot.Target
	a.data[0] = volText{portals: "192.168.60.10", lun: "2"}
	text := review(a, 100)
	assert.Contains(t, text, "namespace ID 26")
	assert.Contains(t, text, "192.168.60.10:4420")
	assert.Contains(t, text, "namespace ID 2")
	assert.Contains(t, text, "Data 1")
	assert.NotContains(t, text, "iPXE")
	assert.Contains(t, text, "LocalBoot")
}

// Item 2: a problem still left at the end (here: the policy was changed to
// automatic after the Outposts page) is shown on the review.
func TestReviewShowsProblemsLeft(t *testing.T) {
	a := fixture("")
	a.s.Outposts.PrimaryOutpost = ""
	a.s.Failover.Policy = "automatic"
	a.ack = spec.AutomaticAck
	assert.Contains(t, review(a, 100), "To fix     outposts.primary_outpost")
	assert.NotContains(t, review(fixture(""), 100), "To fix")
}
