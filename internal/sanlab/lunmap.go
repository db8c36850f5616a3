package sanlab

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// LUN 0 on a real array is an ordinary LUN (ONTAP maps boot LUNs at 0 by
// default), but tgt keeps LUN 0 for its controller and cannot back it with a
// disk. To boot a script that names LUN 0, a lab puts a small iSCSI proxy in
// front of tgtd (ServeLUNMap): it passes every PDU through unchanged except
// the LUN field of SCSI command, task management and data PDUs, which it maps
// from the LUN the initiator addresses to the one tgt serves, and back on the
// way out. The initiator (iPXE) sees a disk at LUN 0 and describes LUN 0 in
// the iBFT; what it proves is the script side (the "0" field, the boot), not
// an array's LUN 0.

// PDU layout (RFC 7143 §11.2): a 48-byte basic header segment; byte 0 holds
// the opcode in its low 6 bits, byte 4 the total AHS length in 4-byte words,
// bytes 5-7 the data segment length, bytes 8-15 the LUN; the data segment is
// padded to 4 bytes. iPXE negotiates no header or data digests.
const (
	bhsLen          = 48
	opSCSICommand   = 0x01
	opTaskMgmt      = 0x02
	opSCSIDataOut   = 0x05
	opSCSIResponse  = 0x21
	opTaskMgmtResp  = 0x22
	opSCSIDataIn    = 0x25
	maxPDUDataBytes = 1 << 20 // far above what iPXE and tgt negotiate (MaxBurstLength 256 KiB)
)

// lunStruct is the 8-byte single-level SCSI LUN for lun (0-MaxLUN), as a
// standards-following initiator sends it: peripheral up to 255, flat space above.
func lunStruct(lun int) [8]byte {
	var b [8]byte
	if lun < 256 {
		b[1] = byte(lun)
	} else {
		binary.BigEndian.PutUint16(b[:], uint16(0x4000|lun))
	}
	return b
}

// readPDU reads one PDU from r.
func readPDU(r io.Reader) ([]byte, error) {
	hdr := make([]byte, bhsLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	ahs := int(hdr[4]) * 4
	dsl := int(hdr[5])<<16 | int(hdr[6])<<8 | int(hdr[7])
	if dsl > maxPDUDataBytes {
		return nil, fmt.Errorf("iscsi pdu: data segment of %d bytes", dsl)
	}
	rest := ahs + (dsl+3)&^3
	pdu := make([]byte, bhsLen+rest)
	copy(pdu, hdr)
	if _, err := io.ReadFull(r, pdu[bhsLen:]); err != nil {
		return nil, err
	}
	return pdu, nil
}

// mapLUN rewrites the LUN field of pdu from one LUN structure to another when
// the opcode is one of ops.
func mapLUN(pdu []byte, from, to [8]byte, ops ...byte) {
	op := pdu[0] & 0x3f
	for _, o := range ops {
		if op == o && [8]byte(pdu[8:16]) == from {
			copy(pdu[8:16], to[:])
			return
		}
	}
}

// relay copies PDUs from src to dst, mapping LUN fields, until either side ends.
func relay(dst io.Writer, src io.Reader, from, to [8]byte, ops ...byte) error {
	br := bufio.NewReader(src)
	for {
		pdu, err := readPDU(br)
		if err != nil {
			return err
		}
		mapLUN(pdu, from, to, ops...)
		if _, err := dst.Write(pdu); err != nil {
			return err
		}
	}
}

// LUNMap is a running LUN-mapping proxy; Close stops it.
type LUNMap struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
	// mapped counts the connections relayed.
	mapped int
}

// Connections reports how many connections the proxy has relayed.
func (m *LUNMap) Connections() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mapped
}

// Close stops accepting, closes every open connection and waits for the relays.
func (m *LUNMap) Close() error {
	err := m.ln.Close()
	m.mu.Lock()
	for c := range m.conns {
		c.Close()
	}
	m.mu.Unlock()
	m.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// ServeLUNMap listens on port in the lab's namespace and relays every iSCSI
// connection to tgtd (127.0.0.1:TargetPort in the namespace), presenting
// tgt's LUN to as LUN from to the initiator. Close the result before the lab.
func (l *Lab) ServeLUNMap(port, from, to int) (*LUNMap, error) {
	if port < 1 || port > 65535 || port == TargetPort {
		return nil, fmt.Errorf("LUN map port %d: give 1-65535 other than %d", port, TargetPort)
	}
	if from < 0 || from > MaxLUN || to < 1 || to > MaxLUN {
		return nil, fmt.Errorf("LUN map %d -> %d: give LUNs in 0-%d (to at least 1)", from, to, MaxLUN)
	}
	ln, err := l.inNamespace(func() (any, error) { return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)) })
	if err != nil {
		return nil, fmt.Errorf("listen for the LUN map: %w", err)
	}
	m := &LUNMap{ln: ln.(net.Listener), conns: map[net.Conn]bool{}}
	fromS, toS := lunStruct(from), lunStruct(to)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			c, err := m.ln.Accept()
			if err != nil {
				return
			}
			up, err := l.inNamespace(func() (any, error) {
				return net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(TargetPort))
			})
			if err != nil {
				c.Close()
				continue
			}
			u := up.(net.Conn)
			m.mu.Lock()
			m.conns[c], m.conns[u] = true, true
			m.mapped++
			m.mu.Unlock()
			m.wg.Add(2)
			go func() {
				defer m.wg.Done()
				_ = relay(u, c, fromS, toS, opSCSICommand, opTaskMgmt, opSCSIDataOut)
				u.Close()
				c.Close()
			}()
			go func() {
				defer m.wg.Done()
				_ = relay(c, u, toS, fromS, opSCSIResponse, opTaskMgmtResp, opSCSIDataIn)
				u.Close()
				c.Close()
			}()
		}
	}()
	return m, nil
}

// inNamespace runs f on an OS thread that has joined the lab's network
// namespace, so sockets f creates live there (a socket keeps the namespace it
// was created in). The thread is never handed back to the scheduler: the
// goroutine ends locked, and Go retires the thread with it.
func (l *Lab) inNamespace(f func() (any, error)) (any, error) {
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		ns, err := os.Open("/var/run/netns/" + l.ns)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer ns.Close()
		if sysSetns < 0 {
			done <- result{nil, fmt.Errorf("join network namespace %s: %w", l.ns, syscall.ENOSYS)}
			return
		}
		if _, _, e := syscall.RawSyscall(uintptr(sysSetns), ns.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
			done <- result{nil, fmt.Errorf("join network namespace %s: %w", l.ns, e)}
			return
		}
		v, err := f()
		done <- result{v, err}
	}()
	r := <-done
	return r.v, r.err
}
