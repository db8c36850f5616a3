package awsxtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

const (
	// Message attribute items and validation: name characters, length,
	// reserved prefixes, periods; data types; "Name, type, and value must not
	// be empty or null"; all parts count toward the message size. And the note
	// "Message attributes are sent only when the message structure is String,
	// not JSON."
	docSNSAttributes = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html"
	// Tag restrictions for topics (key 1-128, value 0-256, aws: reserved,
	// 50 tags per topic).
	docSNSTags = "https://docs.aws.amazon.com/sns/latest/dg/sns-tags.html"
	snsInvalid = "InvalidParameter"
)

var (
	docSNSPublish     = apiRef(uidSNS, "Publish")
	docSNSCreateTopic = apiRef(uidSNS, "CreateTopic")
	docSNSSubscribe   = apiRef(uidSNS, "Subscribe")
)

// snsAttrName: "The name can contain the following characters: A-Z, a-z,
// 0-9, underscore (_), hyphen (-), and period (.)", up to 256 characters.
var snsAttrName = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,256}$`)

// Publish API reference, Message: "messages must be UTF-8 encoded strings. By
// default, a message can be at most 256 KiB in size (262,144 bytes ...)". A
// topic's MaximumMessageSize attribute may raise that to 1 MiB; the project
// never sets it, so the default applies, and it counts body plus attributes.
const snsMaxMessage = 262144

func init() {
	register(func(in *sns.PublishInput, r *report) {
		targets := 0
		for _, s := range []*string{in.TopicArn, in.TargetArn, in.PhoneNumber} {
			if str(s) != "" {
				targets++
			}
		}
		// "If you don't specify a value for the TopicArn parameter, you must
		// specify a value for the PhoneNumber or TargetArn parameters."
		if targets != 1 {
			r.add("sns.publish-target", "TopicArn/TargetArn/PhoneNumber", docSNSPublish, snsInvalid, "exactly one of TopicArn, TargetArn and PhoneNumber must be set, got %d", targets)
		}
		if a := str(in.TopicArn); a != "" && !snsTopicARN.MatchString(a) {
			r.add("sns.topic-arn", "TopicArn", docSNSPublish, snsInvalid, "%q is not an SNS topic ARN", a)
		}
		msg := str(in.Message)
		if in.Message == nil || msg == "" {
			r.add("sns.message-empty", "Message", docSNSPublish, snsInvalid, "the message body must not be empty")
		}
		if !utf8.ValidString(msg) {
			r.add("sns.message-utf8", "Message", docSNSPublish, snsInvalid, "the message is not valid UTF-8")
		}
		size := len(msg)
		structure := str(in.MessageStructure)
		// MessageStructure: "Valid value: json"; the Message must then be "a
		// syntactically valid JSON object" with "at least a top-level JSON
		// key of "default" with a value that is a string".
		if in.MessageStructure != nil && structure != "json" {
			r.add("sns.message-structure", "MessageStructure", docSNSPublish, snsInvalid, "MessageStructure %q: the only valid value is json", structure)
		}
		if structure == "json" {
			var obj map[string]any
			if err := json.Unmarshal([]byte(msg), &obj); err != nil {
				r.add("sns.message-json", "Message", docSNSPublish, snsInvalid, "MessageStructure=json but the message is not a JSON object: %v", err)
			} else if _, ok := obj["default"].(string); !ok {
				r.add("sns.message-json-default", "Message", docSNSPublish, snsInvalid, `MessageStructure=json but the message has no top-level "default" string`)
			}
			if len(in.MessageAttributes) > 0 {
				// Not refused by SNS, but the attributes are silently dropped:
				// a subscriber (or filter policy) relying on them never sees
				// them. The contract treats that as broken.
				r.add("sns.attributes-with-json", "MessageAttributes", docSNSAttributes, snsInvalid, "%d message attributes with MessageStructure=json: SNS sends attributes only when the message structure is String, not JSON", len(in.MessageAttributes))
			}
		}
		for name, v := range in.MessageAttributes {
			size += len(name) + snsAttrSize(v)
			snsAttribute(r, name, v)
		}
		if size > snsMaxMessage {
			r.add("sns.message-size", "Message", docSNSPublish, snsInvalid, "message plus attributes is %d bytes, at most %d (256 KiB)", size, snsMaxMessage)
		}
		if in.Subject != nil {
			snsSubject(r, *in.Subject)
		}
	})
	register(func(in *sns.CreateTopicInput, r *report) {
		// CreateTopic Name: "Topic names must be made up of only uppercase
		// and lowercase ASCII letters, numbers, underscores, and hyphens, and
		// must be between 1 and 256 characters long. For a FIFO topic, the
		// name must end with the .fifo suffix."
		name := str(in.Name)
		base := strings.TrimSuffix(name, ".fifo")
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`).MatchString(base) || chars(name) > 256 {
			r.add("sns.topic-name", "Name", docSNSCreateTopic, snsInvalid, "topic name %q: only A-Z a-z 0-9 _ -, 1 to 256 characters (.fifo suffix for FIFO topics)", name)
		}
		if strings.HasSuffix(name, ".fifo") != (in.Attributes["FifoTopic"] == "true") {
			r.add("sns.topic-fifo", "Name", docSNSCreateTopic, snsInvalid, "a FIFO topic (FifoTopic=true) needs the .fifo suffix, and only a FIFO topic may have it")
		}
		r.tags(tagPolicy{service: "sns", doc: docSNSTags, code: snsInvalid, keyMax: 128, valueMax: 256, maxTags: 50, charset: tagChars}, "Tags", snsTags(in.Tags))
	})
	register(func(in *sns.SubscribeInput, r *report) {
		if a := str(in.TopicArn); !snsTopicARN.MatchString(a) {
			r.add("sns.topic-arn", "TopicArn", docSNSSubscribe, snsInvalid, "%q is not an SNS topic ARN", a)
		}
		// Subscribe Protocol: the documented list of protocols.
		switch p := str(in.Protocol); p {
		case "http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose":
		default:
			r.add("sns.subscribe-protocol", "Protocol", docSNSSubscribe, snsInvalid, "protocol %q is not one SNS supports", p)
		}
	})
	register(func(in *sns.ListSubscriptionsByTopicInput, r *report) {
		if a := str(in.TopicArn); !snsTopicARN.MatchString(a) {
			r.add("sns.topic-arn", "TopicArn", apiRef(uidSNS, "ListSubscriptionsByTopic"), snsInvalid, "%q is not an SNS topic ARN", a)
		}
	})
	register(func(in *sns.UnsubscribeInput, r *report) {
		// SubscriptionArn: the subscription's ARN, topic ARN plus ":<id>".
		if a := str(in.SubscriptionArn); !regexp.MustCompile(`^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+:[A-Za-z0-9-]+$`).MatchString(a) {
			r.add("sns.subscription-arn", "SubscriptionArn", apiRef(uidSNS, "Unsubscribe"), snsInvalid, "%q is not an SNS subscription ARN", a)
		}
	})
	register(func(in *sns.GetTopicAttributesInput, r *report) {
		if a := str(in.TopicArn); !snsTopicARN.MatchString(a) {
			r.add("sns.topic-arn", "TopicArn", apiRef(uidSNS, "GetTopicAttributes"), snsInvalid, "%q is not an SNS topic ARN", a)
		}
	})
}

