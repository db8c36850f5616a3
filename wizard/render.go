package wizard

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

// userData is the rendered user data and the files that explain it.
type userData struct {
	Raw   []byte
	Extra []File   // boot.ipxe, data-volume scripts ...
	URIs  []string // SAN URIs, for the summary
	Notes []string // what the operator must know about this boot mode
}

func portals(v spec.Volume, def uint16) ([]sanboot.Portal, error) {
	out := make([]sanboot.Portal, 0, len(v.Portals))
	for i, s := range v.Portals {
		p, err := sanboot.ParsePortal(s, def)
		if err != nil {
			return nil, err
		}
		if len(v.PortalTargets) == len(v.Portals) && v.PortalTargets[i] != v.Target {
			p.Target = v.PortalTargets[i] // the array gives this portal its own target name
		}
		out = append(out, p)
	}
	return out, nil
}

func lun(v spec.Volume) int {
	if v.LUN == nil {
		return 0
	}
	return *v.LUN
}

// ipxeConfig maps the spec's boot volume to the iPXE renderer's input.
func ipxeConfig(s *spec.Spec, id Identity) (sanboot.IPXE, error) {
	b := s.Storage.Boot
	ps, err := portals(b, sanboot.ISCSIPort)
	if err != nil {
		return sanboot.IPXE{}, err
	}
	if b.Target == "" || len(ps) == 0 || b.LUN == nil {
		return sanboot.IPXE{}, errors.New("storage.boot needs target, portals and lun to render the iPXE script offline (setup discovers them from the array)")
	}
	lni := &sanboot.LNI{Index: 1}
	if d := s.LNI.DHCPTimeout; d != "" {
		if lni.DHCPTimeout, err = time.ParseDuration(d); err != nil {
			return sanboot.IPXE{}, err
		}
	}
	if st := s.LNI.Static; st != nil {
		pfx, err := netip.ParsePrefix(st.Address)
		if err != nil {
			return sanboot.IPXE{}, fmt.Errorf("lni.static.address: %w", err)
		}
		lni.Static = &sanboot.StaticAddress{Address: pfx}
		if st.Gateway != "" {
			if lni.Static.Gateway, err = netip.ParseAddr(st.Gateway); err != nil {
				return sanboot.IPXE{}, fmt.Errorf("lni.static.gateway: %w", err)
			}
		}
	}
	return sanboot.IPXE{
		InitiatorIQN:  id.InitiatorIQN,
		TargetIQN:     b.Target,
		Portals:       ps,
		LUN:           lun(b),
		CHAPSecretARN: b.CHAPSecretARN,
		LNI:           lni,
		Filename:      s.Boot.UEFIFilename,
	}, nil
}
