// Unit tests of the bundle accessor, on in-memory file systems (fstest.MapFS):
// whether the real bundle exists depends on whether `make build` ran, so the
// real embed is only checked for a consistent answer.
package assets

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zipOf(t *testing.T, name string, mode fs.FileMode, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestBundleFrom(t *testing.T) {
	good := zipOf(t, "bootstrap", 0o755, []byte("binary"))
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string
		missing bool
	}{
		{name: "present", fsys: fstest.MapFS{BundlePath: {Data: good}}},
		{name: "clean checkout", fsys: fstest.MapFS{"lambda/README.md": {Data: []byte("x")}}, missing: true, wantErr: "run make build"},
		{name: "empty", fsys: fstest.MapFS{BundlePath: {Data: nil}}, wantErr: "is empty"},
		{name: "not a zip", fsys: fstest.MapFS{BundlePath: {Data: []byte("PK nope")}}, wantErr: "not a zip"},
		{name: "wrong entry", fsys: fstest.MapFS{BundlePath: {Data: zipOf(t, "main", 0o755, []byte("b"))}}, wantErr: "no bootstrap entry"},
		{name: "not executable", fsys: fstest.MapFS{BundlePath: {Data: zipOf(t, "bootstrap", 0o644, []byte("b"))}}, wantErr: "not executable"},
		{name: "empty entry", fsys: fstest.MapFS{BundlePath: {Data: zipOf(t, "bootstrap", 0o755, nil)}}, wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bundleFrom(tt.fsys)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, good, got)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, tt.missing, errors.Is(err, ErrBundleMissing))
			assert.Nil(t, got)
		})
	}
}

// The real embed either holds a valid bundle (after make build) or reports it
// missing; nothing in between.
func TestLambdaBundleEmbedded(t *testing.T) {
	b, err := LambdaBundle()
	if err != nil {
		assert.ErrorIs(t, err, ErrBundleMissing)
		return
	}
	assert.NoError(t, checkBundle(b))
}
