package selfstat

// Cheap reads of /proc files: raw open/pread/close through the syscall
// package. os.Open adds two or three fcntl calls and an epoll_ctl (the
// runtime tries to register every file with the network poller) to each
// open, which for a file read every second costs more than the read itself.
// collectors/system has the same reader for the host's files.

import (
	"errors"
	"fmt"
	"syscall"
)

// minReadBuf fits /proc/PID/stat and /proc/PID/statm.
const minReadBuf = 4096

// procFile is a single_open /proc file (generated whole on a read at offset
// 0, so a short read is the end) kept open and re-read with pread.
type procFile struct {
	path string
	fd   int // -1 while closed
	buf  []byte
}

// read returns the file's content; it aliases f.buf until the next read. A
// failed read closes the descriptor and tries once more with a fresh one.
func (f *procFile) read() ([]byte, error) {
	if f.fd >= 0 {
		if b, err := preadAll(f.fd, &f.buf); err == nil {
			return b, nil
		}
		_ = f.close()
	}
	fd, err := openRead(f.path)
	if err != nil {
		return nil, fmt.Errorf("selfstat: open %s: %w", f.path, err)
	}
	f.fd = fd
	b, err := preadAll(fd, &f.buf)
	if err != nil {
		_ = f.close()
		return nil, fmt.Errorf("selfstat: read %s: %w", f.path, err)
	}
	return b, nil
}

// close closes the descriptor if open.
func (f *procFile) close() error {
	if f.fd < 0 {
		return nil
	}
	err := syscall.Close(f.fd)
	f.fd = -1
	if err != nil {
		return fmt.Errorf("selfstat: close %s: %w", f.path, err)
	}
	return nil
}

// readOnce reads a small single_open file with open, pread and close.
func readOnce(path string, buf *[]byte) ([]byte, error) {
	fd, err := openRead(path)
	if err != nil {
		return nil, fmt.Errorf("selfstat: open %s: %w", path, err)
	}
	defer syscall.Close(fd)
	b, err := preadAll(fd, buf)
	if err != nil {
		return nil, fmt.Errorf("selfstat: read %s: %w", path, err)
	}
	return b, nil
}

// preadAll reads from offset 0 into *buf, growing it and reading again from 0
// while a read fills it, so the result is one generation of the content.
func preadAll(fd int, buf *[]byte) ([]byte, error) {
	if cap(*buf) < minReadBuf {
		*buf = make([]byte, 0, minReadBuf)
	}
	for {
		b := (*buf)[:cap(*buf)]
		n, err := syscall.Pread(fd, b, 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n < len(b) {
			return b[:n], nil
		}
		*buf = make([]byte, 0, 2*cap(*buf))
	}
}

// openRead opens path read-only and close-on-exec, retrying on EINTR.
func openRead(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if !errors.Is(err, syscall.EINTR) {
			return fd, err
		}
	}
}
