package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// IAM is the part of the IAM API EnsureServiceRole calls. Only an
// administrator's credentials hold these rights; the operator policy has
// none of them.
type IAM interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, o ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, o ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, o ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, o ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, o ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, o ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	ListPolicyVersions(ctx context.Context, in *iam.ListPolicyVersionsInput, o ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error)
	CreatePolicyVersion(ctx context.Context, in *iam.CreatePolicyVersionInput, o ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput, o ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
}

// maxPolicyVersions is IAM's limit of stored versions per managed policy
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html).
const maxPolicyVersions = 5

// EnsureServiceRole creates or brings up to date, in account, the workload's
// CloudFormation service role and the permissions boundary of the stack's
// roles: the boundary first (the role's policy names it), then the role's
// trust and inline policy. It is idempotent: an unchanged boundary gets no
// new version. Run it with administrator credentials, once per workload and
// Region and again after an upgrade changes the documents.
func EnsureServiceRole(ctx context.Context, client IAM, c Config, account string, log *slog.Logger) (ServiceRole, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if account == "" {
		return ServiceRole{}, errors.New("recovery stack service role: account is empty")
	}
	sr, err := RenderServiceRole(c, account)
	if err != nil {
		return ServiceRole{}, err
	}
	tags := []iamtypes.Tag{
		{Key: aws.String(naming.TagWorkload), Value: aws.String(c.Workload)},
		{Key: aws.String(naming.TagManaged), Value: aws.String(naming.ManagedBy)},
	}
	if err := ensureBoundary(ctx, client, sr, tags, log); err != nil {
		return sr, err
	}
	_, err = client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(sr.Name)})
	switch {
	case awsx.IsNotFound(err):
		if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(sr.Name),
			AssumeRolePolicyDocument: aws.String(string(sr.Trust)),
			Description:              aws.String("outposts-ha " + c.Workload + ": CloudFormation deploys the recovery stack " + StackName(c.Workload) + " as this role"),
			Tags:                     tags,
		}); err != nil {
			return sr, fmt.Errorf("create service role %s: %w", sr.Name, err)
		}
		log.Info("CloudFormation service role created", "role", sr.Name)
	case err != nil:
		return sr, fmt.Errorf("read service role %s: %w", sr.Name, err)
	default:
		if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName: aws.String(sr.Name), PolicyDocument: aws.String(string(sr.Trust)),
		}); err != nil {
			return sr, fmt.Errorf("update service role %s trust: %w", sr.Name, err)
		}
	}
	if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(sr.Name), PolicyName: aws.String(sr.PolicyName), PolicyDocument: aws.String(string(sr.Policy)),
	}); err != nil {
		return sr, fmt.Errorf("put service role %s policy: %w", sr.Name, err)
	}
	return sr, nil
}

func ensureBoundary(ctx context.Context, client IAM, sr ServiceRole, tags []iamtypes.Tag, log *slog.Logger) error {
	got, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(sr.BoundaryArn)})
	if awsx.IsNotFound(err) {
		if _, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName:     aws.String(sr.BoundaryName),
			PolicyDocument: aws.String(string(sr.Boundary)),
			Description:    aws.String("outposts-ha: the most the recovery stack's roles may ever do"),
			Tags:           tags,
		}); err != nil {
			return fmt.Errorf("create boundary policy %s: %w", sr.BoundaryName, err)
		}
		log.Info("permissions boundary created", "policy", sr.BoundaryName)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read boundary policy %s: %w", sr.BoundaryName, err)
	}
	def := aws.ToString(got.Policy.DefaultVersionId)
	v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(sr.BoundaryArn), VersionId: aws.String(def)})
	if err != nil {
		return fmt.Errorf("read boundary policy %s version %s: %w", sr.BoundaryName, def, err)
	}
	if v.PolicyVersion != nil && sameDocument(aws.ToString(v.PolicyVersion.Document), sr.Boundary) {
		return nil
	}
	vs, err := client.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(sr.BoundaryArn)})
	if err != nil {
		return fmt.Errorf("list boundary policy %s versions: %w", sr.BoundaryName, err)
	}
	if len(vs.Versions) >= maxPolicyVersions {
		// Drop the oldest version that is not the default.
		old := append([]iamtypes.PolicyVersion{}, vs.Versions...)
		sort.Slice(old, func(i, j int) bool { return aws.ToTime(old[i].CreateDate).Before(aws.ToTime(old[j].CreateDate)) })
		for _, o := range old {
			if !o.IsDefaultVersion {
				if _, err := client.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(sr.BoundaryArn), VersionId: o.VersionId}); err != nil {
					return fmt.Errorf("delete boundary policy %s version %s: %w", sr.BoundaryName, aws.ToString(o.VersionId), err)
				}
				break
			}
		}
	}
	if _, err := client.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
		PolicyArn: aws.String(sr.BoundaryArn), PolicyDocument: aws.String(string(sr.Boundary)), SetAsDefault: true,
	}); err != nil {
		return fmt.Errorf("update boundary policy %s: %w", sr.BoundaryName, err)
	}
	log.Info("permissions boundary updated", "policy", sr.BoundaryName)
	return nil
}

// sameDocument compares a stored policy document (IAM returns it
// URL-encoded) with a rendered one, as JSON values.
func sameDocument(stored string, want []byte) bool {
	if u, err := url.QueryUnescape(stored); err == nil {
		stored = u
	}
	var a, b any
	if json.Unmarshal([]byte(stored), &a) != nil || json.Unmarshal(want, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}
