package awsxtest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// apiRef is the AWS API reference page of one operation. docs.aws.amazon.com
// /goto/WebAPI/<service-id>/<Operation> is AWS's own permalink to it (the AWS
// CLI reference links every command that way, e.g.
// https://docs.aws.amazon.com/goto/WebAPI/ssm-2014-11-06/PutParameter); the
// service ids are the "uid" of each service model.
func apiRef(serviceUID, op string) string {
	return "https://docs.aws.amazon.com/goto/WebAPI/" + serviceUID + "/" + op
}

const (
	uidEC2     = "ec2-2016-11-15"
	uidSSM     = "ssm-2014-11-06"
	uidSNS     = "sns-2010-03-31"
	uidCFN     = "cloudformation-2010-05-15"
	uidCW      = "monitoring-2010-08-01"
	uidLambda  = "lambda-2015-03-31"
	uidS3      = "s3-2006-03-01"
	uidIAM     = "iam-2010-05-08"
	uidSQS     = "sqs-2012-11-05"
	uidSecrets = "secretsmanager-2017-10-17"
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// chars counts Unicode characters (what AWS means by "characters" in length
// constraints of UTF-8 strings).
func chars(s string) int { return utf8.RuneCountInString(s) }

// lengthIn adds a violation unless min <= characters(s) <= max.
func (r *report) lengthIn(rule, field, doc, code, s string, min, max int) {
	if n := chars(s); n < min || n > max {
		r.add(rule, field, doc, code, "length %d characters, allowed %d to %d", n, min, max)
	}
}

// tagPolicy is how one service constrains tags.
type tagPolicy struct {
	service    string // rule prefix
	doc        string
	code       string
	keyMax     int
	valueMin   int
	valueMax   int
	maxTags    int            // 0: not checked
	charset    *regexp.Regexp // nil: any characters
	awsValueOK bool           // "aws:" is reserved for keys only
}

// The tag character set most services document: letters, numbers and spaces
// representable in UTF-8, and _ . : / = + - @. It is the pattern of the Tag
// shapes in the SNS, SSM, IAM, Lambda and S3 API references
// (^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$).
var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

type kv struct{ k, v *string }

// tags checks one resource's tags: count, key and value lengths, characters,
// the reserved "aws:" prefix, and unique keys.
func (r *report) tags(p tagPolicy, field string, tags []kv) {
	rule := p.service + ".tag"
	if p.maxTags > 0 && len(tags) > p.maxTags {
		r.add(rule+"-count", field, p.doc, p.code, "%d tags, at most %d per resource", len(tags), p.maxTags)
	}
	seen := map[string]bool{}
	for i, t := range tags {
		f := fmt.Sprintf("%s[%d]", field, i)
		if t.k == nil {
			r.add(rule+"-key", f+".Key", p.doc, p.code, "missing tag key")
			continue
		}
		k, v := *t.k, str(t.v)
		if n := chars(k); n < 1 || n > p.keyMax {
			r.add(rule+"-key", f+".Key", p.doc, p.code, "tag key %q is %d characters, allowed 1 to %d", k, n, p.keyMax)
		}
		if n := chars(v); n < p.valueMin || n > p.valueMax {
			r.add(rule+"-value", f+".Value", p.doc, p.code, "tag value of %q is %d characters, allowed %d to %d", k, n, p.valueMin, p.valueMax)
		}
		if t.v == nil && p.valueMin > 0 {
			r.add(rule+"-value", f+".Value", p.doc, p.code, "tag %q has no value", k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			r.add(rule+"-chars", f, p.doc, p.code, "tag %q is not valid UTF-8", k)
		} else if p.charset != nil {
			if !p.charset.MatchString(k) {
				r.add(rule+"-chars", f+".Key", p.doc, p.code, "tag key %q has a character outside letters, numbers, spaces and _ . : / = + - @", k)
			}
			if !p.charset.MatchString(v) {
				r.add(rule+"-chars", f+".Value", p.doc, p.code, "tag value of %q has a character outside letters, numbers, spaces and _ . : / = + - @", k)
			}
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			r.add(rule+"-reserved", f+".Key", p.doc, p.code, "tag key %q uses the reserved aws: prefix", k)
		}
		if !p.awsValueOK && strings.HasPrefix(strings.ToLower(v), "aws:") {
			r.add(rule+"-reserved", f+".Value", p.doc, p.code, "tag value of %q uses the reserved aws: prefix", k)
		}
		if seen[k] {
			r.add(rule+"-duplicate", f+".Key", p.doc, p.code, "tag key %q given twice", k)
		}
		seen[k] = true
	}
}

// arnRE is the general ARN shape, arn:partition:service:region:account:resource.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
var arnRE = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]|aws-eusc):[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws|)?:.+$`)

func isARN(s string) bool { return arnRE.MatchString(s) }

// partitionOf returns the partition of a region name.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	}
	return "aws"
}

// asciiPrintable reports whether s is only printable ASCII (0x20-0x7e).
func asciiPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
