package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The daemon mode (fanout -mode daemon) measures the real broadcast path:
// a dashd binary with a few checks against a local target, N streams on
// its /api/events (dashboard room) from this separate process, and, per
// broadcast tick of its real scheduler, the delivery spread (last client's
// receipt minus the first's). The floor is a bare-socket server in a
// separate process (the fanout child) writing the same bytes, the ticks the
// daemon phase captured replayed in order at one a second, to the same N
// clients through the same readers.

// tickGap separates two deliveries of identical bytes: ticks are a second
// apart, a delivery spread far less.
const tickGap = 400 * time.Millisecond

// tickPhase is what one phase (daemon or floor) measured.
type tickPhase struct {
	name          string
	connected     int // clients that got the response head
	held          int // clients still open at the end
	serverClients int // streams the server counted at the end
	evictions     uint64
	connectTime   time.Duration
	window        time.Duration
	ticks         []tickDelivery     // in the window
	excluded      int                // deliveries in the window that reached fewer than half the clients
	rssBase       int64              // server RSS before any client
	rssHeld       int64              // server RSS with every client, after the window
	cpu           time.Duration      // server CPU over the window
	frames        [][]byte           // daemon: the window's broadcasts as captured, chunk-framed, in order
	runtime       map[string]float64 // daemon: Go runtime gauges from /metrics at the end
	load          [2]string          // the machine's 1-minute load average as the window began and ended
}

// tickServer is the server side of one phase.
type tickServer interface {
	pid() int
	addr() string
	// clients returns the streams the server counts and its evictions.
	clients() (int, uint64, error)
	// tick is called once a second during the window; the daemon ticks on
	// its own.
	tick(seq int) error
	stop() error
}

// tickRecorder is shared by the readers of one phase.
type tickRecorder struct {
	start time.Time
	seed  maphash.Seed
	on    atomic.Bool // receipts are recorded only while on
}

// streamClient is one stream of the load generator.
type streamClient struct {
	conn   net.Conn
	cr     chunkReader
	recs   []receipt
	tap    bool       // keeps the bytes of what it records, for the floor
	tapped []tapChunk // tap only
	alive  atomic.Bool
}

type tapChunk struct {
	hash  uint64
	frame []byte
}

