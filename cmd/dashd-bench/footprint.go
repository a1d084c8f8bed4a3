package main

import (
	"bufio"
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
	"sync/atomic"
	"time"

	"github.com/dashd/dashd/selfstat"
)

// runFootprint starts a real dashd binary with N checks and one dashboard
// stream open, and reports its CPU share and RSS over the window (read from
// /proc/PID/stat and /proc/PID/status), plus the bytes the dashboard stream
// received per second. It is the figure the issue tracker asks for: the whole
// daemon at the defaults (1 s host sampling), not a microbenchmark.
func runFootprint(args []string) (err error) {
	fs := flag.NewFlagSet("footprint", flag.ContinueOnError)
	bin := fs.String("bin", "bin/dashd", "dashd binary to measure (build with make build)")
	checks := fs.Int("checks", 20, "number of checks")
	interval := fs.Duration("interval", 10*time.Second, "check interval")
	window := fs.Duration("duration", 60*time.Second, "measurement window")
	warmup := fs.Duration("warmup", 10*time.Second, "time before measuring (start-up costs excluded)")
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
	// One dashboard open: its single stream, counting bytes.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var streamBytes atomic.Int64
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/events", nil)
	req.Header.Set("Datastar-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	go func() {
		r := bufio.NewReader(resp.Body)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			streamBytes.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()

	fmt.Printf("dashd footprint: %d checks every %s, host sampling at the default 1s, one dashboard stream\n", *checks, *interval)
	time.Sleep(*warmup)
	proc := fmt.Sprintf("/proc/%d", pid)
	u0, err := selfstat.ReadProc(proc)
	if err != nil {
		return err
	}
	t0, b0 := time.Now(), streamBytes.Load()
	var rssMax, rssSum, n uint64
	for time.Since(t0) < *window {
		time.Sleep(time.Second)
		u, err := selfstat.ReadProc(proc)
		if err != nil {
			return err
		}
		rssSum += u.RSSBytes
		n++
		rssMax = max(rssMax, u.RSSBytes)
	}
	elapsed := time.Since(t0).Seconds()
	u1, err := selfstat.ReadProc(proc)
	if err != nil {
		return err
	}
	b1 := streamBytes.Load()
	cpuPct := (u1.CPUSeconds() - u0.CPUSeconds()) / elapsed * 100
	fmt.Printf("  window            %.0f s (after %s warm-up)\n", elapsed, *warmup)
	fmt.Printf("  CPU               %.3f %% of one core (utime+stime from /proc/%d/stat)\n", cpuPct, pid)
	fmt.Printf("  RSS               avg %.1f MB, max %.1f MB (VmRSS)\n", float64(rssSum/n)/1e6, float64(rssMax)/1e6)
	fmt.Printf("  dashboard stream  %.0f B/s per client (SSE payload incl. chunk framing)\n", float64(b1-b0)/elapsed)
	return nil
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
