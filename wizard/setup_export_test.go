package wizard

import (
	"github.com/outposts-ha/outposts-ha/internal/apply"
	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/storage"
)

// SetStepWrapper lets the external tests wrap each setup step (fault
// injection after a step, counting calls).
func SetStepWrapper(o *SetupOptions, f func(apply.Step) apply.Step) { o.wrap = f }

// ArraySteps are setup's two array steps (host, then maps), for the
// external unit tests.
func ArraySteps(arr storage.Array, s *spec.Spec, id Identity) (host, maps apply.Step) {
	return &arrayHostStep{arr: arr, spec: s, identity: id}, &arrayStep{arr: arr, spec: s, identity: id}
}
