package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dashd/dashd/selfstat"
)

// runAttack starts a real dashd binary on loopback and runs the attacks of
// issue #12 against it one after the other, each for -duration, reporting
// what dashd answered, its RSS, the latency of /healthz probed from a loopback
// address of its own, and whether dashd is still alive. Load generator and
// daemon share the machine: the latencies include that contention.
//
// All traffic goes to 127.0.0.1; attackers dial from other 127/8 addresses
// (Linux routes all of 127.0.0.0/8 to lo) so per-address caps apply.
func runAttack(args []string) error {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	bin := fs.String("bin", "bin/dashd", "dashd binary to attack (build with make build)")
	dur := fs.Duration("duration", 10*time.Second, "how long each attack runs")
	nofile := fs.Int("nofile", 4096, "RLIMIT_NOFILE for dashd, set with prlimit(1) (0: inherit), so the floods reach its caps")
	stuckMax := fs.Duration("stuck-max", 2*time.Minute, "how long the stuck-reader attack waits for every stuck stream to be evicted")
	only := fs.String("only", "", "comma-separated attack names to run (default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ourLimit, err := raiseFileLimit(1 << 16)
	if err != nil {
		return err
	}
	d, err := startAttackTarget(*bin, *nofile)
	if err != nil {
		return err
	}
	defer d.stop()
	d.maxHeld = max(int(ourLimit)-512, 64)
	fmt.Printf("dashd-bench attack: %s, pid %d, listening on %s\n  %s\n  each attack %s; /healthz probed every %s from %s (a new connection each time)\n  the load generator holds at most %d connections (its RLIMIT_NOFILE is %d)\n\n",
		*bin, d.pid, d.addr, d.limitsLine, *dur, probeEvery, probeSource, d.maxHeld, ourLimit)

	var reports []*attackReport
	for _, a := range attacks(*stuckMax) {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), a.name) {
			continue
		}
		r := d.runOne(a, *dur)
		reports = append(reports, r)
		r.print()
		if !r.alive {
			fmt.Println("dashd is gone: the remaining attacks are skipped")
			break
		}
	}
	printAttackTable(reports)
	return nil
}

// Loopback source addresses: attackers, the /healthz prober, and the ones
// several-address floods add.
const (
	attacker    = "127.0.0.2"
	probeSource = "127.0.0.250"
	probeEvery  = 100 * time.Millisecond
)

var moreAttackers = []string{"127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"}

// attack is one kind of hostile traffic. run generates it until ctx ends,
// tallies dashd's answers in r, and releases everything it holds before it
// returns.
type attack struct {
	name, what string
	run        func(ctx context.Context, d *attackTarget, r *attackReport)
	// wait is how long run may take beyond the -duration (0: it ends with it).
	wait time.Duration
}

func attacks(stuckMax time.Duration) []attack {
	return []attack{
		{name: "baseline", what: "no attack", run: func(ctx context.Context, _ *attackTarget, _ *attackReport) { <-ctx.Done() }},
		{name: "gzip-bomb", what: "4 clients POST double-gzipped 64 and 128 MiB JSON to /api/session/name and /chat/ops/send", run: gzipBomb},
		{name: "stream-flood", what: "64 dialers open and hold dashboard streams, from 1 address, then from 5", run: streamFlood},
		{name: "conn-flood", what: "64 dialers open and hold idle and slowloris connections, from 1 address, then from 5", run: connFlood},
		{name: "chat-flood", what: "8 clients (8 addresses, no cookies) post 500-char messages into 1000 rooms", run: chatFlood},
		{name: "stuck-readers", what: "100 dashboard streams that never read (SO_RCVBUF 4 KiB), one reading browser", run: stuckReaders, wait: stuckMax},
		{name: "dns-rebinding", what: "4 clients send pages, API, stream and chat requests with Host: rebind.attacker.example", run: dnsRebinding},
	}
}

// attackTarget is the dashd under attack.
type attackTarget struct {
	cmd        *exec.Cmd
	pid        int
	addr, base string
	db         string
	dir        string
	log        *capped
	limitsLine string
	done       chan struct{}
	maxHeld    int // connections the load generator may hold at once
	web        *http.Server
}

// capped keeps the first max bytes written to it (dashd's log).
type capped struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

