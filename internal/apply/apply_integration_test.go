//go:build integration

package apply_test

// Integration test: the runner with steps that make real resources (launch
// templates) and the real record store, through the real AWS SDK against
// moto (scripts/with-moto.sh), with awsxtest's contract check on every
// request. The steps here are test steps shaped like setup's, not setup's.
// A crash after a step's resource is made, before the journal says so, is
// injected; the resume (another "machine", after the lease expired on the
// injected clock) must find the template instead of creating it again, and
// the abort must leave EC2 and Parameter Store as they were, including a
// template of another workload it must not touch.

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/record"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

// ltStep makes one launch template; its Do is a plain create (EC2 refuses a
// second template of the same name), so only the runner's Find keeps a
// resume from failing or duplicating.
type ltStep struct {
	ec2      *ec2.Client
	workload string
	role     string
	crash    func() // called after the template is made, before returning
}

func (s *ltStep) Name() string { return "lt-" + s.role }

func (s *ltStep) name() string { return naming.LaunchTemplate(s.workload, s.role) }

func (s *ltStep) resource(id, token string, created bool) record.Resource {
	return record.Resource{Type: "AWS::EC2::LaunchTemplate", ID: id, Region: "us-west-2", CreatedByUs: created,
		Tags: map[string]string{naming.TagWorkload: s.workload, naming.TagRole: s.role, apply.TagSetup: token}}
}

func (s *ltStep) Find(ctx context.Context, env apply.Env) (apply.Result, bool, error) {
	out, err := s.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{s.name()}})
	if awsx.IsNotFound(err) {
		return apply.Result{}, false, nil
	}
	if err != nil {
		return apply.Result{}, false, err
	}
	for _, lt := range out.LaunchTemplates {
		// Ours only when it carries this setup's token; a template of the
		// same name without it was not made by this setup: report it as
		// found, not created, so an abort leaves it.
		id := aws.ToString(lt.LaunchTemplateId)
		mine := false
		for _, tg := range lt.Tags {
			mine = mine || (aws.ToString(tg.Key) == apply.TagSetup && aws.ToString(tg.Value) == env.Token)
		}
		return apply.Result{Resources: []record.Resource{s.resource(id, env.Token, mine)}, Outputs: map[string]string{"id": id}}, true, nil
	}
	return apply.Result{}, false, nil
}

func (s *ltStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	out, err := s.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(s.name()),
		ClientToken:        aws.String(env.Token + "-" + s.Name()),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: ec2types.InstanceTypeC5Large},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: []ec2types.Tag{
			{Key: aws.String(naming.TagWorkload), Value: aws.String(s.workload)},
			{Key: aws.String(naming.TagRole), Value: aws.String(s.role)},
			{Key: aws.String(apply.TagSetup), Value: aws.String(env.Token)},
		}}},
	})
	if err != nil {
		return apply.Result{}, err
	}
	id := aws.ToString(out.LaunchTemplate.LaunchTemplateId)
	if s.crash != nil {
		s.crash()
	}
	return apply.Result{Resources: []record.Resource{s.resource(id, env.Token, true)}, Outputs: map[string]string{"id": id}}, nil
}

func (s *ltStep) Undo(ctx context.Context, r apply.Result) error {
	for _, x := range r.Resources {
		_, err := s.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(x.ID)})
		if err != nil && !awsx.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// crashable is a Parameter Store client that fails every call once its
// machine has "crashed".
type crashable struct {
	*ssm.Client
	dead *atomic.Bool
}

func (c crashable) GetParameter(ctx context.Context, in *ssm.GetParameterInput, o ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	if c.dead.Load() {
		return nil, errDead
	}
	return c.Client.GetParameter(ctx, in, o...)
}

func (c crashable) PutParameter(ctx context.Context, in *ssm.PutParameterInput, o ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if c.dead.Load() {
		return nil, errDead
	}
	return c.Client.PutParameter(ctx, in, o...)
}

func (c crashable) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, o ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	if c.dead.Load() {
		return nil, errDead
	}
	return c.Client.DeleteParameter(ctx, in, o...)
}

func templatesOf(t *testing.T, client *ec2.Client, w string) []string {
	t.Helper()
	out, err := client.DescribeLaunchTemplates(context.Background(), &ec2.DescribeLaunchTemplatesInput{
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + naming.TagWorkload), Values: []string{w}}}})
	require.NoError(t, err)
	var names []string
	for _, lt := range out.LaunchTemplates {
		names = append(names, aws.ToString(lt.LaunchTemplateName))
	}
	return names
}

func paramsOf(t *testing.T, client *ssm.Client, w string) []string {
	t.Helper()
	var found []string
	for _, n := range []string{naming.RecordParam(w), record.JournalParam(w), record.LeaseParam(w)} {
		_, err := client.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(n)})
		if err == nil {
			found = append(found, n)
			continue
		}
		require.True(t, awsx.IsNotFound(err), "%s: %v", n, err)
	}
	return found
}

