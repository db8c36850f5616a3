package wizard

// The plan folder (--out) and what plan keeps beside it, in the same parent:
//
//	<base>/                      the plan; once it exists it always holds one whole plan
//	.<base>.lock                 flock'ed for the whole run (never removed: removing a lock file races)
//	.<base>.new-<digits>         a run's staging folder. While unpublished it holds the
//	                             .outposts-ha-staging mark; after the exchange it holds the
//	                             previous plan until it is removed
//	.<base>.old                  the previous plan, only where the atomic exchange is missing
//	.<base>.new-<digits>.old     the previous plan as versions before this one left it
//
// A run holds the lock from before it reads the identity until the new plan is
// in place, so two runs never interleave. Before anything else it recovers or
// reports what a killed run left behind, and it never makes a new identity while
// one exists in any of these folders.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	manifestFile    = ".outposts-ha-files"   // the files plan wrote, one path a line
	stagingMark     = ".outposts-ha-staging" // present only in a staging folder never published
	defaultLockWait = 10 * time.Second
	lockPoll        = 20 * time.Millisecond
)

var errNoExchange = errors.New("atomic exchange is not available on this system")

// outDir is the --out folder as the operator gave it and as plan uses it.
type outDir struct {
	shown string // as the operator typed it: every message uses this
	real  string // absolute, symbolic links resolved: every operation uses this
	notes []string
}

func (o *outDir) parent() string { return filepath.Dir(o.real) }
func (o *outDir) base() string   { return filepath.Base(o.real) }
func (o *outDir) lockPath() string {
	return filepath.Join(o.parent(), "."+o.base()+".lock")
}
func (o *outDir) note(format string, a ...any) { o.notes = append(o.notes, fmt.Sprintf(format, a...)) }

// resolveOut follows a symbolic link at --out (or above it) once, and uses the
// real folder for everything: the identity is read from, the lock taken beside,
// and the new plan written into the same place.
func resolveOut(shown string) (*outDir, error) {
	abs, err := filepath.Abs(shown)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("--out %s: %w", shown, err)}
	}
	if filepath.Dir(abs) == abs {
		return nil, &InputError{Err: fmt.Errorf("--out %s is the root folder: give plan a folder of its own", shown)}
	}
	o := &outDir{shown: shown}
	fi, err := os.Lstat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		o.real = filepath.Join(evalExisting(filepath.Dir(abs)), filepath.Base(abs))
	case err != nil:
		return nil, &InputError{Err: fmt.Errorf("--out %s: %w", shown, unwrapPath(err))}
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(abs)
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("--out %s is a symbolic link to %s, which does not exist: create the folder it points to, or give --out the real folder", shown, target)}
		}
		st, err := os.Stat(real)
		if err != nil || !st.IsDir() {
			return nil, &InputError{Err: fmt.Errorf("--out %s is a symbolic link to %s, which is not a folder", shown, real)}
		}
		o.real = real
		o.note("--out %s is a symbolic link: plan follows it and writes the plan in %s.", shown, real)
	case !fi.IsDir():
		return nil, &InputError{Err: fmt.Errorf("--out %s is a file, not a folder: give a new or empty folder, or the folder of an earlier plan", shown)}
	default:
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("--out %s: %w", shown, unwrapPath(err))}
		}
		o.real = real
	}
	return o, nil
}

// evalExisting resolves the symbolic links of the longest existing prefix of p.
func evalExisting(p string) string {
	rest := ""
	for i := 0; i < 4096; i++ { // bounded by the path depth
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
	return filepath.Join(p, rest)
}

// checkWritable refuses a read-only --out (or parent) up front, naming the
// operator's folder rather than a staging folder plan never got to make.
func checkWritable(o *outDir) error {
	paths := []string{nearestExisting(o.parent())}
	if _, err := os.Lstat(o.real); err == nil {
		paths = append(paths, o.real)
	}
	for _, p := range paths {
		err := unix.Access(p, unix.W_OK)
		if err == nil {
			continue
		}
		why := "permission denied"
		if errors.Is(err, unix.EROFS) {
			why = "read-only file system"
		}
		where := "it"
		if p != o.real {
			where = "the folder it goes in, " + p + ","
		}
		return &InputError{Err: fmt.Errorf("--out %s cannot be written: %s is not writable (%s): choose a folder you can write, or fix its permissions", o.shown, where, why)}
	}
	return nil
}

func nearestExisting(p string) string {
	for i := 0; i < 4096; i++ {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	return p
}

// lockOut takes the exclusive lock of the plan folder, waiting at most wait
// for a running plan to finish. waiting, if set, is called once when the lock
// is busy (tests use it to know the second run is waiting).
func lockOut(o *outDir, wait time.Duration, waiting func()) (func(), error) {
	if err := os.MkdirAll(o.parent(), 0o755); err != nil {
		return nil, fmt.Errorf("--out %s: create the folder it goes in: %w", o.shown, unwrapPath(err))
	}
	f, err := os.OpenFile(o.lockPath(), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--out %s: open the lock file %s: %w", o.shown, o.lockPath(), unwrapPath(err))
	}
	deadline := time.Now().Add(wait)
	told := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("--out %s: lock %s: %w", o.shown, o.lockPath(), err)
		}
		if !told {
			told = true
			if waiting != nil {
				waiting()
			}
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("another outposts-ha plan is writing --out %s (it holds %s; waited %s): let it finish, then run plan again", o.shown, o.lockPath(), wait)
		}
		time.Sleep(lockPoll)
	}
}

