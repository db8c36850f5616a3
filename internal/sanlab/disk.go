package sanlab

import (
	"encoding/binary"
	"fmt"
	"os"
)

const (
	// SectorSize is the logical block size of the marker disk.
	SectorSize = 512
	// DefaultDiskSize is the size of the sparse marker disk. iPXE guesses a
	// 255x63 geometry for an MBR with no partition table, so anything below
	// 8,225,280 bytes (one cylinder) fails its CHS read of sector 0.
	DefaultDiskSize = 16 << 20
	// MinDiskSize is the smallest image iPXE can boot without a partition table.
	MinDiskSize = 255 * 63 * SectorSize

	// MarkerPrefix starts the line the boot sector prints from the disk's last
	// sector; the token after it is the one the test wrote.
	MarkerPrefix = "SANBOOT-OK token="
	// BootSectorBanner is what the boot sector prints before it reads the disk.
	BootSectorBanner = "MBR-OK"
	// ReadFailedBanner is what the boot sector prints when INT 13h fails.
	ReadFailedBanner = "MBR-READ-FAILED"
	// IBFTPrefix starts each line where the boot sector dumps, in hex, an iSCSI
	// Boot Firmware Table it found in base memory (see ParseIBFTs).
	IBFTPrefix = "IBFT "

	// ExitMarker is qemu's exit status when the boot sector printed the marker:
	// it writes 0x10 to isa-debug-exit, which exits with (0x10<<1)|1.
	ExitMarker = 33
	// ExitReadFailed is qemu's exit status when the boot sector could not read
	// the last sector (0x11 written to isa-debug-exit).
	ExitReadFailed = 35

	debugExitPort = 0xf4
	bufferAddr    = 0x8000
	loadAddr      = 0x7c00
)

// MarkerLine is the text stored in the disk's last sector for token.
func MarkerLine(token string) string { return MarkerPrefix + token }

// WriteDisk writes a sparse raw disk image of size bytes to path: a boot sector
// that proves the disk was read over the wire (it reads the last sector with
// INT 13h and prints it to COM1, then exits qemu through isa-debug-exit), and
// the marker line for token in the last sector.
func WriteDisk(path string, size int64, token string) error {
	if size == 0 {
		size = DefaultDiskSize
	}
	if size < MinDiskSize || size%SectorSize != 0 {
		return fmt.Errorf("disk size %d: use a multiple of %d of at least %d bytes", size, SectorSize, MinDiskSize)
	}
	marker := MarkerLine(token) + "\r\n"
	if token == "" || len(marker) >= SectorSize {
		return fmt.Errorf("token %q: give 1 to %d characters", token, SectorSize-len(MarkerPrefix)-3)
	}
	for _, c := range []byte(token) {
		if c < 0x21 || c > 0x7e {
			return fmt.Errorf("token %q: use printable ASCII without spaces", token)
		}
	}
	mbr, err := BootSector(uint64(size/SectorSize - 1))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create disk image: %w", err)
	}
	if err := writeImage(f, size, mbr, []byte(marker)); err != nil {
		f.Close()
		return fmt.Errorf("write disk image %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close disk image %s: %w", path, err)
	}
	return nil
}

func writeImage(f *os.File, size int64, mbr, marker []byte) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	if _, err := f.WriteAt(mbr, 0); err != nil {
		return err
	}
	last := make([]byte, SectorSize) // NUL-padded: the print loop stops at the first 0
	copy(last, marker)
	_, err := f.WriteAt(last, size-SectorSize)
	return err
}

