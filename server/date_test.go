package server

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestDateOnGrid: a running server's responses carry a current Date
// header, refreshed on the whole second by the server itself, and
// fasthttp's own refresher (a goroutine waking at a moment of its own)
// never starts. It runs in a child process of the test binary: a response
// served by an earlier test in this process (fiber's app.Test) would have
// started fasthttp's refresher already.
func TestDateOnGrid(t *testing.T) {
	if os.Getenv("DASHD_DATE_CHILD") == "1" {
		dateChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDateOnGrid$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "DASHD_DATE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDateOnGrid") {
		t.Fatalf("child test: %v\n%s", err, out)
	}
}

// TestFasthttpVersion: date.go links to fasthttp's unexported Date line
// (serverDateOnce, refreshServerDate). A renamed or retyped variable
// would still link, so an upgrade must re-read fasthttp's header.go and
// then move this pin.
func TestFasthttpVersion(t *testing.T) {
	const checked = "github.com/valyala/fasthttp v1.79.0"
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(mod)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/valyala/fasthttp" {
			if got := f[0] + " " + f[1]; got != checked {
				t.Fatalf("go.mod requires %s; date.go's links were checked against %s: re-check serverDateOnce and refreshServerDate in its header.go, then update this pin", got, checked)
			}
			return
		}
	}
	t.Fatal("go.mod does not require github.com/valyala/fasthttp")
}

func dateChild(t *testing.T) {
	e := newAPIEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	url := "http://" + ln.Addr().String() + "/healthz"
	date := func() time.Time {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date %q: %v", resp.Header.Get("Date"), err)
		}
		return d
	}
	first := date()
	if d := time.Since(first); d < 0 || d > 2*time.Second {
		t.Errorf("Date %s is %s from now", first.Format(time.RFC1123), d)
	}
	// The line moves on with the seconds (given time: a loaded machine
	// may fire the grid timer late).
	deadline := time.Now().Add(20 * time.Second)
	for later := date(); later.Sub(first) < 2*time.Second; later = date() {
		if time.Now().After(deadline) {
			t.Fatalf("Date went from %s to %s in 20 s: not refreshed", first.Format(time.RFC1123), later.Format(time.RFC1123))
		}
		time.Sleep(200 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "fasthttp.updateServerDate") {
		t.Error("fasthttp's own Date refresher is running beside the server's")
	}
}
