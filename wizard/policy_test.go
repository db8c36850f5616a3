package wizard_test

// Unit test, no fakes: the operator policy plan renders is scoped to the
// workload. Every statement that can change something names the workload (or
// its subnets, security group, image, secrets) in its resources, or is
// conditioned on the workload tag. Only read-only APIs get "*".

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

var readOnlyPrefixes = []string{"Describe", "Get", "List"}

func readOnly(action string) bool {
	_, op, _ := strings.Cut(action, ":")
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func TestOperatorPolicyIsScopedToTheWorkload(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "ontap-iscsi-chap.yaml"))
	require.NoError(t, err)
	s, err := spec.Parse(data)
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	raw, err := wizard.OperatorPolicy(s)
	require.NoError(t, err)
	var doc wizard.PolicyDocument
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.Statement)

	scopeTokens := []string{s.Workload, s.Instance.KeyPair, s.Outposts.PrimarySubnet, s.Outposts.SecondarySubnet, s.Instance.SecurityGroup,
		s.Instance.HelperAMI, s.Instance.InstanceProfile, s.Instance.InstanceProfileRole, "outposts-ha-"}
	sids := map[string]bool{}
	for _, st := range doc.Statement {
		assert.False(t, sids[st.Sid], "duplicate Sid %s", st.Sid)
		sids[st.Sid] = true
		assert.Equal(t, "Allow", st.Effect)
		conditioned := false
		for _, kv := range st.Condition {
			for k, v := range kv {
				if strings.Contains(k, "outposts-ha:workload") && v == any(s.Workload) {
					conditioned = true
				}
				if k == "ec2:CreateAction" || k == "iam:PassedToService" {
					conditioned = true
				}
			}
		}
		for _, res := range st.Resource {
			if conditioned {
				continue
			}
			scoped := false
			for _, tok := range scopeTokens {
				if tok != "" && strings.Contains(res, tok) {
					scoped = true
				}
			}
			if strings.HasPrefix(res, "arn:aws:secretsmanager:") {
				scoped = true // the exact secret ARNs from the answers
			}
			if scoped {
				continue
			}
			for _, a := range st.Action {
				assert.True(t, readOnly(a), "statement %s grants %s on unscoped resource %s", st.Sid, a, res)
			}
		}
	}
	// The policy may read the array credentials but never the CHAP secret values.
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if a == "secretsmanager:GetSecretValue" {
				for _, r := range st.Resource {
					assert.NotContains(t, r, "chap", "setup never needs to read CHAP secret values")
				}
			}
		}
	}
	assert.True(t, sids["PassInstanceRole"])
	assert.Contains(t, string(raw), "role/oha-erp01-role")
}
