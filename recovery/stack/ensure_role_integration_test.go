//go:build integration

// Integration test: EnsureServiceRole with the real AWS SDK against a private
// moto server (scripts/with-moto.sh). moto stores roles, inline policies and
// managed-policy versions; it does not evaluate them, so what the documents
// allow is checked by the unit and scanner tests.
package stack

import (
	"context"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnsureServiceRoleOnMoto(t *testing.T) {
	c := newClients(t, testBundle(t, "x"))
	ctx := context.Background()
	cfg := Config{Workload: "svcrole1", Region: "us-west-2", NotificationEmail: "ops@example.com", InstanceProfileRole: "svcrole1-instance"}
	sr, err := EnsureServiceRole(ctx, c.iam, cfg, "123456789012", nil)
	require.NoError(t, err)

	r, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(sr.Name)})
	require.NoError(t, err)
	trust, err := url.QueryUnescape(aws.ToString(r.Role.AssumeRolePolicyDocument))
	require.NoError(t, err)
	assert.True(t, sameDocument(trust, sr.Trust), trust)
	p, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(sr.Name), PolicyName: aws.String(ServiceRolePolicyName)})
	require.NoError(t, err)
	assert.True(t, sameDocument(aws.ToString(p.PolicyDocument), sr.Policy))
	bp, err := c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(sr.BoundaryArn)})
	require.NoError(t, err)
	v, err := c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(sr.BoundaryArn), VersionId: bp.Policy.DefaultVersionId})
	require.NoError(t, err)
	assert.True(t, sameDocument(aws.ToString(v.PolicyVersion.Document), sr.Boundary))

	// Again: nothing new. A changed instance role: a new default version.
	_, err = EnsureServiceRole(ctx, c.iam, cfg, "123456789012", nil)
	require.NoError(t, err)
	vs, err := c.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(sr.BoundaryArn)})
	require.NoError(t, err)
	assert.Len(t, vs.Versions, 1)
	cfg.InstanceProfileRole = "svcrole1-other"
	sr2, err := EnsureServiceRole(ctx, c.iam, cfg, "123456789012", nil)
	require.NoError(t, err)
	vs, err = c.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(sr.BoundaryArn)})
	require.NoError(t, err)
	assert.Len(t, vs.Versions, 2)
	bp, err = c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(sr.BoundaryArn)})
	require.NoError(t, err)
	v, err = c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(sr.BoundaryArn), VersionId: bp.Policy.DefaultVersionId})
	require.NoError(t, err)
	assert.True(t, sameDocument(aws.ToString(v.PolicyVersion.Document), sr2.Boundary))
	assert.Contains(t, aws.ToString(v.PolicyVersion.Document), "svcrole1-other")
}