var snsTopicARN = regexp.MustCompile(`^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

func snsTags(in []snstypes.Tag) []kv {
	out := make([]kv, len(in))
	for i, t := range in {
		out[i] = kv{t.Key, t.Value}
	}
	return out
}

func snsAttrSize(v snstypes.MessageAttributeValue) int {
	return len(str(v.DataType)) + len(str(v.StringValue)) + len(v.BinaryValue)
}

// snsAttribute checks one message attribute against "Message attribute items
// and validation" in the SNS developer guide.
func snsAttribute(r *report, name string, v snstypes.MessageAttributeValue) {
	f := fmt.Sprintf("MessageAttributes[%q]", name)
	if !snsAttrName.MatchString(name) {
		r.add("sns.attribute-name", f, docSNSAttributes, snsInvalid, "attribute name %q: only A-Z a-z 0-9 _ - . are allowed, 1 to 256 characters", name)
	}
	low := strings.ToLower(name)
	if strings.HasPrefix(low, "aws.") || strings.HasPrefix(low, "amazon.") {
		r.add("sns.attribute-name-reserved", f, docSNSAttributes, snsInvalid, "attribute name %q starts with a prefix reserved for AWS (AWS. or Amazon.)", name)
	}
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		r.add("sns.attribute-name-period", f, docSNSAttributes, snsInvalid, "attribute name %q: must not start or end with a period or contain two in a row", name)
	}
	dt := str(v.DataType)
	base, _, _ := strings.Cut(dt, ".")
	if dt == "String.Array" {
		base = "String.Array"
	}
	switch {
	case dt == "":
		r.add("sns.attribute-type", f+".DataType", docSNSAttributes, snsInvalid, "attribute %q has no data type", name)
	case base != "String" && base != "Number" && base != "Binary" && base != "String.Array":
		r.add("sns.attribute-type", f+".DataType", docSNSAttributes, snsInvalid, "attribute %q: data type %q is not String, String.Array, Number or Binary", name, dt)
	case len(dt) > 256:
		r.add("sns.attribute-type", f+".DataType", docSNSAttributes, snsInvalid, "attribute %q: data type longer than 256 bytes", name)
	}
	switch base {
	case "Binary":
		if len(v.BinaryValue) == 0 {
			r.add("sns.attribute-value", f, docSNSAttributes, snsInvalid, "attribute %q: a Binary attribute needs a non-empty BinaryValue", name)
		}
	case "String", "Number", "String.Array":
		s := str(v.StringValue)
		if s == "" {
			r.add("sns.attribute-value", f, docSNSAttributes, snsInvalid, "attribute %q: value must not be empty", name)
		}
		if base == "Number" {
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				r.add("sns.attribute-value", f, docSNSAttributes, snsInvalid, "attribute %q: Number value %q is not a number", name, s)
			}
		}
		if base == "String.Array" {
			var arr []any
			if json.Unmarshal([]byte(s), &arr) != nil {
				r.add("sns.attribute-value", f, docSNSAttributes, snsInvalid, "attribute %q: String.Array value is not a JSON array", name)
			}
		}
	}
}

// snsSubject: Publish API reference, Subject: "Subjects must be UTF-8 text with
// no line breaks or control characters, and less than 100 characters long."
// (Older versions of the page said ASCII text; the current one says UTF-8,
// which is what is checked.)
func snsSubject(r *report, s string) {
	if s == "" {
		r.add("sns.subject", "Subject", docSNSPublish, snsInvalid, "subject is set but empty")
	}
	if n := chars(s); n >= 100 {
		r.add("sns.subject-length", "Subject", docSNSPublish, snsInvalid, "subject is %d characters; it must be less than 100", n)
	}
	if !utf8.ValidString(s) {
		r.add("sns.subject-chars", "Subject", docSNSPublish, snsInvalid, "subject is not valid UTF-8")
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			r.add("sns.subject-chars", "Subject", docSNSPublish, snsInvalid, "subject has a line break or control character (%U)", c)
			break
		}
	}
}