// leftover is a folder a killed run left beside the plan folder.
type leftover struct {
	path   string
	old    bool // named as a previous plan (.old): known to be whole
	marked bool // holds the staging mark: never published, safe to drop
	id     *Identity
	idErr  error
}

func leftoverRE(base string) *regexp.Regexp {
	return regexp.MustCompile(`^\.` + regexp.QuoteMeta(base) + `\.(new-[0-9]+(\.old)?|old)$`)
}

func findLeftovers(o *outDir) ([]leftover, error) {
	entries, err := os.ReadDir(o.parent())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--out %s: read the folder it goes in: %w", o.shown, unwrapPath(err))
	}
	re := leftoverRE(o.base())
	var out []leftover
	for _, e := range entries {
		if !e.IsDir() || !re.MatchString(e.Name()) {
			continue
		}
		l := leftover{path: filepath.Join(o.parent(), e.Name()), old: strings.HasSuffix(e.Name(), ".old")}
		if _, err := os.Lstat(filepath.Join(l.path, stagingMark)); err == nil {
			l.marked = true
		}
		l.id, l.idErr = readIdentityFile(filepath.Join(l.path, identityFile))
		out = append(out, l)
	}
	return out, nil
}

// recoverLeftovers puts back or removes what killed runs left, and refuses
// (naming the folder) whenever removing it could lose an identity.
func recoverLeftovers(o *outDir) error {
	lefts, err := findLeftovers(o)
	if err != nil {
		return err
	}
	_, statErr := os.Lstat(o.real)
	dirExists := statErr == nil
	if dirExists {
		// A run killed right after the swap leaves its mark in the plan folder.
		if err := os.Remove(filepath.Join(o.real, stagingMark)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("--out %s: %w", o.shown, unwrapPath(err))
		}
	}
	if len(lefts) == 0 {
		return nil
	}
	cur, err := readIdentityFile(filepath.Join(o.real, identityFile))
	if err != nil {
		return err
	}
	if !dirExists {
		var published []leftover
		uuids := map[string]bool{}
		for _, l := range lefts {
			if !l.marked && l.id != nil {
				published = append(published, l)
				uuids[l.id.UUID] = true
			}
		}
		if len(uuids) > 1 {
			return fmt.Errorf("--out %s does not exist, and interrupted runs left earlier plans with different identities: %s. "+
				"plan will not choose: keep the one the array knows (rename it to %s), remove the others", o.shown, describe(published), o.real)
		}
		if len(published) > 0 {
			pick := -1
			for i, l := range lefts {
				if !l.marked && l.id != nil && l.old {
					pick = i
					break
				}
			}
			if pick < 0 {
				return fmt.Errorf("--out %s does not exist, and an interrupted run left %s. plan makes no new identity while one exists: "+
					"if that is your plan, check it is whole and rename it to %s; if not, remove it", o.shown, describe(published), o.real)
			}
			if err := os.Rename(lefts[pick].path, o.real); err != nil {
				return fmt.Errorf("--out %s: restore the earlier plan from %s: %w", o.shown, lefts[pick].path, err)
			}
			o.note("Restored the earlier plan into %s from %s (a run was killed while replacing the folder).", o.shown, lefts[pick].path)
			killPoint("restored")
			cur = lefts[pick].id
			lefts = append(lefts[:pick], lefts[pick+1:]...)
			dirExists = true
		}
	}
	for _, l := range lefts {
		switch {
		case l.marked, l.id == nil && l.idErr == nil:
			// Never published, or holds no identity: nothing to lose.
		case l.idErr != nil:
			return fmt.Errorf("%s, left by an interrupted plan run, holds an unreadable identity: %v. plan will not remove it: check it, then remove it by hand", l.path, l.idErr)
		case cur != nil && l.id.UUID == cur.UUID:
			// The same identity as the plan folder: a copy of the previous plan.
		default:
			have := "no identity"
			if cur != nil {
				have = "identity " + cur.UUID
			}
			return fmt.Errorf("%s, left by an interrupted plan run, holds identity %s, but --out %s holds %s. "+
				"plan will not discard an identity: keep the one the array knows in %s and remove the other folder", l.path, l.id.UUID, o.shown, have, o.shown)
		}
		if err := os.RemoveAll(l.path); err != nil {
			return fmt.Errorf("remove %s, left by an interrupted plan run: %w", l.path, err)
		}
		o.note("Removed %s, left by an interrupted plan run.", l.path)
	}
	return nil
}

func describe(ls []leftover) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s (identity %s)", l.path, l.id.UUID)
	}
	return strings.Join(parts, ", ")
}

