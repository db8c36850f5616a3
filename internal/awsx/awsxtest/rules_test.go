// Every rule of the contract check, positive and negative, on SDK input
// structs (no emulator, no network).
package awsxtest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/stretchr/testify/assert"
)

type ruleCase struct {
	name string
	in   any
	want string // rule id expected among the violations; "" = no violation at all
}

func runCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := rulesOf(c.in)
			if c.want == "" {
				assert.Empty(t, Check("us-west-2", c.in), "valid request refused")
				return
			}
			assert.Contains(t, got, c.want)
			for _, v := range Check("us-west-2", c.in) {
				assert.True(t, strings.HasPrefix(v.Doc, "https://docs.aws.amazon.com/"), "rule %s cites an AWS page, got %q", v.Rule, v.Doc)
				assert.NotEmpty(t, v.Code)
			}
		})
	}
}

func attr(s string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
}

func TestSNSRules(t *testing.T) {
	pub := func(mod func(*sns.PublishInput)) *sns.PublishInput {
		in := &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("body"), Subject: aws.String("subject")}
		mod(in)
		return in
	}
	runCases(t, []ruleCase{
		{"valid", pub(func(*sns.PublishInput) {}), ""},
		{"valid attribute names", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"outposts-ha.kind": attr("x"), "A_b-9": attr("y")}
		}), ""},
		{"colon in attribute name", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"outposts-ha:source": attr("x")}
		}), "sns.attribute-name"},
		{"attribute name 257 chars", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{strings.Repeat("a", 257): attr("x")}
		}), "sns.attribute-name"},
		{"attribute name 256 chars", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{strings.Repeat("a", 256): attr("x")}
		}), ""},
		{"AWS. prefix", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"aws.trace": attr("x")}
		}), "sns.attribute-name-reserved"},
		{"Amazon. prefix", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"AMAZON.x": attr("x")}
		}), "sns.attribute-name-reserved"},
		{"double period", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"a..b": attr("x")}
		}), "sns.attribute-name-period"},
		{"leading period", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{".a": attr("x")}
		}), "sns.attribute-name-period"},
		{"empty attribute value", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"a": attr("")}
		}), "sns.attribute-value"},
		{"bad data type", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"a": {DataType: aws.String("Text"), StringValue: aws.String("x")}}
		}), "sns.attribute-type"},
		{"Number not a number", pub(func(in *sns.PublishInput) {
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"a": {DataType: aws.String("Number"), StringValue: aws.String("ten")}}
		}), "sns.attribute-value"},
		{"attributes with json structure", pub(func(in *sns.PublishInput) {
			in.MessageStructure = aws.String("json")
			in.Message = aws.String(`{"default":"x"}`)
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"a": attr("x")}
		}), "sns.attributes-with-json"},
		{"json structure without default", pub(func(in *sns.PublishInput) {
			in.MessageStructure = aws.String("json")
			in.Message = aws.String(`{"email":"x"}`)
		}), "sns.message-json-default"},
		{"json structure not json", pub(func(in *sns.PublishInput) {
			in.MessageStructure = aws.String("json")
			in.Message = aws.String(`plain`)
		}), "sns.message-json"},
		{"structure not json", pub(func(in *sns.PublishInput) { in.MessageStructure = aws.String("text") }), "sns.message-structure"},
		{"subject 99 chars", pub(func(in *sns.PublishInput) { in.Subject = aws.String(strings.Repeat("s", 99)) }), ""},
		{"subject 100 chars", pub(func(in *sns.PublishInput) { in.Subject = aws.String(strings.Repeat("s", 100)) }), "sns.subject-length"},
		{"subject newline", pub(func(in *sns.PublishInput) { in.Subject = aws.String("a\nb") }), "sns.subject-chars"},
		{"subject UTF-8 ok", pub(func(in *sns.PublishInput) { in.Subject = aws.String("db01 — failed over") }), ""},
		{"message 256 KiB", pub(func(in *sns.PublishInput) { in.Message = aws.String(strings.Repeat("m", 262144)) }), ""},
		{"message over 256 KiB with attributes", pub(func(in *sns.PublishInput) {
			in.Message = aws.String(strings.Repeat("m", 262140))
			in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"abc": attr("x")}
		}), "sns.message-size"},
		{"no target", pub(func(in *sns.PublishInput) { in.TopicArn = nil }), "sns.publish-target"},
		{"bad topic arn", pub(func(in *sns.PublishInput) { in.TopicArn = aws.String("oha-alerts") }), "sns.topic-arn"},
		{"empty message", pub(func(in *sns.PublishInput) { in.Message = aws.String("") }), "sns.message-empty"},
		{"create topic ok", &sns.CreateTopicInput{Name: aws.String("oha-db01-alerts"), Tags: []snstypes.Tag{{Key: aws.String("outposts-ha:workload"), Value: aws.String("db01")}}}, ""},
		{"create topic bad name", &sns.CreateTopicInput{Name: aws.String("oha:alerts")}, "sns.topic-name"},
		{"create topic aws: tag", &sns.CreateTopicInput{Name: aws.String("t"), Tags: []snstypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "sns.tag-reserved"},
		{"subscribe ok", &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-west-2:111122223333:q")}, ""},
		{"subscribe bad protocol", &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("smtp")}, "sns.subscribe-protocol"},
		{"list subscriptions bad arn", &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String("x")}, "sns.topic-arn"},
		{"unsubscribe ok", &sns.UnsubscribeInput{SubscriptionArn: aws.String(topic + ":0a1b2c3d-1111-2222-3333-444455556666")}, ""},
		{"unsubscribe topic arn", &sns.UnsubscribeInput{SubscriptionArn: aws.String(topic)}, "sns.subscription-arn"},
		{"get topic attributes ok", &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)}, ""},
	})
}

func snsTag(k, v string) snstypes.Tag { return snstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }

