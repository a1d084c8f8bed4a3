package main

import (
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
	"strings"
	"time"

	"github.com/dashd/dashd/selfstat"
)

// runFootprint starts a real dashd binary with N checks and reports its CPU
// share and RSS (read from /proc/PID/stat and /proc/PID/status) over two
// windows side by side: "no browser", then "dashboard open" (a client that
// loads the page and reads its stream as Chromium does, see pageClient),
// with the bytes the stream received per second and the first load's bytes
// on the wire, then "Chromium tab" (a real headless Chromium on the page,
// when one is installed: see chromiumTab). It is the figure the issue tracker asks for: the whole
// daemon at the defaults (1 s host sampling), not a microbenchmark, and the
// cost of an open page kept visible.
func runFootprint(args []string) (err error) {
	fs := flag.NewFlagSet("footprint", flag.ContinueOnError)
	bin := fs.String("bin", "bin/dashd", "dashd binary to measure (build with make build)")
	checks := fs.Int("checks", 20, "number of checks")
	interval := fs.Duration("interval", 10*time.Second, "check interval")
	window := fs.Duration("duration", 60*time.Second, "measurement window")
	warmup := fs.Duration("warmup", 10*time.Second, "time before each window (start-up and page-load costs excluded)")
	acceptEncoding := fs.String("accept-encoding", chromiumAcceptEncoding, "the dashboard client's Accept-Encoding (identity: a plain stream)")
	chromium := fs.String("chromium", "/usr/bin/chromium", "headless Chromium for a third window with a real tab on the dashboard (\"\": no such window)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "dashd-footprint-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Check targets: a local HTTP server and a TCP listener, so every check
	// does real network work without leaving the machine.
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go web.Serve(wl)
	defer web.Close()

	addr, err := freeLoopback()
	if err != nil {
		return err
	}
	var cfg strings.Builder
	cfg.WriteString("checks:\n")
	for i := range *checks {
		switch i % 4 {
		case 0, 1:
			fmt.Fprintf(&cfg, "  - name: http-%d\n    type: http\n    url: http://%s/health\n    json_path: status\n    json_equals: ok\n", i, wl.Addr())
		case 2:
			fmt.Fprintf(&cfg, "  - name: tcp-%d\n    type: tcp\n    address: %s\n", i, wl.Addr())
		case 3:
			fmt.Fprintf(&cfg, "  - name: dns-%d\n    type: dns\n    query: localhost\n", i)
		}
		fmt.Fprintf(&cfg, "    interval: %s\n", *interval)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	cmd := exec.Command(*bin, "--config", cfgPath, "--data", filepath.Join(dir, "dashd.db"), "--listen", addr)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", *bin, err)
	}
	// dashd must stop cleanly on SIGINT: a failed exit fails the run.
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt) // it may be gone already: Wait says how it ended
		if werr := cmd.Wait(); werr != nil {
			err = errors.Join(err, fmt.Errorf("%s: exit: %w", *bin, werr))
		}
	}()
	pid := cmd.Process.Pid

	base := "http://" + addr
	if err := waitUp(base+"/readyz", 20*time.Second); err != nil {
		return err
	}
	proc := fmt.Sprintf("/proc/%d", pid)
	fmt.Printf("dashd footprint: %d checks every %s, host sampling at the default 1s; no browser, then one dashboard open, then a Chromium tab\n", *checks, *interval)

	// "no browser": the daemon alone.
	time.Sleep(*warmup)
	idle, err := measureWindow(proc, *window)
	if err != nil {
		return err
	}

	// "dashboard open": a client that loads the page and reads its stream
	// as Chromium does (gzip accepted, the page's stream URL).
	ctx, cancel := context.WithCancel(context.Background())
	pc := newPageClient(*acceptEncoding)
	first, streamDone, err := pc.firstLoad(ctx, base)
	if err != nil {
		cancel()
		return err
	}
	time.Sleep(*warmup)
	b0 := pc.wire.Load()
	open, err := measureWindow(proc, *window)
	cancel()
	<-streamDone
	if err != nil {
		return err
	}
	streamBps := float64(pc.wire.Load()-b0) / open.elapsed

	// "Chromium tab": the same page in a real headless Chromium, alone.
	tab, tabNote := footprintWindow{}, ""
	if *chromium == "" {
		tabNote = "not measured (-chromium \"\")"
	} else if _, serr := os.Stat(*chromium); serr != nil {
		tabNote = fmt.Sprintf("NOT MEASURED: no Chromium at %s", *chromium)
	} else {
		c, err := openChromium(*chromium, base+"/")
		if err != nil {
			return err
		}
		defer c.close()
		time.Sleep(*warmup)
		if !c.alive() {
			return fmt.Errorf("chromium %s exited before the window", *chromium)
		}
		tab, err = measureWindow(proc, *window)
		if err != nil {
			return err
		}
		if !c.alive() {
			return fmt.Errorf("chromium %s exited during the window", *chromium)
		}
	}
	col := func(w footprintWindow, f func(footprintWindow) string) string {
		if w.elapsed == 0 {
			return "-"
		}
		return f(w)
	}
	secs := func(w footprintWindow) string { return fmt.Sprintf("%.0f s", w.elapsed) }
	cpu := func(w footprintWindow) string { return fmt.Sprintf("%.3f %%", w.cpuPct) }
	rss := func(w footprintWindow) string { return w.rss() }

	fmt.Printf("  %-18s %-18s %-18s %s\n", "", "no browser", "dashboard open", "Chromium tab")
	fmt.Printf("  %-18s %-18s %-18s %-18s (after %s warm-up each)\n", "window", secs(idle), secs(open), col(tab, secs), *warmup)
	fmt.Printf("  %-18s %-18s %-18s %-18s of one core (utime+stime from /proc/%d/stat)\n", "CPU", cpu(idle), cpu(open), col(tab, cpu), pid)
	fmt.Printf("  %-18s %-18s %-18s %-18s avg / max (VmRSS)\n", "RSS", rss(idle), rss(open), col(tab, rss))
	fmt.Printf("  %-18s %-18s %-18s %-18s per client on the wire (Accept-Encoding: %s; heads, chunk framing included)\n", "dashboard stream", "-", fmt.Sprintf("%.0f B/s", streamBps), "-", *acceptEncoding)
	fmt.Printf("  %-18s %-18s %-18s %-18s page, CSS, scripts, icon and the stream's first state, on the wire\n", "first load", "-", fmt.Sprintf("%.1f KB", float64(first)/1000), "-")
	fmt.Println("  (dashboard open: a client that loads the page and reads its stream as Chromium does; Chromium tab: headless Chromium on /, which also runs the page's own timers)")
	if tabNote != "" {
		fmt.Println("  Chromium tab:", tabNote)
	}
	return nil
}

