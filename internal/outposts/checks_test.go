package outposts

// Unit tests of the pick checks and EnableLNI, on the in-memory fakes.

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loaded(t *testing.T) (*fakeAWS, *Inventory) {
	t.Helper()
	f := world()
	inv, err := Load(context.Background(), f.sources(), Options{})
	require.NoError(t, err)
	return f, inv
}

func problem(t *testing.T, err error) *Problem {
	t.Helper()
	var p *Problem
	require.ErrorAs(t, err, &p)
	assert.NotEmpty(t, p.Fix, "every refusal names the fix")
	return p
}

func TestCheckPairRefusesTwoSubnetsOnOneOutpost(t *testing.T) {
	_, inv := loaded(t)
	_, _, err := CheckPair(inv, "subnet-a1", "subnet-a2")
	p := problem(t, err)
	assert.Equal(t, "secondary subnet", p.Field)
	assert.Contains(t, p.What, "both on Outpost op-0000000000000000a")
	assert.Contains(t, p.Fix, "different Outposts server")

	pri, sec, err := CheckPair(inv, "subnet-a1", "subnet-b1")
	require.NoError(t, err)
	assert.Equal(t, "op-0000000000000000a", pri.OutpostID)
	assert.Equal(t, "op-0000000000000000b", sec.OutpostID)
}

func TestCheckPairRefusesUnknownSameAndRackSubnets(t *testing.T) {
	_, inv := loaded(t)
	for _, c := range []struct{ p, s, field, what string }{
		{"subnet-nope", "subnet-b1", "primary subnet", "not a subnet of an Outposts server"},
		{"subnet-a1", "subnet-region", "secondary subnet", "not a subnet of an Outposts server"},
		{"subnet-a1", "subnet-a1", "secondary subnet", "primary subnet too"},
	} {
		_, _, err := CheckPair(inv, c.p, c.s)
		p := problem(t, err)
		assert.Equal(t, c.field, p.Field)
		assert.Contains(t, p.What, c.what)
	}
	// A rack's subnet is not listed at all: the rack is not a server.
	_, ok := inv.Subnet("subnet-c1")
	require.True(t, ok, "subnets are listed per Outpost, racks included")
	_, _, err := CheckPair(inv, "subnet-a1", "subnet-c1")
	p := problem(t, err)
	assert.Contains(t, p.What, "not an Outposts server")
}

func TestCheckInstanceTypeMissingOnOneOutpost(t *testing.T) {
	_, inv := loaded(t)
	err := CheckInstanceType(inv, "op-0000000000000000a", "op-0000000000000000b", "m6id.large")
	p := problem(t, err)
	assert.Equal(t, "instance type", p.Field)
	assert.Contains(t, p.What, "m6id.large is not offered on the secondary Outpost op-0000000000000000b")
	assert.Contains(t, p.Fix, "c6id.2xlarge, c6id.xlarge", "the fix lists the common types")

	require.NoError(t, CheckInstanceType(inv, "op-0000000000000000a", "op-0000000000000000b", "c6id.xlarge"))

	err = CheckInstanceType(inv, "op-0000000000000000a", "op-0000000000000000b", "r6id.large")
	assert.Contains(t, problem(t, err).What, "primary Outpost op-0000000000000000a")
}

func TestCheckLNI(t *testing.T) {
	_, inv := loaded(t)
	a1, _ := inv.Subnet("subnet-a1")
	require.NoError(t, CheckLNI(a1))
	b1, _ := inv.Subnet("subnet-b1")
	p := problem(t, CheckLNI(b1))
	assert.Contains(t, p.What, "no local network interface")
	assert.Contains(t, p.Fix, "--enable-lni-at-device-index 1")
	two := int32(2)
	p = problem(t, CheckLNI(Subnet{ID: "subnet-x", LNIIndex: &two}))
	assert.Contains(t, p.What, "EnableLniAtDeviceIndex=2")
}