func TestTagRules(t *testing.T) {
	many := func(n int) []snstypes.Tag {
		out := make([]snstypes.Tag, n)
		for i := range out {
			out[i] = snsTag(fmt.Sprintf("k%d", i), "v")
		}
		return out
	}
	ct := func(tags ...snstypes.Tag) *sns.CreateTopicInput {
		return &sns.CreateTopicInput{Name: aws.String("t"), Tags: tags}
	}
	runCases(t, []ruleCase{
		{"50 tags", &sns.CreateTopicInput{Name: aws.String("t"), Tags: many(50)}, ""},
		{"51 tags", &sns.CreateTopicInput{Name: aws.String("t"), Tags: many(51)}, "sns.tag-count"},
		{"key 128", ct(snsTag(strings.Repeat("k", 128), "v")), ""},
		{"key 129", ct(snsTag(strings.Repeat("k", 129), "v")), "sns.tag-key"},
		{"empty key", ct(snsTag("", "v")), "sns.tag-key"},
		{"value 256", ct(snsTag("k", strings.Repeat("v", 256))), ""},
		{"value 257", ct(snsTag("k", strings.Repeat("v", 257))), "sns.tag-value"},
		{"empty value ok", ct(snsTag("k", "")), ""},
		{"allowed punctuation", ct(snsTag("a b_.:/=+-@", "é 1")), ""},
		{"bad character", ct(snsTag("k", "a,b")), "sns.tag-chars"},
		{"AWS: prefix any case", ct(snsTag("AwS:x", "v")), "sns.tag-reserved"},
		{"duplicate key", ct(snsTag("k", "1"), snsTag("k", "2")), "sns.tag-duplicate"},
		// EC2: 127-character keys, any characters.
		{"ec2 key 127", &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []ec2types.Tag{{Key: aws.String(strings.Repeat("k", 127)), Value: aws.String("v,w")}}}, ""},
		{"ec2 key 128", &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []ec2types.Tag{{Key: aws.String(strings.Repeat("k", 128)), Value: aws.String("v")}}}, "ec2.tag-key"},
		{"ec2 aws: key", &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []ec2types.Tag{{Key: aws.String("aws:cloudformation:x"), Value: aws.String("v")}}}, "ec2.tag-reserved"},
		{"ec2 no tags", &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}}, "ec2.create-tags-empty"},
		{"ec2 no resources", &ec2.CreateTagsInput{Tags: []ec2types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "ec2.create-tags-resources"},
		// CloudFormation stack tags: value at least 1.
		{"cfn stack tag empty value", stackInput(func(in *cloudformation.CreateStackInput) {
			in.Tags = []cfntypes.Tag{{Key: aws.String("k"), Value: aws.String("")}}
		}), "cfn.tag-value"},
		{"s3 bucket tags 51", &s3.PutBucketTaggingInput{Bucket: aws.String("outposts-ha-111122223333-us-west-2"), Tagging: &s3types.Tagging{TagSet: func() []s3types.Tag {
			var out []s3types.Tag
			for i := 0; i < 51; i++ {
				out = append(out, s3types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
			}
			return out
		}()}}, "s3.tag-count"},
		{"ssm tag bad char", &ssm.PutParameterInput{Name: aws.String("/oha/x"), Value: aws.String("v"), Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("a;b")}}}, "ssm.tag-chars"},
	})
}

func TestSSMRules(t *testing.T) {
	put := func(name, value string, mod ...func(*ssm.PutParameterInput)) *ssm.PutParameterInput {
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString}
		for _, m := range mod {
			m(in)
		}
		return in
	}
	deep := "/" + strings.Repeat("l/", 15) + "p"
	runCases(t, []ruleCase{
		{"valid", put("/outposts-ha/db01/lock", `{"v":1}`), ""},
		{"valid flat", put("oha-db01", "x"), ""},
		{"value 4096", put("/oha/x", strings.Repeat("v", 4096)), ""},
		{"value 4097 standard", put("/oha/x", strings.Repeat("v", 4097)), "ssm.value-size"},
		{"value 4097 advanced", put("/oha/x", strings.Repeat("v", 4097), func(in *ssm.PutParameterInput) { in.Tier = ssmtypes.ParameterTierAdvanced }), ""},
		{"value 8193 advanced", put("/oha/x", strings.Repeat("v", 8193), func(in *ssm.PutParameterInput) { in.Tier = ssmtypes.ParameterTierAdvanced }), "ssm.value-size"},
		{"empty value", put("/oha/x", ""), "ssm.value-empty"},
		{"value reference", put("/oha/x", "{{ssm:/other}}"), "ssm.value-reference"},
		{"overwrite with tags", put("/oha/x", "v", func(in *ssm.PutParameterInput) {
			in.Overwrite = aws.Bool(true)
			in.Tags = []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
		}), "ssm.overwrite-with-tags"},
		{"tags without overwrite", put("/oha/x", "v", func(in *ssm.PutParameterInput) {
			in.Tags = []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
		}), ""},
		{"space in name", put("/oha/my param", "v"), "ssm.name-chars"},
		{"colon in name", put("/oha/a:b", "v"), "ssm.name-chars"},
		{"hierarchy without leading slash", put("oha/x", "v"), "ssm.name-hierarchy"},
		{"empty level", put("/oha//x", "v"), "ssm.name-hierarchy"},
		{"aws prefix", put("/aws/x", "v"), "ssm.name-reserved"},
		{"SSM prefix", put("SSMthing", "v"), "ssm.name-reserved"},
		{"15 levels", put("/"+strings.Repeat("l/", 14)+"p", "v"), ""},
		{"16 levels", put(deep, "v"), "ssm.name-depth"},
		{"ARN as name", put("arn:aws:ssm:us-west-2:111122223333:parameter/x", "v"), "ssm.name-arn"},
		{"name at the length limit", put("/"+strings.Repeat("n", 1011-len("arn:aws:ssm:us-west-2:111122223333:parameter/")), "v"), ""},
		{"name one over the limit", put("/"+strings.Repeat("n", 1012-len("arn:aws:ssm:us-west-2:111122223333:parameter/")), "v"), "ssm.name-length"},
		{"bad tier", put("/oha/x", "v", func(in *ssm.PutParameterInput) { in.Tier = "Premium" }), "ssm.tier"},
		{"delete ok", &ssm.DeleteParameterInput{Name: aws.String("/outposts-ha/db01/record")}, ""},
		{"delete bad name", &ssm.DeleteParameterInput{Name: aws.String("/oha/a b")}, "ssm.name-chars"},
		{"get with version selector", &ssm.GetParameterInput{Name: aws.String("/outposts-ha/db01/lock:3")}, ""},
		{"get bad name", &ssm.GetParameterInput{Name: aws.String("/oha/a b")}, "ssm.name-chars"},
	})
}

