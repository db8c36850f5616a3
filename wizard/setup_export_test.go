package wizard

import "github.com/outposts-ha/outposts-ha/internal/apply"

// SetStepWrapper lets the external tests wrap each setup step (fault
// injection after a step, counting calls).
func SetStepWrapper(o *SetupOptions, f func(apply.Step) apply.Step) { o.wrap = f }
