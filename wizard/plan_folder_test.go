package wizard_test

// Unit tests of the plan folder (issue 9 items 1-5, 10; issue 10 items 3, 23).
// No fakes: the real RunPlan writes into real folders under t.TempDir(); the
// lock is the real flock, taken by the test through a second open of the same
// lock file. The kill loop (plan_kill_test.go) uses the real binary.

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outposts-ha/outposts-ha/internal/testenv"
	"github.com/outposts-ha/outposts-ha/wizard"
)

// unpinnedAnswers writes the generic example without its identity.uuid, so
// plan has to generate (and then keep) the identity: the case where a lost
// identity.json means a new host on the array.
func unpinnedAnswers(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "generic-iscsi-multipath.yaml"))
	require.NoError(t, err)
	body := strings.Replace(string(src), "identity:\n  uuid: 2f0e4c55-9b3a-4c1e-8d7a-5a6b7c8d9e01\n", "", 1)
	require.NotEqual(t, string(src), body)
	path := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func firstUUID() uuid.UUID { return uuid.MustParse("11111111-2222-4333-8444-555555555555") }

func planOnce(t *testing.T, answers, out string) *wizard.Plan {
	t.Helper()
	p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: firstUUID}, nil)
	require.NoError(t, err)
	require.Equal(t, firstUUID().String(), p.Identity.UUID)
	return p
}

func identityOnDisk(t *testing.T, out string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "identity.json"))
	require.NoError(t, err)
	return string(b)
}

func siblings(t *testing.T, out string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+filepath.Base(out)+".") && !strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	return names
}

// Item 1: the old swap left the previous plan in .<base>.new-N.old when killed
// between its two renames; the next run generated a new identity and exited 0.
func TestPlanRestoresThePlanAKilledSwapLeftBehind(t *testing.T) {
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	out := filepath.Join(dir, "plan")
	planOnce(t, answers, out)
	want := identityOnDisk(t, out)

	// What a kill between the two renames of the earlier swap left: the plan
	// folder gone, the previous plan at .plan.new-N.old, the new one at .plan.new-N.
	old := filepath.Join(dir, ".plan.new-123.old")
	require.NoError(t, os.Rename(out, old))
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".plan.new-123"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".plan.new-123", "identity.json"), []byte(want), 0o644))

	var log strings.Builder
	p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID, Log: &log}, nil)
	require.NoError(t, err)
	assert.Equal(t, wizard.FromPlanDir, p.Source)
	assert.Equal(t, want, identityOnDisk(t, out))
	assert.Contains(t, log.String(), "Restored the earlier plan")
	assert.Contains(t, log.String(), "Removed "+filepath.Join(dir, ".plan.new-123"))
	assert.Empty(t, siblings(t, out), "item 5: leftovers are cleaned up")
}

func TestPlanRefusesRatherThanGuessAmongLeftovers(t *testing.T) {
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	out := filepath.Join(dir, "plan")
	planOnce(t, answers, out)

	// The plan folder is gone and only an unfinished staging folder of an older
	// version holds the identity: plan must not generate, and names the folder.
	left := filepath.Join(dir, ".plan.new-77")
	require.NoError(t, os.Rename(out, left))
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), left)
	assert.Contains(t, err.Error(), "makes no new identity")
	_, statErr := os.Stat(out)
	assert.True(t, os.IsNotExist(statErr))

	// Two previous plans with different identities: plan will not choose.
	other := filepath.Join(dir, ".plan.old")
	require.NoError(t, os.Mkdir(other, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(other, "identity.json"),
		[]byte(`{"workload":"db01","uuid":"99999999-2222-4333-8444-555555555555"}`), 0o644))
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "different identities")

	// With the plan folder back, a leftover holding another identity is still
	// not removed: it may be the one the array knows.
	require.NoError(t, os.Rename(left, out))
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "will not discard an identity")
	assert.DirExists(t, other)
}

