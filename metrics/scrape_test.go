package metrics

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/storage"
)

// successOf returns dashd_scrape_collector_success for part, or -1.
func successOf(fs families, part string) float64 {
	if m := fs.find("dashd_scrape_collector_success", "collector", part); m != nil {
		return value(m)
	}
	return -1
}

// TestScrape_StorageFileGone: when Size fails (the database file closed
// and removed), storage's success flips to 0 and dashd_storage_bytes is
// left out, while storage's write health and every other part are still
// served with status 200. The failure is logged once, however many
// scrapes see it, and the recovery once.
func TestScrape_StorageFileGone(t *testing.T) {
	e := newEnv(t, envOptions{})
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.dbPath); err != nil {
		t.Fatal(err)
	}

	for range 3 {
		_, body := e.scrape(t, "")
		fams := parseText(t, body)
		noDuplicates(t, fams)
		if got := successOf(fams, partStorage); got != 0 {
			t.Errorf("storage success = %v, want 0", got)
		}
		for _, p := range []string{partHost, partChecks, partHub, partHTTP} {
			if got := successOf(fams, p); got != 1 {
				t.Errorf("%s success = %v, want 1", p, got)
			}
		}
		if _, ok := fams["dashd_storage_bytes"]; ok {
			t.Error("dashd_storage_bytes exported without a file")
		}
		for _, name := range []string{
			// storage's write health, from memory
			"dashd_storage_write_ok", "dashd_storage_write_failures_total", "dashd_storage_records_dropped_total", "dashd_storage_held_records",
			// the other parts
			"node_cpu_seconds_total", "node_load1", "dashd_samples_total", "dashd_check_state", "dashd_check_up",
			"dashd_sse_streams", "dashd_http_connections", "dashd_build_info", "go_goroutines",
		} {
			if _, ok := fams[name]; !ok {
				t.Errorf("family %s missing while storage fails", name)
			}
		}
		if m := fams.find("dashd_check_state", "check", checkDown); m == nil || value(m) != 3 {
			t.Errorf("dashd_check_state{check=%q} = %v, want 3", checkDown, m)
		}
	}
	logs := e.logs.String()
	// The closed file also fails the alerts part (its outbox is in it);
	// each part says so once.
	if n := countLines(logs, "metrics: collector failed", "collector=storage"); n != 1 {
		t.Errorf("%d failure lines for 3 failing scrapes, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "collector=storage") || !strings.Contains(logs, e.dbPath) {
		t.Errorf("the failure line does not name the part and the file:\n%s", logs)
	}

	// The file is back: storage succeeds again, and says so once.
	if err := os.WriteFile(e.dbPath, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, body := e.scrape(t, "")
		fams := parseText(t, body)
		if got := successOf(fams, partStorage); got != 1 {
			t.Errorf("storage success = %v after the file is back, want 1", got)
		}
		if m := fams.find("dashd_storage_bytes"); m == nil || value(m) != 1 {
			t.Errorf("dashd_storage_bytes = %v, want 1", m)
		}
	}
	if n := countLines(e.logs.String(), "metrics: collector recovered", "collector=storage"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, e.logs.String())
	}
}

// TestScrape_PartPanics: a part whose source panics fails alone (success
// 0, logged with its stack); the scrape is still served and the process
// lives on.
func TestScrape_PartPanics(t *testing.T) {
	e := newEnv(t, envOptions{wrap: func(s *Sources) {
		s.Listener = func() connlimit.Stats { panic("test: listener stats panic") }
	}})
	_, body := e.scrape(t, "")
	fams := parseText(t, body)
	if got := successOf(fams, partHTTP); got != 0 {
		t.Errorf("http success = %v, want 0", got)
	}
	for _, p := range []string{partHost, partChecks, partHub, partStorage} {
		if got := successOf(fams, p); got != 1 {
			t.Errorf("%s success = %v, want 1", p, got)
		}
	}
	if _, ok := fams["dashd_http_connections"]; ok {
		t.Error("dashd_http_connections exported by a part that panicked first")
	}
	// The hub's reasons of the shared family are still there.
	if m := fams.find("dashd_http_refused_total", "reason", reasonStreams); m == nil || value(m) != 1 {
		t.Errorf("dashd_http_refused_total{reason=streams} = %v, want 1", m)
	}
	if m := fams.find("dashd_http_refused_total", "reason", connlimit.ReasonTotal); m != nil {
		t.Errorf("listener refusals exported by a part that panicked: %v", m)
	}
	logs := e.logs.String()
	for _, want := range []string{"metrics: collector panicked", "collector=http", "test: listener stats panic", "scrape.go"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log does not say %q:\n%s", want, logs)
		}
	}
}

// hangingStore is the real database with a Size that blocks until
// released: a stat on a stalled disk.
type hangingStore struct {
	*storage.DB
	calls   atomic.Int64
	release chan struct{}
	once    sync.Once
}

func (h *hangingStore) Size() (int64, error) {
	h.calls.Add(1)
	<-h.release
	return h.DB.Size()
}

func (h *hangingStore) unblock() { h.once.Do(func() { close(h.release) }) }

// TestScrape_PartHangs: a part whose source does not answer fails after
// its time limit without holding the scrape; while it is stuck, later
// scrapes fail it at once without calling the source again; once the
// source answers, the part succeeds again.
func TestScrape_PartHangs(t *testing.T) {
	const limit = time.Second // generous: the other parts must answer within it on a busy machine
	hs := &hangingStore{release: make(chan struct{})}
	e := newEnv(t, envOptions{timeout: limit, wrap: func(s *Sources) {
		hs.DB = s.Storage.(*storage.DB)
		s.Storage = hs
	}})
	t.Cleanup(hs.unblock) // before goleak looks, whatever happens

	for i := range 3 {
		_, body := e.scrape(t, "")
		fams := parseText(t, body)
		if got := successOf(fams, partStorage); got != 0 {
			t.Errorf("scrape %d: storage success = %v, want 0", i, got)
		}
		for _, p := range []string{partHost, partChecks, partHub, partHTTP} {
			if got := successOf(fams, p); got != 1 {
				t.Errorf("scrape %d: %s success = %v, want 1", i, p, got)
			}
		}
		if _, ok := fams["node_cpu_seconds_total"]; !ok {
			t.Errorf("scrape %d: host families missing while storage hangs", i)
		}
		d := fams.find("dashd_scrape_collector_duration_seconds", "collector", partStorage)
		if i == 0 && (d == nil || value(d) < limit.Seconds()) {
			t.Errorf("scrape %d: storage duration %v, want at least the limit %v", i, d, limit)
		}
	}
	if n := hs.calls.Load(); n != 1 {
		t.Errorf("Size called %d times while stuck, want 1 (no new collection while one is stuck)", n)
	}
	if !strings.Contains(e.logs.String(), "no answer in time") {
		t.Errorf("the failure is not logged:\n%s", e.logs.String())
	}

	hs.unblock()
	e.waitFor(t, "storage to succeed again", func() bool {
		fams := gather(t, e.m)
		return successOf(fams, partStorage) == 1
	})
}

// countLines counts the log lines holding every one of subs.
func countLines(logs string, subs ...string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			n++
		}
	}
	return n
}
