package hub

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketOutq returns the bytes the socket holds that its peer has not
// acknowledged (sent or not yet sent): SIOCOUTQ, one ioctl.
func socketOutq(rc syscall.RawConn) (int, error) {
	var n int
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil {
		return 0, fmt.Errorf("hub: socket send queue: %w", err)
	}
	if ierr != nil {
		return 0, fmt.Errorf("hub: socket send queue: %w", ierr)
	}
	return n, nil
}
