package sanlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// TargetSpec describes one iSCSI target with one LUN backed by a marker disk.
type TargetSpec struct {
	// IQN is the target name.
	IQN string
	// LUN is the LUN of the disk (1-16383; tgt owns LUN 0 as its controller).
	LUN int
	// Initiators is the name ACL: the only initiator IQNs tgtd admits. At least
	// one is required. No address ACL is ever bound: tgt ORs address and name
	// ACLs, and every slirp connection arrives from 127.0.0.1.
	Initiators []string
	// CHAP, when set, requires one-way CHAP with this account.
	CHAP *CHAP
	// Token goes into the disk's last sector; empty means a random one.
	Token string
	// Size of the sparse disk image; 0 means DefaultDiskSize.
	Size int64
	// Image, when set, backs the LUN with this existing marker disk instead of
	// writing a new one (two targets serving the same volume, as arrays with a
	// target per node or port do). Token must then be the image's token.
	Image string
}

// CHAP is an incoming (initiator-to-target) CHAP account.
type CHAP struct {
	User   string
	Secret string
}

// Target is a target created in a Lab.
type Target struct {
	TID   int
	IQN   string
	LUN   int
	Token string // the token the boot sector must print
	Image string // path of the disk image
}

// NewToken returns a random 12-hex-digit token.
func NewToken() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

func validName(what, s string) error {
	if s == "" || len(s) > 223 || strings.ContainsAny(s, ", \t\r\n=") {
		return fmt.Errorf("%s %q: give 1-223 characters without spaces, '=' or ','", what, s)
	}
	return nil
}

func (s TargetSpec) validate() error {
	if err := validName("target IQN", s.IQN); err != nil {
		return err
	}
	if s.LUN < 1 || s.LUN > MaxLUN {
		return fmt.Errorf("LUN %d: use 1-%d (tgt keeps LUN 0 for its controller; single-level SCSI addressing ends at %d)", s.LUN, MaxLUN, MaxLUN)
	}
	if s.Image != "" && s.Token == "" {
		return fmt.Errorf("image %s: give the token written into it", s.Image)
	}
	if len(s.Initiators) == 0 {
		return fmt.Errorf("no initiators: a lab target always has a name ACL")
	}
	for _, i := range s.Initiators {
		if err := validName("initiator IQN", i); err != nil {
			return err
		}
		if strings.EqualFold(i, "ALL") {
			return fmt.Errorf("initiator ALL would admit everyone: name each initiator")
		}
	}
	if c := s.CHAP; c != nil {
		if err := validName("CHAP user", c.User); err != nil {
			return err
		}
		if len(c.Secret) < 12 || len(c.Secret) > 255 || strings.ContainsAny(c.Secret, ", \t\r\n") {
			return fmt.Errorf("CHAP secret: give 12-255 characters without spaces or ','")
		}
	}
	return nil
}

// AddTarget writes the marker disk, creates the target and its LUN, binds the
// name ACL (and CHAP), then reads the target back and checks that its ACL holds
// exactly the given initiators.
func (l *Lab) AddTarget(ctx context.Context, s TargetSpec) (*Target, error) {
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("target spec: %w", err)
	}
	if s.Token == "" {
		s.Token = NewToken()
	}
	l.mu.Lock()
	tid := l.nextTID
	l.nextTID++
	l.mu.Unlock()

	t := &Target{TID: tid, IQN: s.IQN, LUN: s.LUN, Token: s.Token, Image: s.Image}
	if t.Image == "" {
		t.Image = filepath.Join(l.cfg.Dir, fmt.Sprintf("tid%d-lun%d.img", tid, s.LUN))
		if err := WriteDisk(t.Image, s.Size, s.Token); err != nil {
			return nil, err
		}
	} else if err := qemuPathOK(t.Image); err != nil {
		return nil, err
	}
	id := strconv.Itoa(tid)
	steps := [][]string{
		{"--lld", "iscsi", "--mode", "target", "--op", "new", "--tid", id, "--targetname", s.IQN},
		{"--lld", "iscsi", "--mode", "logicalunit", "--op", "new", "--tid", id, "--lun", strconv.Itoa(s.LUN), "--backing-store", t.Image},
	}
	for _, ini := range s.Initiators {
		steps = append(steps, []string{"--lld", "iscsi", "--mode", "target", "--op", "bind", "--tid", id, "--initiator-name", ini})
	}
	for _, args := range steps {
		if _, err := l.tgtadm(ctx, args...); err != nil {
			return nil, fmt.Errorf("create target %s: %w", s.IQN, err)
		}
	}
	if c := s.CHAP; c != nil {
		// The secret travels over the management socket, never in argv.
		if err := mgmtRequest(ctx, l.ctl, mgmtModeAccount, mgmtOpNew, "user="+c.User+",password="+c.Secret); err != nil {
			return nil, fmt.Errorf("create CHAP account %s: %w", c.User, err)
		}
		if _, err := l.tgtadm(ctx, "--lld", "iscsi", "--mode", "account", "--op", "bind", "--tid", id, "--user", c.User); err != nil {
			return nil, fmt.Errorf("bind CHAP account %s: %w", c.User, err)
		}
	}
	show, err := l.tgtadm(ctx, "--lld", "iscsi", "--mode", "target", "--op", "show")
	if err != nil {
		return nil, err
	}
	acl, accounts := parseShow(show, tid)
	want := slices.Clone(s.Initiators)
	slices.Sort(want)
	slices.Sort(acl)
	if !slices.Equal(acl, want) {
		return nil, fmt.Errorf("target %s: ACL reads back as %q, want exactly %q", s.IQN, acl, want)
	}
	if s.CHAP != nil && !slices.Contains(accounts, s.CHAP.User) {
		return nil, fmt.Errorf("target %s: CHAP account %s is not bound (accounts %q)", s.IQN, s.CHAP.User, accounts)
	}
	return t, nil
}

