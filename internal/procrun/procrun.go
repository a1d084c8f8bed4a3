// Package procrun holds what running a program of the configuration
// needs in every place that does (command checks, command alert
// channels): bounded capture of its output and waiting for its exit
// without reaping it.
package procrun

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// CappedBuffer keeps the first Max bytes written and counts the rest, so
// a chatty program can neither grow dashd's memory nor block on a full
// pipe.
type CappedBuffer struct {
	Max     int
	buf     []byte
	dropped int
}

// Write keeps what fits and counts the rest; it never fails.
func (b *CappedBuffer) Write(p []byte) (int, error) {
	room := min(b.Max-len(b.buf), len(p))
	if room > 0 {
		b.buf = append(b.buf, p[:room]...)
	}
	b.dropped += len(p) - max(room, 0)
	return len(p), nil
}

// Kept is the bytes kept, as written (what an output check matches).
func (b *CappedBuffer) Kept() []byte { return b.buf }

// String is what was kept (invalid UTF-8 replaced), and how much was not.
func (b *CappedBuffer) String() string {
	s := strings.ToValidUTF8(string(b.buf), "?")
	if b.dropped > 0 {
		return s + fmt.Sprintf("\n[%d more bytes not kept]", b.dropped)
	}
	return s
}

// WaitExit blocks until process pid has exited, leaving it unreaped
// (WNOWAIT) so exec.Cmd.Wait still collects its status: the caller can
// kill what the program left in its process group in between.
func WaitExit(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			if err != nil {
				return fmt.Errorf("waitid %d: %w", pid, err)
			}
			return nil
		}
	}
}
