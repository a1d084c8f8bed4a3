package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dashd/dashd/selfstat"
)

type fanoutConfig struct {
	n        int
	duration time.Duration
	frag     int
	dialers  int
	settle   time.Duration
	verbose  bool
	mode     string // "hub": the hub in-process; "daemon": a real dashd binary
	bin      string // daemon mode: the dashd binary
	checks   int    // daemon mode: checks in its config
}

// fanoutPhase is what one phase (hub or floor) measured.
type fanoutPhase struct {
	mode          string
	connected     int // clients that got the response head
	held          int // clients still open at the end
	serverClients int // clients the server counted at the end
	evictions     uint64
	broadcasts    int
	delivered     int64
	offsets       []time.Duration // each delivery minus the first delivery of its broadcast
	spreads       []time.Duration // last minus first delivery, per broadcast
	latencies     []time.Duration // each delivery minus the broadcast command
	rssBase       int64           // server RSS before any client, bytes
	rssHeld       int64           // server RSS with every client connected, after the broadcasts
	cpu           time.Duration   // server CPU over the broadcasts
	connectTime   time.Duration
}

func runFanout(args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	var cfg fanoutConfig
	fs.IntVar(&cfg.n, "n", 1000, "SSE clients to open")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "broadcast phase; one broadcast per second")
	fs.IntVar(&cfg.frag, "frag", 2048, "fragment size in bytes")
	fs.IntVar(&cfg.dialers, "dialers", 200, "concurrent dials while connecting")
	fs.DurationVar(&cfg.settle, "settle", 5*time.Second, "how long to wait for the last deliveries")
	fs.BoolVar(&cfg.verbose, "v", false, "print the spread of every broadcast")
	fs.StringVar(&cfg.mode, "mode", "hub", "hub: a hub.Hub in a child process with a synthetic fragment; "+
		"daemon: the real dashd binary (-bin), its /api/events and its real ticks")
	fs.StringVar(&cfg.bin, "bin", "bin/dashd", "daemon mode: dashd binary to measure (build with make build)")
	fs.IntVar(&cfg.checks, "checks", 6, "daemon mode: checks (HTTP and TCP, every 10s, against a local target)")
	replay := fs.String("replay-floor", "", "") // hidden: the daemon mode's floor child
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *replay != "":
		return runReplayFloor(*replay)
	case cfg.mode == "daemon":
		return runFanoutDaemon(cfg)
	case cfg.mode != "hub":
		return fmt.Errorf("fanout: -mode is hub or daemon, not %q", cfg.mode)
	}
	limit, err := raiseFileLimit(uint64(cfg.n) + 1024)
	if err != nil {
		return err
	}
	if limit < uint64(cfg.n)+64 {
		return fmt.Errorf("file descriptor limit %d is too low for %d clients", limit, cfg.n)
	}
	payload := len(chunkFrame(mustEncodeFragment(benchFragment(1, cfg.frag))))
	fmt.Printf("fanout: N=%d, %d broadcasts (1/s), fragment %d B (%d B per client on the wire), GOMAXPROCS-visible CPUs: loader and server share this machine\n\n",
		cfg.n, int(cfg.duration/time.Second), cfg.frag, payload)

	var results []*fanoutPhase
	for _, mode := range []string{"hub", "floor"} {
		r, err := runFanoutPhase(mode, cfg)
		if err != nil {
			return fmt.Errorf("%s phase: %w", mode, err)
		}
		results = append(results, r)
	}
	reportFanout(os.Stdout, cfg, results)
	return nil
}

// fanoutChild is the server process of one phase.
type fanoutChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	addr  string
}

func startFanoutChild(mode string, frag int) (*fanoutChild, error) {
	return startChild("serve", "-mode", mode, "-frag", strconv.Itoa(frag))
}

// startChild re-executes this binary with args as a server child and reads
// its "addr HOST:PORT" line.
func startChild(args ...string) (*fanoutChild, error) {
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	c := &fanoutChild{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	line, err := c.readLine()
	if err != nil {
		return nil, err
	}
	c.addr = strings.TrimPrefix(line, "addr ")
	return c, nil
}

func (c *fanoutChild) readLine() (string, error) {
	if !c.out.Scan() {
		return "", fmt.Errorf("server: no output: %v", c.out.Err())
	}
	return c.out.Text(), nil
}

func (c *fanoutChild) stats() (clients int, evictions uint64, err error) {
	if _, err := fmt.Fprintln(c.stdin, "s"); err != nil {
		return 0, 0, err
	}
	line, err := c.readLine()
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscanf(line, "clients %d evictions %d", &clients, &evictions)
	return clients, evictions, err
}

func (c *fanoutChild) stop() error {
	fmt.Fprintln(c.stdin, "q")
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		return errors.New("server did not exit; killed")
	}
}

