//go:build integration

package wizard_test

// Integration test: the real Secrets Manager client against moto
// (scripts/with-moto.sh) resolves the array credential the answers name.

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

func TestResolveCredentialsFromSecretsManager(t *testing.T) {
	testenv.NeedEmulator(t)
	ctx := context.Background()
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	sm := secretsmanager.NewFromConfig(cfg)
	name := "oha/test-" + uuid.NewString()[:8]
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name),
		SecretString: aws.String(`{"username":"ignored","password":"moto-pa55"}`)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
	})
	s := specWithCreds(t, "ontap", spec.CredentialsRef{SecretARN: aws.ToString(out.ARN)})
	c, err := wizard.ResolveCredentials(ctx, s, wizard.CredentialSources{Secrets: sm})
	require.NoError(t, err)
	assert.Equal(t, "oha", c.Username, "the answers' username wins over the secret's")
	assert.Equal(t, "moto-pa55", c.Secret)
}
