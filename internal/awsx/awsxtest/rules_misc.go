package awsxtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ---- CloudWatch ------------------------------------------------------------

var (
	// MetricDataQuery Id: "The valid characters are letters, numbers, and
	// underscore. The first character must be a lowercase letter."
	metricQueryIDRE = regexp.MustCompile(`^[a-z][A-Za-z0-9_]{0,254}$`)
	cwInvalid       = "InvalidParameterValue"
)

// cwPeriod: MetricStat Period: "a period can be as short as one minute (60
// seconds) and must be a multiple of 60 ... [high-resolution] 1, 5, 10, 20,
// 30, 60, or any multiple of 60".
func cwPeriodOK(p int32) bool {
	switch p {
	case 1, 5, 10, 20, 30:
		return true
	}
	return p > 0 && p%60 == 0
}

func (r *report) dimensions(doc, field string, ds []cwtypes.Dimension) {
	// Dimensions: at most 30; name 1-255, value 1-1024 (Dimension type).
	if len(ds) > 30 {
		r.add("cloudwatch.dimensions", field, doc, cwInvalid, "%d dimensions, at most 30", len(ds))
	}
	for i, d := range ds {
		if n := chars(str(d.Name)); n < 1 || n > 255 {
			r.add("cloudwatch.dimension", fmt.Sprintf("%s[%d].Name", field, i), doc, cwInvalid, "dimension name is %d characters, 1 to 255", n)
		}
		if n := chars(str(d.Value)); n < 1 || n > 1024 {
			r.add("cloudwatch.dimension", fmt.Sprintf("%s[%d].Value", field, i), doc, cwInvalid, "dimension value is %d characters, 1 to 1024", n)
		}
	}
}

