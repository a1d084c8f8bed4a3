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
// own timers and requests (the header's status poll, for one), which
// only Chromium shows.
type chromiumTab struct {
	cmd     *exec.Cmd
	profile string
}

// openChromium starts path headless on url, in a process group of its own
// (Chromium forks its renderer and helpers) with a throwaway profile.
func openChromium(path, url string) (*chromiumTab, error) {
	profile, err := os.MkdirTemp("", "dashd-footprint-chromium-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+profile, "--remote-debugging-port=0", url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(profile)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return &chromiumTab{cmd: cmd, profile: profile}, nil
}

// close ends Chromium and every process it started, and drops its profile.
func (c *chromiumTab) close() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	os.RemoveAll(c.profile)
}
