package channel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/golden"
)

// commandKeys configures a command channel running sh with script and
// its arguments ($1, ...).
func commandKeys(script string, args ...string) string {
	list := []string{"sh", "-c", strconv.Quote(script), "sh"}
	for _, a := range args {
		list = append(list, strconv.Quote(a))
	}
	return "      type: command\n      command: [" + strings.Join(list, ", ") + "]\n"
}

func TestCommand_StdinAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	in, env := filepath.Join(dir, "in.json"), filepath.Join(dir, "env")
	s := mustSender(t, commandKeys(`cat > "$1"; env | grep '^DASHD_' | grep -v '^DASHD_\(REQUIRE\|TEST\)_' | sort > "$2"`, in, env), testOptions())
	if err := send(t, s, oneAlert()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	// The same document a webhook posts.
	golden.Assert(t, "webhook_one.json", indentJSON(t, got))
	e, _ := os.ReadFile(env)
	want := "DASHD_CHANNEL=ch\nDASHD_MESSAGE_ID=dashd-db-1-hook-17-17\nDASHD_TITLE=[FIRING] web is down (db-1)\n"
	if string(e) != want {
		t.Errorf("environment\n%s\nwant\n%s", e, want)
	}
}

func TestCommand_ExitStatus(t *testing.T) {
	tests := []struct {
		name      string
		script    string
		ok        bool
		permanent bool
		contains  string
	}{
		{"exit 0 delivered", "exit 0", true, false, ""},
		{"exit 1 retried", "echo 'cannot reach https://bob:hunter2hunter@x.example/' >&2; exit 1", false, false, "exit status 1; stderr: cannot reach https://bob:***@x.example/"},
		{"exit 75 EX_TEMPFAIL retried", "exit 75", false, false, "exit status 75"},
		{"exit 64 EX_USAGE permanent", "echo usage >&2; exit 64", false, true, "exit status 64; stderr: usage"},
		{"exit 78 EX_CONFIG permanent", "exit 78", false, true, "exit status 78"},
		{"exit 79 retried", "exit 79", false, false, "exit status 79"},
		{"signal retried", "kill -9 0", false, false, "signal: killed"},
		{"stdout quoted too", "echo out; exit 2", false, false, "exit status 2; stdout: out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSender(t, commandKeys(tt.script), testOptions())
			err := send(t, s, oneAlert())
			if tt.ok {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if err == nil || IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("Send = %v (permanent %v); want permanent %v containing %q", err, IsPermanent(err), tt.permanent, tt.contains)
			}
			if !strings.HasPrefix(err.Error(), "command ch: sh: ") || strings.Contains(err.Error(), "hunter2hunter") {
				t.Errorf("error %q: want the program named and no password", err)
			}
		})
	}
}

func TestCommand_OutputBoundedAndSecretsHidden(t *testing.T) {
	s := mustSender(t, commandKeys(`echo "token is $1" >&2; head -c 100000 /dev/zero | tr '\0' x >&2; exit 1`, "--token=abc-secret-123"), testOptions())
	err := send(t, s, oneAlert())
	if err == nil {
		t.Fatal("Send succeeded")
	}
	msg := err.Error()
	if len(msg) > 2*maxCommandOutput || !strings.Contains(msg, "more bytes not kept") {
		t.Errorf("error of %d bytes, want the output capped at %d with a note", len(msg), maxCommandOutput)
	}
	if strings.Contains(msg, "abc-secret-123") || !strings.Contains(msg, "token is ***") {
		t.Errorf("error shows the argument's secret: %.100s", msg)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// readPID waits for a script to write its child's pid.
func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

func TestCommand_ProcessGroupKilled(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		timeout  string
		timesOut bool
	}{
		{"on timeout", `sleep 60 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"; wait`, "300ms", true},
		{"left behind after exit", `sleep 60 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"; exit 0`, "10s", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			s := mustSender(t, commandKeys(tt.script, pidFile)+"      timeout: "+tt.timeout+"\n", testOptions())
			start := time.Now()
			err := send(t, s, oneAlert())
			if took := time.Since(start); took > 8*time.Second {
				t.Errorf("Send took %s", took)
			}
			if tt.timesOut {
				if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "killed") {
					t.Fatalf("Send = %v, want a retried kill at the deadline", err)
				}
			} else if err != nil {
				t.Fatalf("Send: %v", err)
			}
			pid := readPID(t, pidFile)
			deadline := time.Now().Add(10 * time.Second)
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				t.Errorf("the script's child %d still runs", pid)
			}
		})
	}
}

func TestCommand_NotFoundRetried(t *testing.T) {
	s := mustSender(t, "      type: command\n      command: [/nonexistent/dashd-notify]\n", testOptions())
	err := send(t, s, oneAlert())
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "dashd-notify: start:") {
		t.Fatalf("Send = %v, want a retried start failure", err)
	}
}
