package awsxtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

const (
	// The IAM JSON policy grammar: policy = { <version_block>?,
	// <id_block>?, <statement_block> }, statements, effect, principal,
	// action, resource and condition blocks.
	docPolicyGrammar = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"
	// Condition operators: String*, Numeric*, Date*, Bool, BinaryEquals,
	// IpAddress/NotIpAddress, Arn*, ...IfExists, Null.
	docConditionOperators = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
	// IAM and STS quotas: policy document sizes.
	docIAMQuotas = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"
	// ARN format.
	docARNs    = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"
	iamInvalid = "MalformedPolicyDocument"
)

// PolicyKind says where a policy document is used; the grammar differs in
// whether a Principal is required or forbidden.
type PolicyKind int

// Policy kinds.
const (
	// IdentityPolicy is attached to a user, group or role (CreatePolicy,
	// PutRolePolicy, AWS::IAM::Policy): no Principal, Resource required.
	IdentityPolicy PolicyKind = iota
	// ResourcePolicy is attached to a resource (key, topic, queue, bucket)
	// or is a role's trust policy: Principal required.
	ResourcePolicy
	// TrustPolicy is a role's AssumeRolePolicyDocument: Principal required,
	// Resource not used.
	TrustPolicy
)

// opaque stands for a value the checker cannot see, such as a CloudFormation
// intrinsic function ({"Fn::Sub": ...}) inside a template's policy.
type opaque struct{ what string }

// conditionBase is every condition operator the IAM reference lists.
var conditionBase = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true, "DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true,
	"Bool": true, "BinaryEquals": true, "IpAddress": true, "NotIpAddress": true,
	"ArnEquals": true, "ArnLike": true, "ArnNotEquals": true, "ArnNotLike": true,
	"Null": true,
}

// validOperator: an operator from the list, optionally with the
// ForAllValues: / ForAnyValue: set qualifier and the IfExists suffix ("You
// can add IfExists to the end of any condition operator name except the Null
// condition").
func validOperator(op string) bool {
	base := op
	for _, q := range []string{"ForAllValues:", "ForAnyValue:"} {
		base = strings.TrimPrefix(base, q)
	}
	if b, ok := strings.CutSuffix(base, "IfExists"); ok {
		return b != "Null" && conditionBase[b]
	}
	return conditionBase[base]
}

var (
	// Action: "*" or <service>:<action>, where the action may use * and ?
	// (grammar: <action_string> = "*" | "service:action"; service prefixes
	// are lower case letters, digits and hyphens).
	actionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*:[A-Za-z0-9*?]+$`)
	// Sid: "The Sid element supports ASCII uppercase letters (A-Z),
	// lowercase letters (a-z), and numbers (0-9)" (grammar page notes).
	sidRE = regexp.MustCompile(`^[A-Za-z0-9]*$`)
	// resource ARN with wildcards: arn:partition:service:region:account:resource
	resourceARNRE = regexp.MustCompile(`^arn:(\*|[a-z*?-]+):(\*|[a-z0-9*?-]+):[a-z0-9*?-]*:([0-9*?]{0,12}|aws):.+$`)
	// a condition key is service:key or aws:key, optionally with a /tag part
	conditionKeyRE = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9_.\-/${}:*]+$`)
)

// CheckPolicy validates one policy document (JSON text) against the IAM
// policy grammar. It is exported so the operator-policy and stack tests can
// use it on what `plan` renders.
func CheckPolicy(doc string, kind PolicyKind) []Violation {
	r := &report{}
	r.policyText("Policy", doc, kind)
	return r.out
}

func (r *report) policyText(field, doc string, kind PolicyKind) {
	for _, c := range doc {
		// PolicyDocument pattern in the IAM API reference:
		// [\u0009\u000A\u000D\u0020-\u00FF]+
		if c != '\t' && c != '\n' && c != '\r' && (c < 0x20 || c > 0xff) {
			r.add("iam.policy-chars", field, apiRef(uidIAM, "CreatePolicy"), iamInvalid, "policy document has character %U outside \\u0009 \\u000A \\u000D \\u0020-\\u00FF", c)
			break
		}
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		r.add("iam.policy-json", field, docPolicyGrammar, iamInvalid, "policy document is not JSON: %v", err)
		return
	}
	if dec.More() {
		r.add("iam.policy-json", field, docPolicyGrammar, iamInvalid, "policy document has text after the JSON object")
	}
	r.policy(field, v, kind)
}

