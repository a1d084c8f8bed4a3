package main

import (
	"fmt"
	"syscall"
)

// raiseFileLimit lifts RLIMIT_NOFILE to at least want if the hard limit (or
// privilege) allows, else to the hard limit; it returns the soft limit now
// in force. 10,000 loopback clients need 10,000 descriptors on each side.
func raiseFileLimit(want uint64) (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur >= want {
		return rl.Cur, nil
	}
	if rl.Max < want {
		try := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try); err == nil {
			return want, nil
		}
	}
	rl.Cur = min(want, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("setrlimit %d: %w", rl.Cur, err)
	}
	return rl.Cur, nil
}
