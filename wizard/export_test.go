package wizard

// SetLockWaiting lets the external tests know when a run is waiting for the lock.
func SetLockWaiting(o *PlanOptions, f func()) { o.lockWaiting = f }

// ManifestFile and StagingMark are the names plan keeps in the plan folder.
const (
	ManifestFile = manifestFile
	StagingMark  = stagingMark
)
