package main

// The agent footprint phase of `dashd-bench fleet`: a real `dashd agent`
// publishing to the hub, against `dashd serve` (today's single host, no
// browser: `dashd-bench footprint`'s first column) with the same 20
// checks, measured the same way (measureWindow, plus the threads'
// schedstat for a finer CPU figure).

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// fleetFootprint is one process's figures.
type fleetFootprint struct {
	w      footprintWindow
	cpuPct float64 // from schedstat
}

// footprintChecks is `dashd-bench footprint`'s checks section: n checks
// every interval against addr (http, http, tcp, dns in turn).
func footprintChecks(addr string, n int, interval time.Duration) string {
	var cfg strings.Builder
	cfg.WriteString("checks:\n")
	for i := range n {
		switch i % 4 {
		case 0, 1:
			fmt.Fprintf(&cfg, "  - name: http-%d\n    type: http\n    url: http://%s/health\n    json_path: status\n    json_equals: ok\n", i, addr)
		case 2:
			fmt.Fprintf(&cfg, "  - name: tcp-%d\n    type: tcp\n    address: %s\n", i, addr)
		case 3:
			fmt.Fprintf(&cfg, "  - name: dns-%d\n    type: dns\n    query: localhost\n", i)
		}
		fmt.Fprintf(&cfg, "    interval: %s\n", interval)
	}
	return cfg.String()
}

// runAgentFootprint measures a real agent (publishing to natsURL) and a
// single-host daemon, one after the other, each over window after warmup.
func runAgentFootprint(bin, dir, natsURL string, window, warmup time.Duration, log io.Writer) (agent, single fleetFootprint, err error) {
	web := &http.Server{ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return agent, single, err
	}
	go web.Serve(wl)
	defer web.Close()
	checks := footprintChecks(wl.Addr().String(), 20, 10*time.Second)

	agentDir := filepath.Join(dir, "agent")
	if err := os.MkdirAll(agentDir, 0o755); err != nil {
		return agent, single, err
	}
	agentCfg := filepath.Join(agentDir, "config.yaml")
	fleetCfg := fmt.Sprintf("fleet:\n  host: %s\n  nats:\n    urls: [%s]\n    user: %s\n    password: %s\n",
		realAgentHost, natsURL, realAgentHost, simPassword(realAgentHost))
	if err := os.WriteFile(agentCfg, []byte(checks+fleetCfg), 0o644); err != nil {
		return agent, single, err
	}
	agent, err = measureChild(exec.Command(bin, "agent", "--config", agentCfg, "--data", filepath.Join(agentDir, "dashd.db")), "", window, warmup, log)
	if err != nil {
		return agent, single, fmt.Errorf("dashd agent: %w", err)
	}

	singleDir := filepath.Join(dir, "single")
	if err := os.MkdirAll(singleDir, 0o755); err != nil {
		return agent, single, err
	}
	singleCfg := filepath.Join(singleDir, "config.yaml")
	if err := os.WriteFile(singleCfg, []byte(checks), 0o644); err != nil {
		return agent, single, err
	}
	addr, err := freeLoopback()
	if err != nil {
		return agent, single, err
	}
	single, err = measureChild(exec.Command(bin, "--config", singleCfg, "--data", filepath.Join(singleDir, "dashd.db"), "--listen", addr),
		"http://"+addr+"/readyz", window, warmup, log)
	if err != nil {
		return agent, single, fmt.Errorf("dashd serve: %w", err)
	}
	return agent, single, nil
}

// measureChild starts cmd, waits for ready (a URL answering 200; "" for
// none), then warmup, measures over window, and stops it with SIGTERM (an
// unclean exit is an error).
func measureChild(cmd *exec.Cmd, ready string, window, warmup time.Duration, log io.Writer) (fleetFootprint, error) {
	var f fleetFootprint
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "DASHD_CONFIG=")
	if err := cmd.Start(); err != nil {
		return f, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("%s did not stop within 30s of SIGTERM", cmd.Path)
		}
	}
	if ready != "" {
		if err := waitUp(ready, 30*time.Second); err != nil {
			return f, errors.Join(err, stop())
		}
	}
	time.Sleep(warmup)
	proc := fmt.Sprintf("/proc/%d", cmd.Process.Pid)
	c0, err := taskCPU(proc)
	if err != nil {
		return f, errors.Join(err, stop())
	}
	t0 := time.Now()
	if f.w, err = measureWindow(proc, window); err != nil {
		return f, errors.Join(err, stop())
	}
	c1, err := taskCPU(proc)
	if err != nil {
		return f, errors.Join(err, stop())
	}
	f.cpuPct = (c1 - c0).Seconds() / time.Since(t0).Seconds() * 100
	return f, stop()
}