// dialStream opens one stream to path on addr and reads the response head.
func dialStream(addr, path string) (*streamClient, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*streamClient, error) {
		conn.Close()
		return nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/event-stream\r\nDatastar-Request: true\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return fail(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReaderSize(conn, 8<<10)
	status, err := br.ReadSlice('\n')
	if err != nil {
		return fail(fmt.Errorf("read head: %w", err))
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200")) {
		rest, _ := br.Peek(min(br.Buffered(), 200))
		return fail(fmt.Errorf("answer %q %q", bytes.TrimSpace(status), rest))
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fail(fmt.Errorf("read head: %w", err))
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	c := &streamClient{conn: conn, cr: chunkReader{br: br}}
	c.alive.Store(true)
	return c, nil
}

// read records every broadcast chunk the stream carries while rec is on.
func (c *streamClient) read(rec *tickRecorder) {
	defer c.alive.Store(false)
	for {
		p, err := c.cr.next()
		if err != nil {
			return
		}
		at := int64(time.Since(rec.start))
		if !rec.on.Load() || bytes.Equal(p, heartbeat) {
			continue
		}
		h := maphash.Bytes(rec.seed, p)
		c.recs = append(c.recs, receipt{hash: h, at: at, size: len(p)})
		if c.tap {
			c.tapped = append(c.tapped, tapChunk{hash: h, frame: chunkFrame(bytes.Clone(p))})
		}
	}
}

// runTickPhase connects cfg.n streams to srv, records a window of ticks and
// measures the server meanwhile.
func runTickPhase(name string, srv tickServer, path string, cfg fanoutConfig) (*tickPhase, error) {
	res := &tickPhase{name: name}
	var err error
	time.Sleep(time.Second) // let the runtime settle before the baseline
	if res.rssBase, err = readRSS(srv.pid()); err != nil {
		return nil, err
	}
	rec := &tickRecorder{start: time.Now(), seed: maphash.MakeSeed()}
	clients := make([]*streamClient, cfg.n)
	sem := make(chan struct{}, cfg.dialers)
	var wg, readWG sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	var tapped atomic.Bool // the first stream to open keeps the bytes
	t0 := time.Now()
	for i := range clients {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dialStream(srv.addr(), path)
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			c.tap = tapped.CompareAndSwap(false, true)
			clients[i] = c
			readWG.Add(1)
			go func() {
				defer readWG.Done()
				c.read(rec)
			}()
		}()
	}
	wg.Wait()
	res.connectTime = time.Since(t0)
	// Whatever happens next, no reader outlives the phase.
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.conn.Close()
			}
		}
		readWG.Wait()
	}()
	if n := failed.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d of %d streams failed to open, first: %v\n", name, n, cfg.n, firstErr.Load())
	}
	for _, c := range clients {
		if c != nil {
			res.connected++
		}
	}
	if res.connected == 0 {
		return nil, errors.New("no stream opened")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, _, err := srv.clients()
		if err != nil {
			return nil, err
		}
		if n >= res.connected || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The initial states are written by now; what follows is broadcasts.
	time.Sleep(cfg.settle)
	rec.on.Store(true)
	// A tick in flight when recording began is partly missed: the window
	// starts a little later.
	time.Sleep(time.Second)
	from := int64(time.Since(rec.start))
	res.load[0] = loadAverage()
	cpu0, err := readCPU(srv.pid())
	if err != nil {
		return nil, err
	}
	rounds := max(int(cfg.duration/time.Second), 1)
	tick := time.NewTicker(time.Second)
	for k := 1; k <= rounds; k++ {
		if err := srv.tick(k); err != nil { // the floor's k-th tick, sent at the k-th second's start
			tick.Stop()
			return nil, err
		}
		<-tick.C
	}
	tick.Stop()
	to := int64(time.Since(rec.start))
	res.load[1] = loadAverage()
	cpu1, err := readCPU(srv.pid())
	if err != nil {
		return nil, err
	}
	res.cpu, res.window = cpu1-cpu0, time.Duration(to-from)
	time.Sleep(cfg.settle) // the last tick's deliveries
	rec.on.Store(false)
	if res.rssHeld, err = readRSS(srv.pid()); err != nil {
		return nil, err
	}
	if res.serverClients, res.evictions, err = srv.clients(); err != nil {
		return nil, err
	}
	if d, ok := srv.(*benchDaemon); ok {
		if res.runtime, err = d.runtimeGauges(); err != nil {
			return nil, err
		}
	}
	for _, c := range clients {
		if c != nil && c.alive.Load() {
			res.held++
		}
	}
	for _, c := range clients {
		if c != nil {
			c.conn.Close()
		}
	}
	readWG.Wait()

	recs := make([][]receipt, 0, res.connected)
	for _, c := range clients {
		if c != nil {
			recs = append(recs, c.recs)
		}
	}
	all := inWindow(groupTicks(recs, tickGap), from, to, 1)
	res.ticks = inWindow(all, from, to, max(res.connected/2, 1))
	res.excluded = len(all) - len(res.ticks)
	inTicks := map[uint64]bool{}
	for _, d := range res.ticks {
		inTicks[d.hash] = true
	}
	for _, c := range clients {
		if c == nil || !c.tap {
			continue
		}
		for _, t := range c.tapped {
			if inTicks[t.hash] {
				res.frames = append(res.frames, t.frame)
			}
		}
	}
	return res, nil
}

// loadAverage is the machine's 1-minute load average, to tell a window
// that other work on the machine disturbed ("?" when unknown).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// runFanoutDaemon is fanout -mode daemon.
func runFanoutDaemon(cfg fanoutConfig) error {
	if _, err := os.Stat(cfg.bin); err != nil {
		return fmt.Errorf("dashd binary: %w (build it with make build)", err)
	}
	// The daemon inherits this soft limit (and the Go runtime raises its
	// own to the hard one); the streams caps are set in its config.
	limit, err := raiseFileLimit(uint64(cfg.n) + 2048)
	if err != nil {
		return err
	}
	if limit < uint64(cfg.n)+256 {
		return fmt.Errorf("file descriptor limit %d is too low for %d clients (raise the hard limit: ulimit -Hn)", limit, cfg.n)
	}
	fmt.Printf("fanout -mode daemon: N=%d, %s window, %s and a bare-socket floor replaying its ticks; loader and servers share this machine\n\n",
		cfg.n, cfg.duration, cfg.bin)

	d, err := startBenchDaemon(cfg)
	if err != nil {
		return err
	}
	dr, err := runTickPhase("daemon", d, "/api/events", cfg)
	if serr := d.stop(); serr != nil {
		err = errors.Join(err, fmt.Errorf("dashd: stop: %w", serr))
	}
	if err != nil {
		return fmt.Errorf("daemon phase: %w", err)
	}
	if len(dr.frames) == 0 {
		return errors.New("daemon phase: no tick captured to replay for the floor")
	}

	f, err := startReplayFloor(dr.frames)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	fr, err := runTickPhase("floor", f, "/events", cfg)
	if serr := f.stop(); serr != nil {
		err = errors.Join(err, fmt.Errorf("floor: stop: %w", serr))
	}
	if err != nil {
		return fmt.Errorf("floor phase: %w", err)
	}
	reportTickPhases(os.Stdout, cfg, dr, fr)
	return nil
}

