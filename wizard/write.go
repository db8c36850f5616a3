package wizard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/outposts-ha/outposts-ha/internal/spec"
)

// PlanOptions are the inputs of the plan command.
type PlanOptions struct {
	AnswersPath string
	OutDir      string // default: out/<workload>
	NewUUID     func() uuid.UUID
	// LockWait bounds the wait for another plan run on the same --out
	// (default 10 s); then plan refuses.
	LockWait time.Duration
	// Log receives what plan did besides writing the plan (leftovers of
	// interrupted runs removed or restored, files kept); default stdout.
	Log io.Writer
	// lockWaiting is called once when the lock is busy (tests).
	lockWaiting func()
}

// RunPlan reads and validates the answers, takes the --out folder's lock,
// recovers what an interrupted run left, resolves the identity, renders every
// artifact in memory and only then swaps the folder. Bad input writes nothing
// and is an InputError (or spec.Problems): see IsInputError.
func RunPlan(o PlanOptions, stdout io.Writer) (*Plan, error) {
	data, err := spec.ReadAnswersFile(o.AnswersPath)
	if err != nil {
		var ps spec.Problems
		if errors.As(err, &ps) {
			return nil, &InputError{Err: err}
		}
		return nil, &InputError{Err: fmt.Errorf("read answers: %w", err)}
	}
	s, err := spec.Parse(data)
	if err != nil {
		return nil, inputErr(err)
	}
	if err := s.Validate(); err != nil {
		return nil, inputErr(err)
	}
	if ps := offlineProblems(s); len(ps) > 0 {
		return nil, inputErr(ps)
	}
	shown := o.OutDir
	if shown == "" {
		shown = filepath.Join("out", s.Workload)
	}
	out, err := resolveOut(shown)
	if err != nil {
		return nil, err
	}
	if err := checkWritable(out); err != nil {
		return nil, err
	}
	// A foreign folder is refused before the lock file is made beside it;
	// the check runs again under the lock.
	if err := checkOutDir(out, o.AnswersPath); err != nil {
		return nil, err
	}
	wait := o.LockWait
	if wait <= 0 {
		wait = defaultLockWait
	}
	unlock, err := lockOut(out, wait, o.lockWaiting)
	if err != nil {
		return nil, err
	}
	defer unlock()
	log := o.Log
	if log == nil {
		log = stdout
	}
	flush := func() {
		if log != nil {
			for _, n := range out.notes {
				fmt.Fprintln(log, n)
			}
		}
		out.notes = nil
	}
	defer flush()
	if err := recoverLeftovers(out); err != nil {
		return nil, err
	}
	if err := checkOutDir(out, o.AnswersPath); err != nil {
		return nil, err
	}
	gen := o.NewUUID
	if gen == nil {
		gen = uuid.New
	}
	if s.Identity.UUID == "" {
		if prev, err := readIdentityFile(filepath.Join(out.real, identityFile)); err == nil && prev == nil {
			if err := noIdentityElsewhere(s, out); err != nil {
				return nil, err
			}
		}
	}
	id, src, err := resolveIdentity(s, out.real, out.shown, gen)
	if err != nil {
		return nil, err
	}
	p, err := Render(s, id, src)
	if err != nil {
		return nil, inputErr(err)
	}
	notes, err := writePlan(p, out)
	if err != nil {
		return nil, err
	}
	out.notes = append(out.notes, notes...)
	p.Notes = append([]string(nil), out.notes...)
	flush()
	if stdout != nil {
		fmt.Fprintf(stdout, "%s\nWrote %d files to %s\n", p.File("summary.txt"), len(p.Files), out.shown)
	}
	return p, nil
}

// noIdentityElsewhere refuses to make a new identity for a workload whose
// identity plan already wrote into the default folder out/<workload>, when
// --out names another folder: that identity may be the one the array knows.
func noIdentityElsewhere(s *spec.Spec, out *outDir) error {
	def, err := filepath.Abs(filepath.Join("out", s.Workload))
	if err != nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(def); err == nil {
		def = real
	}
	if def == out.real {
		return nil
	}
	prev, err := readIdentityFile(filepath.Join(def, identityFile))
	if err != nil || prev == nil || prev.Workload != s.Workload {
		return nil
	}
	return &InputError{Err: fmt.Errorf("workload %s already has an identity (uuid %s) in %s, and plan would make a new one for --out %s: "+
		"pin it with `identity: {uuid: %s}` in the answers, or plan into %s; for a second identity on purpose, pin a new uuid",
		s.Workload, prev.UUID, filepath.Join("out", s.Workload, identityFile), out.shown, prev.UUID, filepath.Join("out", s.Workload))}
}

// WritePlan writes p into dir the way RunPlan does: under the folder's lock,
// after recovering what an interrupted run left, as one swap.
func WritePlan(p *Plan, dir string) error {
	out, err := resolveOut(dir)
	if err != nil {
		return err
	}
	unlock, err := lockOut(out, defaultLockWait, nil)
	if err != nil {
		return err
	}
	defer unlock()
	if err := recoverLeftovers(out); err != nil {
		return err
	}
	_, err = writePlan(p, out)
	return err
}