func TestEC2Rules(t *testing.T) {
	run := func(mod func(*ec2.RunInstancesInput)) *ec2.RunInstancesInput {
		in := &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String("oha-db01-" + strings.Repeat("a", 40)),
			LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("lt-db01-recovery"), Version: aws.String("$Default")},
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("outposts-ha:workload"), Value: aws.String("db01")}}}}}
		mod(in)
		return in
	}
	lt := func(mod func(*ec2.CreateLaunchTemplateInput)) *ec2.CreateLaunchTemplateInput {
		in := &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("lt-db01-recovery"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!ipxe\n")))}}
		mod(in)
		return in
	}
	runCases(t, []ruleCase{
		{"run valid", run(func(*ec2.RunInstancesInput) {}), ""},
		{"token 64", run(func(in *ec2.RunInstancesInput) { in.ClientToken = aws.String(strings.Repeat("t", 64)) }), ""},
		{"token 65", run(func(in *ec2.RunInstancesInput) { in.ClientToken = aws.String(strings.Repeat("t", 65)) }), "ec2.client-token"},
		{"token non-ASCII", run(func(in *ec2.RunInstancesInput) { in.ClientToken = aws.String("tök") }), "ec2.client-token"},
		{"launch tag on launch-template type", run(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = append(in.TagSpecifications, ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeLaunchTemplate})
		}), "ec2.launch-tag-resource"},
		{"launch tag twice", run(func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = append(in.TagSpecifications, in.TagSpecifications[0])
		}), "ec2.launch-tag-resource"},
		{"max < min", run(func(in *ec2.RunInstancesInput) { in.MaxCount = aws.Int32(0) }), "ec2.run-count"},
		{"user data 16 KB", run(func(in *ec2.RunInstancesInput) {
			in.UserData = aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16384)))
		}), ""},
		{"user data over 16 KB", run(func(in *ec2.RunInstancesInput) {
			in.UserData = aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16385)))
		}), "ec2.user-data-size"},
		{"user data not base64", run(func(in *ec2.RunInstancesInput) { in.UserData = aws.String("#!ipxe") }), "ec2.user-data-base64"},
		{"template id and name", run(func(in *ec2.RunInstancesInput) { in.LaunchTemplate.LaunchTemplateId = aws.String("lt-0123") }), "ec2.launch-template-ref"},
		{"stop valid", &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}, Force: aws.Bool(true)}, ""},
		{"stop none", &ec2.StopInstancesInput{}, "ec2.instance-ids"},
		{"stop malformed id", &ec2.StopInstancesInput{InstanceIds: []string{"i-xyz"}}, "ec2.instance-id"},
		{"terminate valid", &ec2.TerminateInstancesInput{InstanceIds: []string{"i-01234567"}}, ""},
		{"terminate malformed", &ec2.TerminateInstancesInput{InstanceIds: []string{"db01"}}, "ec2.instance-id"},
		{"describe max results + ids", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}, MaxResults: aws.Int32(10)}, "ec2.max-results-with-ids"},
		{"describe max results 4", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)}, "ec2.max-results"},
		{"describe filters ok", &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:outposts-ha:workload"), Values: []string{"db01"}}}}, ""},
		{"describe filter without name", &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Values: []string{"x"}}}}, "ec2.filter"},
		{"status max results + ids", &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-0123456789abcdef0"}, MaxResults: aws.Int32(5)}, "ec2.max-results-with-ids"},
		{"subnets max results", &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(1001)}, "ec2.max-results"},
		{"ltv valid", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("lt-db01-recovery"), Versions: []string{"$Default"}}, ""},
		{"ltv id and name", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("lt-db01"), LaunchTemplateId: aws.String("lt-0abc")}, "ec2.launch-template-ref"},
		{"ltv bad version", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("lt-db01"), Versions: []string{"latest"}}, "ec2.launch-template-version"},
		{"ltv name too short", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("lt")}, "ec2.launch-template-name"},
		{"create lt valid", lt(func(*ec2.CreateLaunchTemplateInput) {}), ""},
		{"create lt bad name", lt(func(in *ec2.CreateLaunchTemplateInput) { in.LaunchTemplateName = aws.String("lt db01") }), "ec2.launch-template-name"},
		{"create lt token 128", lt(func(in *ec2.CreateLaunchTemplateInput) { in.ClientToken = aws.String(strings.Repeat("t", 128)) }), ""},
		{"create lt token 129", lt(func(in *ec2.CreateLaunchTemplateInput) { in.ClientToken = aws.String(strings.Repeat("t", 129)) }), "ec2.client-token"},
		{"create lt data tags on subnet", lt(func(in *ec2.CreateLaunchTemplateInput) {
			in.LaunchTemplateData.TagSpecifications = []ec2types.LaunchTemplateTagSpecificationRequest{{ResourceType: ec2types.ResourceTypeSubnet}}
		}), "ec2.launch-tag-resource"},
		{"create lt own tags wrong type", lt(func(in *ec2.CreateLaunchTemplateInput) {
			in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance}}
		}), "ec2.launch-template-tag-resource"},
		{"subnet /28", &ec2.CreateSubnetInput{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.0.0/28")}, ""},
		{"subnet /29", &ec2.CreateSubnetInput{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.0.0/29")}, "ec2.cidr"},
		{"sg valid", &ec2.CreateSecurityGroupInput{GroupName: aws.String("oha-test"), Description: aws.String("outposts-ha test (moto)")}, ""},
		{"sg name sg-", &ec2.CreateSecurityGroupInput{GroupName: aws.String("sg-x"), Description: aws.String("d")}, "ec2.security-group-name"},
		{"sg description char", &ec2.CreateSecurityGroupInput{GroupName: aws.String("x"), Description: aws.String("naïve")}, "ec2.security-group-description"},
		{"delete lt neither", &ec2.DeleteLaunchTemplateInput{}, "ec2.launch-template-ref"},
		{"subnet lni ok", &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0f1e2d3c4b5a69788"), EnableLniAtDeviceIndex: aws.Int32(1)}, ""},
		{"subnet two attributes", &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("subnet-0f1e2d3c4b5a69788"), EnableLniAtDeviceIndex: aws.Int32(1),
			MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(false)}}, "ec2.subnet-one-attribute"},
		{"subnet bad id", &ec2.ModifySubnetAttributeInput{SubnetId: aws.String("sn-1"), EnableLniAtDeviceIndex: aws.Int32(1)}, "ec2.subnet-id"},
		{"eni ok", &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0f1e2d3c4b5a69788")}, ""},
		{"eni tag type", &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0f1e2d3c4b5a69788"), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance}}}, "ec2.tag-resource-type"},
		{"sg describe max", &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(1)}, "ec2.max-results"},
		{"key pairs filter", &ec2.DescribeKeyPairsInput{Filters: []ec2types.Filter{{Values: []string{"x"}}}}, "ec2.filter"},
		{"console output ok", &ec2.GetConsoleOutputInput{InstanceId: aws.String("i-0123456789abcdef0")}, ""},
		{"console output bad id", &ec2.GetConsoleOutputInput{InstanceId: aws.String("x")}, "ec2.instance-id"},
		{"key pair ok", &ec2.CreateKeyPairInput{KeyName: aws.String("ops-x")}, ""},
		{"key pair non-ascii", &ec2.CreateKeyPairInput{KeyName: aws.String("öps")}, "ec2.key-name"},
		{"image ok", &ec2.RegisterImageInput{Name: aws.String("outposts-iPXE-x (v1) [arm64]")}, ""},
		{"image name short", &ec2.RegisterImageInput{Name: aws.String("ab")}, "ec2.image-name"},
		{"image name char", &ec2.RegisterImageInput{Name: aws.String("ipxe:1")}, "ec2.image-name"},
		{"start valid", &ec2.StartInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, ""},
		{"start none", &ec2.StartInstancesInput{}, "ec2.instance-ids"},
		{"delete tags valid", &ec2.DeleteTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []ec2types.Tag{{Key: aws.String("outposts-ha:fenced")}}}, ""},
		{"delete tags aws:", &ec2.DeleteTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []ec2types.Tag{{Key: aws.String("aws:x")}}}, "ec2.tag-key"},
		{"delete tags no resources", &ec2.DeleteTagsInput{}, "ec2.delete-tags-resources"},
	})
}

