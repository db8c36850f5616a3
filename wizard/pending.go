package wizard

// TEMPORARY: replaced when sanboot's user-data assembly and recovery/stack land.

import (
	"errors"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/sanboot"
)

type renderedStack struct {
	Name       string
	Template   []byte
	Parameters any
}

func renderUserData(s *spec.Spec, id Identity) (userData, error) {
	if s.BootMode() != "sanboot" {
		return userData{}, errors.New("localboot user data not wired yet")
	}
	c, err := ipxeConfig(s, id)
	if err != nil {
		return userData{}, err
	}
	script, err := sanboot.RenderIPXE(c)
	if err != nil {
		return userData{}, err
	}
	return userData{Raw: script, Extra: []File{{Path: "boot.ipxe", Data: script}}}, nil
}

func renderStack(s *spec.Spec) (renderedStack, error) {
	return renderedStack{Name: "autorestart-" + s.Workload, Template: []byte("# pending\n"), Parameters: []string{}}, nil
}
