package sanboot_test

import (
	"fmt"
	"net/netip"

	"github.com/outposts-ha/outposts-ha/sanboot"
)

func ExampleRenderIPXE() {
	out, err := sanboot.RenderIPXE(sanboot.IPXE{
		InitiatorIQN: "iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10",
		TargetIQN:    "iqn.1992-08.com.netapp:sn.4f6b:vs.3",
		Portals: []sanboot.Portal{
			{Addr: netip.MustParseAddr("192.168.50.10"), Port: 3260},
			{Addr: netip.MustParseAddr("192.168.50.11"), Port: 3260},
		},
		LUN: 26,
		LNI: &sanboot.LNI{Index: 1},
	})
	if err != nil {
		panic(err)
	}
	fmt.Print(string(out))
	// Output:
	// #!ipxe
	// # outposts-ha SAN boot. Generated: edit the answers file and re-run plan instead.
	// set initiator-iqn iqn.2006-03.com.amazon.aws:outposts-ha.web01.7f1c9a52-3c1e-4d38-9f55-0d2c1b7a9e10
	// ifclose
	// ifopen net1 || goto failed
	// dhcp --timeout 5000 net1 || goto failed
	// # Keep DHCP's host name out of the iBFT: under BIOS its room is 768 bytes.
	// clear net1.dhcp/hostname || goto failed
	// route ||
	// sanboot iscsi:192.168.50.10::3260:1a:iqn.1992-08.com.netapp:sn.4f6b:vs.3 iscsi:192.168.50.11::3260:1a:iqn.1992-08.com.netapp:sn.4f6b:vs.3 || goto failed
	// goto failed
	// :failed
	// echo OUTPOSTS-HA-SANBOOT-FAILED error ${errno:hexraw} target iqn.1992-08.com.netapp:sn.4f6b:vs.3
	// echo See https://ipxe.org/${errno:hexraw} and check the LUN map, initiator ACL and portals.
	// exit 1
}
