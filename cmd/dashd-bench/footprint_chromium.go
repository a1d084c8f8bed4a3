package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// chromiumTab is a headless Chromium with one tab on a URL: the setup the
// issue's side-by-side figures were taken with. The page client (see
// pageClient) reads the same stream, but a real tab also runs the page's
// own timers and requests (the header's status poll while the stream is
// down, the notifications), which only Chromium shows.
type chromiumTab struct {
	cmd     *exec.Cmd
	profile string
	exited  chan struct{} // closed once Chromium's main process is reaped
}

// openChromium starts path headless on url, in a process group of its own
// (Chromium forks its renderer and helpers) with a throwaway profile.
func openChromium(path, url string) (*chromiumTab, error) {
	profile, err := os.MkdirTemp("", "dashd-footprint-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium profile: %w", err)
	}
	cmd := exec.Command(path, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+profile, "--remote-debugging-port=0", url)
	// Its own group, so close reaches the helpers; killed with the bench
	// should the bench die first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	c := &chromiumTab{cmd: cmd, profile: profile, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	return c, nil
}

// alive reports whether Chromium is still running (it exits at once when
// it cannot start, and the window would then measure no tab).
func (c *chromiumTab) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// close ends Chromium and every process it started, and drops its profile.
func (c *chromiumTab) close() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
	os.RemoveAll(c.profile)
}
