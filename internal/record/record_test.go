package record_test

// Unit tests of the record, the journal and their storage. Every test uses
// the in-memory Parameter Store fake (recordtest.SSM) and a fixed clock; none
// uses the network or the wall clock.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/record/recordtest"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

const answers = "workload: web01\nregion: us-west-2\nstorage:\n  vendor: generic\n  boot:\n    chap_secret_arn: arn:aws:secretsmanager:us-west-2:111122223333:secret:chap\n"

func newStore(f *recordtest.SSM, dir string) *record.Store {
	s := &record.Store{SSM: f, Workload: "web01", Now: func() time.Time { return t0 }}
	if dir != "" {
		s.RecordMirror = filepath.Join(dir, "record.json")
		s.JournalMirror = filepath.Join(dir, "journal.json")
	}
	return s
}

func sampleJournal() record.Journal {
	return record.Journal{
		Schema: record.JournalSchema, Workload: "web01", AnswersSHA256: record.HashAnswers(answers), State: record.RunDone,
		Runs: []record.RunInfo{{ID: "run-1", Owner: "host-a", Started: t0, Action: "apply"}},
		Steps: []record.StepEntry{
			{Name: "array-host", State: record.StepDone, Started: t0, Ended: t0, Attempts: 1,
				Resources: []record.Resource{{Type: "array:host", ID: "oha-web01", CreatedByUs: true, Time: t0}},
				Outputs:   map[string]string{"lun": "26"}},
			{Name: "launch", State: record.StepDone, Started: t0, Ended: t0, Attempts: 1,
				Resources: []record.Resource{
					{Type: "AWS::EC2::Instance", ID: "i-0123456789abcdef0", Region: "us-west-2", CreatedByUs: true, Time: t0,
						Tags: map[string]string{naming.TagWorkload: "web01", naming.TagRole: naming.RolePrimary}},
					{Type: "AWS::EC2::Subnet", ID: "subnet-1", Region: "us-west-2", CreatedByUs: false, Time: t0},
				}},
			{Name: "stack", State: record.StepStarted, Started: t0, Attempts: 1},
		},
	}
}

func TestRecordRoundTripTaggedAndMirrored(t *testing.T) {
	f := &recordtest.SSM{}
	dir := t.TempDir()
	s := newStore(f, dir)
	ctx := context.Background()

	_, err := s.GetRecord(ctx)
	require.ErrorIs(t, err, record.ErrNotFound)

	j := sampleJournal()
	r := record.NewRecord(&j, "us-west-2", answers, "run-1", t0)
	// Only the done steps' resources and outputs, in step order.
	require.Len(t, r.Resources, 3)
	assert.Equal(t, "oha-web01", r.Resources[0].ID)
	assert.Equal(t, map[string]string{"array-host.lun": "26"}, r.Outputs)

	require.NoError(t, s.PutRecord(ctx, &r))
	got, err := s.GetRecord(ctx)
	require.NoError(t, err)
	assert.Equal(t, r, got)
	// Created tagged with the workload, so cleanup and status find it.
	assert.Equal(t, map[string]string{naming.TagWorkload: "web01", naming.TagManaged: naming.ManagedBy}, f.Tags(naming.RecordParam("web01")))
	// Stored as plain JSON (it fits the standard tier), readable by the CLI.
	assert.True(t, strings.HasPrefix(f.Value(naming.RecordParam("web01")), "{"))
	assert.Equal(t, ssmtypes.ParameterTierStandard, f.Tier(naming.RecordParam("web01")))

	// A second write overwrites (no tags: PutParameter refuses Tags with Overwrite).
	r.Outputs["launch.instance"] = "i-0123456789abcdef0"
	require.NoError(t, s.PutRecord(ctx, &r))
	got, err = s.GetRecord(ctx)
	require.NoError(t, err)
	assert.Equal(t, "i-0123456789abcdef0", got.Outputs["launch.instance"])

	// A fresh store (another machine) overwrites too.
	require.NoError(t, newStore(f, "").PutRecord(ctx, &r))

	// The mirror holds the same record.
	b, err := os.ReadFile(filepath.Join(dir, "record.json"))
	require.NoError(t, err)
	var m record.Record
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, got.Outputs, m.Outputs)
	// No temporary files are left in the plan folder.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.Contains(e.Name(), ".tmp-"), "leftover %s", e.Name())
	}
}