// Item 5: a staging folder a kill left before the swap (it carries the
// staging mark) is removed and reported; the plan folder is untouched.
func TestPlanRemovesUnpublishedStagingFolders(t *testing.T) {
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	out := filepath.Join(dir, "plan")
	planOnce(t, answers, out)
	want := identityOnDisk(t, out)
	left := filepath.Join(dir, ".plan.new-42")
	require.NoError(t, os.Mkdir(left, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(left, wizard.StagingMark), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(left, "identity.json"),
		[]byte(`{"workload":"db01","uuid":"99999999-2222-4333-8444-555555555555"}`), 0o644))
	var log strings.Builder
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID, Log: &log}, nil)
	require.NoError(t, err)
	assert.Contains(t, log.String(), "Removed "+left)
	assert.NoDirExists(t, left)
	assert.Equal(t, want, identityOnDisk(t, out))
	assert.NoFileExists(t, filepath.Join(out, wizard.StagingMark))
}

// Item 2: concurrent runs on one --out all end with one identity, the one on disk.
func TestConcurrentPlansShareOneIdentity(t *testing.T) {
	for round := 0; round < 5; round++ {
		dir := t.TempDir()
		answers := unpinnedAnswers(t, dir)
		out := filepath.Join(dir, "plan")
		const n = 6
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: uuid.New, LockWait: time.Hour}, nil)
				errs[i] = err
				if err == nil {
					ids[i] = p.Identity.UUID
				}
			}(i)
		}
		wg.Wait()
		onDisk := identityOnDisk(t, out)
		for i := 0; i < n; i++ {
			require.NoError(t, errs[i])
			assert.Contains(t, onDisk, ids[i], "run %d printed an identity that is not the one on disk", i)
		}
		assert.Empty(t, siblings(t, out))
	}
}

// holdLock takes the plan folder's lock as another plan run would.
func holdLock(t *testing.T, out string) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }
}

func TestSecondPlanWaitsThenRefuses(t *testing.T) {
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	out := filepath.Join(dir, "plan")
	planOnce(t, answers, out)
	before := identityOnDisk(t, out)

	release := holdLock(t, out)
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID, LockWait: time.Millisecond}, nil)
	require.ErrorContains(t, err, "another outposts-ha plan is writing --out "+out)
	assert.False(t, wizard.IsInputError(err), "a busy folder is not bad input")

	// A run that finds the lock busy waits, and goes on once it is released.
	opts := wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID, LockWait: time.Hour}
	waiting := make(chan struct{})
	wizard.SetLockWaiting(&opts, func() { close(waiting) })
	done := make(chan error, 1)
	go func() { _, err := wizard.RunPlan(opts, nil); done <- err }()
	<-waiting
	release()
	require.NoError(t, <-done)
	assert.Equal(t, before, identityOnDisk(t, out))
}

// Item 3: a re-plan keeps what plan did not write, the answers file included,
// and still drops the files of the earlier plan that the new one no longer has.
func TestReplanKeepsForeignFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "plan")
	// First plan with a data volume, so it writes a data-volume script.
	answers := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(answers, []byte(validONTAP), 0o600))
	p1, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out}, nil)
	require.NoError(t, err)
	var script string
	for _, f := range p1.Files {
		if strings.Contains(f.Path, "data-volumes") {
			script = f.Path
		}
	}
	require.NotEmpty(t, script)

	// The operator keeps the answers (without the data volume now) in the plan
	// folder, plus notes of their own, inside and beside plan's folders.
	inside := filepath.Join(out, "answers.yaml")
	noData := replace("  data:\n    - volume: /vol/web01/data\n      target: iqn.1992-08.com.netapp:sn.4f6b:vs.3\n      portals: [\"192.168.50.10\"]\n      lun: 2\n", "")(validONTAP)
	require.NoError(t, os.WriteFile(inside, []byte(noData), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(out, "notes", "deep"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(out, "notes", "deep", "todo.txt"), []byte("call the storage team"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(out, "user-data", "mine.txt"), []byte("mine"), 0o600))
	require.NoError(t, os.Symlink("/etc/hostname", filepath.Join(out, "link")))

	var log strings.Builder
	p2, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: inside, OutDir: out, Log: &log}, nil)
	require.NoError(t, err)
	assert.Nil(t, p2.File(script))
	got, err := os.ReadFile(inside)
	require.NoError(t, err)
	assert.Equal(t, noData, string(got), "the answers file plan read is kept")
	got, err = os.ReadFile(filepath.Join(out, "notes", "deep", "todo.txt"))
	require.NoError(t, err)
	assert.Equal(t, "call the storage team", string(got))
	got, err = os.ReadFile(filepath.Join(out, "user-data", "mine.txt"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(got))
	target, err := os.Readlink(filepath.Join(out, "link"))
	require.NoError(t, err)
	assert.Equal(t, "/etc/hostname", target)
	assert.NoFileExists(t, filepath.Join(out, script), "a file only the earlier plan had is gone")
	assert.Contains(t, log.String(), "Kept what plan did not write")
	assert.Contains(t, log.String(), "answers.yaml")

	// Something plan cannot carry over is refused by name, and nothing changes.
	require.NoError(t, syscall.Mkfifo(filepath.Join(out, "pipe"), 0o600))
	before := identityOnDisk(t, out)
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: inside, OutDir: out}, nil)
	require.ErrorContains(t, err, "pipe")
	assert.True(t, wizard.IsInputError(err))
	assert.Equal(t, before, identityOnDisk(t, out))
	assert.FileExists(t, inside)
	assert.Empty(t, siblings(t, out))
}

