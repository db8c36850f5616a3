package awsxtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	// CloudFormation quotas: template body 51,200 bytes inline, 1 MB from
	// S3; 200 parameters, 500 resources, 200 outputs; names 255 characters.
	docCFNLimits = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html"
	// Lambda environment variables: total size 4 KB, key rules, reserved keys.
	docLambdaEnv = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html"
	cfnInvalid   = "ValidationError"
)

// template is a parsed CloudFormation template with the stack's parameter
// values, for resolving Ref.
type template struct {
	root   map[string]any
	params map[string]string // given or defaulted parameter values
}

// parseTemplate reads JSON or YAML; short-form intrinsics (!Sub, !Ref, ...)
// and long-form ones ({"Fn::Sub": ...}, {"Ref": ...}) are kept as opaque
// values, except Ref to a parameter, which resolves to the parameter value.
func parseTemplate(body string) (map[string]any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(body), &n); err != nil {
		return nil, err
	}
	if len(n.Content) == 0 {
		return nil, fmt.Errorf("empty template")
	}
	v := fromNode(n.Content[0])
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template is not a mapping")
	}
	return m, nil
}

func fromNode(n *yaml.Node) any {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return opaque{what: n.Tag}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return fromNode(n.Alias)
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return fromNode(n.Content[0])
		}
		return nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i] = fromNode(c)
		}
		return out
	case yaml.MappingNode:
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = fromNode(n.Content[i+1])
		}
		if len(out) == 1 {
			for k, v := range out {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return intrinsic{fn: k, arg: v}
				}
			}
		}
		return out
	default:
		switch n.Tag {
		case "!!int", "!!float":
			return json.Number(n.Value)
		case "!!bool":
			return n.Value == "true"
		case "!!null":
			return nil
		}
		return n.Value
	}
}

// intrinsic is a long-form intrinsic function call.
type intrinsic struct {
	fn  string
	arg any
}

// resolve turns Ref to a parameter into its value; every other intrinsic
// becomes opaque. It recurses through maps and lists.
func (t *template) resolve(v any) any {
	switch x := v.(type) {
	case intrinsic:
		if x.fn == "Ref" {
			if name, ok := x.arg.(string); ok {
				if val, ok := t.params[name]; ok {
					return val
				}
			}
		}
		return opaque{what: x.fn}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = t.resolve(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = t.resolve(e)
		}
		return out
	}
	return v
}

var (
	logicalIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
	// Lambda environment variable keys: pattern [a-zA-Z]([a-zA-Z0-9_])+ (the
	// Environment shape in the Lambda API reference).
	lambdaEnvKeyRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)
	// Lambda function name: "The length constraint applies only to the full
	// ARN. If you specify only the function name, it is limited to 64
	// characters in length."; pattern [a-zA-Z0-9-_]+.
	lambdaNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	// Reserved Lambda environment variables ("Defined runtime environment
	// variables" on the environment variables page): they cannot be set.
	lambdaReservedEnv = map[string]bool{
		"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
		"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
		"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
		"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
		"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
		"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
	}
	// KMS alias names: "must begin with alias/ followed by a name ... can
	// contain only alphanumeric characters, forward slashes (/), underscores
	// (_), and dashes (-). The alias name cannot begin with alias/aws/."
	// (CreateAlias API reference)
	kmsAliasRE = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)
	// CloudWatch Logs log group names: 1-512 of a-z A-Z 0-9 _ - / . #
	// (CreateLogGroup API reference).
	logGroupRE = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
	// SQS queue names: "up to 80 characters. Valid values: alphanumeric
	// characters, hyphens (-), and underscores (_)"; FIFO names end in .fifo.
	sqsNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
)