func startAttackTarget(bin string, nofile int) (*attackTarget, error) {
	dir, err := os.MkdirTemp("", "dashd-attack-")
	if err != nil {
		return nil, err
	}
	d := &attackTarget{dir: dir, db: filepath.Join(dir, "dashd.db"), log: &capped{max: 4 << 20}, done: make(chan struct{})}
	// Check targets on loopback, so the checks do real work meanwhile.
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d.web = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })}
	go d.web.Serve(wl)
	cfg := fmt.Sprintf("checks:\n  - name: web\n    type: http\n    url: http://%s/health\n    interval: 5s\n  - name: port\n    type: tcp\n    address: %s\n    interval: 5s\n", wl.Addr(), wl.Addr())
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		d.cleanup()
		return nil, err
	}
	if d.addr, err = freeLoopback(); err != nil {
		d.cleanup()
		return nil, err
	}
	d.base = "http://" + d.addr
	argv := []string{bin, "--config", cfgPath, "--data", d.db, "--listen", d.addr}
	if nofile > 0 {
		prlimit, err := exec.LookPath("prlimit")
		if err != nil {
			d.cleanup()
			return nil, fmt.Errorf("-nofile needs prlimit (util-linux), or pass -nofile 0: %w", err)
		}
		argv = append([]string{prlimit, fmt.Sprintf("--nofile=%d:%d", nofile, nofile), "--"}, argv...)
	}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.cleanup()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d.pid = d.cmd.Process.Pid // prlimit execs dashd in place: same pid
	go func() { d.cmd.Wait(); close(d.done) }()
	if err := waitUp(d.base+"/readyz", 30*time.Second); err != nil {
		d.stop()
		return nil, fmt.Errorf("%w; its log:\n%s", err, d.log)
	}
	for _, l := range strings.Split(d.log.String(), "\n") {
		if strings.Contains(l, `msg="client limits"`) {
			_, d.limitsLine, _ = strings.Cut(l, "msg=")
		}
	}
	return d, nil
}

func (d *attackTarget) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

func (d *attackTarget) stop() {
	if d.alive() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
		}
	}
	d.cleanup()
}

func (d *attackTarget) cleanup() {
	if d.web != nil {
		d.web.Close()
	}
	os.RemoveAll(d.dir)
}

