package spec_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

// Unit test, no fakes: every shipped example must parse and validate.
func TestExamplesValidate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			s, err := spec.Parse(data)
			require.NoError(t, err)
			require.NoError(t, s.Validate())
		})
	}
}

// Issue 10 item 5: every key the schema accepts appears in an example, set or
// (for a key whose use is discouraged, such as the automatic policy's
// acknowledgement) shown commented out as "# key:". Unit test, no fakes.
func TestExamplesCoverSchema(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	require.NoError(t, err)
	present := map[string]bool{}
	commented := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var root yaml.Node
		require.NoError(t, yaml.Unmarshal(data, &root))
		collectKeys(root.Content[0], "", present)
		for _, line := range strings.Split(string(data), "\n") {
			if m := commentedKeyRE.FindStringSubmatch(line); m != nil {
				commented[m[1]] = true
			}
		}
	}
	for _, k := range spec.SchemaKeys() {
		last := k[strings.LastIndex(k, ".")+1:]
		assert.True(t, present[k] || commented[last], "no example shows %s", k)
	}
}

var commentedKeyRE = regexp.MustCompile(`^\s*#\s*([a-z_]+):`)

func collectKeys(n *yaml.Node, path string, out map[string]bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			out[p] = true
			collectKeys(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			collectKeys(c, path+"[]", out)
		}
	}
}

// Issue 8 §3: no shipped example defaults to the automatic policy.
func TestNoExampleUsesAutomaticPolicy(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		s, err := spec.Parse(data)
		require.NoError(t, err)
		assert.NotEqual(t, "automatic", s.Failover.Policy, "%s uses the automatic policy", filepath.Base(f))
	}
}
