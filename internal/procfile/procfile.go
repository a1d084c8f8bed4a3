// Package procfile reads small /proc files cheaply, with raw system calls.
//
// Opening a file through os.Open costs openat, two or three fcntl and an
// epoll_ctl (the runtime tries to register every new file with the network
// poller; procfs files either fail that or need an EPOLL_CTL_DEL at close)
// before the one read(2) that matters, which for a file read every second
// costs more than the read itself. A File is therefore opened once with the
// syscall package and re-read in place with pread at offset 0: procfs
// regenerates a seq file's content on a read at offset 0, and a regular file
// (test fixture trees) shows whatever it holds now. Files read only now and
// then go through ReadOnce or OpenAndRead: open, pread and close, three raw
// system calls.
package procfile

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"
)

// minReadBuf is the initial read buffer: most /proc files read per tick, and
// /proc/PID/stat and statm, fit in it.
const minReadBuf = 4096

// File is one file kept open between reads and re-read with pread. It is not
// safe for concurrent use; the zero fd is never used (a closed File holds
// -1), so a File must come from New.
type File struct {
	path string
	// whole is true for files the kernel generates in one piece on a read at
	// offset 0 (single_open: /proc/stat, /proc/meminfo, /proc/loadavg,
	// /proc/uptime, /proc/PID/stat, sysctl files): a short read is the end,
	// as procps assumes, which saves the read(2) that would return 0.
	// Record-by-record seq files (/proc/diskstats, /proc/net/dev) return at
	// most a page per read and are read to EOF.
	whole bool
	fd    int // -1 while closed
	buf   []byte
}

// New returns a File for path; whole tells whether the kernel generates the
// file in one piece on a read at offset 0 (see File). Nothing is opened until
// the first Read.
func New(path string, whole bool) *File {
	return &File{path: path, whole: whole, fd: -1}
}

// Read returns the file's current content. The result aliases the File's
// buffer: it is only valid until the next Read. A failed read closes the
// file and tries once more with a fresh descriptor (the file may have been
// replaced or may have vanished and come back). Errors read
// "open PATH: ..." or "read PATH: ..." and wrap the system call's error.
func (f *File) Read() ([]byte, error) {
	if f.fd >= 0 {
		b, err := f.pread()
		if err == nil {
			return b, nil
		}
		_ = f.Close()
	}
	fd, err := OpenRead(f.path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.path, err)
	}
	f.fd = fd
	b, err := f.pread()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("read %s: %w", f.path, err)
	}
	return b, nil
}

// pread reads the whole file from offset 0 into f.buf, growing it as needed.
func (f *File) pread() ([]byte, error) {
	if cap(f.buf) < minReadBuf {
		f.buf = make([]byte, 0, minReadBuf)
	}
	if f.whole {
		return PreadWhole(f.fd, &f.buf)
	}
	b := f.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := preadFull(f.fd, b[len(b):cap(b)], int64(len(b)))
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
	}
	f.buf = b
	return b, nil
}

// Close closes the descriptor if open; the next Read reopens the file.
// Closing a closed File is a no-op.
func (f *File) Close() error {
	if f.fd < 0 {
		return nil
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil {
		return fmt.Errorf("close %s: %w", f.path, err)
	}
	return nil
}

// OpenRead opens path read-only and close-on-exec with a raw open(2),
// retrying on EINTR: no os.File, so no poller registration and no extra
// fcntl calls. The caller closes the descriptor with syscall.Close.
func OpenRead(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if !errors.Is(err, syscall.EINTR) {
			return fd, err
		}
	}
}

// preadFull is one pread(2), retried on EINTR (the runtime's preemption
// signals can interrupt a system call that the os package would retry).
func preadFull(fd int, b []byte, off int64) (int, error) {
	for {
		n, err := syscall.Pread(fd, b, off)
		if !errors.Is(err, syscall.EINTR) {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}

// PreadWhole reads a single_open file (/proc/PID/stat) from offset 0 into
// *buf, growing it and reading again from 0 while a read fills it, so the
// result is one generation of the content. The result aliases *buf. The
// error is the system call's, unwrapped.
func PreadWhole(fd int, buf *[]byte) ([]byte, error) {
	if cap(*buf) < minReadBuf {
		*buf = make([]byte, 0, minReadBuf)
	}
	for {
		b := (*buf)[:cap(*buf)]
		n, err := preadFull(fd, b, 0)
		if err != nil {
			return nil, err
		}
		if n < len(b) {
			return b[:n], nil
		}
		*buf = make([]byte, 0, 2*cap(*buf))
	}
}

// OpenAndRead opens a small single_open file (/proc/PID/stat) and reads it:
// two system calls where os.ReadFile makes about six before its close. It
// returns the content, which aliases *buf, and the open descriptor, which the
// caller keeps for the next PreadWhole or closes with syscall.Close; on error
// the descriptor is -1 and the error is the system call's, unwrapped. path is
// a byte slice the caller reuses, so that building it does not allocate.
func OpenAndRead(path []byte, buf *[]byte) ([]byte, int, error) {
	if len(path) == 0 {
		return nil, -1, errors.New("empty path")
	}
	// The string is only used for the duration of the call and path is not
	// modified meanwhile, so it can alias the bytes instead of copying them.
	fd, err := OpenRead(unsafe.String(&path[0], len(path)))
	if err != nil {
		return nil, -1, err
	}
	b, err := PreadWhole(fd, buf)
	if err != nil {
		syscall.Close(fd)
		return nil, -1, err
	}
	return b, fd, nil
}

// ReadOnce reads a small single_open file with open, pread and close. The
// result aliases *buf. Errors read "open PATH: ..." or "read PATH: ..." and
// wrap the system call's error.
func ReadOnce(path string, buf *[]byte) ([]byte, error) {
	fd, err := OpenRead(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer syscall.Close(fd)
	b, err := PreadWhole(fd, buf)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// ParseUint parses an unsigned decimal number the way /proc prints one: ASCII
// digits only, no sign, no spaces. It reports false for an empty, malformed
// or out-of-range number. Unlike strconv.ParseUint it takes bytes, so a
// field of a read buffer parses without a string conversion.
func ParseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
