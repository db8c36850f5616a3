// Package outposts holds the EC2 and Outposts domain pieces: the launch
// templates both servers launch from (launchtemplate.go), the live inventory
// setup picks from (inventory.go, with the SDK's Outposts client behind a
// small interface in outpostsapi.go), the checks on those picks and the LNI switch (checks.go),
// and the helper launch (helper.go). Test-tier stand-ins for what moto lacks
// are in outpoststest.
package outposts

import (
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/outposts-ha/outposts-ha/internal/naming"
)

// LNIDeviceIndex is where Outposts servers put the local network interface.
const LNIDeviceIndex = 1

// LaunchTemplate is the input of CreateLaunchTemplate, in the JSON shape the
// API and `aws ec2 create-launch-template --cli-input-json` use. It is what
// plan writes and what setup sends.
type LaunchTemplate struct {
	LaunchTemplateName string             `json:"LaunchTemplateName"`
	VersionDescription string             `json:"VersionDescription"`
	LaunchTemplateData LaunchTemplateData `json:"LaunchTemplateData"`
	TagSpecifications  []TagSpecification `json:"TagSpecifications"`
}

// LaunchTemplateData is the part of the template an instance is launched from.
type LaunchTemplateData struct {
	ImageId                           string             `json:"ImageId"`
	InstanceType                      string             `json:"InstanceType"`
	KeyName                           string             `json:"KeyName,omitempty"`
	IamInstanceProfile                IamInstanceProfile `json:"IamInstanceProfile"`
	NetworkInterfaces                 []NetworkInterface `json:"NetworkInterfaces"`
	MetadataOptions                   MetadataOptions    `json:"MetadataOptions"`
	InstanceInitiatedShutdownBehavior string             `json:"InstanceInitiatedShutdownBehavior"`
	UserData                          string             `json:"UserData"` // base64
	TagSpecifications                 []TagSpecification `json:"TagSpecifications"`
}

// IamInstanceProfile names the profile; both templates carry it, so that the
// iPXE image and the guest can read the CHAP secrets after a failover too.
type IamInstanceProfile struct {
	Name string `json:"Name"`
}

// NetworkInterface is one interface of the instance.
type NetworkInterface struct {
	DeviceIndex         int      `json:"DeviceIndex"`
	SubnetId            string   `json:"SubnetId"`
	Groups              []string `json:"Groups"`
	DeleteOnTermination bool     `json:"DeleteOnTermination"`
	Description         string   `json:"Description"`
}

// MetadataOptions pins IMDSv2.
type MetadataOptions struct {
	HttpTokens              string `json:"HttpTokens"`
	HttpPutResponseHopLimit int    `json:"HttpPutResponseHopLimit"`
	HttpEndpoint            string `json:"HttpEndpoint"`
}

// TagSpecification tags one resource type.
type TagSpecification struct {
	ResourceType string `json:"ResourceType"`
	Tags         []Tag  `json:"Tags"`
}

// Tag is one key/value tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// TemplateInput is what differs between the primary and the recovery template.
type TemplateInput struct {
	Workload        string
	Role            string // naming.RolePrimary | naming.RoleRecovery
	SubnetID        string
	ImageID         string
	InstanceType    string
	KeyName         string
	SecurityGroup   string
	InstanceProfile string
	UserData        []byte // raw; encoded here
}