// sseReader is one client connection of the load generator.
type sseReader struct {
	conn  net.Conn
	alive atomic.Bool
}

func runFanoutPhase(mode string, cfg fanoutConfig) (_ *fanoutPhase, err error) {
	srv, err := startFanoutChild(mode, cfg.frag)
	if err != nil {
		return nil, err
	}
	// A server that fails on its way out fails the phase: its figures may
	// not be what they seem.
	defer func() {
		if serr := srv.stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("%s server: stop: %w", mode, serr))
		}
	}()
	pid := srv.cmd.Process.Pid
	res := &fanoutPhase{mode: mode}
	time.Sleep(200 * time.Millisecond) // let the runtime settle before the baseline
	if res.rssBase, err = readRSS(pid); err != nil {
		return nil, err
	}

	rounds := int(cfg.duration / time.Second)
	if rounds < 1 {
		rounds = 1
	}
	// recv[r][i] is when client i saw broadcast r+1, as time since start; 0 if never.
	recv := make([][]int64, rounds)
	for r := range recv {
		recv[r] = make([]int64, cfg.n)
	}
	var delivered atomic.Int64
	start := time.Now()

	readers := make([]*sseReader, cfg.n)
	sem := make(chan struct{}, cfg.dialers)
	var wg, readWG sync.WaitGroup
	var connectErrs atomic.Int64
	var firstErr atomic.Value
	t0 := time.Now()
	for i := range readers {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := connectSSE(srv.addr)
			if err != nil {
				connectErrs.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			readers[i] = r
			readWG.Add(1)
			go func() {
				defer readWG.Done()
				r.read(i, start, recv, &delivered)
			}()
		}()
	}
	wg.Wait()
	res.connectTime = time.Since(t0)
	if n := connectErrs.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d connects failed, first: %v\n", mode, n, firstErr.Load())
	}
	for _, r := range readers {
		if r != nil {
			res.connected++
		}
	}
	// Wait until the server counts every client we hold.
	deadline := time.Now().Add(10 * time.Second)
	for {
		clients, _, err := srv.stats()
		if err != nil {
			return nil, err
		}
		if clients >= res.connected || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	cpu0, err := readCPU(pid)
	if err != nil {
		return nil, err
	}
	sent := make([]int64, rounds)
	tick := time.NewTicker(time.Second)
	for r := 0; r < rounds; r++ {
		<-tick.C
		sent[r] = int64(time.Since(start))
		if _, err := fmt.Fprintf(srv.stdin, "b %d\n", r+1); err != nil {
			return nil, err
		}
	}
	tick.Stop()
	want := int64(rounds * res.connected)
	settle := time.Now().Add(cfg.settle)
	for delivered.Load() < want && time.Now().Before(settle) {
		time.Sleep(20 * time.Millisecond)
	}
	cpu1, err := readCPU(pid)
	if err != nil {
		return nil, err
	}
	res.cpu = cpu1 - cpu0
	res.broadcasts = rounds
	if res.rssHeld, err = readRSS(pid); err != nil {
		return nil, err
	}
	if res.serverClients, res.evictions, err = srv.stats(); err != nil {
		return nil, err
	}
	for _, r := range readers {
		if r != nil && r.alive.Load() {
			res.held++
		}
	}
	for _, r := range readers {
		if r != nil {
			r.conn.Close()
		}
	}
	readWG.Wait()
	res.delivered = delivered.Load()

	for r := range recv {
		var first, last int64
		for _, ts := range recv[r] {
			if ts == 0 {
				continue
			}
			if first == 0 || ts < first {
				first = ts
			}
			last = max(last, ts)
		}
		if first == 0 {
			continue
		}
		res.spreads = append(res.spreads, time.Duration(last-first))
		for _, ts := range recv[r] {
			if ts != 0 {
				res.offsets = append(res.offsets, time.Duration(ts-first))
				res.latencies = append(res.latencies, time.Duration(ts-sent[r]))
			}
		}
	}
	return res, nil
}

// connectSSE opens one stream and reads its response head.
func connectSSE(addr string) (*sseReader, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(conn, "GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\nDatastar-Request: true\r\n\r\n"); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	head := make([]byte, 0, 512)
	buf := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := conn.Read(buf); err != nil {
			conn.Close()
			return nil, fmt.Errorf("read head: %w", err)
		}
		head = append(head, buf[0])
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) {
		conn.Close()
		return nil, fmt.Errorf("bad head %q", head)
	}
	_ = conn.SetReadDeadline(time.Time{})
	r := &sseReader{conn: conn}
	r.alive.Store(true)
	return r, nil
}