func stackInput(mod func(*cloudformation.CreateStackInput)) *cloudformation.CreateStackInput {
	in := &cloudformation.CreateStackInput{
		StackName:    aws.String("autorestart-db01"),
		TemplateBody: aws.String(miniTemplate),
		Parameters:   []cfntypes.Parameter{{ParameterKey: aws.String("Workload"), ParameterValue: aws.String("db01")}},
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
	}
	mod(in)
	return in
}

const miniTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Workload:
    Type: String
    AllowedPattern: ^[a-z0-9-]{1,20}$
  Policy:
    Type: String
    Default: confirmed
    AllowedValues: [confirmed, notify]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      Tags:
        - Key: outposts-ha:workload
          Value: !Ref Workload
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub oha-${Workload}-failover
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: inline
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Publish
                Effect: Allow
                Action: [sns:Publish]
                Resource: {Ref: Topic}
              - Effect: Deny
                Action: ec2:StartInstances
                Resource: "*"
                Condition:
                  StringEquals:
                    ec2:ResourceTag/outposts-ha:fenced: "true"
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: oha-db01-failover
      MemorySize: 256
      Timeout: 900
      Environment:
        Variables:
          OHA_WORKLOAD: {Ref: Workload}
          OHA_POLICY: {Ref: Policy}
