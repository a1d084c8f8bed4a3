package system

// Cheap reads of /proc files.
//
// Opening a file through os.Open costs openat, two or three fcntl and an
// epoll_ctl (the runtime tries to register every new file with the network
// poller; procfs files either fail that or need an EPOLL_CTL_DEL at close)
// before the one read(2) that matters. The per-tick files are therefore
// opened once with the syscall package and re-read in place with pread at
// offset 0: procfs regenerates a seq file's content on a read at offset 0, and
// a regular file (the fixture trees) shows whatever it holds now. The
// /proc/PID/stat files read on every process refresh are kept open the same
// way, up to a budget (see top.go); beyond it they are opened, read and
// closed with three raw system calls.

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"
)

// minReadBuf is the initial read buffer: most per-tick files fit in it.
const minReadBuf = 4096

// procFile is one file kept open between ticks and re-read with pread. It is
// owned by the goroutine running the Sampler; the zero fd is never used (see
// open).
type procFile struct {
	path string
	// whole is true for files the kernel generates in one piece on a read at
	// offset 0 (single_open: /proc/stat, /proc/meminfo, /proc/loadavg,
	// /proc/uptime, sysctl files): a short read is the end, as procps
	// assumes, which saves the read(2) that would return 0. Record-by-record
	// seq files (/proc/diskstats, /proc/net/dev) return at most a page per
	// read and are read to EOF.
	whole bool
	fd    int // -1 while closed
	buf   []byte
}

func newProcFile(path string, whole bool) *procFile {
	return &procFile{path: path, whole: whole, fd: -1}
}

// read returns the file's current content. The result aliases the file's
// buffer: it is only valid until the next read. A failed read closes the
// file and tries once more with a fresh descriptor (the file may have been
// replaced or may have vanished and come back).
func (f *procFile) read() ([]byte, error) {
	if f.fd >= 0 {
		b, err := f.pread()
		if err == nil {
			return b, nil
		}
		f.close()
	}
	fd, err := openRead(f.path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.path, err)
	}
	f.fd = fd
	b, err := f.pread()
	if err != nil {
		f.close()
		return nil, fmt.Errorf("read %s: %w", f.path, err)
	}
	return b, nil
}

// pread reads the whole file from offset 0 into f.buf, growing it as needed.
func (f *procFile) pread() ([]byte, error) {
	if cap(f.buf) < minReadBuf {
		f.buf = make([]byte, 0, minReadBuf)
	}
	if f.whole {
		return preadWhole(f.fd, &f.buf)
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

// close closes the descriptor if open; the next read reopens the file.
func (f *procFile) close() error {
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

// openRead opens path read-only and close-on-exec with a raw open(2): no
// os.File, so no poller registration and no extra fcntl calls.
func openRead(path string) (int, error) {
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

// preadWhole reads a single_open file (/proc/PID/stat) from offset 0 into
// *buf, growing it and reading again from 0 while a read fills it, so the
// result is one generation of the content. The result aliases *buf.
func preadWhole(fd int, buf *[]byte) ([]byte, error) {
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

// openAndRead opens a small single_open file (/proc/PID/stat) and reads it:
// two system calls where os.ReadFile makes about six before its close. It
// returns the content, which aliases *buf, and the open descriptor, which the
// caller keeps for the next pread or closes. path is a byte slice the caller
// reuses, so that building it does not allocate.
func openAndRead(path []byte, buf *[]byte) ([]byte, int, error) {
	if len(path) == 0 {
		return nil, -1, errors.New("empty path")
	}
	// The string is only used for the duration of the call and path is not
	// modified meanwhile, so it can alias the bytes instead of copying them.
	fd, err := openRead(unsafe.String(&path[0], len(path)))
	if err != nil {
		return nil, -1, err
	}
	b, err := preadWhole(fd, buf)
	if err != nil {
		syscall.Close(fd)
		return nil, -1, err
	}
	return b, fd, nil
}