func TestEnableLNIIsIdempotent(t *testing.T) {
	f := world()
	ctx := context.Background()
	changed, err := EnableLNI(ctx, f, "subnet-b1")
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, 1, f.modify)
	changed, err = EnableLNI(ctx, f, "subnet-b1")
	require.NoError(t, err)
	assert.False(t, changed, "already at 1: nothing to do")
	assert.Equal(t, 1, f.modify, "no second ModifySubnetAttribute")

	_, err = EnableLNI(ctx, f, "subnet-region")
	assert.Contains(t, problem(t, err).What, "not an Outpost subnet")
	_, err = EnableLNI(ctx, f, "subnet-gone")
	assert.Contains(t, problem(t, err).What, "not found")
	assert.Equal(t, 1, f.modify)

	f.fail["ModifySubnetAttribute"] = denied("ec2:ModifySubnetAttribute")
	_, err = EnableLNI(ctx, f, "subnet-a2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ec2:ModifySubnetAttribute")
}

// A ModifySubnetAttribute that answers OK but changes nothing (what moto
// does with EnableLniAtDeviceIndex) is caught by the read-back.
type lyingModify struct{ *fakeAWS }

func (l lyingModify) ModifySubnetAttribute(ctx context.Context, in *ec2.ModifySubnetAttributeInput, o ...func(*ec2.Options)) (*ec2.ModifySubnetAttributeOutput, error) {
	return &ec2.ModifySubnetAttributeOutput{}, nil
}

func TestEnableLNIReadsBack(t *testing.T) {
	f := world()
	_, err := EnableLNI(context.Background(), lyingModify{f}, "subnet-b1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reads EnableLniAtDeviceIndex=0 after ModifySubnetAttribute set 1")
}

func TestCheckCapacityNPlusOne(t *testing.T) {
	f, inv := loaded(t)
	c, err := CheckCapacity(inv, "op-0000000000000000b", "c6id.2xlarge", 2)
	require.NoError(t, err, "3 free, 3 needed")
	assert.Equal(t, CapacityCheck{Outpost: "op-0000000000000000b", InstanceType: "c6id.2xlarge", Known: true, Free: 3, Need: 3}, c)

	_, err = CheckCapacity(inv, "op-0000000000000000b", "c6id.2xlarge", 3)
	p := problem(t, err)
	assert.Contains(t, p.What, "has 3 free c6id.2xlarge")
	assert.Contains(t, p.What, "4 may fail over to it")
	assert.Contains(t, p.What, f.capAt.Format("2006-01-02 15:04Z"))

	_, err = CheckCapacity(inv, "op-0000000000000000b", "c6id.xlarge", 0)
	assert.Contains(t, problem(t, err).What, "has 0 free")

	c, err = CheckCapacity(inv, "op-0000000000000000a", "m6id.large", 0)
	require.ErrorIs(t, err, ErrCapacityUnknown)
	assert.False(t, c.Known)
	assert.Contains(t, c.String(), "unknown")
	var p2 *Problem
	assert.False(t, errors.As(err, &p2), "unknown capacity is a warning, not a refusal")
}

func TestRequireServers(t *testing.T) {
	_, inv := loaded(t)
	require.NoError(t, RequireServers(inv, "us-west-2"))
	p := problem(t, RequireServers(&Inventory{NotServers: 2}, "eu-west-1"))
	assert.Contains(t, p.What, "eu-west-1 has 0 Outposts server(s) (and 2 Outpost(s) that are racks")
	p = problem(t, RequireServers(&Inventory{Servers: []Server{{ID: "op-1"}}}, "us-east-1"))
	assert.Contains(t, p.What, "has 1 Outposts server(s)")
}

func TestCheckSecurityGroup(t *testing.T) {
	_, inv := loaded(t)
	a1, _ := inv.Subnet("subnet-a1")
	require.NoError(t, CheckSecurityGroup(inv, "sg-1", a1))
	assert.Contains(t, problem(t, CheckSecurityGroup(inv, "sg-2", a1)).What, "sg-2 is in vpc-2")
	assert.Contains(t, problem(t, CheckSecurityGroup(inv, "sg-9", a1)).What, "not in this account")
}
