package alert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"golang.org/x/sys/unix"
)

// TestSelf_SamplingStalled: no host sample for longer than three sampling
// intervals (and 5s) fires dashd.sampling; the next sample resolves it.
func TestSelf_SamplingStalled(t *testing.T) {
	hook := newReceiver(t)
	clk := realClock()
	e := newEnv(t, "self.yaml", map[string]string{"HOOK_URL": hook.url()}, clk) // collect.interval: 1s
	e.rec.Sample(system.Snapshot{Time: clk.Now()})
	e.run()
	settle()
	if n := len(hook.all()); n != 0 {
		t.Fatalf("%d messages while sampling runs", n)
	}
	clk.Advance(30 * time.Second)
	got := hook.waitAccepted(1, 10*time.Second)
	al := got[0].msg.Alerts[0]
	if al.Key != "dashd:sampling" || al.State != model.AlertFiring || al.Severity != "critical" ||
		al.Summary != "host sampling stalled" || !strings.HasPrefix(al.Reason, "no host sample for 3") {
		t.Fatalf("alert %+v; want dashd.sampling firing, no sample for 30s", al)
	}
	ev := e.stored(func(ev model.Event) bool { return ev.Kind == model.EventAlert })
	if !strings.Contains(ev.Reason, "host sampling stalled") {
		t.Errorf("alert event %+v", ev)
	}
	e.rec.Sample(system.Snapshot{Time: clk.Now()})
	got = hook.waitAccepted(2, 10*time.Second)
	if al := got[1].msg.Alerts[0]; al.Key != "dashd:sampling" || al.State != model.AlertResolved {
		t.Fatalf("after a sample: %+v; want dashd.sampling resolved", al)
	}
}

// TestSelf_StorageFailing: while storage commits fail, dashd.storage
// fires and is told at once past the outbox (which is on the failing
// disk); its outbox item is held in memory and delivered once the disk
// has room, followed by the resolution.
func TestSelf_StorageFailing(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	hook := newReceiver(t)
	e := newEnvIn(t, dir, "self.yaml", map[string]string{"HOOK_URL": hook.url()}, realClock())
	e.run()
	filler := fillFS(t, dir)
	fillUntilHeld(t, e.db)
	got := hook.waitAccepted(1, 15*time.Second)
	m := got[0].msg
	if len(m.Alerts) != 1 || m.Alerts[0].Key != "dashd:storage" || m.Alerts[0].State != model.AlertFiring ||
		m.Alerts[0].Summary != "history is not being saved" || !strings.Contains(m.Alerts[0].Reason, "failing") ||
		!strings.Contains(m.ID, "-direct-") {
		t.Fatalf("message while storage fails: %+v; want dashd.storage firing, sent directly", m)
	}
	if n := e.a.FiringCount(); n != 1 {
		t.Errorf("FiringCount = %d during the outage", n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.db.Flush(ctx); err != nil {
		t.Fatalf("Flush after room came back: %v", err)
	}
	waitFor(t, 20*time.Second, "dashd.storage resolved and delivered", func() bool {
		for _, q := range hook.accepted() {
			if len(q.msg.Alerts) > 0 && q.msg.Alerts[len(q.msg.Alerts)-1].Key == "dashd:storage" &&
				q.msg.Alerts[len(q.msg.Alerts)-1].State == model.AlertResolved {
				return true
			}
		}
		return false
	})
	if _, firing := e.active("dashd:storage"); firing || e.a.FiringCount() != 0 {
		t.Errorf("dashd.storage still active after recovery")
	}
	var viaOutbox bool
	for _, d := range e.deliveries() {
		viaOutbox = viaOutbox || (d.Alert.Key == "dashd:storage" && d.Alert.State == model.AlertFiring && d.EventID != 0)
	}
	if !viaOutbox {
		t.Errorf("deliveries %v; want the held firing item stored with its event and delivered", keys(e.deliveries()))
	}
}

// mountTmpfs mounts a tmpfs of size on a fresh directory, unmounted at
// cleanup (after the database is closed). It skips the test when that is
// not possible.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skipf("NOT TESTED: failing storage needs a small full tmpfs, and mounting one needs root (the CI runs as root); euid is %d", os.Geteuid())
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("NOT TESTED: mount -t tmpfs -o size=%s tmpfs %s failed: %v (no CAP_SYS_ADMIN?)", size, dir, err)
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
	// Room again before the database closes, should the test end early.
	t.Cleanup(func() { _ = os.Remove(name) })
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v, want ENOSPC", dir, err)
			}
			return name
		}
	}
}

// fillUntilHeld adds large events on the full disk until one is held: it
// cannot fit in the file's free pages, so every commit fails from then on
// (each retries it first) until there is room again.
func fillUntilHeld(t *testing.T, db *storage.DB) {
	t.Helper()
	pad := strings.Repeat("x", 60<<10)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := db.AddEvent(ctx, model.Event{Kind: model.EventReload, Reason: "big-" + strconv.Itoa(i) + " " + pad})
		cancel()
		if errors.Is(err, storage.ErrHeld) {
			return
		}
		if err != nil || i == 200 {
			t.Fatalf("AddEvent %d on a full disk = %v; want it stored or held", i, err)
		}
	}
}

// TestSelf_DirectSendEndsWithRun: a direct send of dashd.storage to a
// receiver that hangs ends when Run's context does, not after the
// channel's timeout (20s).
func TestSelf_DirectSendEndsWithRun(t *testing.T) {
	dir := mountTmpfs(t, "2m")
	hook := newReceiver(t)
	hook.setDefault(answer{hang: true})
	e := newEnvIn(t, dir, "self.yaml", map[string]string{"HOOK_URL": hook.url()}, realClock())
	e.run()
	fillFS(t, dir)
	fillUntilHeld(t, e.db)
	waitFor(t, 15*time.Second, "the direct send", func() bool { return inFlight(hook) == 1 })
	start := time.Now()
	e.stopAlerter()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run took %s to return; the direct send kept it", took)
	}
}
