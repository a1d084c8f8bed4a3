package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"golang.org/x/sys/unix"
)

// logBuf collects log lines from several goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) count(substr string) int { return strings.Count(l.String(), substr) }

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// Log lines of a failure streak (see healthTracker.note).
const (
	logFailing = "storage: commits failing"
	logStill   = "storage: commits still failing"
	logAgain   = "storage: commits succeed again"
)

// mountTmpfs mounts a tmpfs of the given size on a fresh directory and
// unmounts it at cleanup (after everything registered later, such as the
// database's Close, has run). It skips the test when that is not possible.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skipf("NOT TESTED: a full filesystem needs a small tmpfs, and mounting one needs root (the CI runs as root); euid is %d", os.Geteuid())
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("NOT TESTED: mount -t tmpfs -o size=%s tmpfs %s failed: %v (no CAP_SYS_ADMIN in this container?)", size, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			_ = unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// fillFS writes a file in dir until the filesystem refuses with ENOSPC.
func fillFS(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i)
	}
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v, want ENOSPC", dir, err)
			}
			return name
		}
	}
}

// outage drives a database at path through a disk outage with the real
// writer (Run) and the public API: ticks of 50 series, each committed and
// flushed, a result every 10 ticks, events and chat. fill makes the disk
// refuse to grow the file, free makes room again; failed recognises the
// cause in an error. It leaves the database closed and returns the reasons
// (up to the first space) of every event it stored, oldest first.
func outage(t *testing.T, path string, fill, free func(t *testing.T), failed func(error) bool) (events []string) {
	t.Helper()
	var logs logBuf
	clk := newClock(base)
	opts := testOptions(clk)
	opts.Logger = logs.logger()
	opts.InitialMmapSize = 32 << 10 // remaps while the disk is full, too
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = db.Close()
		}
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	runWriter(t, db)
	// Each call gets its own generous deadline (the whole run can take a
	// while on a slow disk under the race detector).
	call := func(f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return f(ctx)
	}

	tick := 0
	okTicks, failedTicks := 0, 0
	// write commits one tick and reports whether its sample was dropped.
	write := func() (dropped bool) {
		before := db.WriteHealth().Dropped.Samples
		at := tickTime(tick)
		clk.Set(at)
		pts := make([]model.Point, 50)
		for j := range pts {
			pts[j] = pt("s"+strconv.Itoa(j), float64(tick*j%1000))
		}
		if err := db.WriteSample(model.Sample{Time: at, Points: pts}); err != nil {
			t.Fatalf("tick %d: WriteSample: %v", tick, err)
		}
		if tick%10 == 0 {
			if err := db.WriteResult(model.Result{Check: "web", Time: at, State: model.StateUp}); err != nil {
				t.Fatalf("tick %d: WriteResult: %v", tick, err)
			}
		}
		tick++
		// The sample's own commit is done once Flush answers (in order).
		if err := call(db.Flush); err != nil && !errors.Is(err, ErrWriteFailed) {
			t.Fatalf("tick %d: Flush: %v", tick-1, err)
		}
		dropped = db.WriteHealth().Dropped.Samples > before
		if dropped {
			failedTicks++
		} else {
			okTicks++
		}
		return dropped
	}
	addEvent := func(reason string) error {
		start := time.Now()
		var e model.Event
		err := call(func(ctx context.Context) (err error) {
			e, err = db.AddEvent(ctx, model.Event{Kind: model.EventReload, Reason: reason})
			return err
		})
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("AddEvent took %v; it must answer promptly, outage or not", d)
		}
		short, _, _ := strings.Cut(reason, " ")
		switch {
		case err == nil && e.ID > 0:
			events = append(events, short)
		case errors.Is(err, ErrHeld) && !errors.Is(err, ErrWriteFailed) && failed(err) && e.ID == 0:
			events = append(events, short) // stored later
		default:
			t.Fatalf("AddEvent(%s) = %+v, %v; want stored, or ErrHeld with the cause and ID 0", short, e, err)
		}
		return err
	}

	// Healthy: past a fold (a new raw window every 120 ticks).
	for range 200 {
		if write() {
			t.Fatalf("tick %d dropped before the disk is full: %+v", tick-1, db.WriteHealth())
		}
	}
	for i := range 3 {
		if err := addEvent("before-" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if h := db.WriteHealth(); !h.OK || h.LastCommit.IsZero() || h.FailedCommits != 0 || h.Dropped.Total() != 0 {
		t.Fatalf("healthy WriteHealth = %+v", h)
	}

	// The disk fills up: the file cannot grow, so commits fail once its
	// free pages are used up.
	// Right at the edge a commit may still find free pages a moment after
	// one failed; three ticks dropped in a row are past the edge.
	fill(t)
	for i, inRow := 0, 0; inRow < 3; i++ {
		if i == 5000 {
			t.Fatalf("5000 ticks on a full disk without three dropped in a row")
		}
		if write() {
			inRow++
		} else {
			inRow = 0
		}
	}
	h := db.WriteHealth()
	if h.OK || h.FailingSince.IsZero() || !failed(errors.New(h.LastError)) || h.FailedCommits < 3 || h.Dropped.Samples < 3 {
		t.Fatalf("WriteHealth on a full disk = %+v", h)
	}
	if s := h.String(); !strings.Contains(s, "failing since") || !strings.Contains(s, h.LastError) {
		t.Errorf("WriteHealth.String() = %q", s)
	}

	// A tick that cannot be stored does not take the event queued with it
	// down: the retry without samples and results fits in the file's free
	// pages.
	if err := db.AppendEvent(model.Event{Kind: model.EventReload, Reason: "mixed"}); err != nil {
		t.Fatal(err)
	}
	if !write() {
		t.Logf("tick %d was committed on a full disk after all: the retry was not needed", tick-1)
	}
	events = append(events, "mixed")
	if h := db.WriteHealth(); h.Held != 0 || h.Dropped.Events != 0 {
		t.Errorf("after a tick with an event: %+v; want the event stored", h)
	}
	if evs, err := db.Events(0, 1); err != nil || len(evs) != 1 || evs[0].Reason != "mixed" {
		t.Errorf("newest event = %+v, %v; want the one queued with a dropped tick", evs, err)
	}

	// Small commits may still fit in free pages of the file; an event
	// larger than any free run of pages must grow it, fails and is held.
	// Every later commit retries it first, so from then on every commit
	// fails until there is room again.
	pad := strings.Repeat("x", maxTextLen-100)
	for i := 0; addEvent("big-"+strconv.Itoa(i)+" "+pad) == nil; i++ {
		if i == 200 {
			t.Fatalf("200 events of 64 KiB committed on a full disk")
		}
	}
	for i := range 3 {
		if err := addEvent("held-" + strconv.Itoa(i)); err == nil {
			t.Fatalf("an event committed while an earlier one is held")
		}
	}
	if err := db.AppendEvent(model.Event{Kind: model.EventReload, Reason: "held-async"}); err != nil {
		t.Fatal(err)
	}
	events = append(events, "held-async")
	if err := call(func(ctx context.Context) error {
		_, err := db.AddChat(ctx, model.ChatMessage{Room: "ops", Author: "ann", Text: "hi"})
		return err
	}); !errors.Is(err, ErrWriteFailed) || errors.Is(err, ErrHeld) || !failed(err) {
		t.Errorf("AddChat on a full disk = %v; want ErrWriteFailed with the cause (chat is not held)", err)
	}

	// Two and a half simulated minutes of outage: every tick is dropped.
	for range 150 {
		if !write() {
			t.Fatalf("tick %d committed while an event is held on a full disk", tick-1)
		}
	}
	h = db.WriteHealth()
	if h.OK || h.Held != 5 || h.HeldBytes < maxTextLen || h.Dropped.Samples != uint64(failedTicks) || h.Dropped.Chat != 1 || h.Dropped.Events != 0 {
		t.Errorf("WriteHealth after the outage went on = %+v; want 5 held, %d samples and 1 chat message dropped", h, failedTicks)
	}
	// Reads work throughout.
	pts, err := db.Range("s7", base, tickTime(tick), 0)
	if err != nil || len(pts) != okTicks {
		t.Errorf("Range during the outage: %d points, %v; want %d", len(pts), err, okTicks)
	}
	if evs, err := db.Events(0, 1000); err != nil || len(evs) != len(events)-5 {
		t.Errorf("Events during the outage: %d, %v; want the %d stored", len(evs), err, len(events)-5)
	}
	if msgs, err := db.ChatLatest("ops", 10); err != nil || len(msgs) != 0 {
		t.Errorf("ChatLatest during the outage: %v, %v", msgs, err)
	}
	// Not a line per failed commit: the start, a reminder a minute (at the
	// edge of full, a flap or two more).
	if n, m := logs.count(logFailing), logs.count(logStill); n < 1 || m < 1 || n+m > 6 {
		t.Errorf("%d %q and %d %q lines for %d failed commits in 2.5 simulated minutes; want one a minute or so",
			n, logFailing, m, logStill, db.WriteHealth().FailedCommits)
	}

	// Room again: the next commit stores the held events first.
	free(t)
	for i := 0; write(); i++ {
		if i == 100 {
			t.Fatalf("no commit succeeded after space was freed: %+v", db.WriteHealth())
		}
	}
	h = db.WriteHealth()
	if !h.OK || !h.FailingSince.IsZero() || h.Held != 0 || h.HeldBytes != 0 || h.LastError == "" || h.Dropped.Events != 0 {
		t.Errorf("WriteHealth after recovery = %+v", h)
	}
	if n := logs.count(logAgain); n < 1 || n > 3 {
		t.Errorf("%d %q lines, want 1 (or one more per flap at the edge)", n, logAgain)
	}
	for range 200 { // and past another fold
		if write() {
			t.Fatalf("tick %d dropped after recovery", tick-1)
		}
	}
	checkOutageFile(t, db, events, okTicks, tick)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true
	t.Logf("%d ticks stored, %d dropped; events %v; %+v", okTicks, failedTicks, events, db.WriteHealth())
	return events
}

// checkOutageFile checks what outage stored: every event in order, and
// (if ticks > 0) exactly the okTicks ticks that were committed.
func checkOutageFile(t *testing.T, db *DB, events []string, okTicks, ticks int) {
	t.Helper()
	evs, err := db.Events(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(evs) - 1; i >= 0; i-- {
		short, _, _ := strings.Cut(evs[i].Reason, " ")
		got = append(got, short)
	}
	if strings.Join(got, ",") != strings.Join(events, ",") {
		t.Errorf("events, oldest first = %v, want %v", got, events)
	}
	if ticks > 0 {
		pts, err := db.Range("s7", base, tickTime(ticks), 0)
		if err != nil || len(pts) != okTicks {
			t.Errorf("Range: %d points, %v; want the %d committed ticks", len(pts), err, okTicks)
		}
	}
}

func TestDiskFull_Tmpfs(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	path := filepath.Join(dir, "dashd.db")
	var filler string
	events := outage(t, path,
		func(t *testing.T) { filler = fillFS(t, dir) },
		func(t *testing.T) {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		},
		func(err error) bool {
			return errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device")
		})
	if t.Failed() {
		return
	}
	// Closed: the file is consistent, and a new Open finds everything.
	checkFile(t, path)
	db, err := Open(path, testOptions(nil))
	if err != nil {
		t.Fatalf("reopen after the outage: %v", err)
	}
	checkOutageFile(t, db, events, 0, 0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// Child process for TestDiskFull_FileSizeLimit.
const envFsizeDir = "DASHD_STORAGE_FSIZE_DIR"

// TestHelperDiskFullChild is not a test: it is the body of the child process
// of TestDiskFull_FileSizeLimit, which lowers its own RLIMIT_FSIZE (it
// cannot affect any other process).
func TestHelperDiskFullChild(t *testing.T) {
	dir := os.Getenv(envFsizeDir)
	if dir == "" {
		t.Skip("child process body; runs only when re-executed by TestDiskFull_FileSizeLimit")
	}
	path := filepath.Join(dir, "dashd.db")
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	events := outage(t, path,
		func(t *testing.T) {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			// The file cannot grow: no write or truncate past its size.
			if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: uint64(fi.Size()), Max: old.Max}); err != nil {
				t.Fatal(err)
			}
		},
		func(t *testing.T) {
			if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
				t.Fatal(err)
			}
		},
		func(err error) bool { return strings.Contains(err.Error(), "file too large") })
	fmt.Println("events:", strings.Join(events, ","))
}

// TestDiskFull_FileSizeLimit is the outage without root: the file cannot
// grow (RLIMIT_FSIZE, set in a child process), so bbolt fails while growing
// the file rather than while writing pages, as on a full tmpfs.
func TestDiskFull_FileSizeLimit(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDiskFullChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envFsizeDir+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHelperDiskFullChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "dashd.db")
	checkFile(t, path)
	db, err := Open(path, testOptions(nil))
	if err != nil {
		t.Fatalf("reopen after the outage: %v", err)
	}
	m := regexp.MustCompile(`(?m)^events: (\S+)$`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child did not list its events:\n%s", out)
	}
	checkOutageFile(t, db, strings.Split(string(m[1]), ","), 0, 0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDiskFull_CloseWhileFull(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	path := filepath.Join(dir, "dashd.db")
	var logs logBuf
	opts := testOptions(newClock(base))
	opts.Logger = logs.logger()
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	runWriter(t, db)
	ctx := ctxT(t)
	if _, err := db.AddEvent(ctx, model.Event{Kind: model.EventStart}); err != nil {
		t.Fatal(err)
	}
	fillFS(t, dir)
	pad := strings.Repeat("x", maxTextLen-100)
	for i := 0; ; i++ {
		_, err := db.AddEvent(ctx, model.Event{Kind: model.EventReload, Reason: pad})
		if errors.Is(err, ErrHeld) {
			break
		}
		if err != nil || i == 200 {
			t.Fatalf("AddEvent %d on a full disk = %v, want it stored or held", i, err)
		}
	}
	if err := db.Close(); err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close on a full disk with a held event = %v, want the error", err)
	}
	if h := db.WriteHealth(); h.Dropped.Events != 1 || h.Held != 0 {
		t.Errorf("WriteHealth after Close = %+v; want the held event counted as dropped", h)
	}
	if !strings.Contains(logs.String(), "records held in memory are lost") {
		t.Errorf("no log line about the lost event:\n%s", logs.String())
	}
	checkFile(t, path)
}
