package awsxtest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

var (
	docCreateStack = apiRef(uidCFN, "CreateStack")
	docUpdateStack = apiRef(uidCFN, "UpdateStack")
	// CreateStack StackName: "A stack name can contain only alphanumeric
	// characters (case sensitive) and hyphens. It must start with an
	// alphabetical character and can't be longer than 128 characters."
	stackNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	// A stack ID: arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>
	stackIDRE = regexp.MustCompile(`^arn:[a-z-]+:cloudformation:[a-z0-9-]+:[0-9]{12}:stack/[A-Za-z][A-Za-z0-9-]{0,127}/[0-9a-f-]+$`)
	// ClientRequestToken: pattern [a-zA-Z0-9][-a-zA-Z0-9]*, 1 to 128.
	cfnTokenRE = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9]{0,127}$`)
)

// CreateStack TemplateBody: "a minimum length of 1 byte and a maximum length
// of 51,200 bytes"; TemplateURL: "The URL must point to a template (max size:
// 1 MB) that's located in an Amazon S3 bucket or a Systems Manager document.
// The location for an Amazon S3 bucket must start with https://"; URL length
// 1 to 5,120. "You must specify either the TemplateBody or the TemplateURL
// parameter, but not both." (also the quotas page: 51,200 bytes / 1 MB).
const maxTemplateBody = 51200

type stackRequest struct {
	doc          string
	create       bool
	name         *string
	body, url    *string
	usePrevious  bool
	params       []cfntypes.Parameter
	tags         []cfntypes.Tag
	caps         []cfntypes.Capability
	notification []string
	token        *string
	roleARN      *string
}

func (r *report) stack(s stackRequest) {
	name := str(s.name)
	// UpdateStack StackName: "The name or unique stack ID of the stack to
	// update."
	if s.create && !stackNameRE.MatchString(name) || !s.create && !stackNameRE.MatchString(name) && !stackIDRE.MatchString(name) {
		r.add("cfn.stack-name", "StackName", s.doc, cfnInvalid, "stack name %q: a letter, then letters, digits and hyphens, at most 128 characters", name)
	}
	sources := 0
	for _, p := range []*string{s.body, s.url} {
		if p != nil {
			sources++
		}
	}
	if s.usePrevious {
		sources++
	}
	if sources != 1 {
		r.add("cfn.template-source", "TemplateBody/TemplateURL", s.doc, cfnInvalid, "give exactly one of TemplateBody and TemplateURL (or UsePreviousTemplate on update), got %d", sources)
	}
	if s.body != nil {
		if n := len(*s.body); n < 1 || n > maxTemplateBody {
			r.add("cfn.template-size", "TemplateBody", docCFNLimits, cfnInvalid, "template body is %d bytes; inline templates are 1 to 51,200 bytes (larger ones go through TemplateURL, up to 1 MB)", n)
		}
	}
	if s.url != nil {
		u := *s.url
		if !strings.HasPrefix(u, "https://") || len(u) > 5120 {
			r.add("cfn.template-url", "TemplateURL", s.doc, cfnInvalid, "TemplateURL %q must be an https:// S3 (or SSM document) URL of at most 5,120 characters", u)
		}
	}
	given := map[string]*string{}
	previous := map[string]bool{}
	for i, p := range s.params {
		k := str(p.ParameterKey)
		f := fmt.Sprintf("Parameters[%d]", i)
		if k == "" {
			r.add("cfn.parameter-key", f, s.doc, cfnInvalid, "parameter without a ParameterKey")
			continue
		}
		if _, dup := given[k]; dup || previous[k] {
			r.add("cfn.parameter-duplicate", f, s.doc, cfnInvalid, "parameter %q given twice", k)
		}
		usePrev := p.UsePreviousValue != nil && *p.UsePreviousValue
		// Parameter.UsePreviousValue: "During a stack update, use the
		// existing parameter value that the stack is using for a given
		// parameter key. If you specify true, do not specify a parameter
		// value."
		if usePrev && p.ParameterValue != nil {
			r.add("cfn.parameter-previous", f, apiRef(uidCFN, "Parameter"), cfnInvalid, "parameter %q has both UsePreviousValue=true and a value", k)
		}
		if usePrev && s.create {
			r.add("cfn.parameter-previous", f, apiRef(uidCFN, "Parameter"), cfnInvalid, "parameter %q: UsePreviousValue is for stack updates only", k)
		}
		if usePrev {
			previous[k] = true
		} else {
			given[k] = p.ParameterValue
		}
	}
	// Stack tags: CloudFormation Tag type: key 1-128, value 1-256, "aws:" is
	// reserved; at most 50 tags.
	var tags []kv
	for _, t := range s.tags {
		tags = append(tags, kv{t.Key, t.Value})
	}
	r.tags(tagPolicy{service: "cfn", doc: apiRef(uidCFN, "Tag"), code: cfnInvalid, keyMax: 128, valueMin: 1, valueMax: 256, maxTags: 50, awsValueOK: true}, "Tags", tags)
	if len(s.notification) > 5 {
		r.add("cfn.notification-arns", "NotificationARNs", s.doc, cfnInvalid, "%d notification ARNs, at most 5", len(s.notification))
	}
	if s.token != nil && !cfnTokenRE.MatchString(*s.token) {
		r.add("cfn.client-request-token", "ClientRequestToken", s.doc, cfnInvalid, "ClientRequestToken %q: [a-zA-Z0-9][-a-zA-Z0-9]*, at most 128", *s.token)
	}
	if a := str(s.roleARN); s.roleARN != nil && (len(a) < 20 || len(a) > 2048 || !strings.Contains(a, ":iam::") || !strings.Contains(a, ":role/")) {
		r.add("cfn.role-arn", "RoleARN", s.doc, cfnInvalid, "RoleARN %q is not an IAM role ARN", a)
	}
	caps := make([]string, len(s.caps))
	for i, c := range s.caps {
		caps[i] = string(c)
	}
	if s.body != nil && len(*s.body) <= maxTemplateBody {
		r.checkTemplate(s.doc, *s.body, given, previous, s.create, caps)
	}
}

// stackRef is a stack name or a stack ID (describe and delete calls).
func (r *report) stackRef(doc string, p *string, required bool) {
	s := str(p)
	if s == "" {
		if required {
			r.add("cfn.stack-name", "StackName", doc, cfnInvalid, "StackName is required")
		}
		return
	}
	if !stackNameRE.MatchString(s) && !stackIDRE.MatchString(s) {
		r.add("cfn.stack-name", "StackName", doc, cfnInvalid, "%q is neither a stack name nor a stack ID", s)
	}
}

func init() {
	register(func(in *cloudformation.CreateStackInput, r *report) {
		r.stack(stackRequest{doc: docCreateStack, create: true, name: in.StackName, body: in.TemplateBody, url: in.TemplateURL,
			params: in.Parameters, tags: in.Tags, caps: in.Capabilities, notification: in.NotificationARNs, token: in.ClientRequestToken, roleARN: in.RoleARN})
		// TimeoutInMinutes: "The amount of time that can pass before the
		// stack status becomes CREATE_FAILED" (minimum 1).
		if in.TimeoutInMinutes != nil && *in.TimeoutInMinutes < 1 {
			r.add("cfn.timeout", "TimeoutInMinutes", docCreateStack, cfnInvalid, "TimeoutInMinutes must be at least 1")
		}
		// OnFailure and DisableRollback: "You can specify either OnFailure
		// or DisableRollback, but not both."
		if in.OnFailure != "" && in.DisableRollback != nil {
			r.add("cfn.on-failure", "OnFailure/DisableRollback", docCreateStack, cfnInvalid, "OnFailure and DisableRollback cannot both be given")
		}
	})
	register(func(in *cloudformation.UpdateStackInput, r *report) {
		r.stack(stackRequest{doc: docUpdateStack, name: in.StackName, body: in.TemplateBody, url: in.TemplateURL,
			usePrevious: in.UsePreviousTemplate != nil && *in.UsePreviousTemplate,
			params:      in.Parameters, tags: in.Tags, caps: in.Capabilities, notification: in.NotificationARNs, token: in.ClientRequestToken, roleARN: in.RoleARN})
	})
	register(func(in *cloudformation.DeleteStackInput, r *report) {
		r.stackRef(apiRef(uidCFN, "DeleteStack"), in.StackName, true)
		if in.ClientRequestToken != nil && !cfnTokenRE.MatchString(*in.ClientRequestToken) {
			r.add("cfn.client-request-token", "ClientRequestToken", apiRef(uidCFN, "DeleteStack"), cfnInvalid, "ClientRequestToken %q: [a-zA-Z0-9][-a-zA-Z0-9]*, at most 128", *in.ClientRequestToken)
		}
	})
	register(func(in *cloudformation.DescribeStacksInput, r *report) {
		r.stackRef(apiRef(uidCFN, "DescribeStacks"), in.StackName, false)
	})
	register(func(in *cloudformation.DescribeStackEventsInput, r *report) {
		r.stackRef(apiRef(uidCFN, "DescribeStackEvents"), in.StackName, true)
	})
	register(func(in *cloudformation.DescribeStackResourcesInput, r *report) {
		// "Required: Conditional. If you don't specify StackName, you must
		// specify PhysicalResourceId."
		if str(in.StackName) == "" && str(in.PhysicalResourceId) == "" {
			r.add("cfn.stack-name", "StackName", apiRef(uidCFN, "DescribeStackResources"), cfnInvalid, "give StackName or PhysicalResourceId")
		}
		r.stackRef(apiRef(uidCFN, "DescribeStackResources"), in.StackName, false)
	})
}
