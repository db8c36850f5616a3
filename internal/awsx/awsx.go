// Package awsx loads AWS configuration the same way for the CLI, the failover
// function and the integration tests, and classifies AWS errors by code.
package awsx

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// Options selects a profile and region; empty values fall back to the SDK's
// default chain (environment, shared config, SSO, instance role).
type Options struct {
	Profile string
	Region  string
}

// LoadConfig loads the SDK configuration. AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> are honoured by the SDK itself, which is how the
// integration tests point every client at a local emulator.
func LoadConfig(ctx context.Context, o Options) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set --region, AWS_REGION or region in the answers file")
	}
	return cfg, nil
}

// Code returns the AWS error code of err, or "".
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var notFoundCodes = map[string]bool{
	"ParameterNotFound":                           true,
	"InvalidInstanceID.NotFound":                  true,
	"InvalidLaunchTemplateName.NotFoundException": true,
	"InvalidLaunchTemplateId.NotFound":            true,
	"ResourceNotFoundException":                   true,
	"NoSuchBucket":                                true,
	"NoSuchKey":                                   true,
	"NotFound":                                    true,
	"NotFoundException":                           true,
	"ResourceNotFound":                            true,
	"NoSuchEntity":                                true,
	"InvalidSubnetID.NotFound":                    true,
	"InvalidGroup.NotFound":                       true,
	"InvalidKeyPair.NotFound":                     true,
	"InvalidAMIID.NotFound":                       true,
}

var alreadyExistsCodes = map[string]bool{
	"ParameterAlreadyExists":                           true,
	"AlreadyExistsException":                           true,
	"InvalidLaunchTemplateName.AlreadyExistsException": true,
	"BucketAlreadyOwnedByYou":                          true,
	"EntityAlreadyExists":                              true,
	"ResourceExistsException":                          true,
}

// IsNotFound reports whether err is an AWS "does not exist" error.
func IsNotFound(err error) bool { return notFoundCodes[Code(err)] }

// IsAlreadyExists reports whether err is an AWS "already exists" error.
func IsAlreadyExists(err error) bool { return alreadyExistsCodes[Code(err)] }

// IsNoUpdates reports CloudFormation's "No updates are to be performed", which
// an update treats as success. CloudFormation gives it only as ValidationError
// with that message, so this is the one place that reads the text.
func IsNoUpdates(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && ae.ErrorMessage() == "No updates are to be performed."
}