func TestRunnerAgainstMoto(t *testing.T) {
	testenv.NeedEmulator(t)
	ctx := context.Background()
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	ec2c, ssmc := ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	w := "ap" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	other := w + "x"
	ans := "workload: " + w + "\nregion: us-west-2\n"
	c := &clock{now: t0}

	// Another workload's template, which nothing here may touch.
	otherStep := &ltStep{ec2: ec2c, workload: other, role: naming.RolePrimary}
	_, err = otherStep.Do(ctx, apply.Env{Token: "someone-else"})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = ec2c.DeleteLaunchTemplate(context.Background(), &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(naming.LaunchTemplate(other, naming.RolePrimary))})
	})
	require.Empty(t, templatesOf(t, ec2c, w))

	newMachine := func(runID string, crashAfter string) (*apply.Runner, *atomic.Bool) {
		dead := &atomic.Bool{}
		store := &record.Store{SSM: crashable{Client: ssmc, dead: dead}, Workload: w, Now: c.Now}
		crash := func() { dead.Store(true) }
		steps := []apply.Step{
			&ltStep{ec2: ec2c, workload: w, role: naming.RolePrimary},
			&ltStep{ec2: ec2c, workload: w, role: naming.RoleRecovery},
			&apply.RecordStep{Store: store, Region: "us-west-2", Answers: ans, RunID: runID, Now: c.Now},
		}
		for _, s := range steps {
			if lt, ok := s.(*ltStep); ok && lt.Name() == crashAfter {
				lt.crash = crash
			}
		}
		return &apply.Runner{Store: store, Steps: steps, RunID: runID, Owner: "it@" + runID,
			AnswersSHA256: record.HashAnswers(ans), LeaseTTL: 30 * time.Minute, Now: c.Now}, dead
	}

	// Machine 1 crashes right after creating lt-<w>-primary.
	r1, _ := newMachine("run-1", "lt-primary")
	_, err = r1.Run(ctx)
	require.ErrorIs(t, err, errDead)
	assert.Equal(t, []string{naming.LaunchTemplate(w, naming.RolePrimary)}, templatesOf(t, ec2c, w))

	// Machine 2 sees the journal, waits out the lease, resumes.
	r2, _ := newMachine("run-2", "")
	j, err := r2.Store.GetJournal(ctx)
	require.NoError(t, err)
	assert.Equal(t, record.StepStarted, j.Step("lt-primary").State, "the crash left the step started")
	_, err = r2.Run(ctx)
	var held *record.LeaseHeldError
	require.ErrorAs(t, err, &held)
	c.Add(31 * time.Minute)
	res, err := r2.Run(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{naming.LaunchTemplate(w, naming.RolePrimary), naming.LaunchTemplate(w, naming.RoleRecovery)}, templatesOf(t, ec2c, w))
	rec, err := r2.Store.GetRecord(ctx)
	require.NoError(t, err)
	var ids []string
	for _, x := range rec.Resources {
		ids = append(ids, x.ID)
	}
	assert.ElementsMatch(t, []string{res.Output("lt-primary", "id"), res.Output("lt-recovery", "id")}, ids)
	assert.Len(t, paramsOf(t, ssmc, w), 3, "record, journal and lease exist")

	// Abort from a third machine: exactly what setup made is gone.
	r3, _ := newMachine("run-3", "")
	require.NoError(t, r3.Abort(ctx))
	assert.Empty(t, templatesOf(t, ec2c, w))
	assert.Empty(t, paramsOf(t, ssmc, w))
	assert.Equal(t, []string{naming.LaunchTemplate(other, naming.RolePrimary)}, templatesOf(t, ec2c, other), "the other workload's template is untouched")
}

// gateStep blocks its Do until released, to hold a run inside a step.
type gateStep struct {
	apply.Step
	entered chan struct{}
	release chan struct{}
}

func (g *gateStep) Do(ctx context.Context, env apply.Env) (apply.Result, error) {
	close(g.entered)
	<-g.release
	return g.Step.Do(ctx, env)
}

// Two machines run setup of one workload at the same time against moto:
// one holds the lease (inside its first step while the other tries), the
// other is refused naming the holder and creates nothing.
func TestTwoRunnersAgainstMoto(t *testing.T) {
	testenv.NeedEmulator(t)
	ctx := context.Background()
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	ec2c, ssmc := ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	w := "cc" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	ans := "workload: " + w + "\n"
	mk := func(runID string) *apply.Runner {
		store := &record.Store{SSM: ssmc, Workload: w}
		return &apply.Runner{Store: store, RunID: runID, Owner: "it@" + runID, AnswersSHA256: record.HashAnswers(ans),
			Steps: []apply.Step{
				&ltStep{ec2: ec2c, workload: w, role: naming.RolePrimary},
				&ltStep{ec2: ec2c, workload: w, role: naming.RoleRecovery},
			}}
	}
	a, b := mk("run-a"), mk("run-b")
	gate := &gateStep{Step: a.Steps[0], entered: make(chan struct{}), release: make(chan struct{})}
	a.Steps[0] = gate
	aErr := make(chan error, 1)
	go func() { _, err := a.Run(ctx); aErr <- err }()
	select {
	case <-gate.entered:
	case err := <-aErr:
		t.Fatalf("run A ended before its first step: %v", err)
	}
	_, err = b.Run(ctx)
	close(gate.release)
	var held *record.LeaseHeldError
	require.ErrorAs(t, err, &held)
	assert.Equal(t, "run-a", held.Holder.RunID)
	require.NoError(t, <-aErr)
	assert.Len(t, templatesOf(t, ec2c, w), 2, "A made both templates; B made nothing")

	require.NoError(t, mk("run-c").Abort(ctx))
	assert.Empty(t, templatesOf(t, ec2c, w))
	assert.Empty(t, paramsOf(t, ssmc, w))
}
