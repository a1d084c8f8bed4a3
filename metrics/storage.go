package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/storage"
)

// storagePart exports the history database's size and write health.
//
// # When it fails
//
// When Size fails (the file was removed, its disk is gone): success is 0
// and dashd_storage_bytes is left out, but the write-health families are
// still exported, because they come from the writer's memory and are
// exactly what an operator needs while the disk is in trouble. A stat that
// hangs on a stalled disk fails the part after its time limit (scrape.go)
// instead of holding the whole scrape.
//
// Commits that fail (a full disk) are not a failure of the scrape: the
// source answered, and dashd_storage_write_ok = 0 says what it answered.
type storagePart struct {
	src StorageSource

	bytes, writeOK, writeFailures, dropped, lastCommit, held *prometheus.Desc
}

func newStoragePart(src StorageSource) *storagePart {
	return &storagePart{
		src:           src,
		bytes:         desc("dashd_storage_bytes", "Size of the history database file in bytes."),
		writeOK:       desc("dashd_storage_write_ok", "1 while history commits succeed, 0 while they fail (a full disk, say)."),
		writeFailures: desc("dashd_storage_write_failures_total", "History transactions that failed to commit."),
		dropped:       desc("dashd_storage_records_dropped_total", "Records that could not be stored, by kind.", "kind"),
		lastCommit:    desc("dashd_storage_last_commit_timestamp_seconds", "Unix time of the last successful history commit."),
		held:          desc("dashd_storage_held_records", "Events and notifications held in memory until the disk accepts writes."),
	}
}

func (p *storagePart) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.bytes, p.writeOK, p.writeFailures, p.dropped, p.lastCommit, p.held} {
		ch <- d
	}
}

// collect exports the write health first, so it is there whatever Size does.
func (p *storagePart) collect(s *sink) error {
	p.collectHealth(s, p.src.WriteHealth())
	n, err := p.src.Size()
	if err != nil {
		return err // already says "storage: size of PATH: ..."
	}
	s.gauge(p.bytes, float64(n))
	return nil
}

func (p *storagePart) collectHealth(s *sink, h storage.WriteHealth) {
	s.gauge(p.writeOK, boolValue(h.OK))
	s.counter(p.writeFailures, float64(h.FailedCommits))
	for kind, n := range h.Dropped.All() {
		s.counter(p.dropped, float64(n), kind)
	}
	if !h.LastCommit.IsZero() {
		s.gauge(p.lastCommit, float64(h.LastCommit.UnixNano())/1e9)
	}
	s.gauge(p.held, float64(h.Held))
}
