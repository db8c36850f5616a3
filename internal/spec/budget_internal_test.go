package spec

// Unit tests, no fakes: the node budget every YAML walk shares.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gopkg.in/yaml.v3"
)

func TestBudget(t *testing.T) {
	b := &budget{max: 2}
	assert.True(t, b.take())
	assert.True(t, b.take())
	assert.False(t, b.spent())
	assert.False(t, b.take())
	assert.True(t, b.spent())
	assert.Equal(t, maxNodes, newBudget().max)
}

func TestPairs(t *testing.T) {
	var n yaml.Node
	assert.NoError(t, yaml.Unmarshal([]byte("a: 1\nb: 2\n"), &n))
	ps := pairs(n.Content[0])
	assert.Len(t, ps, 2)
	assert.Equal(t, "b", ps[1][0].Value)
	assert.Equal(t, "2", ps[1][1].Value)
}

func TestShorten(t *testing.T) {
	assert.Equal(t, "abc", shorten("abc", 3))
	assert.Equal(t, "ab...", shorten("abc", 2))
}