// checkTemplate validates a template and the stack parameters given for it.
// create is true for CreateStack (every parameter without a default must be
// given), false for UpdateStack (UsePreviousValue may stand in).
func (r *report) checkTemplate(doc string, body string, given map[string]*string, previous map[string]bool, create bool, caps []string) {
	root, err := parseTemplate(body)
	if err != nil {
		r.add("cfn.template-syntax", "TemplateBody", doc, cfnInvalid, "template is not valid JSON/YAML: %v", err)
		return
	}
	// Top-level sections: the template anatomy page (URL from memory of the
	// CloudFormation user guide, not looked up with the search tool).
	for k := range root {
		switch k {
		case "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions", "Transform", "Resources", "Outputs":
		default:
			r.add("cfn.template-section", k, "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html", cfnInvalid, "unknown top-level template section %q", k)
		}
	}
	if v, ok := root["AWSTemplateFormatVersion"]; ok && v != "2010-09-09" {
		r.add("cfn.template-version", "AWSTemplateFormatVersion", docCFNLimits, cfnInvalid, "AWSTemplateFormatVersion %v: the only valid value is 2010-09-09", v)
	}
	// Template description: 1,024 bytes (quotas page).
	if d, ok := root["Description"].(string); ok && len(d) > 1024 {
		r.add("cfn.template-description", "Description", docCFNLimits, cfnInvalid, "template description is %d bytes, at most 1,024", len(d))
	}
	params, _ := root["Parameters"].(map[string]any)
	resources, _ := root["Resources"].(map[string]any)
	outputs, _ := root["Outputs"].(map[string]any)
	if len(resources) == 0 {
		r.add("cfn.template-resources", "Resources", docCFNLimits, cfnInvalid, "a template needs at least one resource")
	}
	if len(params) > 200 {
		r.add("cfn.template-parameters", "Parameters", docCFNLimits, "LimitExceededException", "%d parameters, at most 200", len(params))
	}
	if len(resources) > 500 {
		r.add("cfn.template-resources", "Resources", docCFNLimits, "LimitExceededException", "%d resources, at most 500", len(resources))
	}
	if len(outputs) > 200 {
		r.add("cfn.template-outputs", "Outputs", docCFNLimits, "LimitExceededException", "%d outputs, at most 200", len(outputs))
	}
	for _, sec := range []map[string]any{params, resources, outputs} {
		for id := range sec {
			if !logicalIDRE.MatchString(id) {
				r.add("cfn.logical-id", id, docCFNLimits, cfnInvalid, "logical ID %q: alphanumeric (A-Za-z0-9), at most 255 characters", id)
			}
		}
	}
	t := &template{root: root, params: map[string]string{}}
	r.stackParameters(doc, t, params, given, previous, create)
	r.capabilities(doc, root, resources, caps)
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		typ, _ := res["Type"].(string)
		props, _ := t.resolve(res["Properties"]).(map[string]any)
		r.resource(t, "Resources."+id, typ, props)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stackParameters (parameters-section-structure.html: "Each parameter must
// contain a value when you create a stack. You can specify a default value to
// make the parameter optional."): every given key must be declared ("Parameters: [X] do not
// exist in the template"), every declared parameter without a Default must
// have a value ("Parameters: [X] must have values"), and each value must
// satisfy AllowedValues, AllowedPattern, MinLength and MaxLength (Parameters
// section of the template anatomy).
func (r *report) stackParameters(doc string, t *template, decl map[string]any, given map[string]*string, previous map[string]bool, create bool) {
	const docParams = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html"
	for _, k := range sortedKeys(given) {
		if _, ok := decl[k]; !ok {
			r.add("cfn.parameter-undeclared", "Parameters["+k+"]", doc, cfnInvalid, "parameter %q does not exist in the template", k)
		}
	}
	for _, name := range sortedKeys(decl) {
		p, _ := decl[name].(map[string]any)
		def, hasDef := p["Default"]
		val, hasVal := given[name]
		switch {
		case hasVal && val != nil:
			t.params[name] = *val
		case previous[name] && !create:
			continue // UsePreviousValue: the old value stands; not visible here
		case hasDef:
			t.params[name] = fmt.Sprint(def)
			continue // defaults are not validated against constraints here
		default:
			r.add("cfn.parameter-missing", "Parameters["+name+"]", doc, cfnInvalid, "parameter %q has no Default and no value was given", name)
			continue
		}
		v := t.params[name]
		f := "Parameters[" + name + "]"
		if av, ok := p["AllowedValues"].([]any); ok {
			ok2 := false
			for _, a := range av {
				if fmt.Sprint(a) == v {
					ok2 = true
				}
			}
			if !ok2 {
				r.add("cfn.parameter-allowed-values", f, docParams, cfnInvalid, "value %q of %s is not among its AllowedValues", v, name)
			}
		}
		if pat, ok := p["AllowedPattern"].(string); ok {
			// CloudFormation matches the whole value; patterns Go cannot
			// compile (look-arounds) are skipped.
			if re, err := regexp.Compile("^(?:" + pat + ")$"); err == nil && !re.MatchString(v) {
				r.add("cfn.parameter-allowed-pattern", f, docParams, cfnInvalid, "value %q of %s does not match its AllowedPattern %s", v, name, pat)
			}
		}
		if s, ok := p["MinLength"]; ok {
			if n, err := strconv.Atoi(fmt.Sprint(s)); err == nil && len(v) < n {
				r.add("cfn.parameter-length", f, docParams, cfnInvalid, "value of %s is shorter than MinLength %d", name, n)
			}
		}
		if s, ok := p["MaxLength"]; ok {
			if n, err := strconv.Atoi(fmt.Sprint(s)); err == nil && len(v) > n {
				r.add("cfn.parameter-length", f, docParams, cfnInvalid, "value of %s is longer than MaxLength %d", name, n)
			}
		}
	}
}

// capabilities: CreateStack/UpdateStack Capabilities: templates with IAM
// resources need CAPABILITY_IAM, or CAPABILITY_NAMED_IAM when they have
// custom names; macros and transforms need CAPABILITY_AUTO_EXPAND.
// Otherwise the call fails with InsufficientCapabilities.
func (r *report) capabilities(doc string, root, resources map[string]any, caps []string) {
	iam, named := false, false
	for _, v := range resources {
		res, _ := v.(map[string]any)
		typ, _ := res["Type"].(string)
		if !strings.HasPrefix(typ, "AWS::IAM::") {
			continue
		}
		iam = true
		props, _ := res["Properties"].(map[string]any)
		for _, k := range []string{"RoleName", "UserName", "GroupName", "InstanceProfileName", "ManagedPolicyName"} {
			if _, ok := props[k]; ok {
				named = true
			}
		}
	}
	has := func(c string) bool { return slices.Contains(caps, c) }
	if named && !has("CAPABILITY_NAMED_IAM") {
		r.add("cfn.capabilities", "Capabilities", doc, "InsufficientCapabilities", "the template creates named IAM resources: CAPABILITY_NAMED_IAM is required")
	} else if iam && !has("CAPABILITY_IAM") && !has("CAPABILITY_NAMED_IAM") {
		r.add("cfn.capabilities", "Capabilities", doc, "InsufficientCapabilities", "the template creates IAM resources: CAPABILITY_IAM is required")
	}
	if _, ok := root["Transform"]; ok && !has("CAPABILITY_AUTO_EXPAND") {
		r.add("cfn.capabilities", "Capabilities", doc, "InsufficientCapabilities", "the template has a Transform: CAPABILITY_AUTO_EXPAND is required")
	}
}

// resource checks the properties of the resource types the recovery stack
// uses that the services constrain and moto's CloudFormation does not.
func (r *report) resource(t *template, field, typ string, props map[string]any) {
	if props == nil {
		return
	}
	cfnTags := func(doc string) {
		if list, ok := props["Tags"].([]any); ok {
			var tags []kv
			for _, e := range list {
				m, _ := e.(map[string]any)
				k, kok := m["Key"].(string)
				if !kok {
					continue // an intrinsic: key unknown here
				}
				if v, vok := m["Value"].(string); vok {
					tags = append(tags, kv{&k, &v})
				} else {
					tags = append(tags, kv{&k, nil}) // value unknown here
				}
			}
			r.tags(tagPolicy{service: "cfn", doc: doc, code: cfnInvalid, keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, field+".Tags", tags)
		}
	}
	switch typ {
	case "AWS::Lambda::Function":
		cfnTags("https://docs.aws.amazon.com/lambda/latest/dg/tagging.html")
		if n, ok := props["FunctionName"].(string); ok && !lambdaNameRE.MatchString(n) {
			r.add("lambda.function-name", field+".FunctionName", apiRef(uidLambda, "CreateFunction"), "InvalidParameterValueException", "function name %q: 1 to 64 of a-zA-Z0-9-_", n)
		}
		env, _ := props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		r.lambdaEnv(field+".Environment.Variables", vars)
		if m, ok := numberOf(props["MemorySize"]); ok && (m < 128 || m > 10240) {
			r.add("lambda.memory", field+".MemorySize", apiRef(uidLambda, "CreateFunction"), "InvalidParameterValueException", "MemorySize %d, allowed 128 to 10240 MB", m)
		}
		if s, ok := numberOf(props["Timeout"]); ok && (s < 1 || s > 900) {
			r.add("lambda.timeout", field+".Timeout", "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html", "InvalidParameterValueException", "Timeout %d s, allowed 1 to 900", s)
		}
		if c, ok := numberOf(props["ReservedConcurrentExecutions"]); ok && c < 0 {
			r.add("lambda.reserved-concurrency", field+".ReservedConcurrentExecutions", apiRef(uidLambda, "PutFunctionConcurrency"), "InvalidParameterValueException", "reserved concurrency %d is negative", c)
		}
		if d, ok := props["Description"].(string); ok && chars(d) > 256 {
			r.add("lambda.description", field+".Description", apiRef(uidLambda, "CreateFunction"), "InvalidParameterValueException", "description is %d characters, at most 256", chars(d))
		}
	case "AWS::IAM::Role":
		cfnTags(apiRef(uidIAM, "CreateRole"))
		if doc, ok := props["AssumeRolePolicyDocument"]; ok {
			r.policyValue(field+".AssumeRolePolicyDocument", doc, TrustPolicy, 2048)
		}
		total := 0
		list, _ := props["Policies"].([]any)
		for i, p := range list {
			m, _ := p.(map[string]any)
			f := fmt.Sprintf("%s.Policies[%d]", field, i)
			if n, ok := m["PolicyName"].(string); ok && !iamNameRE.MatchString(n) {
				r.add("iam.policy-name", f+".PolicyName", apiRef(uidIAM, "PutRolePolicy"), "ValidationError", "policy name %q: 1 to 128 of \\w+=,.@-", n)
			}
			total += r.policyValue(f+".PolicyDocument", m["PolicyDocument"], IdentityPolicy, 0)
		}
		// "Role policy size ... 10,240 characters" aggregate of inline
		// policies, white space not counted (IAM quotas).
		if total > 10240 {
			r.add("iam.policy-size", field+".Policies", docIAMQuotas, "LimitExceeded", "inline policies total %d characters (without white space), at most 10,240 per role", total)
		}
		if n, ok := props["RoleName"].(string); ok && (chars(n) > 64 || !iamNameRE.MatchString(n)) {
			r.add("iam.role-name", field+".RoleName", apiRef(uidIAM, "CreateRole"), "ValidationError", "role name %q: 1 to 64 of \\w+=,.@-", n)
		}
	case "AWS::IAM::Policy":
		r.policyValue(field+".PolicyDocument", props["PolicyDocument"], IdentityPolicy, 10240)
		if n, ok := props["PolicyName"].(string); ok && !iamNameRE.MatchString(n) {
			r.add("iam.policy-name", field+".PolicyName", apiRef(uidIAM, "PutRolePolicy"), "ValidationError", "policy name %q: 1 to 128 of \\w+=,.@-", n)
		}
	case "AWS::IAM::ManagedPolicy":
		r.policyValue(field+".PolicyDocument", props["PolicyDocument"], IdentityPolicy, 6144)
	case "AWS::KMS::Key":
		cfnTags("https://docs.aws.amazon.com/goto/WebAPI/kms-2014-11-01/TagResource")
		// Key policy: at most 32 KB (PutKeyPolicy / CreateKey Policy member; the
		// KMS page was not looked up with the search tool).
		r.policyValue(field+".KeyPolicy", props["KeyPolicy"], ResourcePolicy, 32768)
	case "AWS::KMS::Alias":
		if n, ok := props["AliasName"].(string); ok {
			if !kmsAliasRE.MatchString(n) || strings.HasPrefix(n, "alias/aws/") {
				r.add("kms.alias-name", field+".AliasName", "https://docs.aws.amazon.com/goto/WebAPI/kms-2014-11-01/CreateAlias", "ValidationException", "alias %q: alias/ then 1 to 250 of a-zA-Z0-9/_-, not alias/aws/", n)
			}
		}
	case "AWS::SNS::Topic":
		cfnTags(docSNSTags)
		if n, ok := props["TopicName"].(string); ok && !regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}(\.fifo)?$`).MatchString(n) {
			r.add("sns.topic-name", field+".TopicName", docSNSCreateTopic, snsInvalid, "topic name %q: 1 to 256 of A-Za-z0-9_-", n)
		}
	case "AWS::SNS::TopicPolicy":
		r.policyValue(field+".PolicyDocument", props["PolicyDocument"], ResourcePolicy, 0)
	case "AWS::SNS::Subscription":
		if p, ok := props["Protocol"].(string); ok {
			switch p {
			case "http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose":
			default:
				r.add("sns.subscribe-protocol", field+".Protocol", docSNSSubscribe, snsInvalid, "protocol %q is not one SNS supports", p)
			}
		}
	case "AWS::SQS::Queue":
		cfnTags(apiRef(uidSQS, "TagQueue"))
		if n, ok := props["QueueName"].(string); ok {
			fifo := props["FifoQueue"] == true || props["FifoQueue"] == "true"
			if !sqsNameRE.MatchString(strings.TrimSuffix(n, ".fifo")) || chars(n) > 80 || strings.HasSuffix(n, ".fifo") != fifo {
				r.add("sqs.queue-name", field+".QueueName", apiRef(uidSQS, "CreateQueue"), "InvalidParameterValue", "queue name %q: up to 80 of A-Za-z0-9-_, .fifo exactly for FIFO queues", n)
			}
		}
	case "AWS::SQS::QueuePolicy":
		r.policyValue(field+".PolicyDocument", props["PolicyDocument"], ResourcePolicy, 0)
	case "AWS::S3::BucketPolicy":
		r.policyValue(field+".PolicyDocument", props["PolicyDocument"], ResourcePolicy, 0)
	case "AWS::Logs::LogGroup":
		cfnTags("https://docs.aws.amazon.com/goto/WebAPI/logs-2014-03-28/TagResource")
		if n, ok := props["LogGroupName"].(string); ok && !logGroupRE.MatchString(n) {
			r.add("logs.log-group-name", field+".LogGroupName", "https://docs.aws.amazon.com/goto/WebAPI/logs-2014-03-28/CreateLogGroup", "InvalidParameterException", "log group name %q: 1 to 512 of a-zA-Z0-9_-/.#", n)
		}
	case "AWS::CloudWatch::Alarm":
		cfnTags(apiRef(uidCW, "PutMetricAlarm"))
		if n, ok := props["AlarmName"].(string); ok && (chars(n) < 1 || chars(n) > 255) {
			r.add("cloudwatch.alarm-name", field+".AlarmName", apiRef(uidCW, "PutMetricAlarm"), "InvalidParameterValue", "alarm name is %d characters, 1 to 255", chars(n))
		}
		for _, k := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
			if l, ok := props[k].([]any); ok && len(l) > 5 {
				r.add("cloudwatch.alarm-actions", field+"."+k, apiRef(uidCW, "PutMetricAlarm"), "InvalidParameterValue", "%d %s, at most 5", len(l), k)
			}
		}
	}
}

var iamNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

func numberOf(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.Atoi(string(x))
		return n, err == nil
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// policyValue checks a policy given as a template value and returns its size
// in characters without white space (opaque parts count as nothing, so the
// size is a lower bound). max 0: no size check here.
func (r *report) policyValue(field string, v any, kind PolicyKind, max int) int {
	if v == nil {
		return 0
	}
	if s, ok := v.(string); ok { // a policy given as JSON text
		r.policyText(field, s, kind)
		n := policySize(s)
		if max > 0 && n > max {
			r.add("iam.policy-size", field, docIAMQuotas, "LimitExceeded", "policy is %d characters without white space, at most %d", n, max)
		}
		return n
	}
	r.policy(field, v, kind)
	b, _ := json.Marshal(stripOpaque(v))
	n := policySize(string(b))
	if max > 0 && n > max {
		r.add("iam.policy-size", field, docIAMQuotas, "LimitExceeded", "policy is at least %d characters without white space, at most %d", n, max)
	}
	return n
}

func stripOpaque(v any) any {
	switch x := v.(type) {
	case opaque:
		return ""
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = stripOpaque(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripOpaque(e)
		}
		return out
	}
	return v
}

// lambdaEnv: "The total size of all environment variables doesn't exceed 4
// KB" (quotas: "Function configuration ... Environment variables 4 KB, for
// all environment variables associated with the function, in aggregate"),
// keys start with a letter and use letters, digits and underscores, and the
// runtime's reserved keys cannot be set. Values that are intrinsics count as
// empty, so the size is a lower bound.
func (r *report) lambdaEnv(field string, vars map[string]any) {
	size := 0
	for _, k := range sortedKeys(vars) {
		size += len(k)
		if s, ok := vars[k].(string); ok {
			size += len(s)
		}
		if !lambdaEnvKeyRE.MatchString(k) {
			r.add("lambda.env-key", field+"."+k, docLambdaEnv, "InvalidParameterValueException", "environment variable name %q: a letter, then letters, digits, _ (at least 2 characters)", k)
		}
		if lambdaReservedEnv[k] {
			r.add("lambda.env-reserved", field+"."+k, docLambdaEnv, "InvalidParameterValueException", "environment variable %q is reserved by the Lambda runtime", k)
		}
	}
	if size > 4096 {
		r.add("lambda.env-size", field, "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html", "InvalidParameterValueException", "environment variables total %d bytes, at most 4 KB", size)
	}
}
