package outposts

// Checks on the operator's picks against the live inventory. Each refusal is
// a *Problem naming the field, what is wrong and the fix, so the guided flow
// can show it beside the field and nothing is created.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Problem is a refused pick.
type Problem struct {
	Field string // "secondary subnet", "instance type", ...
	What  string // what is wrong
	Fix   string // what to do
}

func (p *Problem) Error() string {
	return p.Field + ": " + p.What + ". Fix: " + p.Fix
}

// RequireServers refuses a Region with no Outposts servers.
func RequireServers(inv *Inventory, region string) error {
	if len(inv.Servers) >= 2 {
		return nil
	}
	what := fmt.Sprintf("the Region %s has %d Outposts server(s)", region, len(inv.Servers))
	if inv.NotServers > 0 {
		what += fmt.Sprintf(" (and %d Outpost(s) that are racks or report no hardware type)", inv.NotServers)
	}
	return &Problem{Field: "Region", What: what + "; N+1 needs two servers, each its own Outpost",
		Fix: "pick the Region your Outposts servers are anchored to (AWS_REGION or --region), or the profile of the account that owns or shares them"}
}

// CheckPair checks the primary and secondary subnets: both known Outpost
// subnets of servers, on two different Outposts.
func CheckPair(inv *Inventory, primarySubnet, secondarySubnet string) (Subnet, Subnet, error) {
	p, okP := inv.Subnet(primarySubnet)
	s, okS := inv.Subnet(secondarySubnet)
	switch {
	case !okP:
		return p, s, &Problem{Field: "primary subnet", What: fmt.Sprintf("%s is not a subnet of an Outposts server in this Region", primarySubnet),
			Fix: "pick one of the listed Outpost subnets (a subnet created with --outpost-arn of a server)"}
	case !okS:
		return p, s, &Problem{Field: "secondary subnet", What: fmt.Sprintf("%s is not a subnet of an Outposts server in this Region", secondarySubnet),
			Fix: "pick one of the listed Outpost subnets (a subnet created with --outpost-arn of a server)"}
	case p.ID == s.ID:
		return p, s, &Problem{Field: "secondary subnet", What: fmt.Sprintf("%s is the primary subnet too", s.ID),
			Fix: "pick a subnet of the other Outposts server"}
	case p.OutpostID == s.OutpostID:
		return p, s, &Problem{Field: "secondary subnet",
			What: fmt.Sprintf("%s and %s are both on Outpost %s; a failure of that server would take both", p.ID, s.ID, p.OutpostID),
			Fix:  "pick a subnet of a different Outposts server for the secondary (each server is its own Outpost)"}
	}
	for _, x := range []struct {
		field string
		sub   Subnet
	}{{"primary subnet", p}, {"secondary subnet", s}} {
		if _, ok := inv.Server(x.sub.OutpostID); !ok {
			return p, s, &Problem{Field: x.field, What: fmt.Sprintf("%s belongs to Outpost %s, which is not an Outposts server (rack or unknown)", x.sub.ID, x.sub.OutpostID),
				Fix: "pick a subnet of an Outposts server; racks have no LNI and are not supported"}
		}
	}
	return p, s, nil
}

// CheckInstanceType refuses a type one of the two Outposts does not offer.
func CheckInstanceType(inv *Inventory, primaryOutpost, secondaryOutpost, itype string) error {
	for _, x := range []struct{ role, id string }{{"primary", primaryOutpost}, {"secondary", secondaryOutpost}} {
		offered := false
		for _, t := range inv.InstanceTypes[x.id] {
			if t.Type == itype {
				offered = true
				break
			}
		}
		if !offered {
			common := inv.CommonInstanceTypes(primaryOutpost, secondaryOutpost)
			fix := "pick a type offered on both servers"
			if len(common) > 0 {
				fix += ": " + strings.Join(common, ", ")
			} else {
				fix += "; these two servers offer no type in common, so pick another pair"
			}
			return &Problem{Field: "instance type", What: fmt.Sprintf("%s is not offered on the %s Outpost %s (GetOutpostInstanceTypes)", itype, x.role, x.id), Fix: fix}
		}
	}
	return nil
}

// CheckSecurityGroup refuses a group of another VPC than the subnet's.
func CheckSecurityGroup(inv *Inventory, groupID string, sub Subnet) error {
	for _, g := range inv.SecurityGroups {
		if g.ID == groupID {
			if g.VPCID != sub.VPCID {
				return &Problem{Field: "security group", What: fmt.Sprintf("%s is in %s, the subnet %s in %s", groupID, g.VPCID, sub.ID, sub.VPCID),
					Fix: "pick a security group of the subnet's VPC"}
			}
			return nil
		}
	}
	return &Problem{Field: "security group", What: groupID + " is not in this account and Region", Fix: "pick one of the listed security groups"}
}