// Item 4: a symlinked --out is followed for everything: the identity is read
// from, and the plan written into, the folder it points to; the link stays.
func TestSymlinkedOutIsFollowedConsistently(t *testing.T) {
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	real := filepath.Join(dir, "real")
	require.NoError(t, os.Mkdir(real, 0o755))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(real, link))

	var log strings.Builder
	p1, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: link, NewUUID: firstUUID, Log: &log}, nil)
	require.NoError(t, err)
	assert.Contains(t, log.String(), "symbolic link")
	p2, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: link, NewUUID: noUUID}, nil)
	require.NoError(t, err)
	assert.Equal(t, p1.Identity, p2.Identity)
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.True(t, fi.Mode()&os.ModeSymlink != 0, "the link is still a link")
	assert.Equal(t, identityOnDisk(t, real), identityOnDisk(t, link))
	assert.Empty(t, siblings(t, link))
	assert.Empty(t, siblings(t, real))

	dangling := filepath.Join(dir, "dangling")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), dangling))
	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: dangling, NewUUID: firstUUID}, nil)
	require.ErrorContains(t, err, "symbolic link to "+filepath.Join(dir, "nowhere")+", which does not exist")
	assert.True(t, wizard.IsInputError(err))
}

// Item 10: identity.json and the answers file are read with a limit, and a
// FIFO or device is refused without reading (a FIFO used to hang plan).
func TestPlanRefusesSpecialAndHugeFiles(t *testing.T) {
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)

	for name, mk := range map[string]func(string) error{
		"fifo":   func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"sparse": func(p string) error { return os.WriteFile(p, nil, 0o600) },
	} {
		out := filepath.Join(dir, "plan-"+name)
		planOnce(t, answers, out)
		id := filepath.Join(out, "identity.json")
		require.NoError(t, os.Remove(id))
		require.NoError(t, mk(id))
		if name == "sparse" {
			require.NoError(t, os.Truncate(id, 10<<30))
		}
		_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "identity", name)
		assert.True(t, wizard.IsInputError(err), name)
	}

	fifo := filepath.Join(dir, "answers.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, bad := range []string{fifo, "/dev/zero", dir} {
		_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: bad, OutDir: filepath.Join(dir, "x")}, nil)
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "not a regular file", bad)
		assert.True(t, wizard.IsInputError(err), bad)
	}
	huge := filepath.Join(dir, "huge.yaml")
	require.NoError(t, os.WriteFile(huge, nil, 0o600))
	require.NoError(t, os.Truncate(huge, 10<<30))
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: huge, OutDir: filepath.Join(dir, "x")}, nil)
	require.ErrorContains(t, err, "larger than the limit")
	assert.True(t, wizard.IsInputError(err))
}