func init() {
	register(func(in *cloudwatch.GetMetricDataInput, r *report) {
		doc := apiRef(uidCW, "GetMetricData")
		// "You can ... retrieve as many as 500 different metrics in a single
		// request" (MetricDataQueries 1 to 500).
		if n := len(in.MetricDataQueries); n < 1 || n > 500 {
			r.add("cloudwatch.queries", "MetricDataQueries", doc, cwInvalid, "%d queries, allowed 1 to 500", n)
		}
		ids := map[string]bool{}
		for i, q := range in.MetricDataQueries {
			f := fmt.Sprintf("MetricDataQueries[%d]", i)
			id := str(q.Id)
			if !metricQueryIDRE.MatchString(id) {
				r.add("cloudwatch.query-id", f+".Id", doc, cwInvalid, "query Id %q: first a lowercase letter, then letters, numbers, underscore", id)
			}
			if ids[id] {
				r.add("cloudwatch.query-id", f+".Id", doc, cwInvalid, "query Id %q is not unique in the call", id)
			}
			ids[id] = true
			// MetricDataQuery: "Within each MetricDataQuery object, you must
			// specify either Expression or MetricStat but not both."
			if (q.MetricStat == nil) == (str(q.Expression) == "") {
				r.add("cloudwatch.query-kind", f, doc, cwInvalid, "give exactly one of MetricStat and Expression")
			}
			if ms := q.MetricStat; ms != nil {
				if ms.Period == nil || !cwPeriodOK(*ms.Period) {
					r.add("cloudwatch.period", f+".MetricStat.Period", doc, cwInvalid, "period must be 1, 5, 10, 20, 30 or a multiple of 60 seconds")
				}
				if strings.TrimSpace(str(ms.Stat)) == "" {
					r.add("cloudwatch.stat", f+".MetricStat.Stat", doc, cwInvalid, "MetricStat needs a statistic")
				}
				if m := ms.Metric; m != nil {
					r.dimensions(doc, f+".MetricStat.Metric.Dimensions", m.Dimensions)
				}
			}
		}
		if in.StartTime == nil || in.EndTime == nil {
			r.add("cloudwatch.time-range", "StartTime/EndTime", doc, cwInvalid, "StartTime and EndTime are required")
		} else if !in.StartTime.Before(*in.EndTime) {
			r.add("cloudwatch.time-range", "StartTime/EndTime", doc, cwInvalid, "StartTime must be before EndTime")
		}
	})
	register(func(in *cloudwatch.DescribeAlarmsInput, r *report) {
		doc := apiRef(uidCW, "DescribeAlarms")
		// AlarmNamePrefix: "If this parameter is specified, you cannot
		// specify AlarmNames."; AlarmNames: at most 100, names 1-255.
		if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
			r.add("cloudwatch.alarm-names", "AlarmNames/AlarmNamePrefix", doc, cwInvalid, "AlarmNames and AlarmNamePrefix cannot both be given")
		}
		if len(in.AlarmNames) > 100 {
			r.add("cloudwatch.alarm-names", "AlarmNames", doc, cwInvalid, "%d alarm names, at most 100", len(in.AlarmNames))
		}
		for i, n := range in.AlarmNames {
			r.lengthIn("cloudwatch.alarm-name", fmt.Sprintf("AlarmNames[%d]", i), doc, cwInvalid, n, 1, 255)
		}
		if in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > 100) {
			r.add("cloudwatch.max-records", "MaxRecords", doc, cwInvalid, "MaxRecords %d, allowed 1 to 100", *in.MaxRecords)
		}
	})
	register(func(in *cloudwatch.SetAlarmStateInput, r *report) {
		doc := apiRef(uidCW, "SetAlarmState")
		r.lengthIn("cloudwatch.alarm-name", "AlarmName", doc, cwInvalid, str(in.AlarmName), 1, 255)
		switch in.StateValue {
		case cwtypes.StateValueOk, cwtypes.StateValueAlarm, cwtypes.StateValueInsufficientData:
		default:
			r.add("cloudwatch.state-value", "StateValue", doc, cwInvalid, "state %q is not OK, ALARM or INSUFFICIENT_DATA", in.StateValue)
		}
		// StateReason: required, 0-1023; StateReasonData: "The reason that
		// this alarm is set to this specific state, in JSON format", 0-4000.
		if in.StateReason == nil {
			r.add("cloudwatch.state-reason", "StateReason", doc, "MissingParameter", "StateReason is required")
		}
		r.lengthIn("cloudwatch.state-reason", "StateReason", doc, cwInvalid, str(in.StateReason), 0, 1023)
		if d := in.StateReasonData; d != nil {
			r.lengthIn("cloudwatch.state-reason-data", "StateReasonData", doc, cwInvalid, *d, 0, 4000)
			if !json.Valid([]byte(*d)) {
				r.add("cloudwatch.state-reason-data", "StateReasonData", doc, "InvalidFormat", "StateReasonData is not JSON")
			}
		}
	})
	register(func(in *cloudwatch.PutMetricAlarmInput, r *report) {
		doc := apiRef(uidCW, "PutMetricAlarm")
		r.lengthIn("cloudwatch.alarm-name", "AlarmName", doc, cwInvalid, str(in.AlarmName), 1, 255)
		r.lengthIn("cloudwatch.alarm-description", "AlarmDescription", doc, cwInvalid, str(in.AlarmDescription), 0, 1024)
		for name, l := range map[string][]string{"AlarmActions": in.AlarmActions, "OKActions": in.OKActions, "InsufficientDataActions": in.InsufficientDataActions} {
			if len(l) > 5 {
				r.add("cloudwatch.alarm-actions", name, doc, cwInvalid, "%d %s, at most 5", len(l), name)
			}
		}
		// Period: "Valid values are 10, 20, 30, and any multiple of 60."
		if p := in.Period; p != nil && !(*p == 10 || *p == 20 || *p == 30 || (*p > 0 && *p%60 == 0)) {
			r.add("cloudwatch.period", "Period", doc, cwInvalid, "period %d: 10, 20, 30 or a multiple of 60", *p)
		}
		// "Period multiplied by EvaluationPeriods can't be more than 604,800
		// seconds."
		if in.Period != nil && in.EvaluationPeriods != nil && int64(*in.Period)*int64(*in.EvaluationPeriods) > 604800 {
			r.add("cloudwatch.evaluation-window", "Period*EvaluationPeriods", doc, cwInvalid, "evaluation window longer than seven days")
		}
		if in.EvaluationPeriods != nil && *in.EvaluationPeriods < 1 {
			r.add("cloudwatch.evaluation-periods", "EvaluationPeriods", doc, cwInvalid, "EvaluationPeriods must be at least 1")
		}
		if in.DatapointsToAlarm != nil && in.EvaluationPeriods != nil && (*in.DatapointsToAlarm < 1 || *in.DatapointsToAlarm > *in.EvaluationPeriods) {
			r.add("cloudwatch.datapoints", "DatapointsToAlarm", doc, cwInvalid, "DatapointsToAlarm (M) must be 1 to EvaluationPeriods (N)")
		}
		// TreatMissingData: "Valid Values: breaching | notBreaching | ignore |
		// missing"
		switch t := str(in.TreatMissingData); t {
		case "", "breaching", "notBreaching", "ignore", "missing":
		default:
			r.add("cloudwatch.treat-missing-data", "TreatMissingData", doc, cwInvalid, "TreatMissingData %q: breaching, notBreaching, ignore or missing", t)
		}
		r.dimensions(doc, "Dimensions", in.Dimensions)
		var tags []kv
		for _, t := range in.Tags {
			tags = append(tags, kv{t.Key, t.Value})
		}
		r.tags(tagPolicy{service: "cloudwatch", doc: doc, code: cwInvalid, keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tags", tags)
	})
	register(func(in *cloudwatch.PutMetricDataInput, r *report) {
		doc := apiRef(uidCW, "PutMetricData")
		// Namespace: 1-255, pattern [^:].* . (The "AWS/" namespaces are
		// reserved for AWS; the integration tests publish AWS/Outposts data
		// to stand in for the service, so that rule is not enforced.)
		ns := str(in.Namespace)
		if chars(ns) < 1 || chars(ns) > 255 || strings.HasPrefix(ns, ":") {
			r.add("cloudwatch.namespace", "Namespace", doc, cwInvalid, "namespace %q: 1 to 255 characters, not starting with ':'", ns)
		}
		// "Each PutMetricData request is limited to 1 MB in size for HTTP
		// POST requests. You can send a payload compressed by gzip. Each
		// request is also limited to no more than 1000 different metrics."
		if len(in.MetricData) > 1000 {
			r.add("cloudwatch.metric-data", "MetricData", doc, cwInvalid, "%d metrics, at most 1000", len(in.MetricData))
		}
		for i, m := range in.MetricData {
			r.lengthIn("cloudwatch.metric-name", fmt.Sprintf("MetricData[%d].MetricName", i), doc, cwInvalid, str(m.MetricName), 1, 255)
			r.dimensions(doc, fmt.Sprintf("MetricData[%d].Dimensions", i), m.Dimensions)
		}
	})
}

// ---- Lambda ----------------------------------------------------------------

// GetFunction FunctionName: a name, partial or full ARN, optional qualifier;
// "The length constraint applies only to the full ARN. If you specify only
// the function name, it is limited to 64 characters in length."
var lambdaRefRE = regexp.MustCompile(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9_.-]+)(:(\$LATEST|[a-zA-Z0-9_-]+))?$`)

func (r *report) lambdaRef(doc, field, s string) {
	if !lambdaRefRE.MatchString(s) || chars(s) > 256 {
		r.add("lambda.function-name", field, doc, "InvalidParameterValueException", "%q is not a function name or ARN", s)
		return
	}
	if !strings.HasPrefix(s, "arn:") && !strings.Contains(s, ":") && chars(s) > 64 {
		r.add("lambda.function-name", field, doc, "InvalidParameterValueException", "function name %q is longer than 64 characters", s)
	}
}

func lambdaVars(vars map[string]string) map[string]any {
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		out[k] = v
	}
	return out
}

func init() {
	register(func(in *lambda.GetFunctionInput, r *report) {
		r.lambdaRef(apiRef(uidLambda, "GetFunction"), "FunctionName", str(in.FunctionName))
	})
	register(func(in *lambda.CreateFunctionInput, r *report) {
		doc := apiRef(uidLambda, "CreateFunction")
		if n := str(in.FunctionName); !lambdaNameRE.MatchString(n) {
			r.lambdaRef(doc, "FunctionName", n)
		}
		if in.Environment != nil {
			r.lambdaEnv("Environment.Variables", lambdaVars(in.Environment.Variables))
		}
		if in.Timeout != nil && (*in.Timeout < 1 || *in.Timeout > 900) {
			r.add("lambda.timeout", "Timeout", "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html", "InvalidParameterValueException", "Timeout %d s, allowed 1 to 900", *in.Timeout)
		}
		if in.MemorySize != nil && (*in.MemorySize < 128 || *in.MemorySize > 10240) {
			r.add("lambda.memory", "MemorySize", doc, "InvalidParameterValueException", "MemorySize %d, allowed 128 to 10240 MB", *in.MemorySize)
		}
		var tags []kv
		for k, v := range in.Tags {
			tags = append(tags, kv{&k, &v})
		}
		r.tags(tagPolicy{service: "lambda", doc: "https://docs.aws.amazon.com/lambda/latest/dg/tagging.html", code: "InvalidParameterValueException", keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tags", tags)
	})
	register(func(in *lambda.UpdateFunctionConfigurationInput, r *report) {
		r.lambdaRef(apiRef(uidLambda, "UpdateFunctionConfiguration"), "FunctionName", str(in.FunctionName))
		if in.Environment != nil {
			r.lambdaEnv("Environment.Variables", lambdaVars(in.Environment.Variables))
		}
	})
}

// ---- IAM -------------------------------------------------------------------

var iamRoleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func init() {
	register(func(in *iam.CreatePolicyInput, r *report) {
		doc := apiRef(uidIAM, "CreatePolicy")
		if n := str(in.PolicyName); !iamNameRE.MatchString(n) {
			r.add("iam.policy-name", "PolicyName", doc, "ValidationError", "policy name %q: 1 to 128 of \\w+=,.@-", n)
		}
		p := str(in.PolicyDocument)
		r.policyText("PolicyDocument", p, IdentityPolicy)
		// IAM quotas: "Managed policy size: 6,144 characters" (white space
		// not counted).
		if n := policySize(p); n > 6144 {
			r.add("iam.policy-size", "PolicyDocument", docIAMQuotas, "LimitExceeded", "managed policy is %d characters without white space, at most 6,144", n)
		}
	})
	register(func(in *iam.PutRolePolicyInput, r *report) {
		doc := apiRef(uidIAM, "PutRolePolicy")
		if n := str(in.RoleName); !iamRoleNameRE.MatchString(n) {
			r.add("iam.role-name", "RoleName", doc, "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
		if n := str(in.PolicyName); !iamNameRE.MatchString(n) {
			r.add("iam.policy-name", "PolicyName", doc, "ValidationError", "policy name %q: 1 to 128 of \\w+=,.@-", n)
		}
		p := str(in.PolicyDocument)
		r.policyText("PolicyDocument", p, IdentityPolicy)
		// IAM quotas: "Role policy size ... 10,240 characters" (aggregate of
		// a role's inline policies; one policy alone cannot exceed it).
		if n := policySize(p); n > 10240 {
			r.add("iam.policy-size", "PolicyDocument", docIAMQuotas, "LimitExceeded", "inline policy is %d characters without white space, at most 10,240 per role", n)
		}
	})
	register(func(in *iam.CreateRoleInput, r *report) {
		doc := apiRef(uidIAM, "CreateRole")
		if n := str(in.RoleName); !iamRoleNameRE.MatchString(n) {
			r.add("iam.role-name", "RoleName", doc, "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
		p := str(in.AssumeRolePolicyDocument)
		r.policyText("AssumeRolePolicyDocument", p, TrustPolicy)
		// IAM quotas: "Role trust policy length: 2,048 characters" (default).
		if n := policySize(p); n > 2048 {
			r.add("iam.policy-size", "AssumeRolePolicyDocument", docIAMQuotas, "LimitExceeded", "trust policy is %d characters without white space, at most 2,048 by default", n)
		}
		var tags []kv
		for _, t := range in.Tags {
			tags = append(tags, kv{t.Key, t.Value})
		}
		r.tags(tagPolicy{service: "iam", doc: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html", code: "InvalidInput", keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tags", tags)
	})
	register(func(in *iam.GetRolePolicyInput, r *report) {
		doc := apiRef(uidIAM, "GetRolePolicy")
		if n := str(in.RoleName); !iamRoleNameRE.MatchString(n) {
			r.add("iam.role-name", "RoleName", doc, "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
		if n := str(in.PolicyName); !iamNameRE.MatchString(n) {
			r.add("iam.policy-name", "PolicyName", doc, "ValidationError", "policy name %q: 1 to 128 of \\w+=,.@-", n)
		}
	})
	register(func(in *iam.CreatePolicyVersionInput, r *report) {
		doc := apiRef(uidIAM, "CreatePolicyVersion")
		r.policyARN(doc, in.PolicyArn)
		p := str(in.PolicyDocument)
		r.policyText("PolicyDocument", p, IdentityPolicy)
		if n := policySize(p); n > 6144 {
			r.add("iam.policy-size", "PolicyDocument", docIAMQuotas, "LimitExceeded", "managed policy is %d characters without white space, at most 6,144", n)
		}
	})
	register(func(in *iam.DeletePolicyVersionInput, r *report) {
		doc := apiRef(uidIAM, "DeletePolicyVersion")
		r.policyARN(doc, in.PolicyArn)
		r.policyVersionID(doc, in.VersionId)
	})
	register(func(in *iam.GetPolicyVersionInput, r *report) {
		doc := apiRef(uidIAM, "GetPolicyVersion")
		r.policyARN(doc, in.PolicyArn)
		r.policyVersionID(doc, in.VersionId)
	})
	register(func(in *iam.GetPolicyInput, r *report) {
		r.policyARN(apiRef(uidIAM, "GetPolicy"), in.PolicyArn)
	})
	register(func(in *iam.ListPolicyVersionsInput, r *report) {
		doc := apiRef(uidIAM, "ListPolicyVersions")
		r.policyARN(doc, in.PolicyArn)
		if in.MaxItems != nil && (*in.MaxItems < 1 || *in.MaxItems > 1000) {
			r.add("iam.max-items", "MaxItems", doc, "ValidationError", "MaxItems %d, allowed 1 to 1000", *in.MaxItems)
		}
	})
	register(func(in *iam.UpdateAssumeRolePolicyInput, r *report) {
		doc := apiRef(uidIAM, "UpdateAssumeRolePolicy")
		if n := str(in.RoleName); !iamRoleNameRE.MatchString(n) {
			r.add("iam.role-name", "RoleName", doc, "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
		p := str(in.PolicyDocument)
		r.policyText("PolicyDocument", p, TrustPolicy)
		if n := policySize(p); n > 2048 {
			r.add("iam.policy-size", "PolicyDocument", docIAMQuotas, "LimitExceeded", "trust policy is %d characters without white space, at most 2,048 by default", n)
		}
	})
	register(func(in *iam.ListInstanceProfilesInput, r *report) {
		doc := apiRef(uidIAM, "ListInstanceProfiles")
		// PathPrefix: "/" or "/.../" (pattern \u002F[\u0021-\u007F]*); MaxItems 1-1000.
		if p := in.PathPrefix; p != nil && !strings.HasPrefix(*p, "/") {
			r.add("iam.path-prefix", "PathPrefix", doc, "ValidationError", "PathPrefix %q must start with /", *p)
		}
		if in.MaxItems != nil && (*in.MaxItems < 1 || *in.MaxItems > 1000) {
			r.add("iam.max-items", "MaxItems", doc, "ValidationError", "MaxItems %d, allowed 1 to 1000", *in.MaxItems)
		}
	})
	register(func(in *iam.CreateInstanceProfileInput, r *report) {
		doc := apiRef(uidIAM, "CreateInstanceProfile")
		if n := str(in.InstanceProfileName); !iamNameRE.MatchString(n) {
			r.add("iam.instance-profile-name", "InstanceProfileName", doc, "ValidationError", "instance profile name %q: 1 to 128 of \\w+=,.@-", n)
		}
		if p := in.Path; p != nil && !(strings.HasPrefix(*p, "/") && strings.HasSuffix(*p, "/")) {
			r.add("iam.path", "Path", doc, "ValidationError", "path %q must begin and end with /", *p)
		}
		var tags []kv
		for _, t := range in.Tags {
			tags = append(tags, kv{t.Key, t.Value})
		}
		r.tags(tagPolicy{service: "iam", doc: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html", code: "InvalidInput", keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tags", tags)
	})
	register(func(in *iam.AddRoleToInstanceProfileInput, r *report) {
		doc := apiRef(uidIAM, "AddRoleToInstanceProfile")
		if n := str(in.InstanceProfileName); !iamNameRE.MatchString(n) {
			r.add("iam.instance-profile-name", "InstanceProfileName", doc, "ValidationError", "instance profile name %q: 1 to 128 of \\w+=,.@-", n)
		}
		if n := str(in.RoleName); !iamRoleNameRE.MatchString(n) {
			r.add("iam.role-name", "RoleName", doc, "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
	})
	register(func(in *iam.GetRoleInput, r *report) {
		if n := str(in.RoleName); !iamRoleNameRE.MatchString(n) {
			r.add("iam.role-name", "RoleName", apiRef(uidIAM, "GetRole"), "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
	})
	register(func(in *iam.ListRolePoliciesInput, r *report) {
		if n := str(in.RoleName); !iamRoleNameRE.MatchString(n) {
			r.add("iam.role-name", "RoleName", apiRef(uidIAM, "ListRolePolicies"), "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
		if in.MaxItems != nil && (*in.MaxItems < 1 || *in.MaxItems > 1000) {
			r.add("iam.max-items", "MaxItems", apiRef(uidIAM, "ListRolePolicies"), "ValidationError", "MaxItems %d, allowed 1 to 1000", *in.MaxItems)
		}
	})
}

// policyARN: a customer managed policy ARN, arn:<partition>:iam::<account>:policy/<path/>name.
var iamPolicyARNRE = regexp.MustCompile(`^arn:[a-z-]+:iam::([0-9]{12}|aws):policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$`)

func (r *report) policyARN(doc string, p *string) {
	if a := str(p); !iamPolicyARNRE.MatchString(a) {
		r.add("iam.policy-arn", "PolicyArn", doc, "InvalidInput", "%q is not an IAM policy ARN", a)
	}
}

// policyVersionID: "This parameter allows (through its regex pattern) a
// string of characters that consists of the lowercase letter 'v' followed by
// one or two digits, and optionally followed by a period '.' and a string of
// letters and digits." (DeletePolicyVersion / GetPolicyVersion VersionId)
var iamPolicyVersionRE = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)

func (r *report) policyVersionID(doc string, p *string) {
	if v := str(p); !iamPolicyVersionRE.MatchString(v) {
		r.add("iam.policy-version-id", "VersionId", doc, "ValidationError", "%q is not a policy version ID (v1, v2, ...)", v)
	}
}

// ---- SQS -------------------------------------------------------------------

// SQS queue attribute names (QueueAttributeName in the SQS API reference).
var sqsAttributeNames = map[string]bool{
	"All": true, "Policy": true, "VisibilityTimeout": true, "MaximumMessageSize": true, "MessageRetentionPeriod": true,
	"ApproximateNumberOfMessages": true, "ApproximateNumberOfMessagesNotVisible": true, "CreatedTimestamp": true,
	"LastModifiedTimestamp": true, "QueueArn": true, "ApproximateNumberOfMessagesDelayed": true, "DelaySeconds": true,
	"ReceiveMessageWaitTimeSeconds": true, "RedrivePolicy": true, "FifoQueue": true, "ContentBasedDeduplication": true,
	"KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true, "DeduplicationScope": true, "FifoThroughputLimit": true,
	"RedriveAllowPolicy": true, "SqsManagedSseEnabled": true,
}

func (r *report) queueURL(doc string, u *string) {
	s := str(u)
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		r.add("sqs.queue-url", "QueueUrl", doc, "InvalidAddress", "QueueUrl %q is not a URL", s)
	}
}

func init() {
	register(func(in *sqs.CreateQueueInput, r *report) {
		doc := apiRef(uidSQS, "CreateQueue")
		// QueueName: "A queue name can have up to 80 characters. Valid
		// values: alphanumeric characters, hyphens (-), and underscores (_).
		// A FIFO queue name must end with the .fifo suffix."
		n := str(in.QueueName)
		fifo := in.Attributes["FifoQueue"] == "true"
		if !sqsNameRE.MatchString(strings.TrimSuffix(n, ".fifo")) || chars(n) > 80 || strings.HasSuffix(n, ".fifo") != fifo {
			r.add("sqs.queue-name", "QueueName", doc, "InvalidParameterValue", "queue name %q: up to 80 of A-Za-z0-9-_, .fifo exactly for FIFO queues", n)
		}
		for k := range in.Attributes {
			if !sqsAttributeNames[k] || k == "All" {
				r.add("sqs.attribute-name", "Attributes["+k+"]", doc, "InvalidAttributeName", "unknown queue attribute %q", k)
			}
		}
		var tags []kv
		for k, v := range in.Tags {
			tags = append(tags, kv{&k, &v})
		}
		// SQS quotas: 50 tags per queue; key 1-128, value 0-256; aws:
		// reserved (TagQueue / CreateQueue tags).
		r.tags(tagPolicy{service: "sqs", doc: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-quotas.html", code: "InvalidParameterValue", keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tags", tags)
	})
	register(func(in *sqs.GetQueueAttributesInput, r *report) {
		doc := apiRef(uidSQS, "GetQueueAttributes")
		r.queueURL(doc, in.QueueUrl)
		for i, a := range in.AttributeNames {
			if !sqsAttributeNames[string(a)] {
				r.add("sqs.attribute-name", fmt.Sprintf("AttributeNames[%d]", i), doc, "InvalidAttributeName", "unknown queue attribute %q", a)
			}
		}
	})
	register(func(in *sqs.ReceiveMessageInput, r *report) {
		doc := apiRef(uidSQS, "ReceiveMessage")
		r.queueURL(doc, in.QueueUrl)
		// MaxNumberOfMessages: "Valid values: 1 to 10"; WaitTimeSeconds: 0 to
		// 20; VisibilityTimeout: 0 to 43200 (12 hours).
		if in.MaxNumberOfMessages != 0 && (in.MaxNumberOfMessages < 1 || in.MaxNumberOfMessages > 10) {
			r.add("sqs.max-messages", "MaxNumberOfMessages", doc, "InvalidParameterValue", "MaxNumberOfMessages %d, allowed 1 to 10", in.MaxNumberOfMessages)
		}
		if in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > 20 {
			r.add("sqs.wait-time", "WaitTimeSeconds", doc, "InvalidParameterValue", "WaitTimeSeconds %d, allowed 0 to 20", in.WaitTimeSeconds)
		}
		if in.VisibilityTimeout < 0 || in.VisibilityTimeout > 43200 {
			r.add("sqs.visibility-timeout", "VisibilityTimeout", doc, "InvalidParameterValue", "VisibilityTimeout %d, allowed 0 to 43200", in.VisibilityTimeout)
		}
	})
	register(func(in *sqs.DeleteMessageInput, r *report) {
		doc := apiRef(uidSQS, "DeleteMessage")
		r.queueURL(doc, in.QueueUrl)
		if str(in.ReceiptHandle) == "" {
			r.add("sqs.receipt-handle", "ReceiptHandle", doc, "ReceiptHandleIsInvalid", "ReceiptHandle is required")
		}
	})
	register(func(in *sqs.DeleteQueueInput, r *report) {
		r.queueURL(apiRef(uidSQS, "DeleteQueue"), in.QueueUrl)
	})
	register(func(in *sqs.ListQueueTagsInput, r *report) {
		r.queueURL(apiRef(uidSQS, "ListQueueTags"), in.QueueUrl)
	})
}

// ---- Secrets Manager ------------------------------------------------------

// CreateSecret Name: "The secret name can contain ASCII letters, numbers,
// and the following characters: /_+=.@-", 1 to 512.
var secretNameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

func init() {
	register(func(in *secretsmanager.CreateSecretInput, r *report) {
		doc := apiRef(uidSecrets, "CreateSecret")
		if n := str(in.Name); !secretNameRE.MatchString(n) {
			r.add("secretsmanager.name", "Name", doc, "ValidationException", "secret name %q: 1 to 512 of ASCII letters, numbers and /_+=.@-", n)
		}
		// SecretString / SecretBinary: at most 65,536 bytes; not both.
		if in.SecretString != nil && in.SecretBinary != nil {
			r.add("secretsmanager.value", "SecretString/SecretBinary", doc, "InvalidParameterException", "give SecretString or SecretBinary, not both")
		}
		if len(str(in.SecretString)) > 65536 || len(in.SecretBinary) > 65536 {
			r.add("secretsmanager.value-size", "SecretString", doc, "InvalidParameterException", "secret value larger than 65,536 bytes")
		}
		// ClientRequestToken: 32 to 64 characters.
		if t := in.ClientRequestToken; t != nil && (len(*t) < 32 || len(*t) > 64) {
			r.add("secretsmanager.token", "ClientRequestToken", doc, "InvalidParameterException", "ClientRequestToken is %d characters, 32 to 64", len(*t))
		}
		var tags []kv
		for _, t := range in.Tags {
			tags = append(tags, kv{t.Key, t.Value})
		}
		r.tags(tagPolicy{service: "secretsmanager", doc: apiRef(uidSecrets, "TagResource"), code: "ValidationException", keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tags", tags)
	})
	register(func(in *secretsmanager.ListSecretsInput, r *report) {
		// MaxResults: 1 to 100 (ListSecrets API reference).
		if m := in.MaxResults; m != nil && (*m < 1 || *m > 100) {
			r.add("secretsmanager.max-results", "MaxResults", apiRef(uidSecrets, "ListSecrets"), "InvalidParameterException", "MaxResults %d, allowed 1 to 100", *m)
		}
	})
	register(func(in *secretsmanager.GetSecretValueInput, r *report) {
		r.lengthIn("secretsmanager.secret-id", "SecretId", apiRef(uidSecrets, "GetSecretValue"), "ValidationException", str(in.SecretId), 1, 2048)
	})
	register(func(in *secretsmanager.DeleteSecretInput, r *report) {
		doc := apiRef(uidSecrets, "DeleteSecret")
		r.lengthIn("secretsmanager.secret-id", "SecretId", doc, "ValidationException", str(in.SecretId), 1, 2048)
		// RecoveryWindowInDays: 7 to 30; "You can't use both this parameter
		// and ForceDeleteWithoutRecovery in the same call."
		if in.RecoveryWindowInDays != nil && in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery {
			r.add("secretsmanager.delete", "RecoveryWindowInDays/ForceDeleteWithoutRecovery", doc, "InvalidParameterException", "RecoveryWindowInDays and ForceDeleteWithoutRecovery cannot be used together")
		}
		if w := in.RecoveryWindowInDays; w != nil && (*w < 7 || *w > 30) {
			r.add("secretsmanager.delete", "RecoveryWindowInDays", doc, "InvalidParameterException", "RecoveryWindowInDays %d, allowed 7 to 30", *w)
		}
	})
}

// ---- STS -------------------------------------------------------------------

func init() {
	// GetCallerIdentity takes no parameters; registered so the coverage test
	// knows it was looked at.
	register(func(*sts.GetCallerIdentityInput, *report) {})
}

// validUTF8 is used by the S3 key rule.
func validUTF8(s string) bool { return utf8.ValidString(s) }
