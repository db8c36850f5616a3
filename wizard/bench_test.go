package wizard_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/outposts-ha/outposts-ha/internal/spec"
	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

// BenchmarkPlanRender measures parse + validate + render of every artifact
// (no file I/O) for each shipped example.
func BenchmarkPlanRender(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "examples", "*.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := spec.Parse(data)
				if err != nil {
					b.Fatal(err)
				}
				id, err := wizard.DeriveIdentity(s, mustUUID())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := wizard.Render(s, id, wizard.FromAnswers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