// metrics reads dashd's /metrics from 127.0.0.1 (exempt from the
// per-address caps: a local Prometheus).
func (d *attackTarget) metrics() (map[string]float64, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(d.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// settle waits until the previous attack's connections are gone from dashd.
func (d *attackTarget) settle() {
	deadline := time.Now().Add(30 * time.Second)
	var m map[string]float64
	for time.Now().Before(deadline) && d.alive() {
		var err error
		if m, err = d.metrics(); err == nil && m["dashd_http_connections"] <= 1 && m["dashd_sse_streams"] == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("(dashd still counts %.0f connections and %.0f streams from the previous attack)\n",
		m["dashd_http_connections"], m["dashd_sse_streams"])
}

// attackReport is what one attack measured.
type attackReport struct {
	name, what       string
	answers          tally
	notes            []string
	took             time.Duration
	rssStart, rssMax uint64
	cpuPct           float64
	health           healthStats
	alive            bool
	summary          string // for the table instead of the answers, when set
	logProblems      int    // WARN and ERROR lines dashd logged meanwhile
	notesMu          sync.Mutex
}

func (r *attackReport) note(format string, args ...any) {
	r.notesMu.Lock()
	defer r.notesMu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// runOne runs a with the RSS sampler and the /healthz prober around it.
func (d *attackTarget) runOne(a attack, dur time.Duration) *attackReport {
	d.settle()
	r := &attackReport{name: a.name, what: a.what}
	logBefore := len(d.log.String())
	proc := fmt.Sprintf("/proc/%d", d.pid)
	u0, _ := selfstat.ReadProc(proc)
	r.rssStart, _ = vmRSS(d.pid)

	measure, stopMeasure := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var rssMax atomic.Uint64
	rssMax.Store(r.rssStart)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for measure.Err() == nil {
			if v, err := vmRSS(d.pid); err == nil && v > rssMax.Load() {
				rssMax.Store(v)
			}
			sleepCtx(measure, 50*time.Millisecond)
		}
	}()
	var hs healthStats
	go func() { defer wg.Done(); hs = probeHealthz(measure, d.base+"/healthz") }()

	ctx, cancel := context.WithTimeout(context.Background(), dur+a.wait)
	start := time.Now()
	a.run(ctx, d, r)
	cancel()
	r.took = time.Since(start)
	stopMeasure()
	wg.Wait()

	u1, _ := selfstat.ReadProc(proc)
	r.cpuPct = (u1.CPUSeconds() - u0.CPUSeconds()) / r.took.Seconds() * 100
	r.rssMax, r.health = rssMax.Load(), hs
	r.alive = d.alive()
	if r.alive {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(d.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		r.alive = err == nil && resp.StatusCode == 200
	}
	for _, l := range strings.Split(d.log.String()[logBefore:], "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			r.logProblems++
		}
	}
	return r
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

var vmRSSRE = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB$`)

// vmRSS is VmRSS of pid, in bytes.
func vmRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := vmRSSRE.FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no VmRSS")
	}
	kb, err := strconv.ParseUint(string(m[1]), 10, 64)
	return kb << 10, err
}

// healthStats are the /healthz probes of one attack.
type healthStats struct {
	latencies []time.Duration // of the 200 answers
	failures  map[string]int  // everything else, by status or error
}

func (h healthStats) percentile(p int) time.Duration {
	if len(h.latencies) == 0 {
		return 0
	}
	s := slices.Clone(h.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func (h healthStats) failed() int {
	n := 0
	for _, v := range h.failures {
		n += v
	}
	return n
}

// probeHealthz asks /healthz every probeEvery from probeSource, each on a
// new connection, until ctx ends.
func probeHealthz(ctx context.Context, url string) healthStats {
	hs := healthStats{failures: map[string]int{}}
	client := clientFrom(probeSource, 10*time.Second, false)
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := client.Get(url)
		took := time.Since(start)
		switch {
		case err != nil:
			hs.failures[shortErr(err)]++
		case resp.StatusCode != 200:
			hs.failures[strconv.Itoa(resp.StatusCode)]++
		default:
			hs.latencies = append(hs.latencies, took)
		}
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		sleepCtx(ctx, probeEvery)
	}
	return hs
}

// shortErr names an error by its last part ("connection reset by peer").
func shortErr(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// dialerFrom dials from src, an address of 127.0.0.0/8.
func dialerFrom(src string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
}

// clientFrom is an HTTP client dialing from src; keepAlive false makes every
// request a new connection.
func clientFrom(src string, timeout time.Duration, keepAlive bool) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext:       dialerFrom(src).DialContext,
		DisableKeepAlives: !keepAlive,
		// Never decompress or ask for compression: the requests must be
		// exactly what is written here.
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
	}}
}

// tally counts answers by label.
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *tally) add(label string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]int{}
	}
	t.m[label]++
}

func (t *tally) get(label string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[label]
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s x%d", k, t.m[k]))
	}
	return strings.Join(parts, ", ")
}

// answerLabel names a response by status and, for refusals, the limit its
// message names.
func answerLabel(status int, body []byte) string {
	s := strconv.Itoa(status)
	switch b := string(body); {
	case strings.Contains(b, "live streams from one address"):
		return s + " streams/address"
	case strings.Contains(b, "live streams"):
		return s + " streams"
	case strings.Contains(b, "open connections from one address"):
		return s + " connections/address"
	case strings.Contains(b, "open connections"):
		return s + " connections"
	}
	return s
}

// held is the connections an attack holds open.
type held struct {
	mu    sync.Mutex
	conns []net.Conn
	peak  int
	wg    sync.WaitGroup // readers of held streams
}

func (h *held) add(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns = append(h.conns, c)
	h.peak = max(h.peak, len(h.conns))
}

func (h *held) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// drain reads a held stream to the end on a goroutine of h's.
func (h *held) drain(r io.Reader) {
	h.wg.Add(1)
	go func() { defer h.wg.Done(); io.Copy(io.Discard, r) }()
}

func (h *held) closeAll() {
	h.mu.Lock()
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
	h.mu.Unlock()
	h.wg.Wait()
}

// workers runs n copies of fn until ctx ends; fn gets its worker number.
func workers(ctx context.Context, n int, fn func(ctx context.Context, w int)) {
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				fn(ctx, w)
			}
		}()
	}
	wg.Wait()
}

// floodSource is attacker for the first half of the attack, then any of
// five addresses.
func floodSource(start time.Time, half time.Duration, w int) string {
	if time.Since(start) < half || w%5 == 0 {
		return attacker
	}
	return moreAttackers[w%5-1]
}

func halfOf(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl) / 2
	}
	return 5 * time.Second
}

// streamFlood opens dashboard streams as fast as 64 dialers can and holds
// (and reads) every one dashd admits.
func streamFlood(ctx context.Context, d *attackTarget, r *attackReport) {
	var h held
	start, half := time.Now(), halfOf(ctx)
	workers(ctx, 64, func(ctx context.Context, w int) {
		if h.len() >= d.maxHeld {
			sleepCtx(ctx, 50*time.Millisecond)
			return
		}
		c, err := dialerFrom(floodSource(start, half, w)).DialContext(ctx, "tcp", d.addr)
		if err != nil {
			if ctx.Err() == nil {
				r.answers.add("dial: " + shortErr(err))
			}
			return
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET /api/events HTTP/1.1\r\nHost: %s\r\nDatastar-Request: true\r\n\r\n", d.addr)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			c.Close()
			if ctx.Err() == nil {
				r.answers.add("no answer")
			}
			return
		}
		if resp.StatusCode == 200 {
			c.SetDeadline(time.Time{})
			h.add(c)
			h.drain(br)
			r.answers.add("200 stream")
			return
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		c.Close()
		label := answerLabel(resp.StatusCode, body)
		if resp.Header.Get("Retry-After") == "" {
			label += " (no Retry-After)"
		}
		r.answers.add(label)
	})
	if m, err := d.metrics(); err == nil {
		r.note("held %d streams at the end (peak %d); dashd counts %.0f streams, %.0f connections",
			h.len(), h.peak, m["dashd_sse_streams"], m["dashd_http_connections"])
	}
	h.closeAll()
}

// connFlood opens connections as fast as 64 dialers can and holds every one
// dashd does not refuse within 300 ms: half idle, half slowloris (a request
// head that never ends). The wait for a refusal runs beside the dialers.
func connFlood(ctx context.Context, d *attackTarget, r *attackReport) {
	var h held
	var open atomic.Int64 // held plus waiting for an answer
	start, half := time.Now(), halfOf(ctx)
	workers(ctx, 64, func(ctx context.Context, w int) {
		if int(open.Load()) >= d.maxHeld {
			sleepCtx(ctx, 50*time.Millisecond)
			return
		}
		c, err := dialerFrom(floodSource(start, half, w)).DialContext(ctx, "tcp", d.addr)
		if err != nil {
			if ctx.Err() == nil {
				r.answers.add("dial: " + shortErr(err))
			}
			return
		}
		n := open.Add(1)
		kind := "idle"
		if n%2 == 0 {
			kind = "slowloris"
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nX-Slow: ", d.addr)
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				c.SetReadDeadline(time.Time{})
				h.add(c)
				r.answers.add("held " + kind)
				return
			case err != nil:
				r.answers.add("closed unanswered")
			default:
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
				r.answers.add(answerLabel(resp.StatusCode, body))
			}
			c.Close()
			open.Add(-1)
		}()
	})
	h.wg.Wait()
	if m, err := d.metrics(); err == nil {
		r.note("held %d connections at the end (peak %d) that got no answer within 300 ms; dashd counts %.0f open (the rest wait in the kernel's accept queue)",
			h.len(), h.peak, m["dashd_http_connections"])
	}
	h.closeAll()
}

// gzipBomb posts small double-gzipped bodies that inflate to 64 and 128 MiB.
func gzipBomb(ctx context.Context, d *attackTarget, r *attackReport) {
	nameBomb, err := doubleGzipJSON("displayName", 128<<20)
	if err != nil {
		r.note("building the bomb: %v", err)
		return
	}
	msgBomb, err := doubleGzipJSON("message", 64<<20)
	if err != nil {
		r.note("building the bomb: %v", err)
		return
	}
	r.note("bodies on the wire: %d B (128 MiB inflated, /api/session/name), %d B (64 MiB inflated, /chat/ops/send)", len(nameBomb), len(msgBomb))
	client := clientFrom(attacker, 30*time.Second, true)
	defer client.CloseIdleConnections()
	workers(ctx, 4, func(ctx context.Context, w int) {
		path, body := "/api/session/name", nameBomb
		if w%2 == 1 {
			path, body = "/chat/ops/send", msgBomb
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", d.base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip, gzip")
		req.Header.Set("Datastar-Request", "true")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				r.answers.add("error: " + shortErr(err))
			}
			return
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		r.answers.add(strconv.Itoa(resp.StatusCode))
	})
}

// doubleGzipJSON is {"key":"aaaa..."} with n a's, gzipped twice.
func doubleGzipJSON(key string, n int) ([]byte, error) {
	var inner bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&inner, gzip.BestCompression)
	fmt.Fprintf(zw, `{%q:"`, key)
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for left := n; left > 0; left -= len(chunk) {
		if _, err := zw.Write(chunk[:min(left, len(chunk))]); err != nil {
			return nil, err
		}
	}
	io.WriteString(zw, `"}`)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var outer bytes.Buffer
	zw, _ = gzip.NewWriterLevel(&outer, gzip.BestCompression)
	zw.Write(inner.Bytes())
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return outer.Bytes(), nil
}

// chatFlood posts 500-character messages as fast as 8 clients can, each
// from its own address and without cookies (every request a new session),
// round-robin over 1000 rooms.
func chatFlood(ctx context.Context, d *attackTarget, r *attackReport) {
	size0 := fileSize(d.db)
	msg := strings.Repeat("flood ", 84)[:500]
	body := []byte(fmt.Sprintf(`{"message":%q}`, msg))
	var seq atomic.Int64
	clients := make([]*http.Client, 8)
	for i := range clients {
		clients[i] = clientFrom(fmt.Sprintf("127.0.0.%d", 2+i), 10*time.Second, true)
		defer clients[i].CloseIdleConnections()
	}
	workers(ctx, len(clients), func(ctx context.Context, w int) {
		room := fmt.Sprintf("room-%d", seq.Add(1)%1000)
		req, _ := http.NewRequestWithContext(ctx, "POST", d.base+"/chat/"+room+"/send", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Datastar-Request", "true")
		resp, err := clients[w].Do(req)
		if err != nil {
			if ctx.Err() == nil {
				r.answers.add("error: " + shortErr(err))
			}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r.answers.add(strconv.Itoa(resp.StatusCode))
	})
	time.Sleep(2 * time.Second) // the writer commits within a second
	size1 := fileSize(d.db)
	r.note("%d messages accepted; database file %s -> %s (%+.1f MB)", r.answers.get("200"),
		mb(uint64(size0)), mb(uint64(size1)), float64(size1-size0)/1e6)
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// stuckReaders opens 100 dashboard streams that never read, with a small
// receive buffer (a client can choose it), next to one reading browser, and
// waits until dashd has evicted them all, from dashd_sse_evictions_total.
func stuckReaders(ctx context.Context, d *attackTarget, r *attackReport) {
	const n = 100
	m0, err := d.metrics()
	if err != nil {
		r.note("metrics: %v", err)
		return
	}
	var h held
	defer h.closeAll()
	var browserBytes atomic.Int64
	if c, err := net.DialTimeout("tcp", d.addr, 5*time.Second); err == nil {
		fmt.Fprintf(c, "GET /api/events HTTP/1.1\r\nHost: %s\r\nDatastar-Request: true\r\n\r\n", d.addr)
		h.add(c)
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				k, err := c.Read(buf)
				browserBytes.Add(int64(k))
				if err != nil {
					return
				}
			}
		}()
	}
	dialer := dialerFrom(attacker)
	dialer.Control = func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}
	start := time.Now()
	for range n {
		c, err := dialer.DialContext(ctx, "tcp", d.addr)
		if err != nil {
			r.answers.add("dial: " + shortErr(err))
			continue
		}
		fmt.Fprintf(c, "GET /api/events HTTP/1.1\r\nHost: %s\r\nDatastar-Request: true\r\n\r\n", d.addr)
		h.add(c)
		r.answers.add("stuck stream opened")
	}
	var first, last time.Duration
	base := m0["dashd_sse_evictions_total"]
	for ctx.Err() == nil {
		sleepCtx(ctx, 500*time.Millisecond)
		m, err := d.metrics()
		if err != nil {
			continue
		}
		ev := m["dashd_sse_evictions_total"] - base
		if ev > 0 && first == 0 {
			first = time.Since(start)
		}
		if ev >= n {
			last = time.Since(start)
			break
		}
	}
	m1, _ := d.metrics()
	evicted := m1["dashd_sse_evictions_total"] - base
	rate := float64(browserBytes.Load()) / time.Since(start).Seconds()
	switch {
	case last > 0:
		r.note("all %d evicted: first after %s, last after %s (a reading browser got %.0f B/s meanwhile)", n, first.Round(100*time.Millisecond), last.Round(100*time.Millisecond), rate)
	case first > 0:
		r.note("%.0f of %d evicted in %s, first after %s (a reading browser got %.0f B/s)", evicted, n, time.Since(start).Round(time.Second), first.Round(100*time.Millisecond), rate)
	default:
		r.note("none of %d evicted in %s (a reading browser got %.0f B/s)", n, time.Since(start).Round(time.Second), rate)
	}
	r.summary = fmt.Sprintf("%.0f of %d stuck streams evicted", evicted, n)
	if last > 0 {
		r.summary += fmt.Sprintf(", the last after %s", last.Round(100*time.Millisecond))
	}
}

// dnsRebinding sends requests a rebinding page would, with its own host name.
func dnsRebinding(ctx context.Context, d *attackTarget, r *attackReport) {
	_, port, _ := net.SplitHostPort(d.addr)
	host := "rebind.attacker.example:" + port
	client := clientFrom(attacker, 10*time.Second, true)
	defer client.CloseIdleConnections()
	targets := []struct{ method, path string }{
		{"GET", "/api/v1/checks"}, {"GET", "/"}, {"GET", "/api/events"}, {"POST", "/chat/ops/send"}, {"GET", "/metrics"},
	}
	var seq atomic.Int64
	workers(ctx, 4, func(ctx context.Context, _ int) {
		tg := targets[seq.Add(1)%int64(len(targets))]
		var body io.Reader
		if tg.method == "POST" {
			body = strings.NewReader(`{"message":"hello from a rebinding page"}`)
		}
		req, _ := http.NewRequestWithContext(ctx, tg.method, d.base+tg.path, body)
		req.Host = host
		req.Header.Set("Datastar-Request", "true")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				r.answers.add("error: " + shortErr(err))
			}
			return
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		label := strconv.Itoa(resp.StatusCode)
		if resp.StatusCode != http.StatusMisdirectedRequest {
			label += " " + tg.method + " " + tg.path
		}
		r.answers.add(label)
	})
}

func mb(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func (r *attackReport) healthLine() string {
	h := r.health
	return fmt.Sprintf("%d probes: p50 %s ms, p99 %s ms, max %s ms; %d failed", len(h.latencies)+h.failed(),
		ms(h.percentile(50)), ms(h.percentile(99)), ms(h.percentile(100)), h.failed())
}

func (r *attackReport) print() {
	fmt.Printf("== %s (%s): %s\n", r.name, r.took.Round(100*time.Millisecond), r.what)
	fmt.Printf("   answers   %s\n", r.answers.String())
	for _, n := range r.notes {
		fmt.Printf("   note      %s\n", n)
	}
	fmt.Printf("   dashd     RSS %s at start, max %s (VmRSS); CPU %.0f%% of one core; %d WARN/ERROR log lines\n",
		mb(r.rssStart), mb(r.rssMax), r.cpuPct, r.logProblems)
	fmt.Printf("   /healthz  %s", r.healthLine())
	if len(r.health.failures) > 0 {
		fmt.Printf(" (%v)", r.health.failures)
	}
	fmt.Printf("\n   alive     %v\n\n", yesNo(r.alive))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func printAttackTable(reports []*attackReport) {
	fmt.Println("summary (RSS max = VmRSS; /healthz from " + probeSource + ", new connection per probe)")
	fmt.Printf("  %-14s %9s %5s %27s %6s  %-5s  %s\n", "attack", "RSS max", "CPU", "healthz p50/p99/max ms", "fail", "alive", "answers")
	for _, r := range reports {
		h := r.health
		answers := r.summary
		if answers == "" {
			answers = r.answers.String()
		}
		fmt.Printf("  %-14s %9s %4.0f%% %27s %6d  %-5s  %s\n", r.name, mb(r.rssMax), r.cpuPct,
			ms(h.percentile(50))+" / "+ms(h.percentile(99))+" / "+ms(h.percentile(100)), h.failed(), yesNo(r.alive), answers)
	}
}
