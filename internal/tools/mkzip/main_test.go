// Unit tests of the deterministic zip writer. Real parts only: the archive is
// read back with archive/zip, and the command runs against temp files.
package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZipIsDeterministicAndExecutable(t *testing.T) {
	data := []byte("#!/bin/true\nnot really a binary\n")
	a, err := Zip("bootstrap", data)
	require.NoError(t, err)
	b, err := Zip("bootstrap", data)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same input must give byte-identical archives")

	c, err := Zip("bootstrap", append(data, '!'))
	require.NoError(t, err)
	assert.NotEqual(t, a, c)

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm())
	assert.True(t, f.Mode().IsRegular())
	assert.True(t, f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)), "modified %v", f.Modified)
	rc, err := f.Open()
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, data, got)
}

func TestZipRejectsPathNames(t *testing.T) {
	for _, name := range []string{"", "a/b", `a\b`, "..", "."} {
		_, err := Zip(name, []byte("x"))
		assert.Error(t, err, "name %q", name)
	}
}

func TestRunWritesSameBytesWhateverTheInputMtime(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bin")
	require.NoError(t, os.WriteFile(in, []byte("payload"), 0o600))
	out1 := filepath.Join(dir, "one.zip")
	require.NoError(t, run([]string{"-o", out1, "-name", "bootstrap", in}, io.Discard))

	// A different mtime and mode on the input must not change the archive.
	require.NoError(t, os.Chtimes(in, time.Now(), time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)))
	require.NoError(t, os.Chmod(in, 0o700))
	out2 := filepath.Join(dir, "two.zip")
	require.NoError(t, run([]string{"-o", out2, "-name", "bootstrap", in}, io.Discard))

	a, err := os.ReadFile(out1)
	require.NoError(t, err)
	b, err := os.ReadFile(out2)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	_, err = os.Stat(out1 + ".tmp")
	assert.True(t, os.IsNotExist(err), "temp file left behind")
}

func TestRunUsage(t *testing.T) {
	assert.Error(t, run([]string{"-o", "x.zip"}, io.Discard))
	assert.Error(t, run([]string{"in"}, io.Discard))
	assert.Error(t, run([]string{"-o", filepath.Join(t.TempDir(), "x.zip"), "/nonexistent/input"}, io.Discard))
}
