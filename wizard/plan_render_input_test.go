package wizard_test

// Unit tests, no fakes: problems found only while rendering (issue 9 item 9)
// are bad input, like every validation problem: wizard.IsInputError holds, so
// the CLI exits 2, the field is named, and nothing is written.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/wizard"
)

func TestRenderProblemsAreInputErrors(t *testing.T) {
	bigScript := "guest:\n  cloud_config: |\n    runcmd:\n" + strings.Repeat("      - echo "+strings.Repeat("x", 70)+"\n", 260) + "failover:"
	cases := []struct {
		name, field string
		edit        edit
	}{
		{"user data over 16 KiB", "guest.cloud_config", replace("failover:", bigScript)},
		{"over-long IQN", "identity.iqn_authority", replace("workload: web01", "workload: "+strings.Repeat("w", 32)).compose(
			replace("identity:\n", "identity:\n  iqn_authority: iqn.2020-01."+strings.Repeat("a", 60)+"."+strings.Repeat("b", 60)+"."+strings.Repeat("c", 40)+".example\n"))},
		{"duplicate data LUN", "storage.data[1]", replace("      lun: 2\n", "      lun: 2\n    - volume: /vol/web01/logs\n      target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n      portals: [\"192.168.50.10\"]\n      lun: 2\n")},
		{"data LUN equal to the boot LUN on the boot target", "storage.data[0]", replace("      lun: 2\n", "      lun: 1\n")},
		{"same target listed with other portals", "storage.data", replace("      lun: 2\n", "      lun: 2\n    - volume: /vol/web01/logs\n      target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n      portals: [\"192.168.50.11\"]\n      lun: 3\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			answers := filepath.Join(dir, "answers.yaml")
			require.NoError(t, os.WriteFile(answers, []byte(tc.edit(validONTAP)), 0o600))
			out := filepath.Join(dir, "plan")
			_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out}, nil)
			require.Error(t, err)
			assert.True(t, wizard.IsInputError(err), "%T: %v", err, err)
			msg := err.Error()
			assert.True(t, strings.Contains(msg, tc.field+":") || strings.Contains(msg, tc.field+"."), "names %s: %s", tc.field, msg)
			assert.Contains(t, err.Error(), "fix:")
			assert.NoDirExists(t, out)
		})
	}
}
