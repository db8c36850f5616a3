package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned by ReadRegularFile for a FIFO, device, socket or
// folder; ErrTooLarge for a file over the limit.
var (
	ErrNotRegular = errors.New("is not a regular file")
	ErrTooLarge   = errors.New("is larger than the limit")
)

// ReadRegularFile reads a whole regular file of at most max bytes. The limit
// applies before reading (a 10 GB sparse file or /dev/zero is never loaded),
// FIFOs, devices, sockets and folders are refused without blocking (the file
// is opened non-blocking and checked again after opening, so a path swapped
// for a FIFO between the checks cannot hang it), and symbolic links are
// followed. Errors wrap ErrNotRegular, ErrTooLarge or the fs error, and name
// the path. It serves the answers file, identity.json and CA files.
func ReadRegularFile(path string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %w (it is %s)", path, ErrNotRegular, modeName(st.Mode()))
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s %w: %d bytes, at most %d", path, ErrTooLarge, st.Size(), max)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st2, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st2.Mode().IsRegular() || !os.SameFile(st, st2) {
		return nil, fmt.Errorf("%s %w (it changed while being opened)", path, ErrNotRegular)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s %w: more than %d bytes", path, ErrTooLarge, max)
	}
	return data, nil
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

// ReadAnswersFile reads an answers file through ReadRegularFile with
// MaxAnswersSize. A FIFO, device, folder or over-large file is a Problems
// value (bad input, exit 2); a missing or unreadable file is the fs error.
func ReadAnswersFile(path string) ([]byte, error) {
	data, err := ReadRegularFile(path, MaxAnswersSize)
	switch {
	case errors.Is(err, ErrNotRegular):
		return nil, Problems{{Field: "(file)", Message: err.Error(), Fix: "give the path of the answers file itself, not a pipe, device or folder"}}
	case errors.Is(err, ErrTooLarge):
		return nil, Problems{{Field: "(file)", Message: err.Error(), Fix: "an answers file is a few kilobytes: check you gave the right file"}}
	}
	return data, err
}

// LoadFile reads, parses and validates an answers file.
func LoadFile(path string) (*Spec, error) {
	data, err := ReadAnswersFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
