package awsxtest

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

const (
	ec2Invalid = "InvalidParameterValue"
	// Ensuring idempotency in Amazon EC2 API requests (client tokens).
	docEC2Idempotency = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html"
	// Tag your Amazon EC2 resources: tag restrictions (50 per resource,
	// aws: reserved).
	docEC2Tags = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html"
)

var (
	docRunInstances   = apiRef(uidEC2, "RunInstances")
	docCreateLT       = apiRef(uidEC2, "CreateLaunchTemplate")
	docCreateTags     = apiRef(uidEC2, "CreateTags")
	docDescribeLTV    = apiRef(uidEC2, "DescribeLaunchTemplateVersions")
	instanceIDRE      = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetIDRE        = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	amiNameRE         = regexp.MustCompile(`^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$`)
	launchTemplateRE  = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)
	sgDescriptionChar = regexp.MustCompile(`^[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]*$`)
)

// ec2TagPolicy: the EC2 API reference Tag type: "Tag keys are case-sensitive
// and accept a maximum of 127 Unicode characters. May not begin with aws:",
// values "a maximum of 256 Unicode characters"; Using_Tags: at most 50 tags
// per resource. EC2 accepts any characters in tags (the restricted set
// applies only to tags exposed in instance metadata), so none are checked.
var ec2TagPolicy = tagPolicy{service: "ec2", doc: docEC2Tags, code: "InvalidParameterValue", keyMax: 127, valueMax: 256, maxTags: 50, awsValueOK: true}

func ec2Tags(in []ec2types.Tag) []kv {
	out := make([]kv, len(in))
	for i, t := range in {
		out[i] = kv{t.Key, t.Value}
	}
	return out
}

// clientToken: RunInstances ClientToken "Constraints: Maximum 64 ASCII
// characters"; CreateLaunchTemplate ClientToken "Constraint: Maximum 128
// ASCII characters."
func (r *report) clientToken(doc string, tok *string, max int) {
	if tok == nil {
		return
	}
	if s := *tok; len(s) > max || !asciiPrintable(s) {
		r.add("ec2.client-token", "ClientToken", doc, "InvalidParameterValue", "client token %q: at most %d ASCII characters (%d given)", s, max, len(s))
	}
}

// instanceIDs checks a list of instance IDs.
func (r *report) instanceIDs(doc string, ids []string, required bool) {
	if required && len(ids) == 0 {
		r.add("ec2.instance-ids", "InstanceIds", doc, "MissingParameter", "at least one instance ID is required")
	}
	for i, id := range ids {
		if !instanceIDRE.MatchString(id) {
			r.add("ec2.instance-id", fmt.Sprintf("InstanceIds[%d]", i), doc, "InvalidInstanceID.Malformed", "%q is not an instance ID (i- and 8 or 17 hex digits)", id)
		}
	}
}

