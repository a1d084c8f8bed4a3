package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/hub"
)

// floorStreamHead is what the floor writes on each socket first: the same head
// the hub writes, so both phases send the same bytes.
const floorStreamHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" +
	"X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"

// fragment returns an HTML fragment of exactly size bytes that carries seq
// in a fixed-width marker the load generator looks for.
func benchFragment(seq, size int) string {
	head := fmt.Sprintf(`<div id="bench" data-seq="%06d">`, seq)
	const tail = `</div>`
	pad := size - len(head) - len(tail)
	if pad < 0 {
		pad = 0
	}
	return head + strings.Repeat("x", pad) + tail
}

// chunked frames p as one HTTP/1.1 chunk, as the hub does.
func chunkFrame(p []byte) []byte {
	return append(append([]byte(strconv.FormatInt(int64(len(p)), 16)+"\r\n"), p...), "\r\n"...)
}

// runServe is the child process. It prints "addr HOST:PORT", then obeys
// commands on stdin: "b SEQ" broadcasts fragment SEQ, "s" prints
// "clients N evictions N", "q" quits.
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	mode := fs.String("mode", "hub", "hub or floor")
	frag := fs.Int("frag", 2048, "fragment size in bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := raiseFileLimit(1 << 20); err != nil {
		fmt.Fprintln(os.Stderr, "serve: raise file limit:", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	var srv fanoutServer
	switch *mode {
	case "hub":
		srv = newHubServer(ln)
	case "floor":
		srv = newFloorServer(ln)
	default:
		return fmt.Errorf("serve: unknown mode %q", *mode)
	}
	fmt.Printf("addr %s\n", ln.Addr())

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "b":
			seq, _ := strconv.Atoi(f[1])
			srv.broadcast(benchFragment(seq, *frag))
		case "s":
			clients, evictions := srv.stats()
			fmt.Printf("clients %d evictions %d\n", clients, evictions)
		case "q":
			return srv.close()
		}
	}
	return srv.close()
}

type fanoutServer interface {
	broadcast(html string)
	stats() (clients int, evictions uint64)
	close() error
}

type hubServer struct {
	hub  *hub.Hub
	app  *fiber.App
	stop context.CancelFunc
	done chan error
}

func newHubServer(ln net.Listener) *hubServer {
	h := hub.New()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/events", func(c *fiber.Ctx) error {
		return h.HandleSSE(c, hub.WithRoom("bench"))
	})
	go func() { _ = app.Listener(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	s := &hubServer{hub: h, app: app, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- h.Run(ctx) }()
	return s
}

func (s *hubServer) broadcast(html string) {
	s.hub.BroadcastToRoom("bench", hub.PatchElements(html))
}

func (s *hubServer) stats() (int, uint64) {
	st := s.hub.Stats()
	return st.Clients, st.Evictions
}

func (s *hubServer) close() error {
	s.stop()
	err := <-s.done
	return errors.Join(err, s.app.ShutdownWithTimeout(5*time.Second))
}

// floorServer is the floor: accept, answer with the stream head, and on a
// broadcast write the same bytes to every socket in one plain loop.
type floorServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newFloorServer(ln net.Listener) *floorServer {
	s := &floorServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil { // the request; content ignored
					c.Close()
					return
				}
				if _, err := c.Write([]byte(floorStreamHead)); err != nil {
					c.Close()
					return
				}
				s.mu.Lock()
				s.conns = append(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
	return s
}

func (s *floorServer) broadcast(html string) {
	payload, _ := encodeFragment(html)
	b := chunkFrame(payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_, _ = c.Write(b)
	}
}

func (s *floorServer) stats() (int, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns), 0
}

func (s *floorServer) close() error {
	err := s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	return err
}

func encodeFragment(html string) ([]byte, error) { return hub.Encode(hub.PatchElements(html)) }
