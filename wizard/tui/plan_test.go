package tui

// Item 3, end to end with the real plan (no fakes): the answers the wizard
// saves pin identity.uuid, so plans into two different --out folders get the
// same initiator IQN. On the old code the file said `identity: {}` and each
// plan generated a new identity.

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/wizard"
)

func TestSavedAnswersPinTheIdentity(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web01.yaml")
	_, out, err := ask(t, lines(append(genericLines(), "")...), Options{SavePath: path, NewUUID: uuid.New})
	require.NoError(t, err, out)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "identity: {}")
	assert.NotContains(t, string(data), "{}")

	// Each plan would generate a different identity if the file did not pin one.
	n := 0
	gen := func() uuid.UUID { n++; return uuid.New() }
	var iqns []string
	for _, o := range []string{"a", "b"} {
		p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: path, OutDir: filepath.Join(dir, o), NewUUID: gen, Log: io.Discard}, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, wizard.FromAnswers, p.Source)
		iqns = append(iqns, p.Identity.InitiatorIQN)
	}
	assert.Equal(t, iqns[0], iqns[1])
	assert.Zero(t, n, "plan never generated an identity")
}
