// Unit tests of EnsureServiceRole with a fake IAM (a map of roles and
// policies behind the package's small IAM interface; an unexpected call
// panics). The moto run is in ensure_role_integration_test.go.
package stack

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeIAM struct {
	IAM
	roles    map[string]string // name -> trust
	inline   map[string]string // role/policy -> document
	versions []iamtypes.PolicyVersion
	docs     map[string]string // version -> document (URL-encoded, as IAM returns it)
	calls    []string
}

var noSuchEntity = &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "not found"}

func newFakeIAM() *fakeIAM {
	return &fakeIAM{roles: map[string]string{}, inline: map[string]string{}, docs: map[string]string{}}
}

func (f *fakeIAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	f.calls = append(f.calls, "GetRole")
	if _, ok := f.roles[aws.ToString(in.RoleName)]; !ok {
		return nil, noSuchEntity
	}
	return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName}}, nil
}

func (f *fakeIAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.calls = append(f.calls, "CreateRole")
	f.roles[aws.ToString(in.RoleName)] = aws.ToString(in.AssumeRolePolicyDocument)
	return &iam.CreateRoleOutput{}, nil
}

func (f *fakeIAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	f.calls = append(f.calls, "UpdateAssumeRolePolicy")
	f.roles[aws.ToString(in.RoleName)] = aws.ToString(in.PolicyDocument)
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (f *fakeIAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	f.calls = append(f.calls, "PutRolePolicy")
	f.inline[aws.ToString(in.RoleName)+"/"+aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

func (f *fakeIAM) def() string {
	for _, v := range f.versions {
		if v.IsDefaultVersion {
			return aws.ToString(v.VersionId)
		}
	}
	return ""
}

func (f *fakeIAM) GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	f.calls = append(f.calls, "GetPolicy")
	if len(f.versions) == 0 {
		return nil, noSuchEntity
	}
	return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{DefaultVersionId: aws.String(f.def())}}, nil
}

func (f *fakeIAM) addVersion(doc string) {
	for i := range f.versions {
		f.versions[i].IsDefaultVersion = false
	}
	id := fmt.Sprintf("v%d", len(f.docs)+1)
	f.versions = append(f.versions, iamtypes.PolicyVersion{VersionId: aws.String(id), IsDefaultVersion: true,
		CreateDate: aws.Time(time.Unix(int64(len(f.docs)), 0))})
	f.docs[id] = url.QueryEscape(doc)
}

func (f *fakeIAM) CreatePolicy(_ context.Context, in *iam.CreatePolicyInput, _ ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	f.calls = append(f.calls, "CreatePolicy")
	f.addVersion(aws.ToString(in.PolicyDocument))
	return &iam.CreatePolicyOutput{}, nil
}

func (f *fakeIAM) GetPolicyVersion(_ context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	f.calls = append(f.calls, "GetPolicyVersion")
	return &iam.GetPolicyVersionOutput{PolicyVersion: &iamtypes.PolicyVersion{Document: aws.String(f.docs[aws.ToString(in.VersionId)])}}, nil
}

func (f *fakeIAM) ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error) {
	f.calls = append(f.calls, "ListPolicyVersions")
	return &iam.ListPolicyVersionsOutput{Versions: append([]iamtypes.PolicyVersion{}, f.versions...)}, nil
}

func (f *fakeIAM) CreatePolicyVersion(_ context.Context, in *iam.CreatePolicyVersionInput, _ ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error) {
	f.calls = append(f.calls, "CreatePolicyVersion")
	if len(f.versions) >= maxPolicyVersions {
		return nil, &smithy.GenericAPIError{Code: "LimitExceeded", Message: "five versions"}
	}
	f.addVersion(aws.ToString(in.PolicyDocument))
	return &iam.CreatePolicyVersionOutput{}, nil
}

func (f *fakeIAM) DeletePolicyVersion(_ context.Context, in *iam.DeletePolicyVersionInput, _ ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error) {
	f.calls = append(f.calls, "DeletePolicyVersion:"+aws.ToString(in.VersionId))
	for i, v := range f.versions {
		if aws.ToString(v.VersionId) == aws.ToString(in.VersionId) {
			f.versions = append(f.versions[:i], f.versions[i+1:]...)
			break
		}
	}
	return &iam.DeletePolicyVersionOutput{}, nil
}

func TestEnsureServiceRoleCreatesThenIsIdempotent(t *testing.T) {
	f := newFakeIAM()
	c := deployConfig()
	sr, err := EnsureServiceRole(context.Background(), f, c, "123456789012", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"GetPolicy", "CreatePolicy", "GetRole", "CreateRole", "PutRolePolicy"}, f.calls)
	assert.JSONEq(t, string(sr.Trust), f.roles[sr.Name])
	assert.JSONEq(t, string(sr.Policy), f.inline[sr.Name+"/"+ServiceRolePolicyName])
	assert.Contains(t, string(sr.Policy), `"arn:aws:iam::123456789012:policy/oha-web01-us-west-2-boundary"`)

	f.calls = nil
	_, err = EnsureServiceRole(context.Background(), f, c, "123456789012", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"GetPolicy", "GetPolicyVersion", "GetRole", "UpdateAssumeRolePolicy", "PutRolePolicy"}, f.calls,
		"an unchanged boundary gets no new version")
	assert.Len(t, f.versions, 1)
}

func TestEnsureServiceRoleUpdatesBoundaryWithinVersionLimit(t *testing.T) {
	f := newFakeIAM()
	for i := 0; i < maxPolicyVersions; i++ {
		f.addVersion(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Old%d"}]}`, i))
	}
	_, err := EnsureServiceRole(context.Background(), f, deployConfig(), "123456789012", nil)
	require.NoError(t, err)
	assert.Contains(t, f.calls, "DeletePolicyVersion:v1", "the oldest non-default version makes room")
	assert.Len(t, f.versions, maxPolicyVersions)
	sr, err := RenderServiceRole(deployConfig(), "123456789012")
	require.NoError(t, err)
	assert.True(t, sameDocument(f.docs[f.def()], sr.Boundary), "the rendered boundary is now the default")
}

func TestEnsureServiceRoleNeedsAccount(t *testing.T) {
	_, err := EnsureServiceRole(context.Background(), newFakeIAM(), deployConfig(), "", nil)
	require.Error(t, err)
}

func TestEnsureServiceRoleReportsErrors(t *testing.T) {
	f := &erringIAM{fakeIAM: newFakeIAM()}
	_, err := EnsureServiceRole(context.Background(), f, deployConfig(), "123456789012", nil)
	require.ErrorIs(t, err, errDenied)
	assert.Contains(t, err.Error(), "oha-web01-us-west-2-boundary")
}

var errDenied = &smithy.GenericAPIError{Code: "AccessDenied", Message: "not an administrator"}

type erringIAM struct{ *fakeIAM }

func (erringIAM) GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	return nil, errDenied
}