// BootSector assembles the 512-byte real-mode boot sector that first dumps
// every iSCSI Boot Firmware Table it finds in base memory to COM1, then reads
// sector lba of the boot drive (DL, as the BIOS or iPXE hands it over) into
// 0x8000 and prints it as a NUL-terminated string on COM1.
//
//	cli; cld; ds=es=ss=0; sp=0x7c00; sti; [drive]=dl
//	print "MBR-OK"
//	for seg = 0x8000 .. 0xffff (every 16-byte paragraph of 512K-1M, where
//	  the iBFT spec says to look and where iPXE's INT 13h code puts it):
//	  if dword es:0 == "iBFT" and its length < 4096, twice:
//	    print "IBFT ", length bytes in hex, CR LF
//	int 13h ah=42h (EDD read) with DAP{16, 1 sector, 0000:8000, lba}
//	jc fail
//	print 0x8000; out 0xf4, 0x10; halt: hlt; jmp halt
//	fail: print "MBR-READ-FAILED"; out 0xf4, 0x11; jmp halt
//
// The UART needs no set-up: qemu's 16550 accepts bytes at any divisor. The
// dump may hold false hits (the four letters at a paragraph start by chance);
// ParseIBFTs keeps only tables whose ACPI checksum holds.
func BootSector(lba uint64) ([]byte, error) {
	var a asm
	a.emit(0xfa, 0xfc)           // cli; cld
	a.emit(0x31, 0xc0)           // xor ax,ax
	a.emit(0x8e, 0xd8)           // mov ds,ax
	a.emit(0x8e, 0xc0)           // mov es,ax
	a.emit(0x8e, 0xd0)           // mov ss,ax
	a.emit(0xbc, 0x00, 0x7c)     // mov sp,0x7c00
	a.emit(0xfb)                 // sti
	a.abs16("drive", 0x88, 0x16) // mov [drive],dl
	a.abs16("hello", 0xbe)       // mov si,hello
	a.rel16("print", 0xe8)       // call print

	a.emit(0xb8, 0x00, 0x80) // mov ax,0x8000
	a.label("scan")
	a.emit(0x8e, 0xc0)                                             // mov es,ax
	a.emit(0x26, 0x66, 0x81, 0x3e, 0x00, 0x00, 'i', 'B', 'F', 'T') // cmp dword [es:0],"iBFT"
	a.rel8("next", 0x75)                                           // jne next
	a.emit(0x26, 0x83, 0x3e, 0x06, 0x00, 0x00)                     // cmp word [es:6],0 (length < 64K)
	a.rel8("next", 0x75)                                           // jne next
	a.emit(0x26, 0x8b, 0x0e, 0x04, 0x00)                           // mov cx,[es:4]
	a.emit(0x81, 0xf9, 0x00, 0x10)                                 // cmp cx,0x1000
	a.rel8("next", 0x73)                                           // jae next
	a.emit(0x50)                                                   // push ax
	a.emit(0xbd, 0x02, 0x00)                                       // mov bp,2 (two copies: one survives a console glitch)
	a.label("copy")
	a.emit(0x26, 0x8b, 0x0e, 0x04, 0x00) // mov cx,[es:4]
	a.abs16("ibft", 0xbe)                // mov si,ibft
	a.rel16("print", 0xe8)               // call print
	a.emit(0x31, 0xff)                   // xor di,di
	a.label("dump")
	a.emit(0x26, 0x8a, 0x05) // mov al,[es:di]
	a.rel16("hexbyte", 0xe8) // call hexbyte
	a.emit(0x47)             // inc di
	a.rel8("dump", 0xe2)     // loop dump
	a.abs16("crlf", 0xbe)    // mov si,crlf
	a.rel16("print", 0xe8)   // call print
	a.emit(0x4d)             // dec bp
	a.rel8("copy", 0x75)     // jnz copy
	a.emit(0x58)             // pop ax
	a.label("next")
	a.emit(0x40)         // inc ax
	a.rel8("scan", 0x75) // jnz scan (ax wraps to 0 after 0xffff)
	a.emit(0x31, 0xc0)   // xor ax,ax
	a.emit(0x8e, 0xc0)   // mov es,ax

	a.abs16("dap", 0xbe)         // mov si,dap
	a.abs16("drive", 0x8a, 0x16) // mov dl,[drive]
	a.emit(0xb4, 0x42)           // mov ah,0x42
	a.emit(0xcd, 0x13)           // int 0x13
	a.rel8("fail", 0x72)         // jc fail
	a.emit(0xbe, 0x00, 0x80)     // mov si,0x8000
	a.rel16("print", 0xe8)       // call print
	a.emit(0xb0, 0x10)           // mov al,0x10
	a.emit(0xe6, debugExitPort)  // out 0xf4,al
	a.label("halt")
	a.emit(0xf4)         // hlt
	a.rel8("halt", 0xeb) // jmp halt
	a.label("fail")
	a.abs16("readerr", 0xbe)    // mov si,readerr
	a.rel16("print", 0xe8)      // call print
	a.emit(0xb0, 0x11)          // mov al,0x11
	a.emit(0xe6, debugExitPort) // out 0xf4,al
	a.rel8("halt", 0xeb)        // jmp halt

	a.label("print")
	a.emit(0xac)          // lodsb
	a.emit(0x84, 0xc0)    // test al,al
	a.rel8("done", 0x74)  // jz done
	a.rel16("putc", 0xe8) // call putc
	a.rel8("print", 0xeb) // jmp print
	a.label("hexbyte")
	a.emit(0x50)             // push ax
	a.emit(0xc0, 0xe8, 0x04) // shr al,4
	a.rel16("nibble", 0xe8)  // call nibble
	a.emit(0x58)             // pop ax
	a.emit(0x24, 0x0f)       // and al,0x0f
	a.label("nibble")
	a.emit(0x04, '0')       // add al,'0'
	a.emit(0x3c, '9')       // cmp al,'9'
	a.rel8("putc", 0x76)    // jbe putc
	a.emit(0x04, 'a'-'9'-1) // add al,'a'-'9'-1
	a.label("putc")
	a.emit(0x52)             // push dx
	a.emit(0x50)             // push ax
	a.emit(0xba, 0xfd, 0x03) // mov dx,0x3fd (line status)
	a.label("wait")
	a.emit(0xec)             // in al,dx
	a.emit(0xa8, 0x20)       // test al,0x20 (transmit holding register empty)
	a.rel8("wait", 0x74)     // jz wait
	a.emit(0x58)             // pop ax
	a.emit(0xba, 0xf8, 0x03) // mov dx,0x3f8 (data)
	a.emit(0xee)             // out dx,al
	a.emit(0x5a)             // pop dx
	a.label("done")
	a.emit(0xc3) // ret
	a.label("drive")
	a.emit(0x00) // db 0
	a.label("hello")
	a.emit([]byte(BootSectorBanner + "\r\n\x00")...)
	a.label("readerr")
	a.emit([]byte(ReadFailedBanner + "\r\n\x00")...)
	a.label("ibft")
	a.emit([]byte(IBFTPrefix + "\x00")...)
	a.label("crlf")
	a.emit('\r', '\n', 0)
	a.label("dap")                                     // disk address packet
	a.emit(0x10, 0x00)                                 // size, reserved
	a.emit(0x01, 0x00)                                 // sectors to read
	a.emit(byte(bufferAddr&0xff), byte(bufferAddr>>8)) // buffer offset
	a.emit(0x00, 0x00)                                 // buffer segment
	a.emit(binary.LittleEndian.AppendUint64(nil, lba)...)

	code, err := a.link(loadAddr)
	if err != nil {
		return nil, err
	}
	if len(code) > 446 { // the partition table starts at 446
		return nil, fmt.Errorf("boot sector code is %d bytes: it must fit in 446", len(code))
	}
	sector := make([]byte, SectorSize)
	copy(sector, code)
	sector[510], sector[511] = 0x55, 0xaa
	return sector, nil
}