// read records when each broadcast's marker arrives; markers may straddle
// two reads, so the tail of each read is kept.
func (r *sseReader) read(i int, start time.Time, recv [][]int64, delivered *atomic.Int64) {
	defer r.alive.Store(false)
	const keep = 32
	marker := []byte(`data-seq="`)
	buf := make([]byte, 8192)
	carry := 0
	last := 0
	for {
		n, err := r.conn.Read(buf[carry:])
		if err != nil {
			return
		}
		now := int64(time.Since(start))
		data := buf[:carry+n]
		for off := 0; ; {
			j := bytes.Index(data[off:], marker)
			if j < 0 {
				break
			}
			p := off + j + len(marker)
			if p+6 > len(data) {
				break
			}
			seq, err := strconv.Atoi(string(data[p : p+6]))
			off = p + 6
			if err != nil || seq <= last || seq > len(recv) {
				continue
			}
			last = seq
			recv[seq-1][i] = now
			delivered.Add(1)
		}
		carry = copy(buf, data[max(0, len(data)-keep):])
	}
}

// readRSS returns VmRSS of pid in bytes.
func readRSS(pid int) (int64, error) {
	u, err := selfstat.ReadProc(fmt.Sprintf("/proc/%d", pid))
	return int64(u.RSSBytes), err
}

// readCPU returns the CPU time of all threads of pid, from schedstat (ns),
// which is finer than the clock ticks of /proc/PID/stat.
func readCPU(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // thread exited
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += ns
		}
	}
	return time.Duration(total), nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func reportFanout(w io.Writer, cfg fanoutConfig, rs []*fanoutPhase) {
	hubR, floor := rs[0], rs[1]
	row := func(name string, f func(r *fanoutPhase) string) {
		fmt.Fprintf(w, "%-38s %-22s %-22s\n", name, f(hubR), f(floor))
	}
	fmt.Fprintf(w, "%-38s %-22s %-22s\n", "", "hub (fiber)", "floor (bare loop)")
	row("connections held (client / server)", func(r *fanoutPhase) string {
		return fmt.Sprintf("%d / %d of %d", r.held, r.serverClients, cfg.n)
	})
	row("connect time", func(r *fanoutPhase) string { return r.connectTime.Round(time.Millisecond).String() })
	row("events delivered / expected", func(r *fanoutPhase) string {
		return fmt.Sprintf("%d / %d", r.delivered, int64(r.broadcasts*r.connected))
	})
	row("evictions", func(r *fanoutPhase) string { return strconv.FormatUint(r.evictions, 10) })
	row("spread first->client p50", func(r *fanoutPhase) string { return fmtMS(percentile(r.offsets, 0.50)) })
	row("spread first->client p99", func(r *fanoutPhase) string { return fmtMS(percentile(r.offsets, 0.99)) })
	row("spread first->last per bcast p50", func(r *fanoutPhase) string { return fmtMS(percentile(r.spreads, 0.50)) })
	row("spread first->last per bcast p99", func(r *fanoutPhase) string { return fmtMS(percentile(r.spreads, 0.99)) })
	row("latency command->client p50", func(r *fanoutPhase) string { return fmtMS(percentile(r.latencies, 0.50)) })
	row("latency command->client p99", func(r *fanoutPhase) string { return fmtMS(percentile(r.latencies, 0.99)) })
	row("server RSS idle -> held", func(r *fanoutPhase) string {
		return fmt.Sprintf("%.1f -> %.1f MB", float64(r.rssBase)/1e6, float64(r.rssHeld)/1e6)
	})
	row("server RSS per connection", func(r *fanoutPhase) string {
		if r.connected == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f KB", float64(r.rssHeld-r.rssBase)/float64(r.connected)/1024)
	})
	row("server CPU per broadcast", func(r *fanoutPhase) string {
		return fmtMS(r.cpu / time.Duration(max(1, r.broadcasts)))
	})
	if cfg.verbose {
		for _, r := range rs {
			fmt.Fprintf(w, "%s per-broadcast spreads:", r.mode)
			for _, d := range r.spreads {
				fmt.Fprintf(w, " %s", d.Round(100*time.Microsecond))
			}
			fmt.Fprintln(w)
		}
	}
	fp99 := percentile(floor.offsets, 0.99)
	if fp99 > 0 {
		fmt.Fprintf(w, "\nhub/floor p99 spread (first->client): %.2fx   per-broadcast p99: %.2fx\n",
			float64(percentile(hubR.offsets, 0.99))/float64(fp99),
			float64(percentile(hubR.spreads, 0.99))/float64(max(1, percentile(floor.spreads, 0.99))))
	}
}

func mustEncodeFragment(html string) []byte {
	b, err := encodeFragment(html)
	if err != nil {
		panic(err)
	}
	return b
}
