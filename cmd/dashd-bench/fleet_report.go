package main

import (
	"fmt"
	"time"
)

// report prints the run's table: totals, per-host costs and ratios (the
// simulated agents share the cores with the hub: their own CPU is shown).
func (b *fleetBench) report(f *fleetFigures) {
	w := b.out
	n := float64(b.n)
	sec := f.hubRSS.elapsed
	row := func(name, total, perHost, note string) {
		fmt.Fprintf(w, "  %-34s %-20s %-20s %s\n", name, total, perHost, note)
	}
	fmt.Fprintf(w, "\nfleet: %d agents, a sample (%d points) every 1s and 20 check results every 30s each; %.0f s window\n", b.n, f.points, sec)
	row("", "total", "per host", "")
	row("messages acknowledged", fmt.Sprintf("%.0f /s", float64(f.samples+f.results)/sec), fmt.Sprintf("%.2f /s", float64(f.samples+f.results)/sec/n),
		fmt.Sprintf("%d samples, %d results; %d publishes failed", f.samples, f.results, f.failed))
	row("hub CPU", fmt.Sprintf("%.1f %%", f.hubCPU), fmt.Sprintf("%.3f %%", f.hubCPU/n),
		fmt.Sprintf("of one core (goal: under 100 %%), one browser on the overview; %.1f us of CPU per message", f.hubCPU/100*sec/float64(max(f.samples+f.results, 1))*1e6))
	row("load generator CPU", fmt.Sprintf("%.1f %%", f.genCPU), fmt.Sprintf("%.3f %%", f.genCPU/n),
		fmt.Sprintf("of one core, this process (hub/generator %.2f); machine: 2 cores", f.hubCPU/max(f.genCPU, 0.001)))
	row("hub RSS", f.hubRSS.rss(), fmt.Sprintf("%.1f KB", float64(f.hubRSS.rssAvg-min(f.hubRSS.rssAvg, f.hubRSSStart))/n/1e3),
		fmt.Sprintf("avg / max; per host: above the %.1f MB before any agent", float64(f.hubRSSStart)/1e6))
	overhead := perMessageOverhead(f.wireOut, f.payload, f.msgs)
	row("bytes per sample", fmt.Sprintf("%d B payload", f.samplePayload), fmt.Sprintf("%.0f B on the wire", float64(f.samplePayload)+overhead),
		fmt.Sprintf("+ %.0f B protocol per message (HPUB, reply, Nats-Msg-Id); a result is %d B of JSON", overhead, f.resultBytes))
	row("agent -> hub bytes", fmtBytes(float64(f.wireOut)/sec)+"/s", fmtBytes(float64(f.wireOut)/sec/n)+"/s", "agents' sockets, out; acks and pings back: "+fmtBytes(float64(f.wireIn)/sec/n)+"/s per host")
	row("sample -> JetStream ack p50/p99", fmtDur(nearestRank(f.acks, 50))+" / "+fmtDur(nearestRank(f.acks, 99)), "", fmt.Sprintf("%d samples", len(f.acks)))
	row("sample -> hub ingest p50/p99", fmtDur(nearestRank(f.arrivals, 50))+" / "+fmtDur(nearestRank(f.arrivals, 99)), "",
		fmt.Sprintf("%d arrivals: the hub's last_seen (/api/v1/hosts, taken when the ingester holds the batch, just before its commit) - publish time", len(f.arrivals)))
	b.reportBrowser(f, row)
	catch := "more than 30 s"
	if f.catchUp >= 0 {
		catch = f.catchUp.Round(time.Millisecond).String()
	}
	row("hub catch-up after the window", catch, "", "until every host's last message before the window's end was ingested")
	dbGrowth, natsGrowth := f.diskEnd.db-f.diskStart.db, f.diskEnd.nats-f.diskStart.nats
	win := time.Duration(sec * float64(time.Second))
	row("disk: history (dashd.db)", fmtBytes(float64(dbGrowth)/sec)+"/s", fmtBytes(perHostPerDay(dbGrowth, win, b.n))+"/day",
		"allocated blocks' growth over the window, extrapolated (the hub keeps raw samples for fleet.hub_raw, 10m by default, and minute/hour tiers)")
	row("disk: JetStream stream", fmtBytes(float64(natsGrowth)/sec)+"/s", fmtBytes(perHostPerDay(natsGrowth, win, b.n))+"/day",
		"bounded by fleet.stream max_bytes (1 GiB) and max_age (24h) in total, not per host")
	ms := func(d time.Duration, missing string) string {
		if d < 0 {
			return missing
		}
		return d.Round(time.Millisecond).String()
	}
	apiMissing := "not seen in 30 s"
	if f.checkAPIMissing {
		apiMissing = "no /api/v1/hosts/{host}/checks"
	}
	row("check down -> hub API", ms(f.checkAPI, apiMissing), "", "one check of one agent goes down (result + event)")
	row("check down -> overview shows it", ms(f.checkView, "not seen in 30 s"), "", "its tile in the browser's stream says \"1 of 20 checks down\"")
	row("check down -> alert delivered", ms(f.checkAlert, "not delivered in 30 s"), "", "webhook on 127.0.0.1, alerts.group_wait default 5s")
	row("agent silent -> API unreachable", ms(f.unreachAPI, "not seen in 60 s"), "", "fleet.unreachable_intervals 5 x 1 s")
	row("agent silent -> overview shows it", ms(f.unreachView, "not seen in 60 s"), "", "its tile in the browser's stream says \"Unreachable\"")
	row("agent silent -> alert delivered", ms(f.unreachAlert, "not delivered in 60 s"), "", "webhook, alerts.group_wait default 5s")
	if f.checkAlertWhy != "" {
		fmt.Fprintf(w, "  check alert not delivered: %s\n", f.checkAlertWhy)
	}
	if f.unreachAlrWhy != "" {
		fmt.Fprintf(w, "  unreachable alert not delivered: %s\n", f.unreachAlrWhy)
	}
	if b.footprint <= 0 {
		return
	}
	if f.footprintErr != nil {
		row("agent footprint", "FAILED", "", f.footprintErr.Error())
		return
	}
	fmt.Fprintf(w, "\nagent footprint: 20 checks every 10s, host sampling at 1s (dashd-bench footprint's set-up, no browser)\n")
	fmt.Fprintf(w, "  %-34s %-20s %-20s %s\n", "", "dashd agent", "dashd serve", "agent / serve")
	fmt.Fprintf(w, "  %-34s %-20s %-20s %.2f\n", "CPU (% of one core, schedstat)", fmt.Sprintf("%.3f %%", f.agent.cpuPct), fmt.Sprintf("%.3f %%", f.single.cpuPct), f.agent.cpuPct/max(f.single.cpuPct, 1e-9))
	fmt.Fprintf(w, "  %-34s %-20s %-20s %.2f\n", "RSS avg / max", f.agent.w.rss(), f.single.w.rss(), float64(f.agent.w.rssAvg)/float64(max(f.single.w.rssAvg, 1)))
}