// asm is a tiny 16-bit assembler: raw bytes plus label references that are
// resolved by link. It exists so the boot sector is readable, not a hex blob.
type asm struct {
	code   []byte
	labels map[string]int
	fixups []fixup
}

type fixupKind int

const (
	rel8 fixupKind = iota
	rel16
	abs16
)

type fixup struct {
	at    int // offset of the operand
	label string
	kind  fixupKind
}

func (a *asm) emit(b ...byte) { a.code = append(a.code, b...) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.code)
}

func (a *asm) ref(kind fixupKind, label string, opcode []byte, width int) {
	a.emit(opcode...)
	a.fixups = append(a.fixups, fixup{at: len(a.code), label: label, kind: kind})
	a.emit(make([]byte, width)...)
}

// rel8 emits opcode and an 8-bit displacement to label (short jumps).
func (a *asm) rel8(label string, opcode ...byte) { a.ref(rel8, label, opcode, 1) }

// rel16 emits opcode and a 16-bit displacement to label (near call).
func (a *asm) rel16(label string, opcode ...byte) { a.ref(rel16, label, opcode, 2) }

// abs16 emits opcode and the 16-bit address of label (immediates and memory operands).
func (a *asm) abs16(label string, opcode ...byte) { a.ref(abs16, label, opcode, 2) }

func (a *asm) link(origin int) ([]byte, error) {
	out := append([]byte(nil), a.code...)
	for _, f := range a.fixups {
		target, ok := a.labels[f.label]
		if !ok {
			return nil, fmt.Errorf("boot sector: undefined label %q", f.label)
		}
		switch f.kind {
		case rel8:
			d := target - (f.at + 1)
			if d < -128 || d > 127 {
				return nil, fmt.Errorf("boot sector: jump to %q is %d bytes, too far for rel8", f.label, d)
			}
			out[f.at] = byte(int8(d))
		case rel16:
			binary.LittleEndian.PutUint16(out[f.at:], uint16(int16(target-(f.at+2))))
		case abs16:
			binary.LittleEndian.PutUint16(out[f.at:], uint16(origin+target))
		}
	}
	return out, nil
}
