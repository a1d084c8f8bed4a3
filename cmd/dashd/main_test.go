package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// dashdBin is the binary built once for every test in this package that runs
// the real daemon as a child process.
var dashdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dashd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dashdBin = filepath.Join(dir, "dashd")
	build := exec.Command("go", "build", "-race", "-o", dashdBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dashd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// child is a running dashd child process.
type child struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer // stdout+stderr
	done chan struct{}
	err  error
}

func (d *child) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.Write(p)
}

func (d *child) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// writeConfig writes a small valid configuration into dir.
func writeConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	return writeConfigHead(t, dir, "", extra)
}

// writeConfigHead is writeConfig with the collect/dashboard head replaced
// (empty: fast test defaults).
func writeConfigHead(t *testing.T, dir, head, extra string) string {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	if head == "" {
		head = "collect:\n  interval: 200ms\n  process_interval: 1s\ndashboard:\n  broadcast_interval: 200ms\n"
	}
	src := head + extra
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startDaemon starts dashd with args (plus --listen on a free port unless args
// has one) and returns once it answers HTTP, or fails the test.
func startDaemon(t *testing.T, args ...string) *child {
	t.Helper()
	d := newDaemon(t, args...)
	d.waitHTTP()
	return d
}

func newDaemon(t *testing.T, args ...string) *child {
	t.Helper()
	return newDaemonEnv(t, nil, args...)
}

// newDaemonEnv starts dashd with extra environment variables.
func newDaemonEnv(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	d := &child{t: t, done: make(chan struct{})}
	if !hasFlag(args, "--listen") {
		d.addr = freeAddr(t)
		args = append(args, "--listen", d.addr)
	}
	d.cmd = exec.Command(dashdBin, args...)
	d.cmd.Stdout, d.cmd.Stderr = d, d
	d.cmd.Env = append(append(os.Environ(), "DASHD_CONFIG="), env...)
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
	return d
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

func (d *child) url(path string) string { return "http://" + d.addr + path }

func (d *child) waitHTTP() {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			d.t.Fatalf("dashd exited early (%v):\n%s", d.err, d.output())
		default:
		}
		resp, err := http.Get(d.url("/healthz"))
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("dashd did not answer on %s:\n%s", d.addr, d.output())
}

// wait waits for exit and returns the exit code, failing after timeout.
func (d *child) wait(timeout time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.t.Fatalf("dashd did not exit within %s:\n%s", timeout, d.output())
	}
	return d.cmd.ProcessState.ExitCode()
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestDaemon_ServesPageAndClientThenStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "data", "dashd.db"))

	resp, body := get(t, d.url("/"))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	m := regexp.MustCompile(`src="(/static/vendor/datastar\.[0-9a-f]{12}\.js)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("page does not reference the embedded, content-hashed Datastar client:\n%s", body)
	}
	resp, js := get(t, d.url(string(m[1])))
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("GET %s = %d %s", m[1], resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("client Cache-Control = %q, want a long immutable cache", cc)
	}
	first, _, _ := strings.Cut(string(js), "\n")
	if !strings.Contains(first, "v1.0.0-beta.11") {
		t.Fatalf("client first line = %q, want it to name v1.0.0-beta.11", first)
	}

	if _, notices := get(t, d.url("/licenses")); !strings.Contains(string(notices), "MIT License") {
		t.Errorf("/licenses does not ship the Datastar client's MIT notice")
	}

	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0\n%s", code, d.output())
	}
	t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
}

func TestDaemon_StartupFailuresAreOneClearLine(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	data := filepath.Join(dir, "data", "dashd.db")
	first := startDaemon(t, "--config", cfg, "--data", data)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"data file locked by another dashd", []string{"--config", cfg, "--data", data}, data},
		{"port already in use", []string{"--config", cfg, "--data", filepath.Join(dir, "other.db"), "--listen", busy.Addr().String()}, "address already in use"},
		{"unwritable data path", []string{"--config", cfg, "--data", "/proc/dashd-test/dashd.db"}, "/proc/dashd-test"},
		{"missing named config", []string{"--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDaemon(t, tt.args...)
			if code := d.wait(10 * time.Second); code != 1 {
				t.Fatalf("exit code = %d, want 1\n%s", code, d.output())
			}
			out := strings.TrimSpace(d.output())
			lines := strings.Split(out, "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, tt.want) || !strings.HasPrefix(last, "dashd: ") {
				t.Fatalf("last line = %q, want a 'dashd: ' error naming %q\nfull output:\n%s", last, tt.want, out)
			}
		})
	}
	if _, body := get(t, first.url("/healthz")); len(body) == 0 {
		t.Fatal("first instance stopped answering")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{
			name:     "shipped config",
			args:     []string{"validate", "--config", "../../config.yaml"},
			wantCode: 0,
			wantOut:  []string{`^\.\./\.\./config\.yaml: OK, \d+ checks$`},
		},
		{
			name:     "every problem with line and column",
			args:     []string{"validate", "--config", "testdata/bad.yaml"},
			wantCode: 1,
			wantOut: []string{
				`^testdata/bad\.yaml:4:13: collect\.interval: invalid duration "5 minutes" \(use e\.g\. 30s, 5m, 1h or 90d\)$`,
				`^testdata/bad\.yaml:9:5: checks\[0\]\.intervall: unknown key \(did you mean "interval"\?\)$`,
				`^testdata/bad\.yaml:10:11: checks\[1\]\.name: duplicate check name "self" \(first defined at line 6\)$`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if len(lines) != len(tt.wantOut) {
				t.Fatalf("stdout has %d lines, want %d:\n%s", len(lines), len(tt.wantOut), stdout.String())
			}
			for i, re := range tt.wantOut {
				if !regexp.MustCompile(re).MatchString(lines[i]) {
					t.Errorf("line %d = %q, want match %s", i, lines[i], re)
				}
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "dashd ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	for _, args := range [][]string{{"--help"}, {"validate", "--help"}, {"version", "--help"}} {
		out.Reset()
		errb.Reset()
		if code := run(args, &out, &errb); code != 0 || !strings.Contains(errb.String()+out.String(), "Usage") {
			t.Errorf("%v: exit %d, output %q", args, code, errb.String()+out.String())
		}
	}
}

// TestDaemon_SIGHUPDuringShutdownIsNotASecondSignal: a reload asked for
// while stopping (logrotate, systemctl reload) must not cut the graceful stop
// short.
func TestDaemon_SIGHUPDuringShutdownIsNotASecondSignal(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--config", writeConfig(t, dir, ""), "--data", filepath.Join(dir, "dashd.db"))
	d.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(d.output(), "msg=stopping") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit = %d after SIGTERM then SIGHUP, want 0\n%s", code, d.output())
	}
	if !strings.Contains(d.output(), `msg="dashd stopped"`) {
		t.Fatalf("graceful stop did not finish:\n%s", d.output())
	}
}

func TestDaemon_SIGHUPWithInvalidConfigKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "")
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))

	if err := os.WriteFile(cfg, []byte("collect:\n  intervall: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	want := `collect.intervall: unknown key (did you mean \"interval\"?)`
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.output(), "config.yaml:2:3") || !strings.Contains(d.output(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("reload problem not logged; output:\n%s", d.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, _ := get(t, d.url("/")); resp.StatusCode != 200 {
		t.Fatalf("after a rejected reload GET / = %d", resp.StatusCode)
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit = %d", code)
	}
}

func TestToJournal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env string
		want      bool
	}{
		{"unset", "", false},
		{"names this file", fmt.Sprintf("%d:%d", st.Dev, st.Ino), true},
		{"inherited, names another stream", fmt.Sprintf("%d:%d", st.Dev, st.Ino+1), false},
		{"garbage", "journal", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JOURNAL_STREAM", tt.env)
			if got := toJournal(f); got != tt.want {
				t.Fatalf("toJournal = %v, want %v", got, tt.want)
			}
		})
	}
}