// Issue 10 item 3: a pinned identity.uuid gives the same identity in any --out
// and is never replaced by a generated one.
func TestPinnedIdentityIsHonouredEverywhere(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.yaml")
	require.NoError(t, os.WriteFile(answers, []byte(validONTAP), 0o600))
	var ids []wizard.Identity
	for _, out := range []string{"a", "b", "a"} {
		p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: filepath.Join(dir, out), NewUUID: noUUID}, nil)
		require.NoError(t, err)
		assert.Equal(t, wizard.FromAnswers, p.Source)
		assert.NotContains(t, string(p.File("summary.txt")), "Pin it")
		ids = append(ids, p.Identity)
	}
	assert.Equal(t, ids[0], ids[1])
	assert.Equal(t, ids[0], ids[2])
	assert.Equal(t, mustUUID().String(), ids[0].UUID)
}

// Issue 10 item 23: a folder plan cannot write is reported with the operator's
// path, never a staging folder. Root ignores permission bits, so as root the
// test makes the real binary run as nobody (plan_kill_test.go); here it runs
// in-process when the test is not root.
func TestReadOnlyOutNamesTheOperatorsPath(t *testing.T) {
	if os.Geteuid() == 0 {
		readOnlyAsNobody(t)
		return
	}
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	parent := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(parent, 0o555))
	t.Cleanup(func() { _ = os.Chmod(parent, 0o755) })
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: filepath.Join(parent, "plan"), NewUUID: firstUUID}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--out "+filepath.Join(parent, "plan")+" cannot be written")
	assert.NotContains(t, err.Error(), ".new-")
	assert.True(t, wizard.IsInputError(err))
}

// A foreign mount point inside the plan folder is refused by name, not copied
// (it could be a whole file system). A real tmpfs mounted under t.TempDir()
// and detached at the end; it needs root, which make test has.
func TestReplanRefusesAForeignMountPoint(t *testing.T) {
	if os.Geteuid() != 0 {
		if testenv.Required() {
			t.Fatal("mounting a tmpfs needs root, and make test runs as root")
		}
		t.Skip("mounting a tmpfs needs root (set OUTPOSTS_HA_REQUIRE_TOOLS=1 to make this fatal)")
	}
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	out := filepath.Join(dir, "plan")
	planOnce(t, answers, out)
	mnt := filepath.Join(out, "scratch")
	require.NoError(t, os.Mkdir(mnt, 0o755))
	require.NoError(t, syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	before := identityOnDisk(t, out)
	_, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: out, NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "scratch, a mount point")
	assert.True(t, wizard.IsInputError(err))
	assert.Equal(t, before, identityOnDisk(t, out))
	assert.Empty(t, siblings(t, out))
}

// Item 1 ("never regenerate when a previous identity exists anywhere the tool
// wrote it"): an unpinned plan into a new --out refuses while the default
// folder out/<workload> holds the workload's identity.
func TestNoNewIdentityWhileTheDefaultFolderHasOne(t *testing.T) {
	dir := t.TempDir()
	answers := unpinnedAnswers(t, dir)
	t.Chdir(dir)
	p, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, NewUUID: firstUUID}, nil)
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, "out", "db01", "identity.json"))

	_, err = wizard.RunPlan(wizard.PlanOptions{AnswersPath: answers, OutDir: filepath.Join(dir, "elsewhere"), NewUUID: noUUID}, nil)
	require.ErrorContains(t, err, "already has an identity (uuid "+p.Identity.UUID+")")
	assert.True(t, wizard.IsInputError(err))
	assert.NoDirExists(t, filepath.Join(dir, "elsewhere"))

	// Pinned, the same identity goes anywhere.
	pinned := filepath.Join(dir, "pinned.yaml")
	b, err := os.ReadFile(answers)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(pinned, append(b, []byte("identity:\n  uuid: "+p.Identity.UUID+"\n")...), 0o600))
	p2, err := wizard.RunPlan(wizard.PlanOptions{AnswersPath: pinned, OutDir: filepath.Join(dir, "elsewhere"), NewUUID: noUUID}, nil)
	require.NoError(t, err)
	assert.Equal(t, p.Identity, p2.Identity)
}