// checkOutDir refuses a folder that exists, is not empty, and is not an
// earlier plan: plan would otherwise take over a folder it knows nothing of.
// One exception: a folder holding only the answers file plan is reading
// (the answers kept beside their plan); plan keeps it there.
func checkOutDir(o *outDir, answers string) error {
	entries, err := os.ReadDir(o.real)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &InputError{Err: fmt.Errorf("--out %s: %w", o.shown, unwrapPath(err))}
	}
	if len(entries) == 0 {
		return nil
	}
	if len(entries) == 1 && entries[0].Type().IsRegular() && answers != "" {
		a, err1 := os.Stat(answers)
		b, err2 := os.Lstat(filepath.Join(o.real, entries[0].Name()))
		if err1 == nil && err2 == nil && os.SameFile(a, b) {
			return nil
		}
	}
	if _, err := os.Lstat(filepath.Join(o.real, identityFile)); err != nil {
		names := make([]string, 0, 5)
		for i, e := range entries {
			if i == 5 {
				names = append(names, "...")
				break
			}
			names = append(names, e.Name())
		}
		return &InputError{Err: fmt.Errorf("--out %s is not empty (%s) and holds no earlier plan (no %s): choose an empty or new folder", o.shown, strings.Join(names, ", "), identityFile)}
	}
	return nil
}

// planOwned tells which paths in an earlier plan folder plan wrote. It reads
// the manifest; a folder written before the manifest existed falls back to the
// names plan has always used.
func planOwned(dir string) (func(rel string, isDir bool) bool, error) {
	data, err := readBounded(filepath.Join(dir, manifestFile), maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		legacy := map[string]bool{"iam": true, "launch-templates": true, "stack": true, "user-data": true}
		return func(rel string, isDir bool) bool {
			first := strings.SplitN(rel, "/", 2)[0]
			return rel == identityFile || rel == "summary.txt" || legacy[first]
		}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the file list of the earlier plan: %w", err)
	}
	files := map[string]bool{}
	dirs := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		files[line] = true
		for d := filepath.Dir(line); d != "." && d != "/"; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	return func(rel string, isDir bool) bool {
		if isDir {
			return dirs[rel]
		}
		return files[rel]
	}, nil
}

// carryForeign links (or copies) everything in the earlier plan folder that
// plan did not write into the staging folder, so a re-plan keeps it.
func carryForeign(o *outDir, staging string, produced map[string]bool) ([]string, error) {
	owned, err := planOwned(o.real)
	if err != nil {
		return nil, err
	}
	var kept []string
	err = filepath.WalkDir(o.real, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(o.real, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == manifestFile || rel == stagingMark {
			return nil
		}
		if d.IsDir() && owned(rel, true) {
			return nil // a plan folder: look inside
		}
		if !d.IsDir() && owned(rel, false) {
			return nil // plan wrote it; the new plan replaces it
		}
		if produced[rel] {
			return &InputError{Err: fmt.Errorf("--out %s holds %s, which plan did not write, and the new plan writes a file there: move it out of --out, then run plan again", o.shown, rel)}
		}
		if err := copyEntry(path, filepath.Join(staging, filepath.FromSlash(rel)), o.shown, rel); err != nil {
			return err
		}
		kept = append(kept, rel)
		if d.IsDir() {
			return fs.SkipDir
		}
		return nil
	})
	return kept, err
}

// copyEntry recreates src at dst: files as hard links (a copy where linking
// fails), symbolic links as links (never followed), folders recursively.
func copyEntry(src, dst, shown, rel string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	case fi.IsDir():
		if !sameDevice(fi, filepath.Dir(src)) {
			return &InputError{Err: fmt.Errorf("--out %s holds %s, a mount point plan did not make and will not copy: unmount it or move it out of --out, then run plan again", shown, rel)}
		}
		if err := os.Mkdir(dst, fi.Mode().Perm()); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := copyEntry(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), shown, rel+"/"+e.Name()); err != nil {
				return err
			}
		}
		return nil
	case fi.Mode().IsRegular():
		if err := os.Link(src, dst); err == nil {
			return nil
		}
		return copyFile(src, dst, fi.Mode().Perm())
	default:
		return &InputError{Err: fmt.Errorf("--out %s holds %s, %s plan did not write and cannot carry into the new plan: move it out of --out, then run plan again", shown, rel, kind(fi.Mode()))}
	}
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func manifest(p *Plan) []byte {
	paths := make([]string, 0, len(p.Files))
	for _, f := range p.Files {
		paths = append(paths, f.Path)
	}
	sort.Strings(paths)
	return []byte("# Files outposts-ha plan wrote here. Anything else in this folder is kept on re-plan.\n" + strings.Join(paths, "\n") + "\n")
}

// unwrapPath drops the path from a *PathError so messages show the operator's
// path, not an internal staging folder.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// sameDevice reports whether fi is on the same file system as the folder dir.
func sameDevice(fi fs.FileInfo, dir string) bool {
	d, err := os.Stat(dir)
	if err != nil {
		return false
	}
	a, ok1 := fi.Sys().(*syscall.Stat_t)
	b, ok2 := d.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && a.Dev == b.Dev
}
