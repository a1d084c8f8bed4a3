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
	cmd := exec.Command(os.Args[0], "-test.run=^TestDateOnGrid$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "DASHD_DATE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDateOnGrid") {
		t.Fatalf("child test: %v\n%s", err, out)
	}
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
	// Past the next two whole seconds: the line has moved on with them.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(2*time.Second + 300*time.Millisecond)))
	if later := date(); later.Sub(first) < 2*time.Second {
		t.Errorf("Date went from %s to %s in over two seconds: not refreshed", first.Format(time.RFC1123), later.Format(time.RFC1123))
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "fasthttp.updateServerDate") {
		t.Error("fasthttp's own Date refresher is running beside the server's")
	}
}