// reportBrowser prints the overview stream's rows: sample -> browser
// latency over every host's samples of the window, and what the stream
// carried to the one browser.
func (b *fleetBench) reportBrowser(f *fleetFigures, row func(name, total, perHost, note string)) {
	if f.viewErr != nil && len(f.browser.latencies) == 0 {
		row("sample -> browser (fleet overview)", "FAILED", "", f.viewErr.Error())
		return
	}
	m := f.browser
	all := m.exact + m.overtaken + m.missed
	row("sample -> browser p50/p99", fmtDur(nearestRank(m.latencies, 50))+" / "+fmtDur(nearestRank(m.latencies, 99)), "",
		fmt.Sprintf("goal p99 < 2 s; max %s; %d samples of %d hosts: sample time (agent clock) -> its tile's figures (or a newer sample's) decoded from the overview stream", fmtDur(nearestRank(m.latencies, 100)), all, f.browserHosts))
	row("  shown / overtaken / missed", fmt.Sprintf("%d / %d / %d", m.exact, m.overtaken, m.missed), fmt.Sprintf("%.1f / %.1f / %.1f %%", pct(m.exact, all), pct(m.overtaken, all), pct(m.missed, all)),
		"overtaken: a newer sample reached the tile first; missed: neither it nor a newer one by the end of the run")
	fresh := freshest(m.shows)
	row("  freshest tile per update p50/p99", fmtDur(nearestRank(fresh, 50))+" / "+fmtDur(nearestRank(fresh, 99)), "",
		fmt.Sprintf("%d updates: the newest sample each update showed, i.e. how far the hub's view lagged the agents (compare with hub ingest)", len(fresh)))
	sec := f.windowTo.Sub(f.windowFrom).Seconds()
	enc := f.view.encoding
	if enc == "" {
		enc = "identity"
	}
	row("overview stream -> one browser", fmtBytes(float64(f.view.wire)/max(sec, 1e-9))+"/s", fmtBytes(float64(f.view.wire)/max(sec, 1e-9)/float64(b.n))+"/s",
		fmt.Sprintf("%s (%s/s decoded, %.1fx); %.2f whole grids/s, %.0f tile patches/s; %d reconnects", enc, fmtBytes(float64(f.view.plain)/max(sec, 1e-9)),
			float64(f.view.plain)/float64(max(f.view.wire, 1)), float64(f.view.grids)/max(sec, 1e-9), float64(f.view.tiles)/max(sec, 1e-9), f.view.reconnects))
	if f.viewErr != nil {
		row("  overview stream error", "", "", f.viewErr.Error())
	}
}

// pct is part of all in percent (0 for none).
func pct(part, all int) float64 {
	if all == 0 {
		return 0
	}
	return float64(part) / float64(all) * 100
}
