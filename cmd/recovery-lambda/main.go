// Command recovery-lambda is the failover function of one workload. It runs on
// Lambda (provided.al2023, arm64, binary "bootstrap"), builds its AWS clients
// once, reads the environment the recovery stack sets, and hands each event to
// the engine in package recovery:
//   - SNS events carrying CloudWatch alarm notifications -> Engine.HandleAlarm
//     (the engine's own notifications, which come back on the same topic, and
//     any other message are ignored);
//   - {"kind":"drill","dryRun":true,"requestedBy":"..."} -> Engine.Drill, whose
//     report is the invocation's result.
//
// A returned error is a function error, so Lambda retries the event twice and
// then sends it to the dead-letter queue; that is how an unconfirmed fence is
// re-evaluated (see recovery.ErrAwaitingConfirmation).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/outposts-ha/outposts-ha/internal/awsx"
	"github.com/outposts-ha/outposts-ha/recovery"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h, err := setup(context.Background(), os.Getenv, log)
	if err != nil {
		// An init failure fails every invocation, so the event is retried and
		// then lands in the dead-letter queue, whose alarm tells the operator.
		log.Error("recovery-lambda cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func setup(ctx context.Context, getenv func(string) string, log *slog.Logger) (*handler, error) {
	cfg, err := configFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsx.LoadConfig(ctx, awsx.Options{})
	if err != nil {
		return nil, err
	}
	eng, err := recovery.New(recovery.Deps{
		Config:     cfg,
		EC2:        ec2.NewFromConfig(awsCfg),
		SSM:        ssm.NewFromConfig(awsCfg),
		SNS:        sns.NewFromConfig(awsCfg),
		CloudWatch: cloudwatch.NewFromConfig(awsCfg),
		SQS:        sqs.NewFromConfig(awsCfg),
		Log:        log,
	})
	if err != nil {
		return nil, err
	}
	return &handler{eng: eng, log: log}, nil
}
