package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dashd/dashd/auth"
)

func TestPasswd_Piped(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		input     string
		code      int
		verifies  string // a secret the printed hash must accept
		rejects   string // one it must not
		stderrHas string
	}{
		{"echo -n", nil, "secret", 0, "secret", "secret\n", ""},
		{"taken as is, newline included", nil, "secret\n", 0, "secret\n", "secret", "ends with a newline"},
		{"spaces kept", nil, " pass phrase ", 0, " pass phrase ", "pass phrase", ""},
		{"empty refused", nil, "", 1, "", "", "empty password refused"},
		{"too long refused", nil, strings.Repeat("x", auth.MaxSecretLen+1), 1, "", "", "longer than"},
		{"no arguments", []string{"extra"}, "secret", 2, "", "", "Usage: dashd passwd"},
		{"help", []string{"--help"}, "", 0, "", "", "Usage: dashd passwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runPasswd(tt.args, strings.NewReader(tt.input), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderrHas) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), tt.stderrHas)
			}
			if tt.verifies == "" {
				if tt.code != 0 && stdout.Len() > 0 {
					t.Fatalf("printed %q on failure", stdout.String())
				}
				return
			}
			h := strings.TrimSuffix(stdout.String(), "\n")
			if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "\n") {
				t.Fatalf("printed %q, want one argon2id PHC line", stdout.String())
			}
			if ok, err := auth.Verify(h, []byte(tt.verifies)); !ok || err != nil {
				t.Fatalf("Verify(printed hash, %q) = %v, %v", tt.verifies, ok, err)
			}
			if ok, _ := auth.Verify(h, []byte(tt.rejects)); ok {
				t.Fatalf("the printed hash also accepts %q", tt.rejects)
			}
		})
	}
}

// TestPasswd_Binary runs the built dashd as the example does:
// echo -n 'secret' | dashd passwd.
func TestPasswd_Binary(t *testing.T) {
	cmd := exec.Command(dashdBin, "passwd")
	cmd.Stdin = strings.NewReader("secret")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("dashd passwd: %v; stderr: %s", err, stderr.String())
	}
	if ok, err := auth.Verify(strings.TrimSpace(stdout.String()), []byte("secret")); !ok || err != nil {
		t.Fatalf("printed %q: Verify = %v, %v", stdout.String(), ok, err)
	}
	if stderr.Len() != 0 {
		t.Fatalf("stderr: %q", stderr.String())
	}
}

// syncBuf is a bytes.Buffer safe for a writer and a poller.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx) or skips.
func openPTY(t *testing.T) (ptmx, pts *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("NOT TESTED: no pseudo-terminal (%v)", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		ptmx.Close()
		t.Skipf("NOT TESTED: unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		ptmx.Close()
		t.Skipf("NOT TESTED: pty number: %v", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptmx.Close()
		t.Skipf("NOT TESTED: open pts: %v", err)
	}
	return ptmx, pts
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPasswd_Terminal(t *testing.T) {
	tests := []struct {
		name          string
		first, second string
		code          int
		stderrHas     string
	}{
		{"asks twice", "s3cret", "s3cret", 0, "Again: "},
		{"mismatch refused", "s3cret", "s3creT", 1, "the two passwords differ"},
		{"empty refused", "", "", 1, "empty password refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ptmx, pts := openPTY(t)
			defer ptmx.Close()
			// Everything the terminal would show (its echo) goes to echoed.
			echoed := &syncBuf{}
			readDone := make(chan struct{})
			go func() {
				defer close(readDone)
				buf := make([]byte, 1024)
				for {
					n, err := ptmx.Read(buf)
					echoed.Write(buf[:n])
					if err != nil {
						return
					}
				}
			}()
			var stdout bytes.Buffer
			stderr := &syncBuf{}
			done := make(chan int, 1)
			go func() { done <- runPasswd(nil, pts, &stdout, stderr) }()

			type answer struct{ prompt, text string }
			answers := []answer{{"Password: ", tt.first}}
			if tt.first != "" {
				answers = append(answers, answer{"Again: ", tt.second})
			}
			for _, a := range answers {
				// Type only once the prompt is there and echo is off, as a
				// person would.
				waitUntil(t, fmt.Sprintf("the %q prompt", a.prompt), func() bool { return strings.Contains(stderr.String(), a.prompt) })
				waitUntil(t, "echo off", func() bool {
					st, err := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
					return err == nil && st.Lflag&unix.ECHO == 0
				})
				if _, err := ptmx.Write([]byte(a.text + "\n")); err != nil {
					t.Fatal(err)
				}
			}
			var code int
			select {
			case code = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("dashd passwd did not return")
			}
			pts.Close()
			ptmx.Close()
			<-readDone
			if code != tt.code || !strings.Contains(stderr.String(), tt.stderrHas) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.stderrHas)
			}
			if tt.first != "" && strings.Contains(echoed.String(), tt.first) {
				t.Fatalf("the password was echoed to the terminal: %q", echoed.String())
			}
			if code == 0 {
				if ok, _ := auth.Verify(strings.TrimSpace(stdout.String()), []byte(tt.first)); !ok {
					t.Fatalf("printed %q does not verify", stdout.String())
				}
			}
		})
	}
}
