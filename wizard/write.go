package wizard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// PlanOptions are the inputs of the plan command.
type PlanOptions struct {
	AnswersPath string
	OutDir      string // default: out/<workload>
	NewUUID     func() uuid.UUID
}

// RunPlan reads and validates the answers, resolves the identity, renders
// every artifact in memory and only then writes the folder. Bad input writes
// nothing.
func RunPlan(o PlanOptions, stdout io.Writer) (*Plan, error) {
	data, err := os.ReadFile(o.AnswersPath)
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	s, err := spec.Parse(data)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if ps := offlineProblems(s); len(ps) > 0 {
		return nil, ps
	}
	out := o.OutDir
	if out == "" {
		out = filepath.Join("out", s.Workload)
	}
	if err := checkOutDir(out); err != nil {
		return nil, err
	}
	gen := o.NewUUID
	if gen == nil {
		gen = uuid.New
	}
	id, src, err := ResolveIdentity(s, out, gen)
	if err != nil {
		return nil, err
	}
	p, err := Render(s, id, src)
	if err != nil {
		return nil, err
	}
	if err := WritePlan(p, out); err != nil {
		return nil, err
	}
	if stdout != nil {
		fmt.Fprintf(stdout, "%s\nWrote %d files to %s\n", p.File("summary.txt"), len(p.Files), out)
	}
	return p, nil
}

// checkOutDir refuses a folder that exists, is not empty, and is not an
// earlier plan: plan replaces its folder whole and must not eat anything else.
func checkOutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, identityFile)); err != nil {
		return fmt.Errorf("--out %s is not empty and holds no earlier plan (no %s): choose an empty or new folder", dir, identityFile)
	}
	return nil
}

// WritePlan writes the plan into a fresh sibling folder and swaps it into
// place, so the folder is never half written and holds no stale files.
func WritePlan(p *Plan, dir string) error {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return fmt.Errorf("create temporary plan folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range p.Files {
		if strings.Contains(f.Path, "..") || filepath.IsAbs(f.Path) {
			return fmt.Errorf("refusing artifact path %q", f.Path)
		}
		path := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(f.Path, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(path, f.Data, mode); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("replace %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir) // put the earlier plan back; the error below is what matters
		}
		return fmt.Errorf("move plan into %s: %w", dir, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("remove the earlier plan at %s: %w", old, err)
		}
	}
	return nil
}

// offlineProblems are what plan, which calls no array, needs beyond a valid
// spec: for vendors with an API, setup discovers target and portals and reads
// back the LUN, but plan must be told them.
func offlineProblems(s *spec.Spec) spec.Problems {
	if s.Storage.Vendor == "generic" {
		return nil // Validate already requires them
	}
	var ps spec.Problems
	check := func(field string, v spec.Volume) {
		if v.Target == "" {
			ps = append(ps, spec.Problem{Field: field + ".target", Message: "is needed to render offline",
				Fix: "give the target IQN/NQN the array serves (`outposts-ha array check` prints it); setup discovers it itself"})
		}
		if len(v.Portals) == 0 {
			ps = append(ps, spec.Problem{Field: field + ".portals", Message: "is needed to render offline",
				Fix: "list the array's portals (`outposts-ha array check` prints them); setup discovers them itself"})
		}
		if v.LUN == nil {
			ps = append(ps, spec.Problem{Field: field + ".lun", Message: "is needed to render offline",
				Fix: "give the LUN the array maps (or will map) to this initiator; setup reads back the one it really assigns"})
		}
	}
	check("storage.boot", s.Storage.Boot)
	for i, v := range s.Storage.Data {
		check(fmt.Sprintf("storage.data[%d]", i), v)
	}
	return ps
}
