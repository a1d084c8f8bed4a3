package main

// Daemon-level tests for issue #12 ("Survive a hostile network"): a real
// dashd child under attacks and host faults that only the whole process
// shows. All traffic goes to loopback; the flood dials from other 127/8
// addresses (Linux routes all of 127.0.0.0/8 to lo) so that per-address
// limits and a separate prober can be told apart.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Loopback source addresses of the flood test: the browser uses 127.0.0.1.
const (
	streamFlooder = "127.0.0.2"
	idleFlooder   = "127.0.0.3"
	prober        = "127.0.0.4"
)

// dialerFrom dials from src, an address of 127.0.0.0/8.
func dialerFrom(src string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
}

// clientFrom is an HTTP client whose every request is a new connection from
// src: each one goes through dashd's accept loop and connection caps.
func clientFrom(src string) *http.Client {
	return &http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{DialContext: dialerFrom(src).DialContext, DisableKeepAlives: true},
	}
}

// startDaemonNoFile starts dashd under `prlimit --nofile=N:N`, so that a
// flood of a few hundred connections reaches the descriptor limit. It skips
// the test loudly when prlimit (util-linux) is missing: Go cannot set a
// child's rlimit through SysProcAttr.
func startDaemonNoFile(t *testing.T, nofile int, args ...string) *child {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skipf("NOT TESTED: the descriptor-limit flood needs prlimit (util-linux): %v", err)
	}
	d := &child{t: t, done: make(chan struct{}), addr: freeAddr(t)}
	argv := append([]string{fmt.Sprintf("--nofile=%d:%d", nofile, nofile), "--", dashdBin}, args...)
	d.cmd = exec.Command(prlimit, append(argv, "--listen", d.addr)...)
	d.cmd.Stdout, d.cmd.Stderr = d, d
	d.cmd.Env = append(os.Environ(), "DASHD_CONFIG=")
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("dashd output:\n%s", d.output())
		}
	})
	d.waitHTTP()
	return d
}

// serverStopped is what dashd logs when its HTTP server returns on its own
// (before the fix: at EMFILE), just before it shuts down and exits 1.
const serverStopped = "http server stopped unexpectedly"

// alive fails the test at once if dashd has exited or is on its way out.
func (d *child) alive(when string) {
	d.t.Helper()
	select {
	case <-d.done:
		d.t.Fatalf("dashd exited %s (%v)", when, d.err)
	default:
	}
	if strings.Contains(d.output(), serverStopped) {
		d.t.Fatalf("dashd's HTTP server stopped %s; dashd is exiting", when)
	}
}

// stop sends SIGTERM and requires a clean exit.
func (d *child) stop() {
	d.t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(15 * time.Second); code != 0 {
		d.t.Fatalf("exit code after SIGTERM = %d, want 0", code)
	}
}

var logNumberRE = regexp.MustCompile(`(\w+)=(\d+)(?:\s|$)`)

// clientLimitsLogged waits for the "client limits" line dashd logs at start
// and returns its numbers by key (nofile, connections, streams, ...).
func clientLimitsLogged(t *testing.T, d *child) map[string]int {
	t.Helper()
	var line string
	eventually(t, `the "client limits" log line`, func() bool {
		for _, l := range strings.Split(d.output(), "\n") {
			if strings.Contains(l, `msg="client limits"`) {
				line = l
				return true
			}
		}
		return false
	})
	out := map[string]int{}
	for _, m := range logNumberRE.FindAllStringSubmatch(line, -1) {
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	for _, k := range []string{"nofile", "connections", "connections_per_address", "streams", "streams_per_address"} {
		if out[k] <= 0 {
			t.Fatalf("client limits line lacks %s: %s", k, line)
		}
	}
	return out
}

// metricValue returns the value of one series of a /metrics body, written
// as /metrics prints it (`name{label="v"}`), and whether it is there.
func metricValue(body []byte, series string) (float64, bool) {
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// size is how many bytes the stream has received so far.
func (s *stream) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Len()
}

// since returns what the stream received after the first off bytes.
func (s *stream) since(off int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.buf.Bytes()[min(off, s.buf.Len()):])
}

