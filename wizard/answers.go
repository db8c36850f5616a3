package wizard

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// SaveAnswers writes a validated spec as an answers file that plan (and later
// setup) reads unattended. It never overwrites an existing file and never
// holds a secret: the spec has no field for one.
func SaveAnswers(path string, s *spec.Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("# outposts-ha answers for workload " + s.Workload + ". Secrets are never stored here,\n# only where they live (Secrets Manager ARN, environment variable, or prompt).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encode answers: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encode answers: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: choose another --save-answers path, or run plan on it", path)
	}
	if err != nil {
		return fmt.Errorf("save answers: %w", err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("save answers: %w", err)
	}
	return f.Close()
}
