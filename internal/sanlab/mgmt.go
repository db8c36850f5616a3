package sanlab

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// tgtSocketDir holds tgtd's management sockets: socket.<port> and
// socket.<port>.lock. The directory is shared by every network namespace.
const tgtSocketDir = "/var/run/tgtd"

func socketPath(ctl int) string { return filepath.Join(tgtSocketDir, "socket."+strconv.Itoa(ctl)) }
func lockPath(ctl int) string   { return socketPath(ctl) + ".lock" }

// lockHolder reports the PID that holds tgtd's management lock for ctl, or 0
// when nobody does (no file, or a stale file left by a killed tgtd). tgtd takes
// the lock with lockf(F_TLOCK) on byte 0, which is a POSIX write lock.
func lockHolder(ctl int) (int, error) {
	f, err := os.Open(lockPath(ctl))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open tgtd lock: %w", err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart, Start: 0, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return 0, fmt.Errorf("query tgtd lock %s: %w", lockPath(ctl), err)
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, nil
	}
	return int(lk.Pid), nil
}

// The management protocol of tgtd (usr/tgtadm.h): a fixed request header, then
// a NUL-terminated "key=value,..." parameter string; the answer is a header
// {err, len} and len-8 bytes of text. The harness speaks it directly for one
// request only, creating a CHAP account, so that the CHAP secret never appears
// on a command line (tgtadm takes it as --password). Everything else goes
// through the tgtadm binary. The layout was checked against tgt 1.0.85 by
// capturing what tgtadm sends; a mismatch makes tgtd refuse the request, and
// the CHAP boot cases then fail loudly.
const (
	mgmtModeAccount = 7 // MODE_ACCOUNT
	mgmtOpNew       = 0 // OP_NEW
	mgmtHeaderLen   = 120
	mgmtLLDLen      = 64
)

// encodeMgmtRequest builds one request for the iSCSI driver with no target,
// session, connection or LUN selected.
func encodeMgmtRequest(mode, op uint32, params string) []byte {
	total := mgmtHeaderLen + len(params) + 1
	b := make([]byte, 0, total)
	ne := binary.NativeEndian
	b = ne.AppendUint32(b, mode)
	b = ne.AppendUint32(b, op)
	lld := make([]byte, mgmtLLDLen)
	copy(lld, "iscsi")
	b = append(b, lld...)
	b = ne.AppendUint32(b, uint32(total))
	b = ne.AppendUint32(b, 0xffffffff)         // tid: none (-1)
	b = ne.AppendUint64(b, 0)                  // sid
	b = ne.AppendUint64(b, 0xffffffffffffffff) // lun: none
	for range 6 {                              // cid, host_no, device_type, ac_dir, pack, force
		b = ne.AppendUint32(b, 0)
	}
	b = append(b, params...)
	return append(b, 0)
}

// mgmtRequest sends one request to the tgtd on control port ctl and returns an
// error when tgtd answers with a non-zero status. params may hold a secret: it
// is never put into the returned error.
func mgmtRequest(ctx context.Context, ctl int, mode, op uint32, params string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socketPath(ctl))
	if err != nil {
		return fmt.Errorf("connect to tgtd management socket: %w", err)
	}
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetDeadline(deadline); err != nil {
		return fmt.Errorf("tgtd management socket deadline: %w", err)
	}
	if _, err := c.Write(encodeMgmtRequest(mode, op, params)); err != nil {
		return fmt.Errorf("send tgtd request: %w", err)
	}
	var hdr [8]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return fmt.Errorf("read tgtd answer: %w", err)
	}
	status := binary.NativeEndian.Uint32(hdr[0:])
	n := binary.NativeEndian.Uint32(hdr[4:])
	var text []byte
	if n > 8 && n < 1<<20 {
		text = make([]byte, n-8)
		if _, err := io.ReadFull(c, text); err != nil {
			return fmt.Errorf("read tgtd answer text: %w", err)
		}
	}
	if status != 0 {
		return fmt.Errorf("tgtd refused the request: status %d %s", status, bytes.TrimRight(text, "\x00\n"))
	}
	return nil
}
