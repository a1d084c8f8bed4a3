package main

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// reportTickPhases prints the daemon and floor phases side by side.
func reportTickPhases(w io.Writer, cfg fanoutConfig, d, f *tickPhase) {
	row := func(name string, fn func(p *tickPhase) string) {
		fmt.Fprintf(w, "%-38s %-24s %-24s\n", name, fn(d), fn(f))
	}
	spreads := func(p *tickPhase) []time.Duration {
		out := make([]time.Duration, 0, len(p.ticks))
		for _, t := range p.ticks {
			out = append(out, t.spread())
		}
		return out
	}
	offsets := func(p *tickPhase) []time.Duration {
		var out []time.Duration
		for _, t := range p.ticks {
			out = append(out, t.offsets...)
		}
		return out
	}
	fmt.Fprintf(w, "%-38s %-24s %-24s\n", "", "dashd (real ticks)", "floor (bare loop, replay)")
	row("streams held (client / server)", func(p *tickPhase) string {
		return fmt.Sprintf("%d / %d of %d", p.held, p.serverClients, cfg.n)
	})
	row("connect time", func(p *tickPhase) string { return p.connectTime.Round(time.Millisecond).String() })
	row("ticks in the window", func(p *tickPhase) string {
		s := fmt.Sprintf("%d in %s", len(p.ticks), p.window.Round(time.Second))
		if p.excluded > 0 {
			s += fmt.Sprintf(" (+%d partial)", p.excluded)
		}
		return s
	})
	row("bytes per tick (payload, mean)", func(p *tickPhase) string {
		if len(p.ticks) == 0 {
			return "-"
		}
		total := 0
		for _, t := range p.ticks {
			total += t.bytes
		}
		return strconv.Itoa(total / len(p.ticks))
	})
	row("deliveries / expected", func(p *tickPhase) string {
		got := 0
		for _, t := range p.ticks {
			got += t.clients
		}
		return fmt.Sprintf("%d / %d", got, len(p.ticks)*p.connected)
	})
	row("evictions", func(p *tickPhase) string { return strconv.FormatUint(p.evictions, 10) })
	row("machine load (1 min) window start/end", func(p *tickPhase) string { return p.load[0] + " / " + p.load[1] })
	row("spread first->last per tick p50", func(p *tickPhase) string { return fmtMS(percentile(spreads(p), 0.50)) })
	row("spread first->last per tick p90", func(p *tickPhase) string { return fmtMS(percentile(spreads(p), 0.90)) })
	row("spread first->last per tick p99", func(p *tickPhase) string { return fmtMS(percentile(spreads(p), 0.99)) })
	row("spread first->client p50", func(p *tickPhase) string { return fmtMS(percentile(offsets(p), 0.50)) })
	row("spread first->client p99", func(p *tickPhase) string { return fmtMS(percentile(offsets(p), 0.99)) })
	row("server CPU per tick", func(p *tickPhase) string {
		return fmtMS(p.cpu / time.Duration(max(1, len(p.ticks))))
	})
	row("server CPU, % of one core", func(p *tickPhase) string {
		if p.window <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f %%", float64(p.cpu)/float64(p.window)*100)
	})
	row("server RSS idle -> held", func(p *tickPhase) string {
		return fmt.Sprintf("%.1f -> %.1f MB", float64(p.rssBase)/1e6, float64(p.rssHeld)/1e6)
	})
	row("server RSS per client", func(p *tickPhase) string {
		if p.connected == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f KB", float64(p.rssHeld-p.rssBase)/float64(p.connected)/1024)
	})
	gauge := func(name, key string, per bool) {
		row(name, func(p *tickPhase) string {
			v, ok := p.runtime[key]
			switch {
			case !ok:
				return "-"
			case per:
				return fmt.Sprintf("%.1f KB", v/float64(max(p.connected, 1))/1024)
			}
			return fmt.Sprintf("%.0f", v)
		})
	}
	gauge("server goroutines", "go_goroutines", false)
	gauge("server Go heap in use per client", "go_memstats_heap_inuse_bytes", true)
	gauge("server goroutine stacks per client", "go_memstats_stack_inuse_bytes", true)
	if cfg.verbose {
		for _, p := range []*tickPhase{d, f} {
			fmt.Fprintf(w, "%s per-tick spreads:", p.name)
			for _, s := range spreads(p) {
				fmt.Fprintf(w, " %s", s.Round(100*time.Microsecond))
			}
			fmt.Fprintln(w)
		}
	}
	ratio := func(p float64) string {
		fl := percentile(spreads(f), p)
		if fl <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", float64(percentile(spreads(d), p))/float64(fl))
	}
	fmt.Fprintf(w, "\ndashd/floor spread per tick: p50 %s, p90 %s, p99 %s\n", ratio(0.50), ratio(0.90), ratio(0.99))
}
