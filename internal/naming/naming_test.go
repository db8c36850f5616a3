package naming

// Unit tests, no fakes.

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidateWorkload(t *testing.T) {
	for _, ok := range []string{"a", "web01", "db-2", "x123456789012345678901234567890y"} {
		assert.NoError(t, ValidateWorkload(ok), ok)
	}
	for _, bad := range []string{"", "Web01", "1web", "web-", "web_01", "web.01", "web 01", "xx123456789012345678901234567890y"} {
		assert.Error(t, ValidateWorkload(bad), bad)
	}
}

func TestDerivedNames(t *testing.T) {
	assert.Equal(t, "lt-web01-recovery", LaunchTemplate("web01", RoleRecovery))
	assert.Equal(t, "autorestart-web01", Stack("web01"))
	assert.Equal(t, "/outposts-ha/web01/lock", LockParam("web01"))
	assert.Equal(t, "oha-web01", ArrayHost("web01"))
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"us-west-2": "aws", "us-gov-west-1": "aws-us-gov", "cn-north-1": "aws-cn", "eu-west-1": "aws"} {
		assert.Equal(t, want, Partition(region), region)
	}
}

// The fenced tag is the key the stack's Deny of ec2:StartInstances names
// (ec2:ResourceTag/outposts-ha:fenced = "true"): the contract fixes it.
func TestTagFenced(t *testing.T) {
	assert.Equal(t, "outposts-ha:fenced", TagFenced)
}
