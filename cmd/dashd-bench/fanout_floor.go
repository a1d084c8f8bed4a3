package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// The daemon mode's floor is the fanout child's bare socket loop writing
// the ticks the daemon phase captured: started as "fanout -replay-floor
// FILE" (FILE holds the ticks as HTTP chunks), it speaks the serve child's
// protocol on stdin and stdout, and "b SEQ" writes tick SEQ (cycling
// through the file) to every socket.

// replayFloor is the daemon mode's floor child, seen from the load
// generator.
type replayFloor struct {
	child *fanoutChild
	file  string
}

// startReplayFloor writes frames to a temporary file and starts the child
// that replays them.
func startReplayFloor(frames [][]byte) (*replayFloor, error) {
	f, err := os.CreateTemp("", "dashd-fanout-ticks-")
	if err != nil {
		return nil, err
	}
	_, err = f.Write(bytes.Join(frames, nil))
	err = errors.Join(err, f.Close())
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("write ticks: %w", err)
	}
	c, err := startChild("fanout", "-replay-floor", f.Name())
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &replayFloor{child: c, file: f.Name()}, nil
}

func (r *replayFloor) pid() int     { return r.child.cmd.Process.Pid }
func (r *replayFloor) addr() string { return r.child.addr }
func (r *replayFloor) clients() (int, uint64, error) {
	return r.child.stats()
}
func (r *replayFloor) tick(seq int) error {
	_, err := fmt.Fprintf(r.child.stdin, "b %d\n", seq)
	return err
}
func (r *replayFloor) stop() error {
	defer os.Remove(r.file)
	return r.child.stop()
}

// runReplayFloor is the child: the floor server, replaying the ticks in
// file on command.
func runReplayFloor(file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("replay floor: %w", err)
	}
	frames, err := readFrames(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("replay floor: %s: %w", file, err)
	}
	if len(frames) == 0 {
		return fmt.Errorf("replay floor: %s holds no tick", file)
	}
	if _, err := raiseFileLimit(1 << 20); err != nil {
		fmt.Fprintln(os.Stderr, "replay floor: raise file limit:", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("replay floor: listen: %w", err)
	}
	srv := newFloorServer(ln)
	fmt.Printf("addr %s\n", ln.Addr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "b":
			seq := 0
			if len(f) == 2 {
				seq, _ = strconv.Atoi(f[1])
			}
			if seq < 1 {
				return fmt.Errorf("replay floor: bad command %q", sc.Text())
			}
			srv.writeAll(frames[(seq-1)%len(frames)])
		case "s":
			clients, evictions := srv.stats()
			fmt.Printf("clients %d evictions %d\n", clients, evictions)
		case "q":
			return srv.close()
		}
	}
	return srv.close()
}

// writeAll writes b to every socket in one plain loop: the floor.
func (s *floorServer) writeAll(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_, _ = c.Write(b)
	}
}