func TestJournalRoundTrip(t *testing.T) {
	f := &recordtest.SSM{}
	dir := t.TempDir()
	s := newStore(f, dir)
	ctx := context.Background()
	_, err := s.GetJournal(ctx)
	require.ErrorIs(t, err, record.ErrNotFound)
	j := sampleJournal()
	require.NoError(t, s.PutJournal(ctx, &j))
	got, err := s.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, j, got)
	assert.Equal(t, []record.Resource{j.Steps[0].Resources[0], j.Steps[1].Resources[0]}, got.Created(), "only created-by-us resources")
	b, err := os.ReadFile(filepath.Join(dir, "journal.json"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"i-0123456789abcdef0"`)

	require.NoError(t, s.Delete(ctx, record.JournalParam("web01"), naming.RecordParam("web01")))
	assert.Empty(t, f.Names(), "delete removes; a missing parameter is not an error")
}

// A journal too big for 4 KB of JSON is compressed and stays in the standard
// tier; one too big even compressed goes to the advanced tier through
// Intelligent-Tiering; beyond 8 KB it is refused before any call.
func TestSizePolicy(t *testing.T) {
	f := &recordtest.SSM{}
	s := newStore(f, "")
	ctx := context.Background()
	name := record.JournalParam("web01")

	j := sampleJournal()
	for i := range 60 {
		j.Steps[0].Resources = append(j.Steps[0].Resources, record.Resource{
			Type: "array:map", ID: fmt.Sprintf("oha-web01/vol-data-%02d", i), CreatedByUs: true, Time: t0,
			Tags: map[string]string{naming.TagWorkload: "web01"}})
	}
	raw, _ := json.Marshal(j)
	require.Greater(t, len(raw), record.StandardLimit)
	require.NoError(t, s.PutJournal(ctx, &j))
	assert.True(t, strings.HasPrefix(f.Value(name), record.GzipPrefix), "compressed")
	assert.LessOrEqual(t, len(f.Value(name)), record.StandardLimit)
	assert.Equal(t, ssmtypes.ParameterTierStandard, f.Tier(name))
	got, err := s.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, j, got)

	// Incompressible content (random IDs) above 4 KB compressed: advanced.
	rng := rand.New(rand.NewPCG(1, 2))
	big := sampleJournal()
	for i := range 200 {
		big.Steps[0].Resources = append(big.Steps[0].Resources, record.Resource{
			Type: "array:map", ID: fmt.Sprintf("%d-%016x%016x", i, rng.Uint64(), rng.Uint64()), Time: t0})
	}
	require.NoError(t, s.PutJournal(ctx, &big))
	assert.Equal(t, ssmtypes.ParameterTierAdvanced, f.Tier(name))
	got, err = s.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, big, got)

	// A later small value to the now advanced parameter is no downgrade error.
	require.NoError(t, s.PutJournal(ctx, &j))

	for i := range 400 {
		big.Steps[0].Resources = append(big.Steps[0].Resources, record.Resource{
			Type: "array:map", ID: fmt.Sprintf("%d-%016x%016x", i, rng.Uint64(), rng.Uint64()), Time: t0})
	}
	before := f.Calls()
	err = s.PutJournal(ctx, &big)
	require.ErrorIs(t, err, record.ErrTooLarge)
	assert.Equal(t, before, f.Calls(), "refused before any call")
}

func TestDecodeRefusesHostileValues(t *testing.T) {
	var j record.Journal
	require.Error(t, record.Decode(record.GzipPrefix+"!!!", &j))
	require.Error(t, record.Decode("not json", &j))
	// A zip bomb: 2 MB of zeros compress to a few KB.
	v, adv, err := record.Encode(map[string]string{"x": strings.Repeat("0", 2<<20)})
	require.NoError(t, err)
	assert.False(t, adv)
	err = record.Decode(v, &j)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "uncompressed")
}

func TestNoSecretsStored(t *testing.T) {
	ctx := context.Background()
	f := &recordtest.SSM{}
	s := newStore(f, "")
	cases := map[string]func(j *record.Journal){
		"resource tag":  func(j *record.Journal) { j.Steps[0].Resources[0].Tags = map[string]string{"password": "x"} },
		"resource attr": func(j *record.Journal) { j.Steps[0].Resources[0].Attrs = map[string]string{"chap_secret": "x"} },
		"output":        func(j *record.Journal) { j.Steps[0].Outputs = map[string]string{"api_token": "x"} },
		"no id":         func(j *record.Journal) { j.Steps[0].Resources[0].ID = "" },
		"repeated step": func(j *record.Journal) { j.Steps[1].Name = j.Steps[0].Name },
		"bad workload":  func(j *record.Journal) { j.Workload = "Web 01" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			j := sampleJournal()
			mutate(&j)
			if j.Workload != "web01" {
				require.Error(t, j.Validate())
				return
			}
			require.Error(t, s.PutJournal(ctx, &j))
		})
	}
	assert.Empty(t, f.Names(), "nothing was written")

	j := sampleJournal()
	r := record.NewRecord(&j, "us-west-2", answers+"    password: hunter2\n", "run-1", t0)
	err := s.PutRecord(ctx, &r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"password"`)
	// References pass: chap_secret_arn, secret_arn, env.
	r = record.NewRecord(&j, "us-west-2", answers+"  management:\n    credentials:\n      secret_arn: arn:x\n      env: ARRAY_PW\n", "run-1", t0)
	require.NoError(t, s.PutRecord(ctx, &r))
	// A tampered hash is refused.
	r.AnswersSHA256 = strings.Repeat("0", 64)
	require.Error(t, s.PutRecord(ctx, &r))
}

