package tui

import (
	"github.com/charmbracelet/x/term"
)

// IsTerminal reports whether v (stdin, stdout or stderr) is an interactive
// terminal. A character device is not enough: /dev/null is one, and a wizard
// fed `< /dev/null` must use plain prompts and stop at the end of input.
func IsTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(f.Fd())
}
