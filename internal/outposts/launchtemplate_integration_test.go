//go:build integration

package outposts_test

// Integration test: the real AWS SDK against moto (scripts/with-moto.sh). The
// launch template plan renders is created through CreateLaunchTemplate and read
// back: what AWS stores must be what plan wrote.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/awsx/awsxtest"
	"github.com/outposts-ha/outposts-ha/internal/naming"
	"github.com/outposts-ha/outposts-ha/internal/outposts"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func TestLaunchTemplateRoundTripsThroughEC2(t *testing.T) {
	testenv.NeedEmulator(t)
	ctx := context.Background()
	cfg, err := awsxtest.LoadConfig(ctx, t)
	require.NoError(t, err)
	client := ec2.NewFromConfig(cfg)

	w := "lt" + uuid.NewString()[:8]
	ud := []byte("#!ipxe\nset initiator-iqn iqn.2006-03.com.amazon.aws:outposts-ha.x\nexit 1\n")
	lt, err := outposts.NewLaunchTemplate(outposts.TemplateInput{
		Workload: w, Role: naming.RoleRecovery, SubnetID: "subnet-0f1e2d3c4b5a69788", ImageID: "ami-0123456789abcdef0",
		InstanceType: "c6id.2xlarge", KeyName: "ops", SecurityGroup: "sg-0123456789abcdef0", InstanceProfile: "oha-x", UserData: ud,
	})
	require.NoError(t, err)
	// What plan writes to disk is JSON; setup reads it back. Go through JSON here too.
	raw, err := json.Marshal(lt)
	require.NoError(t, err)
	var fromDisk outposts.LaunchTemplate
	require.NoError(t, json.Unmarshal(raw, &fromDisk))

	out, err := client.CreateLaunchTemplate(ctx, fromDisk.CreateInput())
	require.NoError(t, err)
	id := aws.ToString(out.LaunchTemplate.LaunchTemplateId)
	t.Cleanup(func() {
		_, _ = client.DeleteLaunchTemplate(context.Background(), &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
	})

	v, err := client.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(naming.LaunchTemplate(w, naming.RoleRecovery)), Versions: []string{"$Default"}})
	require.NoError(t, err)
	require.Len(t, v.LaunchTemplateVersions, 1)
	d := v.LaunchTemplateVersions[0].LaunchTemplateData
	got, err := base64.StdEncoding.DecodeString(aws.ToString(d.UserData))
	require.NoError(t, err)
	assert.Equal(t, ud, got, "user data as stored by EC2")
	require.NotNil(t, d.IamInstanceProfile, "the instance profile must survive into the stored template")
	assert.Equal(t, "oha-x", aws.ToString(d.IamInstanceProfile.Name))
	require.Len(t, d.NetworkInterfaces, 2)
	assert.EqualValues(t, 1, aws.ToInt32(d.NetworkInterfaces[1].DeviceIndex), "index 1 is the LNI")
	assert.Equal(t, "subnet-0f1e2d3c4b5a69788", aws.ToString(d.NetworkInterfaces[1].SubnetId))

	desc, err := client.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}})
	require.NoError(t, err)
	require.Len(t, desc.LaunchTemplates, 1)
	tags := map[string]string{}
	for _, tg := range desc.LaunchTemplates[0].Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	assert.Equal(t, w, tags[naming.TagWorkload])
	assert.Equal(t, naming.RoleRecovery, tags[naming.TagRole])
}