// userData: "User data is limited to 16 KB" (RunInstances / launch template
// data), and must be base64.
func (r *report) userData(doc, field string, ud *string) {
	if ud == nil {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(*ud)
	if err != nil {
		r.add("ec2.user-data-base64", field, doc, ec2Invalid, "user data is not base64: %v", err)
		return
	}
	if len(raw) > 16384 {
		r.add("ec2.user-data-size", field, doc, ec2Invalid, "user data is %d bytes, at most 16 KB", len(raw))
	}
}

func (r *report) describePaging(doc string, max *int32, ids []string, lo, hi int32) {
	if max == nil {
		return
	}
	if *max < lo || *max > hi {
		r.add("ec2.max-results", "MaxResults", doc, ec2Invalid, "MaxResults %d, allowed %d to %d", *max, lo, hi)
	}
	// DescribeInstances / DescribeInstanceStatus MaxResults: "You cannot
	// specify this parameter and the instance IDs parameter in the same
	// request."
	if len(ids) > 0 {
		r.add("ec2.max-results-with-ids", "MaxResults", doc, ec2Invalid, "MaxResults cannot be combined with InstanceIds")
	}
}

// launchTags checks TagSpecifications of resources created at launch:
// "You can specify tags for the following resources only: Instances, Volumes,
// Spot Instance requests, Network interfaces".
func (r *report) launchTags(doc, field string, rt ec2types.ResourceType, tags []ec2types.Tag, seen map[ec2types.ResourceType]bool) {
	switch rt {
	case ec2types.ResourceTypeInstance, ec2types.ResourceTypeVolume, ec2types.ResourceTypeSpotInstancesRequest, ec2types.ResourceTypeNetworkInterface:
	default:
		r.add("ec2.launch-tag-resource", field+".ResourceType", doc, ec2Invalid, "resource type %q cannot be tagged at launch (instance, volume, spot-instances-request, network-interface)", rt)
	}
	if seen[rt] {
		r.add("ec2.launch-tag-resource", field+".ResourceType", doc, ec2Invalid, "resource type %q given in two tag specifications", rt)
	}
	seen[rt] = true
	r.tags(ec2TagPolicy, field+".Tags", ec2Tags(tags))
}

func init() {
	register(func(in *ec2.RunInstancesInput, r *report) {
		r.clientToken(docEC2Idempotency, in.ClientToken, 64)
		minC, maxC := in.MinCount, in.MaxCount
		if minC == nil || maxC == nil || *minC < 1 || *maxC < *minC {
			r.add("ec2.run-count", "MinCount/MaxCount", docRunInstances, ec2Invalid, "MinCount and MaxCount are required, MinCount >= 1 and MaxCount >= MinCount")
		}
		seen := map[ec2types.ResourceType]bool{}
		for i, ts := range in.TagSpecifications {
			r.launchTags(docRunInstances, fmt.Sprintf("TagSpecifications[%d]", i), ts.ResourceType, ts.Tags, seen)
		}
		r.userData(docRunInstances, "UserData", in.UserData)
		if lt := in.LaunchTemplate; lt != nil {
			if (str(lt.LaunchTemplateId) == "") == (str(lt.LaunchTemplateName) == "") {
				r.add("ec2.launch-template-ref", "LaunchTemplate", docRunInstances, ec2Invalid, "give exactly one of LaunchTemplateId and LaunchTemplateName")
			}
			if n := str(lt.LaunchTemplateName); n != "" && !launchTemplateRE.MatchString(n) {
				r.add("ec2.launch-template-name", "LaunchTemplate.LaunchTemplateName", docCreateLT, ec2Invalid, "launch template name %q: 3 to 128 of a-zA-Z0-9().-/_", n)
			}
		}
	})
	register(func(in *ec2.StopInstancesInput, r *report) {
		r.instanceIDs(apiRef(uidEC2, "StopInstances"), in.InstanceIds, true)
	})
	register(func(in *ec2.TerminateInstancesInput, r *report) {
		r.instanceIDs(apiRef(uidEC2, "TerminateInstances"), in.InstanceIds, true)
		// TerminateInstances: "you can terminate up to 1000 instances per call"
		if len(in.InstanceIds) > 1000 {
			r.add("ec2.terminate-count", "InstanceIds", apiRef(uidEC2, "TerminateInstances"), ec2Invalid, "%d instances, at most 1000 per call", len(in.InstanceIds))
		}
	})
	register(func(in *ec2.StartInstancesInput, r *report) {
		r.instanceIDs(apiRef(uidEC2, "StartInstances"), in.InstanceIds, true)
	})
	register(func(in *ec2.DeleteTagsInput, r *report) {
		doc := apiRef(uidEC2, "DeleteTags")
		if len(in.Resources) == 0 {
			r.add("ec2.delete-tags-resources", "Resources", doc, "MissingParameter", "no resource IDs")
		}
		// DeleteTags Tags: "If you omit this parameter, we delete all
		// user-defined tags for the specified resources. ... Constraints:
		// Up to 1000 tags." Keys follow the Tag rules; values may be omitted.
		if len(in.Tags) > 1000 {
			r.add("ec2.delete-tags-count", "Tags", doc, ec2Invalid, "%d tags, at most 1000", len(in.Tags))
		}
		for i, t := range in.Tags {
			if k := str(t.Key); chars(k) < 1 || chars(k) > 127 || strings.HasPrefix(strings.ToLower(k), "aws:") {
				r.add("ec2.tag-key", fmt.Sprintf("Tags[%d].Key", i), docEC2Tags, ec2Invalid, "tag key %q: 1 to 127 characters, not aws:", k)
			}
		}
	})
	register(func(in *ec2.CreateTagsInput, r *report) {
		if len(in.Resources) == 0 {
			r.add("ec2.create-tags-resources", "Resources", docCreateTags, "MissingParameter", "no resource IDs")
		}
		if len(in.Tags) == 0 {
			r.add("ec2.create-tags-empty", "Tags", docCreateTags, "MissingParameter", "no tags")
		}
		r.tags(ec2TagPolicy, "Tags", ec2Tags(in.Tags))
	})
	register(func(in *ec2.DescribeInstancesInput, r *report) {
		r.describePaging(apiRef(uidEC2, "DescribeInstances"), in.MaxResults, in.InstanceIds, 5, 1000)
		r.instanceIDs(apiRef(uidEC2, "DescribeInstances"), in.InstanceIds, false)
		r.filters(apiRef(uidEC2, "DescribeInstances"), in.Filters)
	})
	register(func(in *ec2.DescribeInstanceStatusInput, r *report) {
		r.describePaging(apiRef(uidEC2, "DescribeInstanceStatus"), in.MaxResults, in.InstanceIds, 5, 1000)
		r.instanceIDs(apiRef(uidEC2, "DescribeInstanceStatus"), in.InstanceIds, false)
		r.filters(apiRef(uidEC2, "DescribeInstanceStatus"), in.Filters)
	})
	register(func(in *ec2.DescribeSubnetsInput, r *report) {
		if in.MaxResults != nil && (*in.MaxResults < 5 || *in.MaxResults > 1000) {
			r.add("ec2.max-results", "MaxResults", apiRef(uidEC2, "DescribeSubnets"), ec2Invalid, "MaxResults %d, allowed 5 to 1000", *in.MaxResults)
		}
		r.filters(apiRef(uidEC2, "DescribeSubnets"), in.Filters)
	})
	register(func(in *ec2.DescribeLaunchTemplateVersionsInput, r *report) {
		id, name := str(in.LaunchTemplateId), str(in.LaunchTemplateName)
		// "To describe one or more versions of a specified launch template,
		// you must specify either the launch template ID or the launch
		// template name, but not both."
		if id != "" && name != "" {
			r.add("ec2.launch-template-ref", "LaunchTemplateId/LaunchTemplateName", docDescribeLTV, ec2Invalid, "give the launch template ID or its name, not both")
		}
		if name != "" && !launchTemplateRE.MatchString(name) {
			r.add("ec2.launch-template-name", "LaunchTemplateName", docDescribeLTV, ec2Invalid, "launch template name %q: 3 to 128 of a-zA-Z0-9().-/_", name)
		}
		if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 200) {
			r.add("ec2.max-results", "MaxResults", docDescribeLTV, ec2Invalid, "MaxResults %d, allowed 1 to 200", *in.MaxResults)
		}
		for i, v := range in.Versions {
			if v != "$Latest" && v != "$Default" && !regexp.MustCompile(`^[0-9]+$`).MatchString(v) {
				r.add("ec2.launch-template-version", fmt.Sprintf("Versions[%d]", i), docDescribeLTV, ec2Invalid, "version %q is not a number, $Latest or $Default", v)
			}
		}
	})
	register(func(in *ec2.DescribeLaunchTemplatesInput, r *report) {
		for i, n := range in.LaunchTemplateNames {
			if !launchTemplateRE.MatchString(n) {
				r.add("ec2.launch-template-name", fmt.Sprintf("LaunchTemplateNames[%d]", i), apiRef(uidEC2, "DescribeLaunchTemplates"), ec2Invalid, "launch template name %q: 3 to 128 of a-zA-Z0-9().-/_", n)
			}
		}
	})
	register(func(in *ec2.DeleteLaunchTemplateInput, r *report) {
		if (str(in.LaunchTemplateId) == "") == (str(in.LaunchTemplateName) == "") {
			r.add("ec2.launch-template-ref", "LaunchTemplateId/LaunchTemplateName", apiRef(uidEC2, "DeleteLaunchTemplate"), ec2Invalid, "give exactly one of LaunchTemplateId and LaunchTemplateName")
		}
	})
	register(func(in *ec2.CreateLaunchTemplateInput, r *report) {
		// LaunchTemplateName: "Length Constraints: Minimum length of 3.
		// Maximum length of 128. Pattern: [a-zA-Z0-9\(\)\.\-/_]+"
		if n := str(in.LaunchTemplateName); !launchTemplateRE.MatchString(n) {
			r.add("ec2.launch-template-name", "LaunchTemplateName", docCreateLT, ec2Invalid, "launch template name %q: 3 to 128 of a-zA-Z0-9().-/_", n)
		}
		r.clientToken(docCreateLT, in.ClientToken, 128)
		if d := str(in.VersionDescription); chars(d) > 255 {
			r.add("ec2.launch-template-description", "VersionDescription", docCreateLT, ec2Invalid, "version description is %d characters, at most 255", chars(d))
		}
		// TagSpecifications of CreateLaunchTemplate tag the template itself:
		// "To tag the launch template, the resource type must be
		// launch-template."
		for i, ts := range in.TagSpecifications {
			if ts.ResourceType != ec2types.ResourceTypeLaunchTemplate {
				r.add("ec2.launch-template-tag-resource", fmt.Sprintf("TagSpecifications[%d].ResourceType", i), docCreateLT, ec2Invalid, "resource type %q: a launch template's own tags take launch-template", ts.ResourceType)
			}
			r.tags(ec2TagPolicy, fmt.Sprintf("TagSpecifications[%d].Tags", i), ec2Tags(ts.Tags))
		}
		if d := in.LaunchTemplateData; d != nil {
			// LaunchTemplateTagSpecificationRequest ResourceType: "When you
			// create a launch template, you can specify tags for the following
			// resource types only: instance | volume | network-interface |
			// spot-instances-request. If the instance does not include the
			// resource type that you specify, the instance launch fails."
			seen := map[ec2types.ResourceType]bool{}
			for i, ts := range d.TagSpecifications {
				r.launchTags(docCreateLT, fmt.Sprintf("LaunchTemplateData.TagSpecifications[%d]", i), ts.ResourceType, ts.Tags, seen)
			}
			r.userData(docCreateLT, "LaunchTemplateData.UserData", d.UserData)
		}
	})
	register(func(in *ec2.CreateVpcInput, r *report) {
		// The VPC CIDR size rule is in the VPC user guide, not checked here.
		r.resourceTags(apiRef(uidEC2, "CreateVpc"), in.TagSpecifications)
	})
	register(func(in *ec2.CreateSubnetInput, r *report) {
		// CreateSubnet: "The allowed size for an IPv4 subnet is between a /28
		// netmask (16 IP addresses) and a /16 netmask (65,536 IP addresses)."
		if str(in.CidrBlock) != "" {
			r.cidr(apiRef(uidEC2, "CreateSubnet"), "CidrBlock", str(in.CidrBlock))
		}
		r.resourceTags(apiRef(uidEC2, "CreateSubnet"), in.TagSpecifications)
	})
	register(func(in *ec2.CreateSecurityGroupInput, r *report) {
		doc := apiRef(uidEC2, "CreateSecurityGroup")
		// GroupName: "Constraints: Up to 255 characters in length. Can't
		// start with sg-." Both: "Valid characters: a-z, A-Z, 0-9, spaces,
		// and ._-:/()#,@[]+=&;{}!$*"
		name, desc := str(in.GroupName), str(in.Description)
		if n := chars(name); n < 1 || n > 255 || strings.HasPrefix(strings.ToLower(name), "sg-") || !sgDescriptionChar.MatchString(name) {
			r.add("ec2.security-group-name", "GroupName", doc, ec2Invalid, "group name %q: 1 to 255 characters, not starting with sg-", name)
		}
		if n := chars(desc); n < 1 || n > 255 || !sgDescriptionChar.MatchString(desc) {
			r.add("ec2.security-group-description", "Description", doc, ec2Invalid, "description %q: 1 to 255 of a-zA-Z0-9, spaces and ._-:/()#,@[]+=&;{}!$*", desc)
		}
		r.resourceTags(doc, in.TagSpecifications)
	})
	register(func(in *ec2.ModifySubnetAttributeInput, r *report) {
		doc := apiRef(uidEC2, "ModifySubnetAttribute")
		if !subnetIDRE.MatchString(str(in.SubnetId)) {
			r.add("ec2.subnet-id", "SubnetId", doc, "InvalidSubnetID.Malformed", "%q is not a subnet ID", str(in.SubnetId))
		}
		// "Modifies a subnet attribute. You can only modify one attribute at
		// a time." (CustomerOwnedIpv4Pool goes with MapCustomerOwnedIpOnLaunch.)
		n := 0
		for _, set := range []bool{in.AssignIpv6AddressOnCreation != nil, in.DisableLniAtDeviceIndex != nil, in.EnableDns64 != nil,
			in.EnableLniAtDeviceIndex != nil, in.EnableResourceNameDnsAAAARecordOnLaunch != nil, in.EnableResourceNameDnsARecordOnLaunch != nil,
			in.MapCustomerOwnedIpOnLaunch != nil, in.MapPublicIpOnLaunch != nil, in.PrivateDnsHostnameTypeOnLaunch != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			r.add("ec2.subnet-one-attribute", "ModifySubnetAttributeInput", doc, ec2Invalid, "%d attributes given; ModifySubnetAttribute changes exactly one at a time", n)
		}
	})
	register(func(in *ec2.CreateNetworkInterfaceInput, r *report) {
		doc := apiRef(uidEC2, "CreateNetworkInterface")
		if !subnetIDRE.MatchString(str(in.SubnetId)) {
			r.add("ec2.subnet-id", "SubnetId", doc, "InvalidSubnetID.Malformed", "%q is not a subnet ID", str(in.SubnetId))
		}
		// ClientToken: see "Ensuring idempotency" (64 ASCII characters).
		r.clientToken(docEC2Idempotency, in.ClientToken, 64)
		for i, ts := range in.TagSpecifications {
			if ts.ResourceType != ec2types.ResourceTypeNetworkInterface {
				r.add("ec2.tag-resource-type", fmt.Sprintf("TagSpecifications[%d].ResourceType", i), doc, ec2Invalid, "resource type %q: a network interface takes network-interface", ts.ResourceType)
			}
			r.tags(ec2TagPolicy, fmt.Sprintf("TagSpecifications[%d].Tags", i), ec2Tags(ts.Tags))
		}
	})
	register(func(in *ec2.DescribeSecurityGroupsInput, r *report) {
		doc := apiRef(uidEC2, "DescribeSecurityGroups")
		// MaxResults: "This value can be between 5 and 1000."
		if in.MaxResults != nil && (*in.MaxResults < 5 || *in.MaxResults > 1000) {
			r.add("ec2.max-results", "MaxResults", doc, ec2Invalid, "MaxResults %d, allowed 5 to 1000", *in.MaxResults)
		}
		r.filters(doc, in.Filters)
	})
	register(func(in *ec2.DescribeKeyPairsInput, r *report) {
		r.filters(apiRef(uidEC2, "DescribeKeyPairs"), in.Filters)
	})
	register(func(in *ec2.GetConsoleOutputInput, r *report) {
		doc := apiRef(uidEC2, "GetConsoleOutput")
		if !instanceIDRE.MatchString(str(in.InstanceId)) {
			r.add("ec2.instance-id", "InstanceId", doc, "InvalidInstanceID.Malformed", "%q is not an instance ID", str(in.InstanceId))
		}
	})
	register(func(in *ec2.CreateKeyPairInput, r *report) {
		// KeyName: "Constraints: Up to 255 ASCII characters"
		if k := str(in.KeyName); k == "" || len(k) > 255 || !asciiPrintable(k) {
			r.add("ec2.key-name", "KeyName", apiRef(uidEC2, "CreateKeyPair"), ec2Invalid, "key name %q: 1 to 255 ASCII characters", k)
		}
		r.resourceTags(apiRef(uidEC2, "CreateKeyPair"), in.TagSpecifications)
	})
	register(func(in *ec2.RegisterImageInput, r *report) {
		// Name: "Constraints: 3-128 alphanumeric characters, parentheses
		// (()), square brackets ([]), spaces ( ), periods (.), slashes (/),
		// dashes (-), single quotes ('), at-signs (@), or underscores(_)"
		if n := str(in.Name); !amiNameRE.MatchString(n) {
			r.add("ec2.image-name", "Name", apiRef(uidEC2, "RegisterImage"), ec2Invalid, "AMI name %q: 3 to 128 of alphanumerics ()[] ./-'@_", n)
		}
		r.resourceTags(apiRef(uidEC2, "RegisterImage"), in.TagSpecifications)
	})
	register(func(in *ec2.DescribeImagesInput, r *report) {
		r.filters(apiRef(uidEC2, "DescribeImages"), in.Filters)
	})
}

func (r *report) cidr(doc, field, s string) {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		r.add("ec2.cidr", field, doc, "InvalidParameterValue", "%q is not a CIDR block", s)
	case p.Addr().Is4() && (p.Bits() < 16 || p.Bits() > 28):
		r.add("ec2.cidr", field, doc, "InvalidSubnet.Range", "CIDR block %s: the netmask must be between /16 and /28", s)
	}
}

func (r *report) resourceTags(doc string, specs []ec2types.TagSpecification) {
	for i, ts := range specs {
		r.tags(ec2TagPolicy, fmt.Sprintf("TagSpecifications[%d].Tags", i), ec2Tags(ts.Tags))
	}
}

// filters: a filter needs a name (Filter type in the EC2 API reference). An
// empty value list is not checked: the reference does not say.
func (r *report) filters(doc string, fs []ec2types.Filter) {
	for i, f := range fs {
		if str(f.Name) == "" {
			r.add("ec2.filter", fmt.Sprintf("Filters[%d].Name", i), doc, ec2Invalid, "filter without a name")
		}
	}
}
