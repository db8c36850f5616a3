//go:build integration

package record_test

// Integration tests: the real AWS SDK against moto (scripts/with-moto.sh),
// with awsxtest's contract check on every request, so each call obeys the
// rules real Parameter Store enforces (4 KB standard value, no Tags with
// Overwrite, name rules). The clock is injected for lease expiry.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func motoSSM(t *testing.T) *ssm.Client {
	t.Helper()
	testenv.NeedEmulator(t)
	cfg, err := awsxtest.LoadConfig(context.Background(), t)
	require.NoError(t, err)
	return ssm.NewFromConfig(cfg)
}

func uniqueWorkload() string { return "rec" + strings.ReplaceAll(uuid.NewString()[:8], "-", "") }

func TestRecordAndJournalInMoto(t *testing.T) {
	ctx := context.Background()
	client := motoSSM(t)
	w := uniqueWorkload()
	dir := t.TempDir()
	s := &record.Store{SSM: client, Workload: w, Now: func() time.Time { return t0 },
		RecordMirror: dir + "/record.json", JournalMirror: dir + "/journal.json"}

	j := sampleJournal()
	j.Workload = w
	require.NoError(t, s.PutJournal(ctx, &j))
	require.NoError(t, s.PutJournal(ctx, &j), "the second write overwrites, without tags")
	got, err := s.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, j, got)

	r := record.NewRecord(&j, "us-west-2", strings.ReplaceAll(answers, "web01", w), "run-1", t0)
	require.NoError(t, s.PutRecord(ctx, &r))
	gr, err := s.GetRecord(ctx)
	require.NoError(t, err)
	assert.Equal(t, r, gr)
	// Another machine (a fresh store) reads the same.
	other := &record.Store{SSM: client, Workload: w}
	gj, err := other.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, j.Steps, gj.Steps)

	// A journal over 4 KB of JSON is stored compressed, as a standard value
	// (the contract check refuses more than 4096 bytes in the standard tier).
	for i := range 80 {
		j.Steps[0].Resources = append(j.Steps[0].Resources, record.Resource{
			Type: "array:map", ID: fmt.Sprintf("oha-%s/vol-data-%02d", w, i), CreatedByUs: true, Time: t0})
	}
	raw, _ := json.Marshal(j)
	require.Greater(t, len(raw), record.StandardLimit)
	require.NoError(t, s.PutJournal(ctx, &j))
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(record.JournalParam(w))})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(aws.ToString(out.Parameter.Value), record.GzipPrefix))
	assert.LessOrEqual(t, len(aws.ToString(out.Parameter.Value)), record.StandardLimit)
	gj, err = s.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, j, gj)

	// Incompressible and over 4 KB compressed: the advanced tier through
	// Intelligent-Tiering, within the 8 KB the contract check allows.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		j.Steps[0].Resources = append(j.Steps[0].Resources, record.Resource{
			Type: "array:map", ID: fmt.Sprintf("%d-%016x%016x", i, rng.Uint64(), rng.Uint64()), Time: t0})
	}
	require.NoError(t, s.PutJournal(ctx, &j))
	gj, err = s.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, j, gj)

	require.NoError(t, s.Delete(ctx, record.JournalParam(w), naming.RecordParam(w), record.LeaseParam(w)))
	_, err = s.GetJournal(ctx)
	require.ErrorIs(t, err, record.ErrNotFound)
	_, err = client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(naming.RecordParam(w))})
	assert.True(t, awsx.IsNotFound(err))
}

func TestLeaseInMoto(t *testing.T) {
	ctx := context.Background()
	client := motoSSM(t)
	w := uniqueWorkload()
	c := &clock{now: t0}
	a := &record.Store{SSM: client, Workload: w, Now: c.Now}
	b := &record.Store{SSM: client, Workload: w, Now: c.Now}
	t.Cleanup(func() { _ = a.Delete(context.Background(), record.LeaseParam(w)) })

	_, err := a.AcquireLease(ctx, "run-a", "host-a", "apply", 30*time.Minute)
	require.NoError(t, err)
	_, err = b.AcquireLease(ctx, "run-b", "host-b", "apply", 30*time.Minute)
	var held *record.LeaseHeldError
	require.ErrorAs(t, err, &held)

	c.Add(31 * time.Minute)
	got, err := b.AcquireLease(ctx, "run-b", "host-b", "apply", 30*time.Minute)
	require.NoError(t, err)
	assert.Contains(t, got.Message(), "run-a")
	_, err = a.RenewLease(ctx, "run-a", 30*time.Minute)
	require.ErrorIs(t, err, record.ErrLeaseLost)
	require.NoError(t, b.ReleaseLease(ctx, "run-b"))

	// Many runs race for the released lease: moto's real version numbers
	// decide; exactly one wins and the lease names it.
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &record.Store{SSM: client, Workload: w, Now: c.Now}
			_, errs[i] = s.AcquireLease(ctx, fmt.Sprintf("race-%d", i), "host", "apply", time.Hour)
		}()
	}
	wg.Wait()
	winner := ""
	for i, err := range errs {
		if err == nil {
			require.Empty(t, winner, "two runs won the lease")
			winner = fmt.Sprintf("race-%d", i)
			continue
		}
		require.ErrorAs(t, err, &held)
	}
	require.NotEmpty(t, winner)
	cur, _, err := a.GetLease(ctx)
	require.NoError(t, err)
	assert.Equal(t, winner, cur.RunID, "the stored lease names the winner")
}
