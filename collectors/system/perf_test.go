package system

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkSampleSlowTick is the cost of a tick that also runs the process
// refresh and re-reads the mount table and disk list (one tick in
// ProcessInterval/Interval, every 5th at the defaults).
func BenchmarkSampleSlowTick(b *testing.B) {
	ctx := context.Background()
	s := New(Options{ProcessInterval: time.Nanosecond, Logger: slog.New(slog.DiscardHandler)})
	defer s.close()
	s.sample(ctx)
	s.sample(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.sample(ctx)
	}
}

// BenchmarkTickSyscalls runs ticks back to back on the real host with a fake
// clock one second apart, so the process refresh runs every 5th tick as in
// production. Count system calls per tick from outside, with N and with 10
// ticks, and divide the difference:
//
//	go test -c -o /tmp/system.test ./collectors/system/
//	strace -f -c /tmp/system.test -test.run '^$' -test.bench TickSyscalls -test.benchtime 210x
func BenchmarkTickSyscalls(b *testing.B) {
	ctx := context.Background()
	s := New(Options{
		Logger: slog.New(slog.DiscardHandler),
		Now:    fakeClock(time.Now(), time.Second),
	})
	defer s.close()
	b.ReportAllocs()
	for b.Loop() {
		s.sample(ctx).Points()
	}
}
