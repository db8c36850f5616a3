package wizard

import (
	"os"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// Size limits for the files plan reads.
const (
	maxIdentitySize = 64 << 10
	maxManifestSize = 256 << 10
)

// readBounded reads a regular file of at most limit bytes through the spec's
// bounded reader: FIFOs, devices, sockets and folders are refused without
// blocking, and the limit applies before reading.
func readBounded(path string, limit int64) ([]byte, error) {
	return spec.ReadRegularFile(path, limit)
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}