// flood holds the connections of an attack and tallies dashd's answers.
type flood struct {
	mu      sync.Mutex
	conns   []net.Conn
	streams int            // streams admitted (200) and held
	idle    int            // idle or half-sent connections dashd kept open
	refused map[string]int // 503 + Retry-After, by the limit the message names
	dropped int            // closed before any answer
	bad     []string       // answers that are neither admission nor a proper refusal
}

// Refusal kinds, told apart by the message: the hub's stream caps and the
// listener's connection caps.
const (
	refusedStreams     = "streams"
	refusedConnections = "connections"
)

func (f *flood) keep(c net.Conn, stream bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conns = append(f.conns, c)
	if stream {
		f.streams++
	} else {
		f.idle++
	}
}

func (f *flood) note(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// answer tallies a response that is not an admission.
func (f *flood) answer(resp *http.Response) {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10)) // a refused stream ends abruptly, by design
	f.note(func() {
		ra := resp.Header.Get("Retry-After")
		switch {
		case resp.StatusCode != http.StatusServiceUnavailable || ra == "":
			f.bad = append(f.bad, fmt.Sprintf("%d Retry-After=%q: %.100s", resp.StatusCode, ra, body))
		case strings.Contains(string(body), "live streams"):
			f.refused[refusedStreams]++
		case strings.Contains(string(body), "open connections"):
			f.refused[refusedConnections]++
		default:
			f.bad = append(f.bad, fmt.Sprintf("503 with an unexpected message: %.100s", body))
		}
	})
}

// stream asks for a dashboard stream from src and holds it when admitted,
// reading everything (a live browser, not a stuck one).
func (f *flood) stream(src, addr string) {
	c, err := dialerFrom(src).Dial("tcp", addr)
	if err != nil {
		f.note(func() { f.bad = append(f.bad, "dial: "+err.Error()) })
		return
	}
	c.SetDeadline(time.Now().Add(15 * time.Second))
	fmt.Fprintf(c, "GET /api/events HTTP/1.1\r\nHost: %s\r\nDatastar-Request: true\r\n\r\n", addr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		f.note(func() { f.dropped++ })
		return
	}
	if resp.StatusCode == http.StatusOK {
		c.SetDeadline(time.Time{})
		f.keep(c, true)
		go io.Copy(io.Discard, br) // ends when the test closes c
		return
	}
	f.answer(resp)
	c.Close()
}

// idle opens a connection from src that sends nothing, or (partial) a
// request head that never ends (slowloris), and holds it when dashd does not
// answer within a second.
func (f *flood) idleConn(src, addr string, partial bool) {
	c, err := dialerFrom(src).Dial("tcp", addr)
	if err != nil {
		f.note(func() { f.bad = append(f.bad, "dial: "+err.Error()) })
		return
	}
	if partial {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nX-Slow: ", addr)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		c.SetReadDeadline(time.Time{})
		f.keep(c, false)
	case err != nil:
		c.Close()
		f.note(func() { f.dropped++ })
	default:
		f.answer(resp)
		c.Close()
	}
}

func (f *flood) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

func (f *flood) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("streams held %d, idle held %d, refused %v, dropped unanswered %d, bad %d",
		f.streams, f.idle, f.refused, f.dropped, len(f.bad))
}

// parallel runs fn(0..n-1) on at most width goroutines and waits.
func parallel(n, width int, fn func(i int)) {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// healthProbe asks /healthz from its own source address every interval
// until stopped, and keeps every failure.
type healthProbe struct {
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	n        int
	failures []string
	slowest  time.Duration
}

func probeHealth(url, src string, every time.Duration) *healthProbe {
	ctx, cancel := context.WithCancel(context.Background())
	p := &healthProbe{cancel: cancel, done: make(chan struct{})}
	client := clientFrom(src)
	go func() {
		defer close(p.done)
		for ctx.Err() == nil {
			start := time.Now()
			resp, err := client.Get(url)
			took := time.Since(start)
			problem := ""
			if err != nil {
				problem = err.Error()
			} else {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					problem = resp.Status
				}
			}
			p.mu.Lock()
			p.n++
			p.slowest = max(p.slowest, took)
			if problem != "" {
				p.failures = append(p.failures, fmt.Sprintf("%s after %s: %s", start.Format("15:04:05.000"), took.Round(time.Millisecond), problem))
			}
			p.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(every):
			}
		}
	}()
	return p
}