// policy validates a decoded policy; values may contain opaque parts.
func (r *report) policy(field string, v any, kind PolicyKind) {
	obj, ok := v.(map[string]any)
	if !ok {
		if _, isOpaque := v.(opaque); !isOpaque {
			r.add("iam.policy-object", field, docPolicyGrammar, iamInvalid, "a policy is a JSON object")
		}
		return
	}
	for k := range obj {
		switch k {
		case "Version", "Id", "Statement":
		default:
			r.add("iam.policy-element", field+"."+k, docPolicyGrammar, iamInvalid, "unknown top-level policy element %q (Version, Id, Statement)", k)
		}
	}
	// Version: the grammar allows "2008-10-17" and "2012-10-17"; the
	// contract requires the current "2012-10-17" (policy variables and
	// newer features need it; the older version is AWS-valid but not
	// accepted here).
	switch ver := obj["Version"].(type) {
	case string:
		if ver != "2012-10-17" {
			r.add("iam.policy-version", field+".Version", docPolicyGrammar, iamInvalid, "Version %q: use 2012-10-17", ver)
		}
	case nil:
		r.add("iam.policy-version", field+".Version", docPolicyGrammar, iamInvalid, "no Version: use 2012-10-17")
	case opaque:
	default:
		r.add("iam.policy-version", field+".Version", docPolicyGrammar, iamInvalid, "Version is not a string")
	}
	st, present := obj["Statement"]
	if !present {
		r.add("iam.policy-statement", field+".Statement", docPolicyGrammar, iamInvalid, "no Statement")
		return
	}
	var stmts []any
	switch s := st.(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	case opaque:
		return
	default:
		r.add("iam.policy-statement", field+".Statement", docPolicyGrammar, iamInvalid, "Statement is neither an object nor an array")
		return
	}
	if len(stmts) == 0 {
		r.add("iam.policy-statement", field+".Statement", docPolicyGrammar, iamInvalid, "Statement is empty")
	}
	sids := map[string]bool{}
	for i, s := range stmts {
		r.statement(fmt.Sprintf("%s.Statement[%d]", field, i), s, kind, sids)
	}
}

func (r *report) statement(field string, v any, kind PolicyKind, sids map[string]bool) {
	st, ok := v.(map[string]any)
	if !ok {
		if _, isOpaque := v.(opaque); !isOpaque {
			r.add("iam.statement-object", field, docPolicyGrammar, iamInvalid, "a statement is a JSON object")
		}
		return
	}
	for k := range st {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			r.add("iam.statement-element", field+"."+k, docPolicyGrammar, iamInvalid, "unknown statement element %q", k)
		}
	}
	if sid, ok := st["Sid"].(string); ok {
		if !sidRE.MatchString(sid) {
			r.add("iam.sid", field+".Sid", docPolicyGrammar, iamInvalid, "Sid %q: only A-Z a-z 0-9", sid)
		}
		if sids[sid] && sid != "" {
			r.add("iam.sid-duplicate", field+".Sid", docPolicyGrammar, iamInvalid, "Sid %q used twice; Sids must be unique in a policy", sid)
		}
		sids[sid] = true
	}
	switch e := st["Effect"].(type) {
	case string:
		if e != "Allow" && e != "Deny" {
			r.add("iam.effect", field+".Effect", docPolicyGrammar, iamInvalid, "Effect %q: Allow or Deny", e)
		}
	case opaque:
	default:
		r.add("iam.effect", field+".Effect", docPolicyGrammar, iamInvalid, "Effect missing or not a string")
	}
	// <action_block> = ("Action" | "NotAction") : ("*" | [<action_string>, ...])
	_, hasA := st["Action"]
	_, hasNA := st["NotAction"]
	if hasA == hasNA {
		r.add("iam.action-block", field, docPolicyGrammar, iamInvalid, "a statement needs exactly one of Action and NotAction")
	}
	for _, k := range []string{"Action", "NotAction"} {
		if a, ok := st[k]; ok {
			r.stringList(field+"."+k, a, func(f, s string) {
				if s != "*" && !actionRE.MatchString(s) {
					r.add("iam.action", f, docPolicyGrammar, iamInvalid, "action %q is not * or service:Action", s)
				}
			})
		}
	}
	_, hasR := st["Resource"]
	_, hasNR := st["NotResource"]
	_, hasP := st["Principal"]
	_, hasNP := st["NotPrincipal"]
	switch kind {
	case IdentityPolicy:
		if hasR == hasNR {
			r.add("iam.resource-block", field, docPolicyGrammar, iamInvalid, "an identity policy statement needs exactly one of Resource and NotResource")
		}
		if hasP || hasNP {
			r.add("iam.principal-in-identity", field, docPolicyGrammar, iamInvalid, "an identity-based policy cannot have Principal or NotPrincipal")
		}
	case ResourcePolicy, TrustPolicy:
		if hasP == hasNP {
			r.add("iam.principal-block", field, docPolicyGrammar, iamInvalid, "a resource-based or trust policy statement needs exactly one of Principal and NotPrincipal")
		}
		if hasR && hasNR {
			r.add("iam.resource-block", field, docPolicyGrammar, iamInvalid, "Resource and NotResource together")
		}
	}
	for _, k := range []string{"Resource", "NotResource"} {
		if res, ok := st[k]; ok {
			r.stringList(field+"."+k, res, func(f, s string) {
				if s != "*" && !resourceARNRE.MatchString(s) {
					r.add("iam.resource", f, docARNs, iamInvalid, "resource %q is not * or an ARN (arn:partition:service:region:account:resource)", s)
				}
			})
		}
	}
	for _, k := range []string{"Principal", "NotPrincipal"} {
		if p, ok := st[k]; ok {
			r.principal(field+"."+k, p)
		}
	}
	if c, ok := st["Condition"]; ok {
		r.condition(field+".Condition", c)
	}
}

