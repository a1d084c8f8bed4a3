//go:build !linux

package hub

import (
	"errors"
	"syscall"
)

// socketOutq is only known on Linux; elsewhere streams are not checked
// (a stuck client is still evicted when a write times out).
func socketOutq(syscall.RawConn) (int, error) {
	return 0, errors.New("hub: socket send queue: not supported on this system")
}
