//go:build !amd64 && !arm64

package sanlab

// sysSetns is unknown here; inNamespace fails with ENOSYS.
var sysSetns = -1