// stringList walks "x" or ["x", ...], skipping opaque parts.
func (r *report) stringList(field string, v any, each func(field, s string)) {
	switch x := v.(type) {
	case string:
		each(field, x)
	case []any:
		if len(x) == 0 {
			r.add("iam.empty-list", field, docPolicyGrammar, iamInvalid, "empty list")
		}
		for i, e := range x {
			switch s := e.(type) {
			case string:
				each(fmt.Sprintf("%s[%d]", field, i), s)
			case opaque:
			default:
				r.add("iam.string-list", fmt.Sprintf("%s[%d]", field, i), docPolicyGrammar, iamInvalid, "not a string")
			}
		}
	case opaque:
	default:
		r.add("iam.string-list", field, docPolicyGrammar, iamInvalid, "neither a string nor a list of strings")
	}
}

// principal: <principal_block> = "*" | { "AWS" | "Service" | "Federated" |
// "CanonicalUser" : [<principal_id_string>, ...] }.
func (r *report) principal(field string, v any) {
	switch p := v.(type) {
	case string:
		if p != "*" {
			r.add("iam.principal", field, docPolicyGrammar, iamInvalid, "principal %q: only \"*\" may be a bare string", p)
		}
	case map[string]any:
		for k, ids := range p {
			switch k {
			case "AWS", "Service", "Federated", "CanonicalUser":
			default:
				r.add("iam.principal", field+"."+k, docPolicyGrammar, iamInvalid, "principal type %q is not AWS, Service, Federated or CanonicalUser", k)
			}
			r.stringList(field+"."+k, ids, func(f, s string) {
				if k == "Service" && s != "*" && !strings.HasSuffix(s, ".amazonaws.com") && !strings.HasSuffix(s, ".amazonaws.com.cn") {
					r.add("iam.principal-service", f, docPolicyGrammar, iamInvalid, "service principal %q does not end in .amazonaws.com", s)
				}
			})
		}
	case opaque:
	default:
		r.add("iam.principal", field, docPolicyGrammar, iamInvalid, "principal is neither \"*\" nor an object")
	}
}

// condition: <condition_block> = "Condition" : { <condition_map> },
// <condition_map> = { <condition_type_string> : { <condition_key_string> :
// <condition_value_list> }, ... }.
func (r *report) condition(field string, v any) {
	cond, ok := v.(map[string]any)
	if !ok {
		if _, isOpaque := v.(opaque); !isOpaque {
			r.add("iam.condition", field, docPolicyGrammar, iamInvalid, "Condition is not an object")
		}
		return
	}
	for op, body := range cond {
		f := field + "." + op
		if !validOperator(op) {
			r.add("iam.condition-operator", f, docConditionOperators, iamInvalid, "unknown condition operator %q", op)
		}
		m, ok := body.(map[string]any)
		if !ok {
			if _, isOpaque := body.(opaque); !isOpaque {
				r.add("iam.condition", f, docPolicyGrammar, iamInvalid, "the body of %s is not an object of key: values", op)
			}
			continue
		}
		for key, vals := range m {
			if !conditionKeyRE.MatchString(key) {
				r.add("iam.condition-key", f+"."+key, docPolicyGrammar, iamInvalid, "condition key %q is not service:key", key)
			}
			r.conditionValues(f+"."+key, op, vals)
		}
	}
}

func (r *report) conditionValues(field, op string, v any) {
	one := func(f string, x any) {
		switch x.(type) {
		case string, json.Number, bool, float64, int, opaque:
		default:
			r.add("iam.condition-value", f, docPolicyGrammar, iamInvalid, "condition value is not a string, number or boolean")
		}
		if strings.TrimSuffix(op, "IfExists") == "Bool" || op == "Null" {
			if s, ok := x.(string); ok && s != "true" && s != "false" {
				r.add("iam.condition-value", f, docConditionOperators, iamInvalid, "%s takes true or false, not %q", op, s)
			}
		}
	}
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			r.add("iam.condition-value", field, docPolicyGrammar, iamInvalid, "empty value list")
		}
		for i, x := range list {
			one(fmt.Sprintf("%s[%d]", field, i), x)
		}
		return
	}
	one(field, v)
}

// policySize: the IAM quotas count policy characters excluding white space.
func policySize(doc string) int {
	n := 0
	for _, c := range doc {
		if !unicode.IsSpace(c) {
			n++
		}
	}
	return n
}

// PolicyChars is the size of a policy document as the IAM quotas count it:
// characters, white space excluded (managed policy 6,144; role inline
// policies 10,240 in aggregate; user inline 2,048; trust policy 2,048).
func PolicyChars(doc string) int { return policySize(doc) }
