package storage

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// BenchmarkAddEventWith is one check going down: its event, its alert
// state and three outbox items, committed (and fsynced) through Run as the
// alerter does it.
func BenchmarkAddEventWith(b *testing.B) {
	db, _ := openTest(b, testOptions(nil))
	runWriter(b, db)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a := checkAlert("c"+strconv.Itoa(i%50), model.AlertFiring, time.Now())
		_, items, err := db.AddEventWith(ctx, model.Event{Kind: model.EventCheck, Check: a.Name, Reason: "HTTP 503"},
			model.AlertChange{Alerts: []model.Alert{a}, Outbox: itemsFor(a, "hook", "am", "mail")})
		if err != nil || len(items) != 3 {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// Pages the records take (the file itself grows in large steps).
	var pages int
	_ = db.view(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bEvents, bOutbox, bOutboxStats, bAlerts} {
			s := tx.Bucket(name).Stats()
			pages += s.BranchAlloc + s.LeafAlloc
		}
		return nil
	})
	b.ReportMetric(float64(pages)/float64(b.N), "page-B/op")
}

// BenchmarkMarkOutbox is one delivery recorded: an item moved from the
// pending set to the finished ones and its channel's counters updated,
// committed (and fsynced) through Run.
func BenchmarkMarkOutbox(b *testing.B) {
	db, _ := openTest(b, testOptions(nil))
	runWriter(b, db)
	ctx := context.Background()
	a := checkAlert("web", model.AlertFiring, time.Now())
	var ids []uint64
	for len(ids) < b.N {
		n := min(1000, b.N-len(ids))
		chans := make([]string, n)
		for i := range chans {
			chans[i] = "hook"
		}
		items, err := db.AddAlertChange(ctx, model.AlertChange{Outbox: itemsFor(a, chans...)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, itemIDs(items)...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := db.MarkOutbox(ctx, "hook", ids[i:i+1], model.OutboxUpdate{State: model.OutboxDelivered, Attempts: 1, MessageID: "m"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n, err := db.PendingCount(); err != nil || n != 0 {
		b.Fatalf("PendingCount = %d, %v after marking every item", n, err)
	}
}
