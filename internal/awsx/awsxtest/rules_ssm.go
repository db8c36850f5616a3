package awsxtest

import (
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

const (
	ssmInvalid = "ValidationException"
	// Parameter tiers: standard 4 KB value, advanced 8 KB.
	docSSMTiers = "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
	// Requirements and constraints for parameter names (linked from the
	// HierarchyLevelLimitExceededException documentation).
	docSSMNames = "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html"
)

var (
	docSSMPut = apiRef(uidSSM, "PutParameter")
	docSSMGet = apiRef(uidSSM, "GetParameter")
	// PutParameter Name: "Parameter names can include only the following
	// symbols and letters: a-zA-Z0-9_.-"; "the slash character ( / ) is used
	// to delineate hierarchies"; "Parameter names can't contain spaces."
	ssmNameChars = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
)

func init() {
	register(func(in *ssm.PutParameterInput, r *report) {
		name := str(in.Name)
		ssmName(r, docSSMPut, name, r.env.Region)
		value := str(in.Value)
		// Value: "Standard parameters have a value limit of 4 KB. Advanced
		// parameters have a value limit of 8 KB."
		limit := 4096
		switch in.Tier {
		case ssmtypes.ParameterTierAdvanced, ssmtypes.ParameterTierIntelligentTiering:
			limit = 8192
		case "", ssmtypes.ParameterTierStandard:
		default:
			r.add("ssm.tier", "Tier", docSSMPut, ssmInvalid, "tier %q is not Standard, Advanced or Intelligent-Tiering", in.Tier)
		}
		if in.Value == nil || value == "" {
			r.add("ssm.value-empty", "Value", docSSMPut, ssmInvalid, "the value must not be empty")
		}
		if len(value) > limit {
			r.add("ssm.value-size", "Value", docSSMTiers, ssmInvalid, "value is %d bytes; the %s tier holds at most %d", len(value), tierName(in.Tier), limit)
		}
		// Value: "Parameters can't be referenced or nested in the values of
		// other parameters. You can't include values wrapped in double
		// brackets {{}} or {{ssm:parameter-name}} in a parameter value."
		if i := strings.Index(value, "{{"); i >= 0 && strings.Contains(value[i:], "}}") {
			r.add("ssm.value-reference", "Value", docSSMPut, ssmInvalid, "value contains a {{...}} reference, which Parameter Store refuses")
		}
		switch in.Type {
		case "", ssmtypes.ParameterTypeString, ssmtypes.ParameterTypeStringList, ssmtypes.ParameterTypeSecureString:
		default:
			r.add("ssm.type", "Type", docSSMPut, ssmInvalid, "type %q is not String, StringList or SecureString", in.Type)
		}
		if d := str(in.Description); chars(d) > 1024 {
			r.add("ssm.description", "Description", docSSMPut, ssmInvalid, "description is %d characters, at most 1024", chars(d))
		}
		// Tags: "To add tags to an existing Systems Manager parameter, use
		// the AddTagsToResource operation." Parameter Store refuses the pair
		// with ValidationException "tags and overwrite can't be used
		// together" (the text moto copies; the reference page states only
		// the AddTagsToResource route).
		if in.Overwrite != nil && *in.Overwrite && len(in.Tags) > 0 {
			r.add("ssm.overwrite-with-tags", "Overwrite+Tags", docSSMPut, ssmInvalid, "Overwrite=true together with Tags is refused; tag an existing parameter with AddTagsToResource")
		}
		// Tag shape in the PutParameter reference: key 1-128, value 0-256,
		// pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$. The per-resource count is
		// not checked (the reference gives no number for parameters).
		r.tags(tagPolicy{service: "ssm", doc: docSSMPut, code: ssmInvalid, keyMax: 128, valueMax: 256, charset: tagChars}, "Tags", ssmTags(in.Tags))
	})
	register(func(in *ssm.DeleteParameterInput, r *report) {
		ssmName(r, apiRef(uidSSM, "DeleteParameter"), str(in.Name), r.env.Region)
	})
	register(func(in *ssm.GetParameterInput, r *report) {
		// GetParameter Name may carry a version or label selector
		// ("name:3", "name:label").
		name := str(in.Name)
		if i := strings.LastIndex(name, ":"); i > 0 && !strings.HasPrefix(name, "arn:") {
			name = name[:i]
		}
		if strings.HasPrefix(name, "arn:") {
			return // an ARN names a shared parameter; nothing more to check
		}
		ssmName(r, docSSMGet, name, r.env.Region)
	})
}

func tierName(t ssmtypes.ParameterTier) string {
	if t == "" {
		return "Standard (default)"
	}
	return string(t)
}

func ssmTags(in []ssmtypes.Tag) []kv {
	out := make([]kv, len(in))
	for i, t := range in {
		out[i] = kv{t.Key, t.Value}
	}
	return out
}

// ssmName checks a parameter name against the PutParameter Name constraints
// and the parameter name requirements page.
func ssmName(r *report, doc, name, region string) {
	if name == "" {
		r.add("ssm.name", "Name", doc, ssmInvalid, "the parameter name is empty")
		return
	}
	// "You can't enter the Amazon Resource Name (ARN) for a parameter, only
	// the parameter name itself."
	if strings.HasPrefix(name, "arn:") {
		r.add("ssm.name-arn", "Name", doc, ssmInvalid, "PutParameter takes the parameter name, not its ARN (%q)", name)
		return
	}
	if !ssmNameChars.MatchString(name) {
		r.add("ssm.name-chars", "Name", doc, ssmInvalid, "parameter name %q: only a-zA-Z0-9_.- and / are allowed (no spaces)", name)
	}
	// "For parameters in a hierarchy, you must include a leading forward
	// slash character (/)".
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		r.add("ssm.name-hierarchy", "Name", docSSMNames, ssmInvalid, "hierarchical parameter name %q must start with /", name)
	}
	if strings.Contains(name, "//") || (len(name) > 1 && strings.HasSuffix(name, "/")) {
		r.add("ssm.name-hierarchy", "Name", docSSMNames, ssmInvalid, "parameter name %q has an empty hierarchy level", name)
	}
	// "A parameter name can't be prefixed with "aws" or "ssm"
	// (case-insensitive)." (also after the leading slash)
	low := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(low, "aws") || strings.HasPrefix(low, "ssm") {
		r.add("ssm.name-reserved", "Name", doc, ssmInvalid, "parameter name %q starts with aws or ssm, which are reserved", name)
	}
	// "Parameter hierarchies are limited to a maximum depth of fifteen
	// levels."
	if levels := strings.Count(strings.Trim(name, "/"), "/") + 1; levels > 15 {
		r.add("ssm.name-depth", "Name", docSSMNames, "HierarchyLevelLimitExceededException", "parameter name %q has %d levels, at most 15", name, levels)
	}
	// "The maximum length for a parameter name that you specify is 1011
	// characters. This count of 1011 characters includes the characters in
	// the ARN that precede the name you specify", e.g. the 45 characters of
	// arn:aws:ssm:us-east-2:111122223333:parameter/ .
	prefix := "arn:" + partitionOf(region) + ":ssm:" + region + ":111122223333:parameter"
	full := prefix + "/" + strings.TrimPrefix(name, "/")
	if n := chars(full); n > 1011 {
		r.add("ssm.name-length", "Name", doc, ssmInvalid, "parameter name with its ARN prefix is %d characters, at most 1011", n)
	}
}
