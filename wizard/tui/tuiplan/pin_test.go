// Package tuiplan_test runs the wizard's saved answers through the real plan,
// using only the exported API, as cmd does.
package tuiplan_test

// Item 3, end to end with the real plan (no fakes): the answers the wizard
// saves pin identity.uuid, so plans into two different --out folders get the
// same initiator IQN. On the old code the file said `identity: {}` and each
// plan generated a new identity.

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/wizard"
	"github.com/outposts-ha/outposts-ha/wizard/tui"
)

// answers for a generic iSCSI workload, every question in order; the last
// empty line is Enter on the final question.
var answerLines = []string{
	"web01", "us-west-2", "1", "5", "1",
	"iqn.2003-01.org.linux-iscsi.san1:boot-web01", "192.168.50.10, 192.168.50.11:3260", "26", "",
	"0",
	"subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788", "", "",
	"c6id.2xlarge", "ami-0123456789abcdef0", "sg-0123456789abcdef0", "", "oha-web01", "",
	"2", "192.168.50.20/24", "192.168.50.1",
	"1", "ops@example.com",
	"", "",
}

func TestSavedAnswersPinTheIdentity(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "web01.yaml")
	var out bytes.Buffer
	_, err := tui.AskAnswers(context.Background(), tui.Options{Accessible: true, SavePath: path,
		In: strings.NewReader(strings.Join(answerLines, "\n") + "\n"), Out: &out})
	require.NoError(t, err, out.String())
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