// MaxLUN is the largest LUN the lab serves: tgt reads a LUN field's first
// level as peripheral (0-255) or flat-space (0-16383) addressing, and an
// initiator can address nothing above 16383 with one level. tgtadm itself
// accepts larger numbers that no initiator can then reach.
const MaxLUN = 16383

// AddLUN adds one more LUN to target t, backed by a new marker disk with its
// own token (for example a decoy that a mis-encoded LUN would reach), and
// returns that token.
func (l *Lab) AddLUN(ctx context.Context, t *Target, lun int, size int64) (token string, err error) {
	if lun < 1 || lun > MaxLUN {
		return "", fmt.Errorf("LUN %d: use 1-%d", lun, MaxLUN)
	}
	token = NewToken()
	img := filepath.Join(l.cfg.Dir, fmt.Sprintf("tid%d-lun%d.img", t.TID, lun))
	if err := WriteDisk(img, size, token); err != nil {
		return "", err
	}
	if _, err := l.tgtadm(ctx, "--lld", "iscsi", "--mode", "logicalunit", "--op", "new",
		"--tid", strconv.Itoa(t.TID), "--lun", strconv.Itoa(lun), "--backing-store", img); err != nil {
		return "", fmt.Errorf("add LUN %d to %s: %w", lun, t.IQN, err)
	}
	return token, nil
}

// SetTargetOffline takes target t offline (tgt answers logins with "target
// not currently operational") or back online: a storage node that is up on
// the network but not serving.
func (l *Lab) SetTargetOffline(ctx context.Context, t *Target, offline bool) error {
	state := "ready"
	if offline {
		state = "offline"
	}
	if _, err := l.tgtadm(ctx, "--lld", "iscsi", "--mode", "target", "--op", "update",
		"--tid", strconv.Itoa(t.TID), "--name", "state", "--value", state); err != nil {
		return fmt.Errorf("set %s %s: %w", t.IQN, state, err)
	}
	return nil
}

// AddPortal makes tgtd listen on one more port of the namespace's loopback,
// for scripts that name a non-default port or several portals. Every target
// is reachable on every portal, as tgt does it.
func (l *Lab) AddPortal(ctx context.Context, port int) error {
	if port < 1 || port > 65535 || port == TargetPort {
		return fmt.Errorf("portal port %d: give 1-65535 other than %d (tgtd already listens there)", port, TargetPort)
	}
	if _, err := l.tgtadm(ctx, "--lld", "iscsi", "--mode", "portal", "--op", "new",
		"--param", fmt.Sprintf("portal=127.0.0.1:%d", port)); err != nil {
		return fmt.Errorf("add portal on port %d: %w", port, err)
	}
	return nil
}

// parseShow extracts the ACL and account entries of target tid from
// `tgtadm --mode target --op show`.
func parseShow(show string, tid int) (acl, accounts []string) {
	header := "Target " + strconv.Itoa(tid) + ":"
	in, section := false, ""
	for _, line := range strings.Split(show, "\n") {
		if strings.HasPrefix(line, "Target ") {
			in = strings.HasPrefix(line, header)
			section = ""
			continue
		}
		if !in {
			continue
		}
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 4:
			section = strings.TrimSuffix(trimmed, ":")
		case indent >= 8 && trimmed != "":
			switch section {
			case "ACL information":
				acl = append(acl, trimmed)
			case "Account information":
				accounts = append(accounts, trimmed)
			}
		}
	}
	return acl, accounts
}
