package rules

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkObserve evaluates the shipped rules on a host with 20
// filesystems and 8 interfaces, one sample per second. "history" reads 6 h
// of history per filesystem from a real database (one re-fit per
// filesystem every 60 samples); "no-history" is the per-sample cost alone.
func BenchmarkObserve(b *testing.B) {
	db := openHistory(b, t0.Add(6*time.Hour))
	var fills []fill
	for i := range 20 {
		m := fmt.Sprintf("/srv/vol%02d", i)
		writeAvail(b, db, m, 0, 6*time.Hour, time.Minute, func(h float64) float64 { return 500 - float64(i)*h })
		fills = append(fills, fs(m, 50+float64(i), 20))
	}
	for i := range 8 {
		fills = append(fills, iface(fmt.Sprintf("eth%d", i), 0, 0))
	}
	fills = append(fills, cpu(30), memAvail(40), swap(5), load(2))
	for _, bc := range []struct {
		name string
		h    History
	}{{"history", db}, {"no-history", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			e := New(Defaults())
			if err := e.Problems(); err != nil {
				b.Fatal(err)
			}
			s := sample(6*time.Hour, fills...)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				s.Time = t0.Add(6*time.Hour + time.Duration(i)*time.Second)
				_ = e.Observe(s, bc.h)
			}
		})
	}
}
