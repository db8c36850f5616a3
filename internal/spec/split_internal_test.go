package spec

// Unit tests, no fakes: splitting "message: fix" outside quoted values.

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitFix(t *testing.T) {
	for in, want := range map[string][2]string{
		`is empty: give one`:               {"is empty", "give one"},
		`"a: b" is bad: fix it`:            {`"a: b" is bad`, "fix it"},
		`"a\": b" is bad: fix it`:          {`"a\": b" is bad`, "fix it"},
		`no fix here`:                      {"no fix here", ""},
		`ends with a colon:`:               {"ends with a colon:", ""},
		`IP[:port] is fine: write IP:port`: {"IP[:port] is fine", "write IP:port"},
		`x: `:                              {"x", ""},
		`a: b: c`:                          {"a", "b: c"},
	} {
		m, f := splitFix(in)
		assert.Equal(t, want, [2]string{m, f}, in)
	}
}
