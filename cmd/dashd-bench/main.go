// Command dashd-bench measures dashd's live-update machinery under load.
//
// Usage:
//
//	dashd-bench fanout [-n 1000] [-duration 10s] [-frag 2048]
//	dashd-bench badges [-duration 5s] [-c 32]
//	dashd-bench footprint [-bin bin/dashd] [-checks 20] [-interval 10s] [-duration 60s]
//	dashd-bench attack [-bin bin/dashd] [-duration 10s] [-nofile 4096]
//	dashd-bench alerts [-bin bin/dashd] [-only latency,storm,kill,down,footprint] [-down 10m] [-kills 20]
//	dashd-bench fleet [-bin bin/dashd] [-n 1000] [-duration 60s] [-warmup 30s] [-footprint 30s]
//
// fanout re-executes itself as a child server (the hidden "serve"
// subcommand) so that the server's memory and CPU can be read from /proc
// apart from the load generator's. It runs two phases with the same N and
// the same bytes: "hub", a hub.Hub served by fiber, and "floor", a bare loop
// writing the event to N plain sockets; then prints both side by side.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "fanout":
		err = runFanout(os.Args[2:])
	case "badges":
		err = runBadges(os.Args[2:])
	case "footprint":
		err = runFootprint(os.Args[2:])
	case "attack":
		err = runAttack(os.Args[2:])
	case "alerts":
		err = runAlerts(os.Args[2:])
	case "fleet":
		err = runFleet(os.Args[2:])
	case "serve": // hidden: the child of fanout
		err = runServe(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashd-bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  dashd-bench fanout [-n clients] [-duration d] [-frag bytes]   SSE hub fan-out vs a bare socket loop
  dashd-bench badges [-duration d] [-c conns]                   badge requests/s, with and without 304
  dashd-bench footprint [-bin bin/dashd] [-checks 20] [-interval 10s] [-duration 60s]
                                                                 whole-daemon CPU, RSS and stream bytes/s
  dashd-bench attack [-bin bin/dashd] [-duration 10s] [-nofile 4096] [-only a,b]
                                                                 issue #12's attacks: answers, RSS, /healthz latency
  dashd-bench alerts [-bin bin/dashd] [-only latency,storm,kill,down,footprint] [-down 10m] [-kills 20]
                                                                 issue #14's alert delivery: latency, storm, kill -9, receiver down, footprint
  dashd-bench fleet [-bin bin/dashd] [-n 1000] [-duration 60s] [-warmup 30s] [-footprint 30s]
                                                                 issue #18's hub with N simulated agents: CPU, RSS, wire, latency, disk`)
	os.Exit(2)
}
