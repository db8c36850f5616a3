package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// S3 is the part of the S3 API the bundle upload calls.
type S3 interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, o ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateBucket(ctx context.Context, in *s3.CreateBucketInput, o ...func(*s3.Options)) (*s3.CreateBucketOutput, error)
	PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, o ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
	PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput, o ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
	PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, o ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error)
	PutBucketTagging(ctx context.Context, in *s3.PutBucketTaggingInput, o ...func(*s3.Options)) (*s3.PutBucketTaggingOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, o ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// ensureBucket finds or creates the bundle bucket and (re)applies its
// protections every time, so a bucket changed by hand is put right. The bucket
// is shared by every workload in the account and Region, so it carries the
// managed-by tag, not a workload tag.
func ensureBucket(ctx context.Context, c S3, bucket, account, region string) error {
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String(account)})
	switch {
	case err == nil:
	case awsx.IsNotFound(err):
		in := &s3.CreateBucketInput{
			Bucket:          aws.String(bucket),
			ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced,
		}
		if region != "us-east-1" { // us-east-1 rejects its own name as a constraint
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
		}
		if _, err := c.CreateBucket(ctx, in); err != nil && awsx.Code(err) != "BucketAlreadyOwnedByYou" {
			return fmt.Errorf("create bundle bucket %s: %w", bucket, err)
		}
	default:
		// 403 here means the name is taken by another account (or this
		// caller may not read it): never upload code into it.
		return fmt.Errorf("check bundle bucket %s belongs to account %s: %w", bucket, account, err)
	}

	steps := []struct {
		what string
		do   func() error
	}{
		{"block public access", func() error {
			_, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
				Bucket:              aws.String(bucket),
				ExpectedBucketOwner: aws.String(account),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
					BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
					BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
				},
			})
			return err
		}},
		{"enforce bucket-owner object ownership", func() error {
			_, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
				Bucket:              aws.String(bucket),
				ExpectedBucketOwner: aws.String(account),
				OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{
					{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced},
				}},
			})
			return err
		}},
		{"set default encryption", func() error {
			// SSE-S3: Lambda reads the code with the deployer's credentials,
			// and a shared bucket should not depend on one workload's key.
			_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
				Bucket:              aws.String(bucket),
				ExpectedBucketOwner: aws.String(account),
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{
					{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}},
				}},
			})
			return err
		}},
		{"tag", func() error {
			_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
				Bucket:              aws.String(bucket),
				ExpectedBucketOwner: aws.String(account),
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
					{Key: aws.String(naming.TagManaged), Value: aws.String(naming.ManagedBy)},
				}},
			})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("bundle bucket %s: %s: %w", bucket, s.what, err)
		}
	}
	return nil
}

// uploadBundle puts the bundle under its content hash unless it is there
// already. S3 checks the SHA-256 on arrival; IfNoneMatch keeps a concurrent
// upload from overwriting (it would be the same bytes anyway).
func uploadBundle(ctx context.Context, c S3, bucket, account, key string, bundle []byte, log *slog.Logger) error {
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: aws.String(account)})
	if err == nil {
		log.Info("function bundle already uploaded", "bucket", bucket, "key", key)
		return nil
	}
	if !awsx.IsNotFound(err) {
		return fmt.Errorf("check function bundle s3://%s/%s: %w", bucket, key, err)
	}
	sum := sha256.Sum256(bundle)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:              aws.String(bucket),
		Key:                 aws.String(key),
		Body:                bytes.NewReader(bundle),
		ContentLength:       aws.Int64(int64(len(bundle))),
		ContentType:         aws.String("application/zip"),
		ChecksumSHA256:      aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		IfNoneMatch:         aws.String("*"),
		ExpectedBucketOwner: aws.String(account),
	})
	if awsx.Code(err) == "PreconditionFailed" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("upload function bundle s3://%s/%s: %w", bucket, key, err)
	}
	log.Info("function bundle uploaded", "bucket", bucket, "key", key, "bytes", len(bundle))
	return nil
}