func (p *healthProbe) stop() (n int, failures []string, slowest time.Duration) {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, p.failures, p.slowest
}

// TestDaemon_StreamFloodUnderLowFileLimit floods a dashd that has only a few
// hundred descriptors with streams past its caps (from one address) and with
// idle and slowloris connections (from another), while a browser stream from
// 127.0.0.1 stays open and /healthz is probed from a third address. Before
// the caps, the stream flood took dashd to EMFILE, where fasthttp stops
// serving and dashd exited ("http server stopped unexpectedly").
func TestDaemon_StreamFloodUnderLowFileLimit(t *testing.T) {
	const nofile = 360 // the caps derived from it: 158 connections, 79 per address, 118 streams, 59 per address
	dir := t.TempDir()
	cfg := writeConfigHead(t, dir, "collect:\n  interval: 500ms\n  process_interval: 2s\ndashboard:\n  broadcast_interval: 500ms\n", "")
	d := startDaemonNoFile(t, nofile, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	lim := clientLimitsLogged(t, d)
	if lim["nofile"] != nofile {
		t.Fatalf("dashd derived its limits from nofile=%d, want %d (prlimit not in force?)", lim["nofile"], nofile)
	}
	t.Logf("client limits: %v", lim)

	browser := openStream(t, d.url("/api/events"))
	eventually(t, "the first state on the browser stream", func() bool { return browser.contains("datastar-merge-fragments") })
	mark := browser.size()
	// receiving requires fresh patches (not only heartbeats) on the browser
	// stream since the last call.
	receiving := func(when string) {
		t.Helper()
		eventually(t, "updates on the browser stream "+when, func() bool {
			d.alive(when)
			return strings.Contains(browser.since(mark), "event: datastar-merge-fragments")
		})
		if !browser.open() {
			t.Fatalf("the browser stream ended %s: %v", when, browser.err)
		}
		mark = browser.size()
	}

	health := probeHealth(d.url("/healthz"), prober, 200*time.Millisecond)
	defer health.stop()

	f := &flood{refused: map[string]int{}}
	defer f.close()
	attempts := nofile // every one held would be past the descriptor limit
	parallel(attempts, 16, func(int) { f.stream(streamFlooder, d.addr) })
	t.Logf("after the stream flood from %s: %s", streamFlooder, f)
	d.alive("during the stream flood")
	receiving("during the stream flood")

	parallel(attempts, 16, func(i int) { f.idleConn(idleFlooder, d.addr, i%2 == 1) })
	t.Logf("after the idle/slowloris flood from %s: %s", idleFlooder, f)
	d.alive("during the connection flood")
	receiving("during the connection flood")

	// Hold everything a while: the browser keeps getting patches.
	time.Sleep(3 * time.Second)
	d.alive("while the flood is held")
	receiving("while the flood is held")

	_, metrics := get(t, d.url("/metrics"))
	f.mu.Lock()
	if len(f.bad) > 0 {
		t.Errorf("%d answers were neither a stream nor a 503 with Retry-After, e.g. %s", len(f.bad), f.bad[0])
	}
	switch {
	case f.streams == 0 || f.streams > lim["streams_per_address"]:
		t.Errorf("%d streams admitted from %s, want 1..%d (streams_per_address)", f.streams, streamFlooder, lim["streams_per_address"])
	case f.idle == 0 || f.idle > lim["connections_per_address"]:
		t.Errorf("%d idle connections held from %s, want 1..%d (connections_per_address)", f.idle, idleFlooder, lim["connections_per_address"])
	}
	for _, r := range []struct{ kind, series string }{
		{refusedStreams, `dashd_http_refused_total{reason="streams_per_address"}`},
		{refusedConnections, `dashd_http_refused_total{reason="connections_per_address"}`},
	} {
		got, ok := metricValue(metrics, r.series)
		if seen := f.refused[r.kind]; seen == 0 || !ok || got < float64(seen) {
			t.Errorf("%s = %v (present %v), want at least the %d refusals (503 + Retry-After) the flood got", r.series, got, ok, seen)
		}
	}
	f.mu.Unlock()
	if v, _ := metricValue(metrics, "dashd_http_accept_errors_total"); v > 0 {
		t.Logf("dashd waited out %v accept errors (descriptors ran out despite the caps)", v)
	}

	// The flood ends: its streams and connections go, new ones are
	// admitted again from the same addresses.
	f.close()
	for _, src := range []string{streamFlooder, idleFlooder} {
		after := &flood{refused: map[string]int{}}
		eventually(t, "a new stream from "+src+" after the flood", func() bool {
			after.stream(src, d.addr)
			return after.streams > 0
		})
		after.close()
	}
	receiving("after the flood")
	d.alive("after the flood")

	n, failures, slowest := health.stop()
	t.Logf("/healthz from %s: %d probes, slowest %s", prober, n, slowest.Round(time.Millisecond))
	if n < 5 {
		t.Errorf("only %d /healthz probes completed during the flood", n)
	}
	if len(failures) > 0 {
		t.Errorf("/healthz failed %d of %d times during the flood, first: %s", len(failures), n, failures[0])
	}
	d.stop()
}

// TestDaemon_EmptyConfigOnReloadKeepsChecks truncates the configuration of a
// running dashd (what a non-atomic save or a full disk leaves) and reloads:
// the file watcher fires, then SIGHUP. An empty file used to load as zero
// checks and stop every one of them.
func TestDaemon_EmptyConfigOnReloadKeepsChecks(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	var checks strings.Builder
	checks.WriteString("checks:\n")
	for _, name := range []string{"alpha", "beta"} {
		fmt.Fprintf(&checks, "  - name: %s\n    type: tcp\n    address: %s\n    interval: 1s\n", name, target.Addr())
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, checks.String())
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	eventually(t, "both checks to run", func() bool {
		cs := apiChecksFull(t, d)
		return !cs["alpha"].LastCheck.IsZero() && !cs["beta"].LastCheck.IsZero()
	})

	// `: > config.yaml`: the same open(O_TRUNC) a shell does.
	f, err := os.OpenFile(cfg, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	const rejected = "configuration rejected; still running on the last good one"
	eventually(t, "the file watcher's reload to be rejected", func() bool { return strings.Count(d.output(), rejected) >= 1 })
	time.Sleep(time.Second) // past the watcher's debounce: what follows is the signal's
	before := strings.Count(d.output(), rejected)
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the SIGHUP reload to be rejected too", func() bool { return strings.Count(d.output(), rejected) > before })
	if out := d.output(); !strings.Contains(out, "the file is empty") {
		t.Errorf("the log does not say why the file was rejected")
	}

	// The checks keep running: still listed, and their results keep coming.
	at := apiChecksFull(t, d)
	for _, name := range []string{"alpha", "beta"} {
		if _, ok := at[name]; !ok {
			t.Fatalf("check %s gone after an empty file was reloaded: %v", name, at)
		}
		eventually(t, "a new result of "+name+" after the rejected reload", func() bool {
			return apiChecksFull(t, d)[name].LastCheck.After(at[name].LastCheck)
		})
	}
	_, ready := get(t, d.url("/readyz"))
	var r struct {
		Status         string   `json:"status"`
		ConfigProblems []string `json:"config_problems"`
	}
	if err := json.Unmarshal(ready, &r); err != nil {
		t.Fatalf("/readyz: %v\n%s", err, ready)
	}
	if len(r.ConfigProblems) == 0 || !strings.Contains(strings.Join(r.ConfigProblems, "\n"), "empty") {
		t.Errorf("/readyz does not list the empty file as a config problem:\n%s", ready)
	}

	// `dashd validate` says the same, with exit status 1.
	out, err := exec.Command(dashdBin, "validate", "--config", cfg).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "empty") {
		t.Errorf("dashd validate on an empty file: %v, want exit status 1 naming the empty file; output:\n%s", err, out)
	}
	d.stop()
}

// apiCheckState is what the empty-config test reads of a check.
type apiCheckState struct {
	Name      string    `json:"name"`
	LastCheck time.Time `json:"last_check_at"`
}

func apiChecksFull(t *testing.T, d *child) map[string]apiCheckState {
	t.Helper()
	_, body := get(t, d.url("/api/v1/checks"))
	var v struct{ Checks []apiCheckState }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding /api/v1/checks: %v\n%s", err, body)
	}
	out := map[string]apiCheckState{}
	for _, c := range v.Checks {
		out[c.Name] = c
	}
	return out
}

