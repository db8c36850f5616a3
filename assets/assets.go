// Package assets embeds build outputs that ship inside the outposts-ha binary:
// the failover function's bundle (assets/lambda/bootstrap.zip, written by
// `make build`). The folder also holds a committed README, so a plain
// `go build` on a clean checkout still compiles; LambdaBundle then says that
// the bundle is missing.
package assets

import (
	"archive/zip"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
)

//go:embed lambda
var files embed.FS

// BundlePath is where the bundle sits inside the embedded folder.
const BundlePath = "lambda/bootstrap.zip"

// BundleEntry is the one file the bundle must hold: the provided.al2023
// runtime executes a binary named bootstrap.
const BundleEntry = "bootstrap"

// ErrBundleMissing is returned when the binary was built without the bundle.
var ErrBundleMissing = errors.New("failover function bundle missing: run make build (it builds cmd/recovery-lambda and writes assets/lambda/bootstrap.zip before compiling outposts-ha)")

// LambdaBundle returns the failover function's zip, checked to be a readable
// archive holding an executable bootstrap.
func LambdaBundle() ([]byte, error) { return bundleFrom(files) }

func bundleFrom(fsys fs.FS) ([]byte, error) {
	b, err := fs.ReadFile(fsys, BundlePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrBundleMissing
	}
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", BundlePath, err)
	}
	if err := checkBundle(b); err != nil {
		return nil, fmt.Errorf("embedded %s: %w: rebuild it with make build", BundlePath, err)
	}
	return b, nil
}

func checkBundle(b []byte) error {
	if len(b) == 0 {
		return errors.New("is empty")
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("is not a zip archive: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != BundleEntry {
			continue
		}
		if f.Mode()&0o111 == 0 {
			return fmt.Errorf("entry %s is not executable (mode %v)", BundleEntry, f.Mode())
		}
		if f.UncompressedSize64 == 0 {
			return fmt.Errorf("entry %s is empty", BundleEntry)
		}
		return nil
	}
	return fmt.Errorf("has no %s entry", BundleEntry)
}