`

func TestCloudFormationRules(t *testing.T) {
	sub := func(old, new string) func(*cloudformation.CreateStackInput) {
		return func(in *cloudformation.CreateStackInput) {
			in.TemplateBody = aws.String(strings.Replace(*in.TemplateBody, old, new, 1))
		}
	}
	runCases(t, []ruleCase{
		{"valid", stackInput(func(*cloudformation.CreateStackInput) {}), ""},
		{"stack name underscore", stackInput(func(in *cloudformation.CreateStackInput) { in.StackName = aws.String("autorestart_db01") }), "cfn.stack-name"},
		{"stack name digit first", stackInput(func(in *cloudformation.CreateStackInput) { in.StackName = aws.String("1db") }), "cfn.stack-name"},
		{"stack name 129", stackInput(func(in *cloudformation.CreateStackInput) { in.StackName = aws.String("a" + strings.Repeat("b", 128)) }), "cfn.stack-name"},
		{"body 51200", stackInput(func(in *cloudformation.CreateStackInput) {
			in.TemplateBody = aws.String(miniTemplate + "#" + strings.Repeat("x", 51200-len(miniTemplate)-2) + "\n")
		}), ""},
		{"body 51201", stackInput(func(in *cloudformation.CreateStackInput) {
			in.TemplateBody = aws.String(miniTemplate + "#" + strings.Repeat("x", 51201-len(miniTemplate)-2) + "\n")
		}), "cfn.template-size"},
		{"body and url", stackInput(func(in *cloudformation.CreateStackInput) { in.TemplateURL = aws.String("https://b.s3.amazonaws.com/t") }), "cfn.template-source"},
		{"url not https", stackInput(func(in *cloudformation.CreateStackInput) {
			in.TemplateBody = nil
			in.TemplateURL = aws.String("http://b.s3.amazonaws.com/t")
		}), "cfn.template-url"},
		{"undeclared parameter", stackInput(func(in *cloudformation.CreateStackInput) {
			in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: aws.String("Nope"), ParameterValue: aws.String("x")})
		}), "cfn.parameter-undeclared"},
		{"missing parameter", stackInput(func(in *cloudformation.CreateStackInput) { in.Parameters = nil }), "cfn.parameter-missing"},
		{"pattern mismatch", stackInput(func(in *cloudformation.CreateStackInput) {
			in.Parameters[0].ParameterValue = aws.String("DB_01")
		}), "cfn.parameter-allowed-pattern"},
		{"allowed values", stackInput(func(in *cloudformation.CreateStackInput) {
			in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: aws.String("Policy"), ParameterValue: aws.String("yolo")})
		}), "cfn.parameter-allowed-values"},
		{"previous value on create", stackInput(func(in *cloudformation.CreateStackInput) {
			in.Parameters[0].UsePreviousValue = aws.Bool(true)
		}), "cfn.parameter-previous"},
		{"named IAM without capability", stackInput(func(in *cloudformation.CreateStackInput) {
			in.Capabilities = []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}
		}), "cfn.capabilities"},
		{"token pattern", stackInput(func(in *cloudformation.CreateStackInput) { in.ClientRequestToken = aws.String("tok_1") }), "cfn.client-request-token"},
		{"env var reserved", stackInput(sub("OHA_POLICY:", "AWS_REGION:")), "lambda.env-reserved"},
		{"env var bad key", stackInput(sub("OHA_POLICY:", "9POLICY:")), "lambda.env-key"},
		{"env over 4 KB", stackInput(sub("OHA_POLICY: {Ref: Policy}", "OHA_BIG: "+strings.Repeat("x", 4100))), "lambda.env-size"},
		{"function name too long", stackInput(sub("oha-db01-failover", strings.Repeat("f", 65))), "lambda.function-name"},
		{"lambda timeout", stackInput(sub("Timeout: 900", "Timeout: 901")), "lambda.timeout"},
		{"policy bad action", stackInput(sub("sns:Publish", "Publish")), "iam.action"},
		{"policy bad effect", stackInput(sub("Effect: Deny", "Effect: Block")), "iam.effect"},
		{"policy bad operator", stackInput(sub("StringEquals:", "StringIs:")), "iam.condition-operator"},
		{"policy bad resource", stackInput(sub(`Resource: "*"`, `Resource: "instance/*"`)), "iam.resource"},
		{"policy bad sid", stackInput(sub("Sid: Publish", "Sid: Pub-lish")), "iam.sid"},
		{"trust without principal", stackInput(sub("Principal: {Service: lambda.amazonaws.com}", "Resource: \"*\"")), "iam.principal-block"},
		{"template tag aws:", stackInput(sub("Key: outposts-ha:workload", "Key: aws:workload")), "cfn.tag-reserved"},
		{"delete by id", &cloudformation.DeleteStackInput{StackName: aws.String("arn:aws:cloudformation:us-west-2:111122223333:stack/autorestart-db01/0a1b2c3d-1111-2222-3333-444455556666")}, ""},
		{"describe bad name", &cloudformation.DescribeStacksInput{StackName: aws.String("auto restart")}, "cfn.stack-name"},
		{"update by stack id", &cloudformation.UpdateStackInput{StackName: aws.String("arn:aws:cloudformation:us-west-2:123456789012:stack/autorestart-it-ae6d5d69/a56fa90d-3ce1-4858-ba37-07f530286d7a"), UsePreviousTemplate: aws.Bool(true)}, ""},
		{"create with stack id", stackInput(func(in *cloudformation.CreateStackInput) {
			in.StackName = aws.String("arn:aws:cloudformation:us-west-2:123456789012:stack/a/a56fa90d-3ce1-4858-ba37-07f530286d7a")
		}), "cfn.stack-name"},
		{"update previous template", &cloudformation.UpdateStackInput{StackName: aws.String("s"), UsePreviousTemplate: aws.Bool(true)}, ""},
		{"resources neither", &cloudformation.DescribeStackResourcesInput{}, "cfn.stack-name"},
	})
}

func TestPolicyGrammar(t *testing.T) {
	ok := `{"Version":"2012-10-17","Statement":[{"Sid":"A1","Effect":"Allow","Action":["ec2:Describe*","ssm:GetParameter"],"Resource":"*"},
	{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:ssm:us-west-2:111122223333:parameter/outposts-ha/*",
	 "Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["outposts-ha:*"]},"BoolIfExists":{"aws:SecureTransport":"true"},"Null":{"aws:RequestTag/x":"false"}}}]}`
	cases := []struct {
		name, doc string
		kind      PolicyKind
		want      string
	}{
		{"valid", ok, IdentityPolicy, ""},
		{"not json", `{"Version":`, IdentityPolicy, "iam.policy-json"},
		{"old version", strings.Replace(ok, "2012-10-17", "2008-10-17", 1), IdentityPolicy, "iam.policy-version"},
		{"no version", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, IdentityPolicy, "iam.policy-version"},
		{"unknown top-level", `{"Version":"2012-10-17","Statements":[]}`, IdentityPolicy, "iam.policy-element"},
		{"action without service", strings.Replace(ok, "ssm:GetParameter", "GetParameter", 1), IdentityPolicy, "iam.action"},
		{"both action and notaction", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"iam:*","Resource":"*"}}`, IdentityPolicy, "iam.action-block"},
		{"no resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}`, IdentityPolicy, "iam.resource-block"},
		{"principal in identity policy", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, IdentityPolicy, "iam.principal-in-identity"},
		{"trust policy ok", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`, TrustPolicy, ""},
		{"bad principal type", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"User":"x"},"Action":"sts:AssumeRole"}}`, TrustPolicy, "iam.principal"},
		{"service principal", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda"},"Action":"sts:AssumeRole"}}`, TrustPolicy, "iam.principal-service"},
		{"NullIfExists", strings.Replace(ok, `"Null"`, `"NullIfExists"`, 1), IdentityPolicy, "iam.condition-operator"},
		{"unknown operator", strings.Replace(ok, `BoolIfExists`, `Boolean`, 1), IdentityPolicy, "iam.condition-operator"},
		{"bool value", strings.Replace(ok, `"aws:SecureTransport":"true"`, `"aws:SecureTransport":"yes"`, 1), IdentityPolicy, "iam.condition-value"},
		{"condition key without service", strings.Replace(ok, `"aws:SecureTransport"`, `"SecureTransport"`, 1), IdentityPolicy, "iam.condition-key"},
		{"bad resource", strings.Replace(ok, `arn:aws:ssm:us-west-2:111122223333:parameter/outposts-ha/*`, `ssm/parameter/x`, 1), IdentityPolicy, "iam.resource"},
		{"duplicate sid", `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, IdentityPolicy, "iam.sid-duplicate"},
		{"non-latin character", strings.Replace(ok, "A1", "Ä1", 1), IdentityPolicy, "iam.sid"},
		{"character outside latin-1", strings.Replace(ok, "A1", "A\u20ac", 1), IdentityPolicy, "iam.policy-chars"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, v := range CheckPolicy(c.doc, c.kind) {
				got = append(got, v.Rule)
			}
			if c.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, c.want)
		})
	}
	// Through the API: CreatePolicy size limit and grammar.
	big := `{"Version":"2012-10-17","Statement":[` + strings.Repeat(`{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"},`, 120) + `{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	runCases(t, []ruleCase{
		{"create policy ok", &iam.CreatePolicyInput{PolicyName: aws.String("oha-operator-db01"), PolicyDocument: aws.String(ok)}, ""},
		{"create policy too big", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(big)}, "iam.policy-size"},
		{"create policy bad name", &iam.CreatePolicyInput{PolicyName: aws.String("a b"), PolicyDocument: aws.String(ok)}, "iam.policy-name"},
		{"put role policy bad grammar", &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`)}, "iam.effect"},
		{"create role trust without principal", &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`)}, "iam.principal-block"},
		{"policy version ok", &iam.CreatePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::111122223333:policy/outposts-ha/oha-db01-deploy"), PolicyDocument: aws.String(ok), SetAsDefault: true}, ""},
		{"policy version bad arn", &iam.CreatePolicyVersionInput{PolicyArn: aws.String("oha-db01-deploy"), PolicyDocument: aws.String(ok)}, "iam.policy-arn"},
		{"policy version bad grammar", &iam.CreatePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::111122223333:policy/p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3","Resource":"*"}}`)}, "iam.action"},
		{"delete version id", &iam.DeletePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::111122223333:policy/p"), VersionId: aws.String("3")}, "iam.policy-version-id"},
		{"get version ok", &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::111122223333:policy/p"), VersionId: aws.String("v3")}, ""},
		{"get policy bad arn", &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::111122223333:role/r")}, "iam.policy-arn"},
		{"list versions ok", &iam.ListPolicyVersionsInput{PolicyArn: aws.String("arn:aws:iam::111122223333:policy/p")}, ""},
		{"update trust without principal", &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`)}, "iam.principal-block"},
		{"get role bad name", &iam.GetRoleInput{RoleName: aws.String("a b")}, "iam.role-name"},
		{"role name 65", &iam.GetRolePolicyInput{RoleName: aws.String(strings.Repeat("r", 65)), PolicyName: aws.String("p")}, "iam.role-name"},
	})
}

func TestLambdaS3CloudWatchSQSSecretsRules(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q := func(id string, period int32) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(period), Stat: aws.String("Maximum"),
			Metric: &cwtypes.Metric{Namespace: aws.String("AWS/Outposts"), MetricName: aws.String("ConnectedStatus"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("OutpostId"), Value: aws.String("op-0123456789abcdef0")}}}}}
	}
	gmd := func(qs ...cwtypes.MetricDataQuery) *cloudwatch.GetMetricDataInput {
		return &cloudwatch.GetMetricDataInput{MetricDataQueries: qs, StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now)}
	}
	bucket := "outposts-ha-111122223333-us-west-2"
	runCases(t, []ruleCase{
		{"lambda env 4 KB ok", &lambda.CreateFunctionInput{FunctionName: aws.String("oha-db01-failover"), Environment: &lambdatypes.Environment{Variables: map[string]string{"AB": strings.Repeat("v", 4094)}}}, ""},
		{"lambda env over 4 KB", &lambda.CreateFunctionInput{FunctionName: aws.String("f1"), Environment: &lambdatypes.Environment{Variables: map[string]string{"AB": strings.Repeat("v", 4095)}}}, "lambda.env-size"},
		{"lambda bad name", &lambda.CreateFunctionInput{FunctionName: aws.String("oha db01")}, "lambda.function-name"},
		{"lambda get by arn", &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-west-2:111122223333:function:oha-db01-failover")}, ""},
		{"lambda get name 65", &lambda.GetFunctionInput{FunctionName: aws.String(strings.Repeat("f", 65))}, "lambda.function-name"},
		{"s3 bucket ok", &s3.HeadBucketInput{Bucket: aws.String(bucket)}, ""},
		{"s3 bucket upper case", &s3.HeadBucketInput{Bucket: aws.String("Outposts-HA")}, "s3.bucket-name"},
		{"s3 bucket adjacent periods", &s3.HeadBucketInput{Bucket: aws.String("a..b")}, "s3.bucket-name"},
		{"s3 bucket ip", &s3.HeadBucketInput{Bucket: aws.String("192.168.5.4")}, "s3.bucket-name"},
		{"s3 bucket xn--", &s3.HeadBucketInput{Bucket: aws.String("xn--abc")}, "s3.bucket-name"},
		{"s3 bucket -s3alias", &s3.HeadBucketInput{Bucket: aws.String("abc-s3alias")}, "s3.bucket-name"},
		{"s3 key 1024 bytes", &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(strings.Repeat("é", 512))}, ""},
		{"s3 key 1025 bytes", &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(strings.Repeat("é", 512) + "k")}, "s3.key-length"},
		{"s3 key invalid utf8", &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("\xff")}, "s3.key-utf8"},
		{"s3 create bucket region", &s3.CreateBucketInput{Bucket: aws.String(bucket)}, "s3.location-constraint"},
		{"s3 create bucket ok", &s3.CreateBucketInput{Bucket: aws.String(bucket), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "us-west-2"}}, ""},
		{"s3 ownership two rules", &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(bucket), OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: "BucketOwnerEnforced"}, {ObjectOwnership: "ObjectWriter"}}}}, "s3.ownership-controls"},
		{"s3 kms key with AES256", &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256, KMSMasterKeyID: aws.String("k")}}}}}, "s3.encryption"},
		{"metric data ok", gmd(q("connected", 60)), ""},
		{"metric id upper first", gmd(q("Connected", 60)), "cloudwatch.query-id"},
		{"metric id dash", gmd(q("con-nected", 60)), "cloudwatch.query-id"},
		{"metric id twice", gmd(q("a", 60), q("a", 60)), "cloudwatch.query-id"},
		{"metric period 90", gmd(q("a", 90)), "cloudwatch.period"},
		{"metric no queries", gmd(), "cloudwatch.queries"},
		{"metric time reversed", &cloudwatch.GetMetricDataInput{MetricDataQueries: []cwtypes.MetricDataQuery{q("a", 60)}, StartTime: aws.Time(now), EndTime: aws.Time(now)}, "cloudwatch.time-range"},
		{"describe alarms names+prefix", &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"a"}, AlarmNamePrefix: aws.String("a")}, "cloudwatch.alarm-names"},
		{"describe alarms ok", &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"oha-db01-status"}}, ""},
		{"set alarm state ok", &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("oha-db01-status"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("re-armed by outposts-ha")}, ""},
		{"set alarm state reason 1024", &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: cwtypes.StateValueOk, StateReason: aws.String(strings.Repeat("r", 1024))}, "cloudwatch.state-reason"},
		{"set alarm state data not json", &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("r"), StateReasonData: aws.String("{")}, "cloudwatch.state-reason-data"},
		{"set alarm state bad value", &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("a"), StateValue: "FIRING", StateReason: aws.String("r")}, "cloudwatch.state-value"},
		{"put alarm period 45", &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Period: aws.Int32(45), EvaluationPeriods: aws.Int32(1)}, "cloudwatch.period"},
		{"put alarm M > N", &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(3)}, "cloudwatch.datapoints"},
		{"put alarm missing data", &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), TreatMissingData: aws.String("breach")}, "cloudwatch.treat-missing-data"},
		{"put metric data ok", &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/Outposts"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("ConnectedStatus")}}}, ""},
		{"put metric data bad namespace", &cloudwatch.PutMetricDataInput{Namespace: aws.String(":x")}, "cloudwatch.namespace"},
		{"sqs create ok", &sqs.CreateQueueInput{QueueName: aws.String("oha-db01-dlq")}, ""},
		{"sqs name 81", &sqs.CreateQueueInput{QueueName: aws.String(strings.Repeat("q", 81))}, "sqs.queue-name"},
		{"sqs fifo without suffix", &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"FifoQueue": "true"}}, "sqs.queue-name"},
		{"sqs bad attribute", &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"Retention": "1"}}, "sqs.attribute-name"},
		{"sqs receive 11", &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://127.0.0.1/1/q"), MaxNumberOfMessages: 11}, "sqs.max-messages"},
		{"sqs receive wait 21", &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://127.0.0.1/1/q"), WaitTimeSeconds: 21}, "sqs.wait-time"},
		{"sqs attrs ok", &sqs.GetQueueAttributesInput{QueueUrl: aws.String("https://sqs.us-west-2.amazonaws.com/1/q"), AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}}, ""},
		{"sqs delete no handle", &sqs.DeleteMessageInput{QueueUrl: aws.String("https://q")}, "sqs.receipt-handle"},
		{"list secrets max", &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(101)}, "secretsmanager.max-results"},
		{"list profiles prefix", &iam.ListInstanceProfilesInput{PathPrefix: aws.String("oha")}, "iam.path-prefix"},
		{"create profile ok", &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("oha-x")}, ""},
		{"create profile bad name", &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("oha x")}, "iam.instance-profile-name"},
		{"create profile bad path", &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p"), Path: aws.String("/oha")}, "iam.path"},
		{"add role bad role", &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p"), RoleName: aws.String(strings.Repeat("r", 65))}, "iam.role-name"},
		{"list profiles ok", &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/"), MaxItems: aws.Int32(100)}, ""},
		{"secret ok", &secretsmanager.CreateSecretInput{Name: aws.String("oha/test-12345678"), SecretString: aws.String("{}")}, ""},
		{"secret bad name", &secretsmanager.CreateSecretInput{Name: aws.String("oha test")}, "secretsmanager.name"},
		{"secret token short", &secretsmanager.CreateSecretInput{Name: aws.String("s"), ClientRequestToken: aws.String("abc")}, "secretsmanager.token"},
		{"secret delete both", &secretsmanager.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)}, "secretsmanager.delete"},
	})
}

// TestModelConstraints: the service-model layer (shapes.json) catches what no
// hand-written rule covers: lengths, patterns, enums and ranges of members.
func TestModelConstraints(t *testing.T) {
	runCases(t, []ruleCase{
		{"secret version id too short", &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String("short")}, "model.length"},
		{"secret version id ok", &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(strings.Repeat("a", 32))}, ""},
		{"iam path pattern", &iam.CreatePolicyInput{PolicyName: aws.String("p"), Path: aws.String("no-slash"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)}, "model.pattern"},
		{"ssm type enum", &ssm.PutParameterInput{Name: aws.String("/oha/x"), Value: aws.String("v"), Type: "Strin"}, "model.enum"},
		{"cfn monitoring range", stackInput(func(in *cloudformation.CreateStackInput) {
			in.RollbackConfiguration = &cfntypes.RollbackConfiguration{MonitoringTimeInMinutes: aws.Int32(181)}
		}), "model.range"},
		{"cfn describe next token empty", &cloudformation.DescribeStacksInput{NextToken: aws.String("")}, "model.length"},
		{"lambda handler too long", &lambda.CreateFunctionInput{FunctionName: aws.String("f1"), Handler: aws.String(strings.Repeat("h", 129))}, "model.length"},
		{"cloudwatch alarm names list", &cloudwatch.DescribeAlarmsInput{AlarmNames: func() []string {
			out := make([]string, 101)
			for i := range out {
				out[i] = fmt.Sprint("a", i)
			}
			return out
		}()}, "model.length"},
	})
}

// TestShapesLoad: the embedded model constraints parse, cover the project's
// main calls, and nearly every pattern compiles in RE2 (the rest are
// skipped, and counted here so a model update that breaks many is noticed).
func TestShapesLoad(t *testing.T) {
	shapesOnce.Do(loadShapes)
	for _, name := range []string{"ssm.PutParameterInput", "cloudformation.CreateStackInput", "sns.CreateTopicInput", "cloudwatch.SetAlarmStateInput"} {
		assert.Contains(t, shapes, name)
	}
	bad := 0
	for p, re := range patterns {
		if re == nil {
			bad++
			t.Logf("pattern not checked (RE2 cannot compile it): %s", p)
		}
	}
	assert.LessOrEqual(t, bad, 5, "too many model patterns cannot be checked")
	assert.NotEmpty(t, patterns)
}

// TestRemainingRules: the rules not exercised by the service tables above,
// one negative case each (the positive side is the "valid" case of each
// table, which passes every rule).
func TestRemainingRules(t *testing.T) {
	sub := func(old, new string) *cloudformation.CreateStackInput {
		return stackInput(func(in *cloudformation.CreateStackInput) {
			in.TemplateBody = aws.String(strings.Replace(*in.TemplateBody, old, new, 1))
		})
	}
	extra := func(yaml string) *cloudformation.CreateStackInput {
		return stackInput(func(in *cloudformation.CreateStackInput) { in.TemplateBody = aws.String(*in.TemplateBody + yaml) })
	}
	many := func(section string, n int, body string) string {
		var b strings.Builder
		b.WriteString(section + ":\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "  X%d:\n%s", i, body)
		}
		return b.String()
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	gmd := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), MetricDataQueries: []cwtypes.MetricDataQuery{
		{Id: aws.String("a"), Expression: aws.String("SUM(METRICS())"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Maximum")}}}}
	runCases(t, []ruleCase{
		{"logical id", sub("  Topic:\n", "  My-Topic:\n"), "cfn.logical-id"},
		{"notification arns", stackInput(func(in *cloudformation.CreateStackInput) { in.NotificationARNs = make([]string, 6) }), "cfn.notification-arns"},
		{"on failure and disable rollback", stackInput(func(in *cloudformation.CreateStackInput) {
			in.OnFailure = cfntypes.OnFailureRollback
			in.DisableRollback = aws.Bool(false)
		}), "cfn.on-failure"},
		{"parameter twice", stackInput(func(in *cloudformation.CreateStackInput) { in.Parameters = append(in.Parameters, in.Parameters[0]) }), "cfn.parameter-duplicate"},
		{"parameter without key", stackInput(func(in *cloudformation.CreateStackInput) {
			in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterValue: aws.String("x")})
		}), "cfn.parameter-key"},
		{"parameter max length", sub("    AllowedPattern: ^[a-z0-9-]{1,20}$\n", "    MaxLength: 2\n"), "cfn.parameter-length"},
		{"role arn", stackInput(func(in *cloudformation.CreateStackInput) { in.RoleARN = aws.String("oha-db01-cloudformation") }), "cfn.role-arn"},
		{"template description", sub("Parameters:\n", "Description: "+strings.Repeat("d", 1025)+"\nParameters:\n"), "cfn.template-description"},
		{"201 outputs", extra(many("Outputs", 201, "    Value: x\n")), "cfn.template-outputs"},
		{"201 parameters", sub("Parameters:\n", many("Parameters", 201, "    Type: String\n    Default: x\n")), "cfn.template-parameters"},
		{"no resources", stackInput(func(in *cloudformation.CreateStackInput) {
			in.TemplateBody = aws.String("Parameters:\n  Workload:\n    Type: String\n")
			in.Capabilities = nil
		}), "cfn.template-resources"},
		{"unknown section", extra("Output:\n  X:\n    Value: x\n"), "cfn.template-section"},
		{"bad yaml", stackInput(func(in *cloudformation.CreateStackInput) { in.TemplateBody = aws.String("Resources: [\n") }), "cfn.template-syntax"},
		{"template version", sub(`"2010-09-09"`, `"2012-10-17"`), "cfn.template-version"},
		{"timeout 0", stackInput(func(in *cloudformation.CreateStackInput) { in.TimeoutInMinutes = aws.Int32(0) }), "cfn.timeout"},
		{"kms alias aws/", extra("  Alias:\n    Type: AWS::KMS::Alias\n    Properties:\n      AliasName: alias/aws/oha\n      TargetKeyId: k\n"), "kms.alias-name"},
		{"kms alias prefix", extra("  Alias:\n    Type: AWS::KMS::Alias\n    Properties:\n      AliasName: oha-db01\n      TargetKeyId: k\n"), "kms.alias-name"},
		{"log group name", extra("  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: /aws/lambda/oha db01\n"), "logs.log-group-name"},
		{"lambda description", sub("MemorySize: 256", "MemorySize: 256\n      Description: "+strings.Repeat("d", 257)), "lambda.description"},
		{"lambda memory", sub("MemorySize: 256", "MemorySize: 64"), "lambda.memory"},
		{"lambda reserved concurrency", sub("MemorySize: 256", "MemorySize: 256\n      ReservedConcurrentExecutions: -1"), "lambda.reserved-concurrency"},
		{"template alarm actions", extra("  Alarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      AlarmActions: [a, b, c, d, e, f]\n"), "cloudwatch.alarm-actions"},
		{"alarm name empty", &cloudwatch.SetAlarmStateInput{AlarmName: aws.String(""), StateValue: cwtypes.StateValueOk, StateReason: aws.String("r")}, "cloudwatch.alarm-name"},
		{"dimension value empty", &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Dimensions: []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String("")}}}, "cloudwatch.dimension"},
		{"31 dimensions", &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Dimensions: make([]cwtypes.Dimension, 31)}, "cloudwatch.dimensions"},
		{"evaluation periods 0", &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), EvaluationPeriods: aws.Int32(0)}, "cloudwatch.evaluation-periods"},
		{"evaluation window", &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("a"), Period: aws.Int32(86400), EvaluationPeriods: aws.Int32(8)}, "cloudwatch.evaluation-window"},
		{"max records", &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(101)}, "cloudwatch.max-records"},
		{"1001 metrics", &cloudwatch.PutMetricDataInput{Namespace: aws.String("oha"), MetricData: make([]cwtypes.MetricDatum, 1001)}, "cloudwatch.metric-data"},
		{"query with stat and expression", gmd, "cloudwatch.query-kind"},
		{"query without statistic", &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), MetricDataQueries: []cwtypes.MetricDataQuery{
			{Id: aws.String("a"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60)}}}}, "cloudwatch.stat"},
		{"delete 1001 tags", &ec2.DeleteTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: make([]ec2types.Tag, 1001)}, "ec2.delete-tags-count"},
		{"lt description 256", &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("lt-x"), VersionDescription: aws.String(strings.Repeat("d", 256))}, "ec2.launch-template-description"},
		{"terminate 1001", &ec2.TerminateInstancesInput{InstanceIds: func() []string {
			out := make([]string, 1001)
			for i := range out {
				out[i] = fmt.Sprintf("i-%08x", i)
			}
			return out
		}()}, "ec2.terminate-count"},
		{"policy not an object", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`[1]`)}, "iam.policy-object"},
		{"no statement", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17"}`)}, "iam.policy-statement"},
		{"statement not object", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":["x"]}`)}, "iam.statement-object"},
		{"unknown statement element", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}}`)}, "iam.statement-element"},
		{"empty action list", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`)}, "iam.empty-list"},
		{"action not string", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}`)}, "iam.string-list"},
		{"condition not object", &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}}`)}, "iam.condition"},
		{"list role policies max items", &iam.ListRolePoliciesInput{RoleName: aws.String("r"), MaxItems: aws.Int32(1001)}, "iam.max-items"},
		{"s3 empty key", &s3.PutObjectInput{Bucket: aws.String("outposts-ha-111122223333-us-west-2"), Key: aws.String("")}, "s3.key"},
		{"secret string and binary", &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("x"), SecretBinary: []byte("y")}, "secretsmanager.value"},
		{"secret too large", &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String(strings.Repeat("x", 65537))}, "secretsmanager.value-size"},
		{"sns message not utf8", &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("\xff")}, "sns.message-utf8"},
		{"sns empty subject", &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m"), Subject: aws.String("")}, "sns.subject"},
		{"sns fifo attribute without suffix", &sns.CreateTopicInput{Name: aws.String("t"), Attributes: map[string]string{"FifoTopic": "true"}}, "sns.topic-fifo"},
		{"sqs queue url", &sqs.ListQueueTagsInput{QueueUrl: aws.String("oha-db01-dlq")}, "sqs.queue-url"},
		{"sqs visibility", &sqs.ReceiveMessageInput{QueueUrl: aws.String("https://q"), VisibilityTimeout: 43201}, "sqs.visibility-timeout"},
		{"ssm description", &ssm.PutParameterInput{Name: aws.String("/oha/x"), Value: aws.String("v"), Description: aws.String(strings.Repeat("d", 1025))}, "ssm.description"},
		{"ssm empty name", &ssm.PutParameterInput{Name: aws.String(""), Value: aws.String("v")}, "ssm.name"},
		{"ssm type", &ssm.PutParameterInput{Name: aws.String("/oha/x"), Value: aws.String("v"), Type: "Secret"}, "ssm.type"},
	})
}
