//go:build integration

package main

// Integration test: array check reads the array password from Secrets Manager
// in moto (scripts/with-moto.sh) with the real SDK, logs in with it to a real
// ONTAP client whose endpoint refuses (loopback, closed port), still probes
// the portals, and never prints the password. Portal probes are mapped to
// loopback listeners (fake addresses, real TCP).

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func TestArrayCheckReadsTheSecretFromSecretsManager(t *testing.T) {
	testenv.NeedEmulator(t)
	ctx := context.Background()
	cfg, err := awsx.LoadConfig(ctx, awsx.Options{Region: "us-east-1"})
	require.NoError(t, err)
	sm := secretsmanager.NewFromConfig(cfg)
	const pw = "moto-array-pa55-never-printed"
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("oha/cli-" + uuid.NewString()[:8]),
		SecretString: aws.String(`{"password":"` + pw + `"}`)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
	})
	_, port, _ := strings.Cut(closedLoopback(t), ":")
	answers := ontapAnswers(t, "https://localhost:"+port, "secret_arn: "+aws.ToString(out.ARN))
	mapDial(t, map[string]string{"10.20.30.11:3260": acceptAndClose(t), "10.20.30.12:3260": closedLoopback(t)})
	stdout, stderr, code := runCLI(t, "array", "check", answers)
	assert.Equal(t, exitError, code, stderr)
	assert.Empty(t, stderr)
	assert.Regexp(t, `(?m)^FAIL login +refused: `, stdout, "the secret was read and the login attempted")
	assert.Regexp(t, `(?m)^ok +portal 10\.20\.30\.11:3260`, stdout)
	assert.Regexp(t, `(?m)^FAIL portal 10\.20\.30\.12:3260`, stdout)
	assert.Contains(t, stdout, "verdict: FAILED: 2 of 3 checks failed")
	assert.NotContains(t, stdout+stderr, pw)
}