// mountSmallTmpfs mounts a tmpfs of size on a fresh directory, unmounted at
// cleanup after everything registered later (stop the daemon first). It
// skips loudly without root.
func mountSmallTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skipf("NOT TESTED: a full filesystem needs a small tmpfs, and mounting one needs root (the CI runs as root); euid is %d", os.Geteuid())
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("NOT TESTED: mount -t tmpfs -o size=%s tmpfs %s: %v (no CAP_SYS_ADMIN here?)", size, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// fillUp writes a file in dir until the filesystem says ENOSPC.
func fillUp(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "junk")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v, want ENOSPC", dir, err)
			}
			return name
		}
	}
}

// readiness is /readyz decoded: its status code and the storage line.
func readiness(t *testing.T, d *child) (code int, storageOK bool, detail string) {
	t.Helper()
	resp, body := get(t, d.url("/readyz"))
	var r struct {
		Checks []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("/readyz: %v\n%s", err, body)
	}
	for _, c := range r.Checks {
		if c.Name == "storage" {
			return resp.StatusCode, c.OK, c.Detail
		}
	}
	t.Fatalf("/readyz has no storage line:\n%s", body)
	return 0, false, ""
}

// TestDaemon_FullDiskIsVisible runs dashd with its database on a 4 MiB
// tmpfs, fills the filesystem, and requires the outage in /readyz, /metrics
// and on the dashboard, then the recovery once space is freed. Before, a
// full disk only logged "records dropped" while /readyz said storage OK.
func TestDaemon_FullDiskIsVisible(t *testing.T) {
	mnt := mountSmallTmpfs(t, "4m")
	dir := t.TempDir()
	d := startDaemon(t, "--config", writeConfig(t, dir, ""), "--data", filepath.Join(mnt, "dashd.db"))
	dash := openStream(t, d.url("/api/events"))
	writeOK := func() float64 {
		_, m := get(t, d.url("/metrics"))
		v, ok := metricValue(m, "dashd_storage_write_ok")
		if !ok {
			t.Fatalf("/metrics has no dashd_storage_write_ok")
		}
		return v
	}
	eventually(t, "dashd ready", func() bool { code, ok, _ := readiness(t, d); return code == 200 && ok })
	if v := writeOK(); v != 1 {
		t.Fatalf("dashd_storage_write_ok = %v before the disk is full, want 1", v)
	}

	junk := fillUp(t, mnt)
	eventually(t, "/readyz to report the failing storage", func() bool {
		code, ok, detail := readiness(t, d)
		return code == http.StatusServiceUnavailable && !ok && strings.Contains(detail, "storage writes failing")
	})
	_, _, detail := readiness(t, d)
	t.Logf("/readyz storage: %s", detail)
	eventually(t, "dashd_storage_write_ok 0", func() bool { return writeOK() == 0 })
	eventually(t, "the storage banner on the dashboard stream", func() bool { return dash.contains("History is not being saved") })

	mark := dash.size()
	if err := os.Remove(junk); err != nil {
		t.Fatal(err)
	}
	eventually(t, "/readyz to recover", func() bool { code, ok, _ := readiness(t, d); return code == 200 && ok })
	eventually(t, "dashd_storage_write_ok 1", func() bool { return writeOK() == 1 })
	eventually(t, "the banner to be hidden again", func() bool {
		// The newest banner element the stream carried has no text.
		rest := dash.since(mark)
		i := strings.LastIndex(rest, `id="storage-banner"`)
		if i < 0 {
			return false
		}
		banner, _, _ := strings.Cut(rest[i:], "</div>")
		return !strings.Contains(banner, "History is not being saved")
	})
	if !dash.open() {
		t.Fatalf("the dashboard stream ended during the outage: %v", dash.err)
	}
	d.stop()
}
