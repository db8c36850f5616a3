package stack

import (
	"strconv"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// tagFenced marks a primary the function fenced; nothing may start it again
// (see the DenyStartFenced statements).
const tagFenced = naming.TagFenced

// Documentation behind the rules below (cited beside each rule too):
//   - encrypted topic and CloudWatch alarms:
//     https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
//   - log group encryption (logs.<region> principal, encryption context):
//     https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
//   - Lambda environment encryption with a customer managed key:
//     https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html
//   - checkov's in-template suppression (Metadata.checkov.skip):
//     https://www.checkov.io/2.Basics/Suppressing%20and%20Skipping%20Policies.html

// checkovSkip is checkov's documented CloudFormation suppression: a
// resource's Metadata.checkov.skip list of {id, comment}.
func checkovSkip(skips ...[2]string) map[string]any {
	list := make([]any, len(skips))
	for i, s := range skips {
		list[i] = m{"id": s[0], "comment": s[1]}
	}
	return m{"checkov": m{"skip": list}}
}

// alarmArns are the ARNs of every alarm of the workload (the connected alarm
// only exists with a primary Outpost ID; naming it anyway grants nothing).
func alarmArns(w string) []any {
	return []any{
		arn("cloudwatch", "alarm:"+StatusAlarmName(w)),
		arn("cloudwatch", "alarm:"+ConnectedAlarmName(w)),
		arn("cloudwatch", "alarm:"+DLQAlarmName(w)),
		arn("cloudwatch", "alarm:"+DLQMissingAlarmName(w)),
	}
}

func resources(w string) map[string]resource {
	alarmCommon := func(name, desc string) m {
		return m{
			"AlarmName":        name,
			"AlarmDescription": desc,
			"AlarmActions":     []any{ref("AlertsTopic")},
			"Tags":             tags(w),
		}
	}
	merge := func(dst, src m) m {
		for k, v := range src {
			dst[k] = v
		}
		return dst
	}
	status := merge(alarmCommon(StatusAlarmName(w), "outposts-ha "+w+": the primary instance failed its instance status check (or stopped reporting) for M of N minutes."), m{
		"Namespace":          "AWS/EC2",
		"MetricName":         "StatusCheckFailed_Instance",
		"Dimensions":         []m{{"Name": "InstanceId", "Value": ref(pInstance)}},
		"Statistic":          "Maximum",
		"Period":             60,
		"EvaluationPeriods":  ref(pPeriods),
		"DatapointsToAlarm":  ref(pDatapoints),
		"Threshold":          0,
		"ComparisonOperator": "GreaterThanThreshold",
		// A dead server stops publishing: missing data must count as failure.
		"TreatMissingData": "breaching",
	})
	connected := merge(alarmCommon(ConnectedAlarmName(w), "outposts-ha "+w+": the primary Outpost lost its connection to the Region (or stopped reporting) for the whole of M of N minutes."), m{
		"Namespace":          "AWS/Outposts",
		"MetricName":         "ConnectedStatus",
		"Dimensions":         []m{{"Name": "OutpostId", "Value": ref(pPrimaryOP)}},
		"Statistic":          "Maximum",
		"Period":             60,
		"EvaluationPeriods":  ref(pPeriods),
		"DatapointsToAlarm":  ref(pDatapoints),
		"Threshold":          1,
		"ComparisonOperator": "LessThanThreshold",
		"TreatMissingData":   "breaching",
	})
	dlqAlarm := merge(alarmCommon(DLQAlarmName(w), "outposts-ha "+w+": a failover event failed after every retry and sits in the dead-letter queue "+DLQName(w)+". Read it: a failover may not have happened."), m{
		"Namespace":          "AWS/SQS",
		"MetricName":         "ApproximateNumberOfMessagesVisible",
		"Dimensions":         []m{{"Name": "QueueName", "Value": getAtt("DeadLetterQueue", "QueueName")}},
		"Statistic":          "Maximum",
		"Period":             60,
		"EvaluationPeriods":  1,
		"Threshold":          0,
		"ComparisonOperator": "GreaterThanThreshold",
		// An idle queue stops publishing metrics; that is not a failure.
		"TreatMissingData": "notBreaching",
	})
	// SQS may delete a queue on which none of SendMessage, ReceiveMessage,
	// DeleteMessage, GetQueueAttributes, SetQueueAttributes, AddPermission,
	// RemovePermission ran for 30 days
	// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html,
	// "We reserve the right to delete queues that have had no activity for
	// more than 30 days"), and it publishes a queue's metrics only while the
	// queue is active, up to six hours after any action touched it
	// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html).
	// So: DeadLetterKeepAlive calls GetQueueAttributes every KeepAliveHours
	// (which is itself activity, so the queue is never idle for 30 days),
	// and this alarm counts the queue's samples over 4 x 6 h. A live queue
	// reports at least once a day; a missing one reports nothing, and
	// missing data is breaching. A metric on the idle queue alone could not
	// tell idle from missing.
	dlqMissing := merge(alarmCommon(DLQMissingAlarmName(w), "outposts-ha "+w+": the dead-letter queue "+DLQName(w)+" published no metrics for a day although a schedule reads it every "+strconv.Itoa(KeepAliveHours)+" hours: it may be deleted. Run setup again to re-create it."), m{
		"Namespace":          "AWS/SQS",
		"MetricName":         "ApproximateNumberOfMessagesVisible",
		"Dimensions":         []m{{"Name": "QueueName", "Value": getAtt("DeadLetterQueue", "QueueName")}},
		"Statistic":          "SampleCount",
		"Period":             21600,
		"EvaluationPeriods":  4,
		"DatapointsToAlarm":  4,
		"Threshold":          0,
		"ComparisonOperator": "LessThanOrEqualToThreshold",
		"TreatMissingData":   "breaching",
	})
	// Both detection alarms wait for everything that carries an ALARM to
	// the function: the function's subscription, the permission that lets
	// the topic invoke it, its failure destination, and (unless notify) the
	// launch policy. Otherwise an alarm raised while the stack is still
	// being created reaches a function that cannot be invoked or cannot act,
	// and the alarm does not fire again while it stays in ALARM.
	// LaunchPolicy is conditional, and DependsOn may not name a resource
	// whose condition is false, so a WaitConditionHandle stands in: its
	// Metadata references LaunchPolicy only when PolicyMayLaunch holds.
	alarmDeps := []string{"FunctionSubscription", "TopicInvokesFunction", "FunctionAsyncConfig", "LaunchPolicyReady"}

	return map[string]resource{
		// Stateful resources say explicitly that they go with the stack:
		// cleanup removes everything a workload owns, and a kept log group or
		// queue name would make the next create of the stack fail.
		"Key": {Type: "AWS::KMS::Key", DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete", Properties: m{
			"Description":       "outposts-ha " + w + ": encrypts the alerts topic, the failover dead-letter queue, the function's environment and its log group",
			"EnableKeyRotation": true,
			"KeyPolicy":         keyPolicy(w),
			// No Tags here: moto 5.2.5 crashes creating a KMS key with
			// CloudFormation-style tags (it expects the KMS API's
			// TagKey/TagValue). Deploy's stack-level tags, which
			// CloudFormation propagates to the key, tag it instead.
		}},
		"KeyAlias": {Type: "AWS::KMS::Alias", Properties: m{
			"AliasName":   KeyAliasName(w),
			"TargetKeyId": ref("Key"),
		}},
		"AlertsTopic": {Type: "AWS::SNS::Topic", Properties: m{
			"TopicName":      TopicName(w),
			"KmsMasterKeyId": ref("Key"),
			"Tags":           tags(w),
		}},
		"EmailSubscription": {Type: "AWS::SNS::Subscription", Properties: m{
			"TopicArn": ref("AlertsTopic"),
			"Protocol": "email",
			"Endpoint": ref(pEmail),
		}},
		"FunctionSubscription": {Type: "AWS::SNS::Subscription", Properties: m{
			"TopicArn": ref("AlertsTopic"),
			"Protocol": "lambda",
			"Endpoint": getAtt("FailoverFunction", "Arn"),
		}},
		"TopicInvokesFunction": {Type: "AWS::Lambda::Permission", Properties: m{
			"Action":        "lambda:InvokeFunction",
			"FunctionName":  ref("FailoverFunction"),
			"Principal":     "sns.amazonaws.com",
			"SourceArn":     ref("AlertsTopic"),
			"SourceAccount": ref("AWS::AccountId"),
		}},
		"DeadLetterQueue": {Type: "AWS::SQS::Queue", DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete", Properties: m{
			"QueueName":              DLQName(w),
			"KmsMasterKeyId":         ref("Key"),
			"MessageRetentionPeriod": DLQRetentionSeconds,
			"Tags":                   tags(w),
		}},
		"DeadLetterAlarm":        {Type: "AWS::CloudWatch::Alarm", Properties: dlqAlarm},
		"DeadLetterMissingAlarm": {Type: "AWS::CloudWatch::Alarm", Properties: dlqMissing},
		// No KmsKeyArn: the schedule's input is the queue's URL, nothing
		// secret (checkov 3.3.30 has no CloudFormation check for it).
		"DeadLetterKeepAlive": {Type: "AWS::Scheduler::Schedule",
			Properties: m{
				"Name":               KeepAliveName(w),
				"Description":        "outposts-ha " + w + ": reads the dead-letter queue's attributes so SQS keeps it (and its metrics) alive",
				"ScheduleExpression": "rate(" + strconv.Itoa(KeepAliveHours) + " hours)",
				"FlexibleTimeWindow": m{"Mode": "OFF"},
				"State":              "ENABLED",
				// A universal target: Scheduler calls the SQS API itself.
				// https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
				"Target": m{
					"Arn":         sub("arn:${AWS::Partition}:scheduler:::aws-sdk:sqs:getQueueAttributes"),
					"RoleArn":     getAtt("KeepAliveRole", "Arn"),
					"Input":       sub(`{"QueueUrl":"${DeadLetterQueue}","AttributeNames":["QueueArn"]}`),
					"RetryPolicy": m{"MaximumRetryAttempts": 3},
				},
			}},
		"KeepAliveRole": {Type: "AWS::IAM::Role", Properties: m{
			"RoleName":    sub(keepAliveRoleNameSub(w)),
			"Description": "outposts-ha " + w + ": lets EventBridge Scheduler read the dead-letter queue's attributes",
			// https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
			"AssumeRolePolicyDocument": policyDoc(m{
				"Effect":    "Allow",
				"Principal": m{"Service": "scheduler.amazonaws.com"},
				"Action":    "sts:AssumeRole",
				"Condition": m{"StringEquals": m{"aws:SourceAccount": ref("AWS::AccountId")}},
			}),
			"PermissionsBoundary": sub(boundaryArnSub(w)),
			"Policies":            []m{{"PolicyName": "touch-dead-letter-queue", "PolicyDocument": keepAlivePolicy()}},
			"Tags":                tags(w),
		}},
		"LogGroup": {Type: "AWS::Logs::LogGroup", DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete", Properties: m{
			"LogGroupName":    LogGroupName(w),
			"RetentionInDays": LogRetentionDays,
			// The key policy lets logs.<region> use the key for this log
			// group only (see keyPolicy).
			"KmsKeyId": getAtt("Key", "Arn"),
			"Tags":     tags(w),
		}},
		"FunctionRole": {Type: "AWS::IAM::Role", Properties: m{
			"RoleName":    sub(roleNameSub(w)),
			"Description": "outposts-ha " + w + ": the failover function's role",
			"AssumeRolePolicyDocument": policyDoc(m{
				"Effect":    "Allow",
				"Principal": m{"Service": "lambda.amazonaws.com"},
				"Action":    "sts:AssumeRole",
			}),
			// The service role may create this role only with this boundary
			// (see servicerole.go), so no template can grant it more.
			"PermissionsBoundary": sub(boundaryArnSub(w)),
			"Policies":            []m{{"PolicyName": "failover", "PolicyDocument": basePolicy(w)}},
			"Tags":                tags(w),
		}},
		"LaunchPolicy": {Type: "AWS::IAM::Policy", Condition: cCanLaunch, Properties: m{
			"PolicyName":     "launch-recovery",
			"Roles":          []any{ref("FunctionRole")},
			"PolicyDocument": launchPolicy(w),
		}},
		"LaunchPolicyReady": {Type: "AWS::CloudFormation::WaitConditionHandle", Metadata: m{
			"LaunchPolicy": ifThen(cCanLaunch, ref("LaunchPolicy"), ""),
		}, Properties: m{}},
		"FailoverFunction": {Type: "AWS::Lambda::Function",
			Metadata: checkovSkip(
				[2]string{"CKV_AWS_116", "Failed asynchronous events go to the KMS-encrypted SQS queue through the on-failure destination of FunctionAsyncConfig, which also records the error; a DeadLetterConfig would be a second, poorer copy."},
				[2]string{"CKV_AWS_117", "By design not in a VPC: the function calls only AWS APIs and must not depend on the site network whose failure it handles."},
			),
			Properties: m{
				"FunctionName":  FunctionName(w),
				"Description":   "outposts-ha " + w + ": fences the primary and relaunches it on the secondary Outposts server under the failover policy",
				"Architectures": []string{"arm64"},
				"Runtime":       "provided.al2023",
				"Handler":       "bootstrap",
				"Code":          m{"S3Bucket": ref(pBucket), "S3Key": ref(pKey)},
				"Role":          getAtt("FunctionRole", "Arn"),
				"Timeout":       FunctionTimeoutSeconds,
				"MemorySize":    256,
				// See ReservedConcurrency.
				"ReservedConcurrentExecutions": ReservedConcurrency,
				"LoggingConfig":                m{"LogGroup": ref("LogGroup"), "LogFormat": "JSON"},
				// The stack's key encrypts the environment; the role's
				// UseStackKey statement lets the function decrypt it.
				// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html
				"KmsKeyArn": getAtt("Key", "Arn"),
				// No VpcConfig: the function only calls AWS APIs, and must not
				// sit on the site whose failure it handles.
				"Environment": m{"Variables": m{
					"OHA_WORKLOAD":              w,
					"OHA_POLICY":                ref(pPolicy),
					"OHA_TOPIC_ARN":             ref("AlertsTopic"),
					"OHA_STATUS_ALARM":          StatusAlarmName(w),
					"OHA_CONNECTED_ALARM":       ifThen(cHasPrimaryOP, ConnectedAlarmName(w), ""),
					"OHA_PRIMARY_OUTPOST_ID":    ref(pPrimaryOP),
					"OHA_SECONDARY_OUTPOST_ID":  ref(pSecondOP),
					"OHA_RECOVERY_TEMPLATE":     naming.LaunchTemplate(w, naming.RoleRecovery),
					"OHA_DETECTION_PERIODS":     ref(pPeriods),
					"OHA_FENCE_TIMEOUT_SECONDS": ref(pFence),
					"OHA_DLQ_URL":               ref("DeadLetterQueue"),
				}},
				"Tags": tags(w),
			}},
		"FunctionAsyncConfig": {Type: "AWS::Lambda::EventInvokeConfig", Properties: m{
			"FunctionName":             ref("FailoverFunction"),
			"Qualifier":                "$LATEST",
			"MaximumRetryAttempts":     2,
			"MaximumEventAgeInSeconds": 3600,
			"DestinationConfig":        m{"OnFailure": m{"Destination": getAtt("DeadLetterQueue", "Arn")}},
		}},
		"StatusAlarm":    {Type: "AWS::CloudWatch::Alarm", DependsOn: alarmDeps, Properties: status},
		"ConnectedAlarm": {Type: "AWS::CloudWatch::Alarm", Condition: cHasPrimaryOP, DependsOn: alarmDeps, Properties: connected},
	}
}