// NewLaunchTemplate builds the launch template for one server. Both templates
// carry the same user data (one initiator identity, only one may run), two
// interfaces in the server's subnet (index 1 is the LNI), the instance
// profile, IMDSv2 and the workload tags.
func NewLaunchTemplate(in TemplateInput) (LaunchTemplate, error) {
	if in.Role != naming.RolePrimary && in.Role != naming.RoleRecovery {
		return LaunchTemplate{}, fmt.Errorf("launch template role %q: want primary or recovery", in.Role)
	}
	if len(in.UserData) == 0 {
		return LaunchTemplate{}, fmt.Errorf("launch template %s: user data is empty", in.Role)
	}
	tags := []Tag{
		{Key: "Name", Value: in.Workload + "-" + in.Role},
		{Key: naming.TagManaged, Value: naming.ManagedBy},
		{Key: naming.TagRole, Value: in.Role},
		{Key: naming.TagWorkload, Value: in.Workload},
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	nic := func(idx int, what string) NetworkInterface {
		return NetworkInterface{DeviceIndex: idx, SubnetId: in.SubnetID, Groups: []string{in.SecurityGroup}, DeleteOnTermination: true,
			Description: fmt.Sprintf("outposts-ha %s %s %s", in.Workload, in.Role, what)}
	}
	return LaunchTemplate{
		LaunchTemplateName: naming.LaunchTemplate(in.Workload, in.Role),
		VersionDescription: fmt.Sprintf("outposts-ha %s %s", in.Workload, in.Role),
		LaunchTemplateData: LaunchTemplateData{
			ImageId:            in.ImageID,
			InstanceType:       in.InstanceType,
			KeyName:            in.KeyName,
			IamInstanceProfile: IamInstanceProfile{Name: in.InstanceProfile},
			NetworkInterfaces:  []NetworkInterface{nic(0, "VPC interface"), nic(LNIDeviceIndex, "local network interface (SAN)")},
			MetadataOptions:    MetadataOptions{HttpTokens: "required", HttpPutResponseHopLimit: 2, HttpEndpoint: "enabled"},
			// A guest shutdown must not destroy the instance's record of the failover.
			InstanceInitiatedShutdownBehavior: "stop",
			UserData:                          base64.StdEncoding.EncodeToString(in.UserData),
			TagSpecifications: []TagSpecification{
				{ResourceType: "instance", Tags: tags},
				{ResourceType: "network-interface", Tags: tags},
			},
		},
		TagSpecifications: []TagSpecification{{ResourceType: "launch-template", Tags: tags}},
	}, nil
}

// CreateInput converts the template to the SDK's CreateLaunchTemplate input.
func (lt LaunchTemplate) CreateInput() *ec2.CreateLaunchTemplateInput {
	d := lt.LaunchTemplateData
	nics := make([]ec2types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, 0, len(d.NetworkInterfaces))
	for _, n := range d.NetworkInterfaces {
		nics = append(nics, ec2types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{
			DeviceIndex:         aws.Int32(int32(n.DeviceIndex)),
			SubnetId:            aws.String(n.SubnetId),
			Groups:              n.Groups,
			DeleteOnTermination: aws.Bool(n.DeleteOnTermination),
			Description:         aws.String(n.Description),
		})
	}
	data := &ec2types.RequestLaunchTemplateData{
		ImageId:            aws.String(d.ImageId),
		InstanceType:       ec2types.InstanceType(d.InstanceType),
		IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(d.IamInstanceProfile.Name)},
		NetworkInterfaces:  nics,
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpTokens:              ec2types.LaunchTemplateHttpTokensState(d.MetadataOptions.HttpTokens),
			HttpPutResponseHopLimit: aws.Int32(int32(d.MetadataOptions.HttpPutResponseHopLimit)),
			HttpEndpoint:            ec2types.LaunchTemplateInstanceMetadataEndpointState(d.MetadataOptions.HttpEndpoint),
		},
		InstanceInitiatedShutdownBehavior: ec2types.ShutdownBehavior(d.InstanceInitiatedShutdownBehavior),
		UserData:                          aws.String(d.UserData),
	}
	if d.KeyName != "" {
		data.KeyName = aws.String(d.KeyName)
	}
	for _, ts := range d.TagSpecifications {
		data.TagSpecifications = append(data.TagSpecifications, ec2types.LaunchTemplateTagSpecificationRequest{
			ResourceType: ec2types.ResourceType(ts.ResourceType), Tags: sdkTags(ts.Tags)})
	}
	in := &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(lt.LaunchTemplateName),
		VersionDescription: aws.String(lt.VersionDescription),
		LaunchTemplateData: data,
	}
	for _, ts := range lt.TagSpecifications {
		in.TagSpecifications = append(in.TagSpecifications, ec2types.TagSpecification{
			ResourceType: ec2types.ResourceType(ts.ResourceType), Tags: sdkTags(ts.Tags)})
	}
	return in
}

func sdkTags(ts []Tag) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(ts))
	for _, t := range ts {
		out = append(out, ec2types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	return out
}
