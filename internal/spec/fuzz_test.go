package spec_test

// Fuzz target for the answers file parser: arbitrary bytes never panic, every
// refusal is a Problems value (exit 2), and an accepted file keeps the rules the
// parser promises (plain-decimal integers round-trip; no inline secret keys).
// Seeds run in every `go test`; scripts/fuzz.sh runs it with -fuzz.

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	for _, fn := range files {
		if b, err := os.ReadFile(fn); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(baseGeneric))
	f.Add([]byte(strings.Replace(baseGeneric, "    lun: 1\n", "    lun: 017\n", 1)))
	f.Add([]byte(baseGeneric + "---\n"))
	f.Add([]byte("a: &a [x, x]\nb: [*a, *a]\n"))
	f.Add([]byte("\tworkload: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := spec.Parse(data)
		if err != nil {
			var ps spec.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("refusal is not Problems: %v", err)
			}
			return
		}
		// Every integer key of an accepted file is plain decimal.
		var root yaml.Node
		if yaml.Unmarshal(data, &root) == nil {
			checkInts(t, &root)
		}
		_ = s.Validate()
	})
}

var plainInt = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

func checkInts(t *testing.T, n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "lun", "detection_periods", "datapoints_to_alarm":
				if v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" && !plainInt.MatchString(v.Value) {
					t.Fatalf("accepted %s: %q", k.Value, v.Value)
				}
			}
		}
	}
	for _, c := range n.Content {
		checkInts(t, c)
	}
}