// CheckLNI reports a subnet whose LNI is not at device index 1.
func CheckLNI(sub Subnet) error {
	if sub.LNIReady() {
		return nil
	}
	what := fmt.Sprintf("subnet %s has no local network interface (EnableLniAtDeviceIndex unset)", sub.ID)
	if sub.LNIIndex != nil {
		what = fmt.Sprintf("subnet %s has EnableLniAtDeviceIndex=%d; the SAN interface must be device index 1", sub.ID, *sub.LNIIndex)
	}
	return &Problem{Field: "subnet LNI", What: what,
		Fix: fmt.Sprintf("let setup enable it, or run: aws ec2 modify-subnet-attribute --subnet-id %s --enable-lni-at-device-index 1", sub.ID)}
}

// EnableLNI sets EnableLniAtDeviceIndex=1 on an Outpost subnet
// (ec2:ModifySubnetAttribute; "1 indicates local network interfaces in this
// subnet are the secondary network interface (eth1)"). It is idempotent: a
// subnet already at 1 is left alone (changed=false). The value is read back.
func EnableLNI(ctx context.Context, api SubnetAttributeAPI, subnetID string) (changed bool, err error) {
	read := func() (ec2types.Subnet, error) {
		out, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetID}})
		if err != nil {
			return ec2types.Subnet{}, fmt.Errorf("read subnet %s: %w", subnetID, err)
		}
		if len(out.Subnets) != 1 {
			return ec2types.Subnet{}, &Problem{Field: "subnet", What: fmt.Sprintf("subnet %s not found", subnetID), Fix: "pick a listed subnet"}
		}
		return out.Subnets[0], nil
	}
	s, err := read()
	if err != nil {
		return false, err
	}
	if aws.ToInt32(s.EnableLniAtDeviceIndex) == LNIDeviceIndex {
		return false, nil
	}
	if aws.ToString(s.OutpostArn) == "" {
		return false, &Problem{Field: "subnet", What: fmt.Sprintf("subnet %s is not an Outpost subnet, so it cannot have a local network interface", subnetID),
			Fix: "pick a subnet created on an Outposts server"}
	}
	if _, err := api.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(subnetID), EnableLniAtDeviceIndex: aws.Int32(LNIDeviceIndex)}); err != nil {
		return false, fmt.Errorf("enable the LNI at device index 1 on %s (ec2:ModifySubnetAttribute): %w", subnetID, err)
	}
	s, err = read()
	if err != nil {
		return true, err
	}
	if got := aws.ToInt32(s.EnableLniAtDeviceIndex); got != LNIDeviceIndex {
		return true, fmt.Errorf("subnet %s reads EnableLniAtDeviceIndex=%d after ModifySubnetAttribute set 1", subnetID, got)
	}
	return true, nil
}

// CapacityCheck is the N+1 verdict for the secondary.
type CapacityCheck struct {
	Outpost, InstanceType string
	Known                 bool // a capacity sample exists
	Free                  int  // AvailableInstanceType_Count, when Known
	Need                  int  // instances of this type that may fail over to the secondary
}

// String is one line for the review screen.
func (c CapacityCheck) String() string {
	if !c.Known {
		return fmt.Sprintf("free %s capacity on %s unknown (no %s data); N+1 not proven", c.InstanceType, c.Outpost, CapacityMetric)
	}
	return fmt.Sprintf("%s on %s: %d free, %d needed for failover", c.InstanceType, c.Outpost, c.Free, c.Need)
}

// ErrCapacityUnknown marks a check that could not read capacity; setup shows
// it as a warning the operator acknowledges, not a refusal.
var ErrCapacityUnknown = errors.New("secondary capacity unknown")

// CheckCapacity is the N+1 check: the secondary must have room for this
// workload plus every other protected workload of the same type that fails
// over to it (otherWorkloads). The free count is the newest
// AWS/Outposts AvailableInstanceType_Count sample, which already excludes
// instances running there now.
func CheckCapacity(inv *Inventory, secondaryOutpost, itype string, otherWorkloads int) (CapacityCheck, error) {
	c := CapacityCheck{Outpost: secondaryOutpost, InstanceType: itype, Need: 1 + max(otherWorkloads, 0)}
	got, ok := inv.Capacity[secondaryOutpost][itype]
	if !ok {
		return c, fmt.Errorf("%w: %s", ErrCapacityUnknown, c)
	}
	c.Known, c.Free = true, got.Free
	if c.Free < c.Need {
		return c, &Problem{Field: "instance type",
			What: fmt.Sprintf("the secondary Outpost %s has %d free %s (at %s), but %d may fail over to it (this workload and %d other(s))",
				secondaryOutpost, c.Free, itype, got.At.UTC().Format("2006-01-02 15:04Z"), c.Need, c.Need-1),
			Fix: "pick an instance type with free capacity on the secondary, free capacity there, or pick another secondary server"}
	}
	return c, nil
}