// writePlan writes the plan into a fresh staging folder beside the plan
// folder, carries over every file plan did not write, and exchanges the two
// folders in one step: at every instant the plan folder holds one whole plan
// (the old or the new), and a kill leaves at most a staging folder that the
// next run removes. It returns notes for the operator.
func writePlan(p *Plan, o *outDir) ([]string, error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("--out %s: %s: %w", o.shown, what, unwrapPath(err))
	}
	parent := o.parent()
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fail("create the folder it goes in", err)
	}
	staging, err := os.MkdirTemp(parent, "."+o.base()+".new-")
	if err != nil {
		return nil, fail("create the new plan beside it", err)
	}
	defer os.RemoveAll(staging) // after the swap it holds the previous plan
	if err := writeFile(filepath.Join(staging, stagingMark), nil, 0o644, false); err != nil {
		return nil, fail("write the new plan", err)
	}
	killPoint("staging")
	produced := map[string]bool{}
	for _, f := range p.Files {
		produced[f.Path] = true
	}
	var notes []string
	_, statErr := os.Lstat(o.real)
	exists := statErr == nil
	if exists {
		kept, err := carryForeign(o, staging, produced)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				return nil, err
			}
			return nil, fail("keep the files plan did not write", err)
		}
		if len(kept) > 0 {
			notes = append(notes, fmt.Sprintf("Kept what plan did not write in %s: %s.", o.shown, strings.Join(kept, ", ")))
		}
	}
	for _, f := range p.Files {
		if strings.Contains(f.Path, "..") || filepath.IsAbs(f.Path) || f.Path == manifestFile || f.Path == stagingMark {
			return nil, fmt.Errorf("refusing artifact path %q", f.Path)
		}
		path := filepath.Join(staging, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fail("write the new plan", err)
		}
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(f.Path, ".sh") {
			mode = 0o755
		}
		// Only the identity cannot be made again: it alone is flushed to disk
		// before the swap (with the folders). Every other file is the same
		// bytes on a re-run from the answers and the identity.
		if err := writeFile(path, f.Data, mode, f.Path == identityFile); err != nil {
			return nil, fail("write "+f.Path, err)
		}
	}
	killPoint("files")
	if err := writeFile(filepath.Join(staging, manifestFile), manifest(p), 0o644, false); err != nil {
		return nil, fail("write the new plan", err)
	}
	syncDir(staging)
	killPoint("synced")
	switch {
	case !exists:
		if err := os.Rename(staging, o.real); err != nil {
			return nil, fail("move the new plan into place", err)
		}
	default:
		err := errNoExchange
		if !testNoExchange() {
			err = exchange(staging, o.real)
		}
		if err != nil && (errors.Is(err, errNoExchange) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS)) {
			err = swapByRenames(staging, o)
		}
		if err != nil {
			return nil, fail("replace the earlier plan", err)
		}
	}
	killPoint("swapped")
	if err := os.Remove(filepath.Join(o.real, stagingMark)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fail("finish", err)
	}
	syncDir(parent)
	killPoint("unmarked")
	if err := os.RemoveAll(staging); err != nil {
		notes = append(notes, fmt.Sprintf("Could not remove %s (the previous plan): %v; the next plan run removes it.", staging, unwrapPath(err)))
	}
	return notes, nil
}

// swapByRenames is the fallback where the atomic exchange is missing: a kill
// between the two renames leaves the previous plan at .<base>.old, which the
// next run restores.
func swapByRenames(staging string, o *outDir) error {
	old := filepath.Join(o.parent(), "."+o.base()+".old")
	if _, err := os.Lstat(old); err == nil {
		return fmt.Errorf("%s exists: remove it after checking it holds no identity you need", old)
	}
	if err := os.Rename(o.real, old); err != nil {
		return err
	}
	killPoint("fallback-between-renames")
	if err := os.Rename(staging, o.real); err != nil {
		if rerr := os.Rename(old, o.real); rerr != nil {
			return fmt.Errorf("%w; the earlier plan is in %s", err, old)
		}
		return err
	}
	killPoint("fallback-renamed")
	return os.Rename(old, staging) // removed by the caller with the staging folder
}

func writeFile(path string, data []byte, mode fs.FileMode, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// OfflineProblems are what plan needs beyond a valid spec to render without
// calling the array (a vendor volume's target, portals and LUN). The guided
// flow checks them where the fields are asked.
func OfflineProblems(s *spec.Spec) spec.Problems { return offlineProblems(s) }

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

// Test hooks for the process tests (plan_kill_test.go), read from the
// environment so the real binary can be driven: OUTPOSTS_HA_TEST_KILL_AT=<step>
// makes plan SIGKILL itself at that step of the folder swap, and
// OUTPOSTS_HA_TEST_NO_EXCHANGE=1 takes the two-rename fallback used where the
// atomic exchange is missing. Unset, they do nothing.
func killPoint(step string) {
	if os.Getenv("OUTPOSTS_HA_TEST_KILL_AT") == step {
		_ = unix.Kill(os.Getpid(), unix.SIGKILL)
		time.Sleep(time.Minute) // the signal ends the process first
	}
}

func testNoExchange() bool { return os.Getenv("OUTPOSTS_HA_TEST_NO_EXCHANGE") == "1" }
