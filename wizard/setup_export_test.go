package wizard

import (
	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
)

// SetStepWrapper lets the external tests wrap each setup step (fault
// injection after a step, counting calls).
func SetStepWrapper(o *SetupOptions, f func(apply.Step) apply.Step) { o.wrap = f }

// ArrayStep is setup's array step, for the external unit tests.
func ArrayStep(arr storage.Array, s *spec.Spec, id Identity) apply.Step {
	return &arrayStep{arr: arr, spec: s, identity: id}
}