// benchDaemon is a dashd started for the daemon phase.
type benchDaemon struct {
	cmd  *exec.Cmd
	dir  string
	web  *http.Server
	base string
	host string
	log  *capped
	done chan struct{}
	err  error // the exit, once done is closed
}

// startBenchDaemon starts dashd with a handful of checks against a local
// target, a temporary data dir, and stream caps above N.
func startBenchDaemon(cfg fanoutConfig) (*benchDaemon, error) {
	dir, err := os.MkdirTemp("", "dashd-fanout-")
	if err != nil {
		return nil, err
	}
	d := &benchDaemon{dir: dir, log: &capped{max: 1 << 20}, done: make(chan struct{})}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.cleanup()
		return nil, err
	}
	d.web = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })}
	go d.web.Serve(wl)
	if d.host, err = freeLoopback(); err != nil {
		d.cleanup()
		return nil, err
	}
	d.base = "http://" + d.host
	var c strings.Builder
	// Caps above N: every stream comes from 127.0.0.1.
	fmt.Fprintf(&c, "server:\n  limits:\n    max_connections: %d\n    max_connections_per_address: %d\n    max_streams: %d\n    max_streams_per_address: %d\n",
		cfg.n+2000, cfg.n+2000, cfg.n+1000, cfg.n+1000)
	c.WriteString("checks:\n")
	for i := range cfg.checks {
		if i%2 == 0 {
			fmt.Fprintf(&c, "  - name: web-%d\n    type: http\n    url: http://%s/health\n    json_path: status\n    json_equals: ok\n", i, wl.Addr())
		} else {
			fmt.Fprintf(&c, "  - name: port-%d\n    type: tcp\n    address: %s\n", i, wl.Addr())
		}
		c.WriteString("    interval: 10s\n")
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(c.String()), 0o644); err != nil {
		d.cleanup()
		return nil, err
	}
	d.cmd = exec.Command(cfg.bin, "--config", cfgPath, "--data", filepath.Join(dir, "dashd.db"), "--listen", d.host)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.cleanup()
		return nil, fmt.Errorf("start %s: %w", cfg.bin, err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	if err := waitUp(d.base+"/readyz", 30*time.Second); err != nil {
		return nil, errors.Join(fmt.Errorf("%w; its log:\n%s", err, d.log), d.stop())
	}
	return d, nil
}

func (d *benchDaemon) pid() int     { return d.cmd.Process.Pid }
func (d *benchDaemon) addr() string { return d.host }
func (d *benchDaemon) tick(int) error {
	select {
	case <-d.done:
		return fmt.Errorf("dashd exited: %v; its log:\n%s", d.err, d.log)
	default:
		return nil
	}
}

// clients reads the stream count and evictions from dashd's /metrics.
func (d *benchDaemon) clients() (int, uint64, error) {
	m, err := (&attackTarget{base: d.base}).metrics()
	if err != nil {
		return 0, 0, err
	}
	return int(m["dashd_sse_streams"]), uint64(m["dashd_sse_evictions_total"]), nil
}

// runtimeGauges reads dashd's goroutines and heap and stack bytes from its
// /metrics: steadier than RSS, which holds whatever the heap grew to while
// N clients connected until the runtime returns it.
func (d *benchDaemon) runtimeGauges() (map[string]float64, error) {
	m, err := (&attackTarget{base: d.base}).metrics()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, k := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes"} {
		out[k] = m[k]
	}
	return out, nil
}

// stop ends dashd with SIGINT; an unclean exit is an error.
func (d *benchDaemon) stop() error {
	defer d.cleanup()
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		_ = d.cmd.Process.Signal(syscall.SIGKILL)
		<-d.done
		return fmt.Errorf("did not exit within 60 s of SIGINT; killed")
	}
	if d.err != nil {
		return fmt.Errorf("%w; its log:\n%s", d.err, d.log)
	}
	return nil
}

func (d *benchDaemon) cleanup() {
	if d.web != nil {
		d.web.Close()
	}
	os.RemoveAll(d.dir)
}