func keyPolicy(w string) m {
	return policyDoc(
		m{
			"Sid":       "AccountAdministersKeyThroughIAM",
			"Effect":    "Allow",
			"Principal": m{"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
			"Action":    "kms:*",
			"Resource":  "*",
		},
		m{
			// CloudWatch alarms publish to the encrypted topic with this key,
			// and only this workload's alarms in this account may have it
			// do so (confused-deputy conditions).
			// https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
			"Sid":       "CloudWatchAlarmsPublishToEncryptedTopic",
			"Effect":    "Allow",
			"Principal": m{"Service": "cloudwatch.amazonaws.com"},
			"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
			"Resource":  "*",
			"Condition": m{
				"StringEquals": m{"aws:SourceAccount": ref("AWS::AccountId")},
				"ArnEquals":    m{"aws:SourceArn": alarmArns(w)},
			},
		},
		m{
			"Sid":       "SNSUsesKeyForThisTopicOnly",
			"Effect":    "Allow",
			"Principal": m{"Service": "sns.amazonaws.com"},
			"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
			"Resource":  "*",
			"Condition": m{
				"StringEquals": m{"aws:SourceAccount": ref("AWS::AccountId")},
				"ArnEquals":    m{"aws:SourceArn": arn("sns", TopicName(w))},
			},
		},
		m{
			// CloudWatch Logs encrypts the function's log group, and only
			// that log group: the documented principal and encryption
			// context condition.
			// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
			"Sid":       "LogsUsesKeyForTheFunctionLogGroupOnly",
			"Effect":    "Allow",
			"Principal": m{"Service": sub("logs.${AWS::Region}.${AWS::URLSuffix}")},
			"Action":    []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
			"Resource":  "*",
			"Condition": m{
				"ArnEquals": m{"kms:EncryptionContext:aws:logs:arn": arn("logs", "log-group:"+LogGroupName(w))},
			},
		},
	)
}

// denyStartFenced keeps a fenced primary stopped: an explicit Deny beats
// every Allow, so neither this role nor (in wizard/policy.go) the operator
// can start an instance tagged outposts-ha:fenced=true.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
func denyStartFenced() m {
	return m{"Sid": "DenyStartFenced", "Effect": "Deny", "Action": []string{"ec2:StartInstances"},
		"Resource":  []any{arn("ec2", "instance/*")},
		"Condition": m{"StringEquals": m{"ec2:ResourceTag/" + tagFenced: "true"}}}
}

// basePolicy is what the function needs under every failover policy.
func basePolicy(w string) m {
	workloadAlarms := []any{arn("cloudwatch", "alarm:"+StatusAlarmName(w)), arn("cloudwatch", "alarm:"+ConnectedAlarmName(w))}
	return policyDoc(
		allow("ReadWorkloadAlarms", []string{"cloudwatch:DescribeAlarms"}, workloadAlarms, nil),
		// A run that ends with no action while its alarm still reads ALARM
		// sets it back to OK, so a later real failure fires again.
		allow("RearmWorkloadAlarms", []string{"cloudwatch:SetAlarmState"}, workloadAlarms, nil),
		allow("ReadMetrics", []string{"cloudwatch:GetMetricData"}, []any{"*"}, nil),
		// Describe actions have no resource-level permissions. The drill
		// reads the recovery subnet's EnableLniAtDeviceIndex.
		allow("DescribeInstances", []string{"ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeSubnets"}, []any{"*"}, nil),
		allow("WorkloadParameters", []string{"ssm:GetParameter", "ssm:PutParameter"},
			[]any{arn("ssm", "parameter"+naming.ParamPrefix(w)+"*")}, nil),
		allow("Notify", []string{"sns:Publish"}, []any{ref("AlertsTopic")}, nil),
		// The dry-run drill checks that the operator's email subscription was confirmed.
		allow("CheckSubscriptions", []string{"sns:ListSubscriptionsByTopic"}, []any{ref("AlertsTopic")}, nil),
		allow("UseStackKey", []string{"kms:GenerateDataKey", "kms:Decrypt"}, []any{getAtt("Key", "Arn")}, nil),
		// SendMessage: the on-failure destination; GetQueueAttributes: the
		// drill checks that the queue exists.
		allow("DeadLetter", []string{"sqs:SendMessage", "sqs:GetQueueAttributes"}, []any{getAtt("DeadLetterQueue", "Arn")}, nil),
		allow("OwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			[]any{arn("logs", "log-group:"+LogGroupName(w)+":*")}, nil),
		denyStartFenced(),
	)
}

// keepAlivePolicy is the scheduler role's: one read of the queue.
func keepAlivePolicy() m {
	return policyDoc(allow("TouchDeadLetterQueue", []string{"sqs:GetQueueAttributes"}, []any{getAtt("DeadLetterQueue", "Arn")}, nil))
}

// launchPolicy is what fencing the primary and launching the recovery
// instance need; the stack attaches it only when the failover policy may act
// (not notify, which neither stops nor launches).
func launchPolicy(w string) m {
	workload := m{"StringEquals": m{"aws:ResourceTag/" + naming.TagWorkload: w}}
	return policyDoc(
		// Stop the primary; terminate the fenced primary once the recovery
		// instance runs, or a recovery instance that died before running.
		allow("FenceWorkloadInstances", []string{"ec2:StopInstances", "ec2:TerminateInstances"},
			[]any{arn("ec2", "instance/*")}, workload),
		// Tag an existing instance of this workload as fenced, and nothing
		// else: ec2:CreateAction absent means CreateTags on an existing
		// resource, and the only tag key it may write is the fenced mark.
		allow("MarkWorkloadInstanceFenced", []string{"ec2:CreateTags"},
			[]any{arn("ec2", "instance/*")},
			m{
				"StringEquals":              m{"aws:ResourceTag/" + naming.TagWorkload: w},
				"Null":                      m{"ec2:CreateAction": "true"},
				"ForAllValues:StringEquals": m{"aws:TagKeys": []string{tagFenced}},
			}),
		// Only a launch template tagged as this workload's may be used...
		allow("LaunchFromWorkloadTemplate", []string{"ec2:RunInstances"},
			[]any{arn("ec2", "launch-template/*")}, workload),
		// ...and the instance must come from a launch template at all.
		allow("LaunchInstanceFromTemplate", []string{"ec2:RunInstances"},
			[]any{arn("ec2", "instance/*")},
			m{"ArnLike": m{"ec2:LaunchTemplate": arn("ec2", "launch-template/*")}}),
		// The resources a launch references or creates; which ones is fixed
		// by the recovery launch template.
		allow("LaunchSupportingResources", []string{"ec2:RunInstances"},
			[]any{
				arn("ec2", "subnet/*"),
				arn("ec2", "security-group/*"),
				arn("ec2", "network-interface/*"),
				arn("ec2", "volume/*"),
				arn("ec2", "key-pair/*"),
				sub("arn:${AWS::Partition}:ec2:${AWS::Region}::image/*"),
			}, nil),
		allow("TagAtLaunchOnly", []string{"ec2:CreateTags"},
			[]any{arn("ec2", "instance/*"), arn("ec2", "volume/*"), arn("ec2", "network-interface/*")},
			m{"StringEquals": m{"ec2:CreateAction": "RunInstances"}}),
		allow("PassInstanceProfileRole", []string{"iam:PassRole"},
			[]any{sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${" + pRole + "}")},
			m{"StringEquals": m{"iam:PassedToService": "ec2.amazonaws.com"}}),
	)
}
