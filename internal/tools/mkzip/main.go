// Command mkzip writes a deterministic zip archive holding one file, for the
// failover function's bundle:
//
//	go run ./internal/tools/mkzip -o assets/lambda/bootstrap.zip -name bootstrap build/bootstrap
//
// The entry has a fixed modification time, mode 0755 and no other metadata
// taken from the build machine, so the same input bytes always give the same
// archive bytes, and the bundle's content hash (its S3 key) only changes when
// the code does.
package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// fixedTime is the modification time of every entry: the earliest time the
// zip format's MS-DOS date field can hold, in UTC so the legacy field does not
// depend on the build machine's time zone.
var fixedTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkzip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output zip file")
	name := fs.String("name", "", "name of the single entry inside the archive (default: the input's base name)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		return errors.New("usage: mkzip -o OUT.zip [-name ENTRY] INPUT")
	}
	in := fs.Arg(0)
	entry := *name
	if entry == "" {
		entry = filepath.Base(in)
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	z, err := Zip(entry, data)
	if err != nil {
		return err
	}
	// Write beside the target and rename, so a reader never sees half an archive.
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, z, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// Zip returns a deterministic archive holding data as the executable entry name.
func Zip(name string, data []byte) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return nil, fmt.Errorf("entry name %q must be a plain file name", name)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fixedTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", name, err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("zip entry %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("close zip: %w", err)
	}
	return buf.Bytes(), nil
}
