// Dependency guard (runs `go list`): the failover function must not pull in
// the terminal UI, and the engine must not know about Lambda's event types.
package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	require.NoError(t, err)
	return strings.Fields(string(out))
}

func TestNoTUIInLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	list := deps(t, ".")
	require.Contains(t, list, "github.com/aws/aws-lambda-go/lambda", "go list must see the real graph")
	for _, p := range list {
		assert.False(t, strings.HasPrefix(p, "github.com/charmbracelet/"), "the failover function depends on %s", p)
	}
}

func TestEngineHasNoLambdaTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	list := deps(t, "github.com/outposts-ha/outposts-ha/recovery")
	require.Contains(t, list, "github.com/aws/aws-sdk-go-v2/service/ec2")
	for _, p := range list {
		assert.False(t, strings.HasPrefix(p, "github.com/aws/aws-lambda-go"), "package recovery depends on %s", p)
		assert.False(t, strings.HasPrefix(p, "github.com/charmbracelet/"), "package recovery depends on %s", p)
	}
}
