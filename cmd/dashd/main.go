// Go 1.25+ re-reads the CPU affinity and cgroup limit every second to adjust
// GOMAXPROCS, which wakes an otherwise idle dashd once more per second, and
// every wake-up costs dashd about as much CPU as a host sample. A host
// daemon's CPU set does not change under it: the default is read at start,
// and again only when internal/procs gives it back after a quiet spell.
//go:debug updatemaxprocs=0

// Command dashd is a live operations dashboard for one Linux host: host metrics
// and service checks, a browser dashboard that updates itself, status badges and
// a JSON API, in one binary with an embedded bbolt history.
//
// Usage:
//
//	dashd [--config PATH] [--listen ADDR] [--data PATH]   serve
//	dashd agent [--config PATH] [--data PATH]             publish this host to a fleet hub
//	dashd validate [--config PATH]                        check a configuration
//	dashd alert test CHANNEL [--config PATH]              send a test alert message
//	dashd passwd                                          hash a password or API token
//	dashd version                                         print the version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/dashd/dashd/fleet"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	fleet.QuietProcessSampler()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without os.Exit, so tests can drive the command line.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "serve", "validate", "version", "alert", "passwd", "agent":
			cmd, args = args[0], args[1:]
		case "help":
			usage(stdout)
			return 0
		}
	}
	switch cmd {
	case "validate":
		return runValidate(args, stdout, stderr)
	case "alert":
		return runAlert(args, stdout, stderr)
	case "passwd":
		return runPasswd(args, os.Stdin, stdout, stderr)
	case "agent":
		return runAgent(args, stdout, stderr)
	case "version":
		fs := flag.NewFlagSet("dashd version", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "Usage: dashd version\n\nPrints the dashd version and the Go version it was built with.")
		}
		if err := fs.Parse(args); err != nil {
			return flagExit(err)
		}
		fmt.Fprintf(stdout, "dashd %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	default:
		return runServe(args, stdout, stderr)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `dashd: a live operations dashboard for this host.

Usage:
  dashd [serve] [--config PATH] [--listen ADDR] [--data PATH]
  dashd agent [--config PATH] [--data PATH]
  dashd validate [--config PATH]
  dashd alert test CHANNEL [--config PATH]
  dashd passwd              (echo -n 'secret' | dashd passwd)
  dashd version

Run "dashd COMMAND --help" for a command's flags.
`)
}

// flagExit maps a flag parse error to an exit code: --help is a success.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// configFlag registers --config with its env and default.
func configFlag(fs *flag.FlagSet) *string {
	def := "./config.yaml"
	if v := os.Getenv("DASHD_CONFIG"); v != "" {
		def = v
	}
	return fs.String("config", def, "configuration file (env DASHD_CONFIG)")
}

// explicitConfig reports whether the operator named a config file (flag or env):
// only then is a missing file an error rather than a reason to use the
// embedded default.
func explicitConfig(fs *flag.FlagSet) bool {
	set := os.Getenv("DASHD_CONFIG") != ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" {
			set = true
		}
	})
	return set
}
