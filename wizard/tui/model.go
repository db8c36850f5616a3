package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
)

// model is the full-screen wizard: one huh form per step, hosted in one
// bubbletea program so that esc (or shift+tab on a page's first field) can go
// back a page. Values are bound to the answers, so going back keeps them.
type model struct {
	a       *answers
	step    string
	history []string // steps before this one, for going back
	form    *huh.Form
	first   huh.Field
	width   int
	height  int
	done    bool
	aborted bool
}

var (
	headerStyle = lipgloss.NewStyle().Bold(true)
	helpStyle   = lipgloss.NewStyle().Faint(true)
)

func newModel(a *answers) *model {
	m := &model{a: a, width: 80}
	m.enter(a.steps()[0].name)
	return m
}

// enter builds the form of a step from the answers as they are now.
func (m *model) enter(name string) {
	m.step = name
	var hf []huh.Field
	for _, f := range m.a.stepFields(name) {
		hf = append(hf, f.huh())
	}
	m.first = hf[0]
	m.form = huh.NewForm(huh.NewGroup(hf...)).WithShowHelp(false).WithWidth(m.formWidth())
}

func (m *model) formWidth() int { return max(m.width-2, 40) }

func (f field) huh() huh.Field {
	switch f.kind {
	case kindSelect:
		return huh.NewSelect[string]().Key(f.key).Title(f.title).Description(f.desc).Options(f.opts...).Value(f.str).Filtering(false)
	case kindConfirm:
		return huh.NewConfirm().Key(f.key).Title(f.title).Description(f.desc).Affirmative("Yes").Negative("No").Value(f.b)
	}
	in := huh.NewInput().Key(f.key).Title(f.title).Description(f.desc).Value(f.str)
	if f.check != nil {
		in = in.Validate(f.check)
	}
	return in
}

func (m *model) Init() tea.Cmd { return m.form.Init() }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.form = m.form.WithWidth(m.formWidth())
	case tea.KeyMsg:
		switch msg.String() {
		case "ctrl+c":
			m.aborted = true
			return m, tea.Quit
		case "esc":
			return m, m.back()
		case "shift+tab":
			if m.form.GetFocusedField() == m.first {
				return m, m.back()
			}
		}
	}
	f, cmd := m.form.Update(msg)
	m.form = f.(*huh.Form)
	switch m.form.State {
	case huh.StateAborted:
		m.aborted = true
		return m, tea.Quit
	case huh.StateCompleted:
		next := m.a.stepAfter(m.step)
		if next == "" {
			m.done = true
			return m, tea.Quit
		}
		m.history = append(m.history, m.step)
		m.enter(next)
		return m, m.form.Init()
	}
	return m, cmd
}

// back returns to the previous page that still applies, answers kept.
func (m *model) back() tea.Cmd {
	for len(m.history) > 0 {
		prev := m.history[len(m.history)-1]
		m.history = m.history[:len(m.history)-1]
		if m.a.stepFields(prev) != nil {
			m.enter(prev)
			return m.form.Init()
		}
	}
	return nil
}

func (m *model) View() string {
	if m.done || m.aborted {
		return ""
	}
	var b strings.Builder
	sts := m.a.steps()
	n := 0
	for i, st := range sts {
		if st.name == m.step {
			n = i + 1
		}
	}
	title := m.step
	if n > 0 {
		title = fmt.Sprintf("outposts-ha plan · %s (page %d of %d)", m.step, n, len(sts))
	}
	b.WriteString(headerStyle.Render(title) + "\n\n")
	if m.step == "review" {
		b.WriteString(review(m.a, m.width-2) + "\n\n")
	}
	b.WriteString(m.form.View())
	help := "enter: next · esc or shift+tab on the first field: back · ctrl+c: quit"
	if m.step == "review" {
		help = "enter: yes, save and render · ←/→ or y/n: choose · esc: back · ctrl+c: quit"
	}
	b.WriteString("\n" + helpStyle.Render(help))
	return b.String()
}
