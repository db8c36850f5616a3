package spec_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
)

func BenchmarkParseValidate(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "ontap-iscsi-chap.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := spec.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