func TestNewerSchemaRefused(t *testing.T) {
	f := &recordtest.SSM{}
	s := newStore(f, "")
	f.Set(record.JournalParam("web01"), `{"schema":99,"workload":"web01"}`)
	f.Set(naming.RecordParam("web01"), `{"schema":99,"workload":"web01"}`)
	_, err := s.GetJournal(context.Background())
	require.ErrorContains(t, err, "newer outposts-ha")
	_, err = s.GetRecord(context.Background())
	require.ErrorContains(t, err, "newer outposts-ha")
}

// TooManyUpdates (a concurrent write to the same parameter) is retried a
// bounded number of times with an injected sleep.
func TestTooManyUpdatesRetried(t *testing.T) {
	f := &recordtest.SSM{}
	s := newStore(f, "")
	slept := 0
	s.Sleep = func(context.Context, time.Duration) error { slept++; return nil }
	fails := 2
	f.Before = func(op, _ string) error {
		if op == "Put" && fails > 0 {
			fails--
			return apiError("TooManyUpdates")
		}
		return nil
	}
	j := sampleJournal()
	require.NoError(t, s.PutJournal(context.Background(), &j))
	assert.Equal(t, 2, slept)

	f.Before = func(op, _ string) error {
		if op == "Put" {
			return apiError("TooManyUpdates")
		}
		return nil
	}
	err := s.PutJournal(context.Background(), &j)
	require.Error(t, err)
	assert.Equal(t, 2+4, slept, "five tries, four sleeps")
}

func TestWriteJSONAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "journal.json")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
	require.NoError(t, record.WriteJSONAtomic(p, map[string]int{"a": 1}))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"a\": 1\n}\n", string(b))
	// A folder that does not exist fails, and leaves nothing.
	err = record.WriteJSONAtomic(filepath.Join(dir, "missing", "x.json"), 1)
	require.Error(t, err)

	// Through the store: Parameter Store has the value, the error says the
	// copy failed (a *MirrorError callers may treat as a warning).
	f := &recordtest.SSM{}
	s := newStore(f, "")
	s.JournalMirror = filepath.Join(dir, "missing", "journal.json")
	j := sampleJournal()
	err = s.PutJournal(context.Background(), &j)
	var me *record.MirrorError
	require.ErrorAs(t, err, &me)
	assert.NotEmpty(t, f.Value(record.JournalParam("web01")))
	_, err = s.GetJournal(context.Background())
	require.NoError(t, err)
	require.False(t, errors.Is(err, record.ErrNotFound))
}