// footprintWindow is what one measurement window found.
type footprintWindow struct {
	elapsed        float64 // seconds
	cpuPct         float64 // of one core
	rssAvg, rssMax uint64  // bytes
}

func (w footprintWindow) rss() string {
	return fmt.Sprintf("%.1f / %.1f MB", float64(w.rssAvg)/1e6, float64(w.rssMax)/1e6)
}

// measureWindow reads the process's CPU time and RSS over window (RSS every
// second).
func measureWindow(proc string, window time.Duration) (footprintWindow, error) {
	u0, err := selfstat.ReadProc(proc)
	if err != nil {
		return footprintWindow{}, err
	}
	t0 := time.Now()
	var rssSum, n uint64
	var w footprintWindow
	for time.Since(t0) < window {
		time.Sleep(time.Second)
		u, err := selfstat.ReadProc(proc)
		if err != nil {
			return footprintWindow{}, err
		}
		rssSum += u.RSSBytes
		n++
		w.rssMax = max(w.rssMax, u.RSSBytes)
	}
	w.elapsed = time.Since(t0).Seconds()
	u1, err := selfstat.ReadProc(proc)
	if err != nil {
		return footprintWindow{}, err
	}
	w.cpuPct = (u1.CPUSeconds() - u0.CPUSeconds()) / w.elapsed * 100
	w.rssAvg = rssSum / max(n, 1)
	return w, nil
}

func freeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitUp(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("dashd did not become ready")
}
