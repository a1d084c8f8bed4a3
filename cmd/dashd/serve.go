package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dashd/dashd/config"
)

// overrides are command-line values that win over the file on every (re)load.
type overrides struct {
	listen, data string
}

func (o overrides) apply(c *config.Config) {
	if o.listen != "" {
		c.Server.Listen = o.listen
	}
	if o.data != "" {
		c.Storage.Path = o.data
	}
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	var ov overrides
	fs.StringVar(&ov.listen, "listen", "", "address to listen on, host:port (overrides server.listen; default 127.0.0.1:8080)")
	fs.StringVar(&ov.data, "data", "", "history database file (overrides storage.path; default ./data/dashd.db)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: dashd [serve] [--config PATH] [--listen ADDR] [--data PATH]\n\nRuns the dashboard daemon. SIGHUP reloads the configuration; SIGTERM or SIGINT\nstops it (a second signal stops it at once).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dashd: unexpected argument %q (see dashd --help)\n", fs.Arg(0))
		return 2
	}
	// Signals are caught before anything starts: a SIGHUP that arrives while
	// the listener is already up but the main loop not yet running must not
	// take the default action (exit).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	explicit := explicitConfig(fs)
	cfg, err := loadConfig(*path, explicit)
	if err != nil {
		printConfigError(stderr, err)
		return 1
	}
	ov.apply(cfg)
	if msg := cfg.ExposedWithoutAuth(); msg != "" {
		fmt.Fprintln(stderr, "dashd: refusing to start:", msg)
		return 1
	}
	log := newLogger(cfg.Log, stderr)

	d, err := start(cfg, log, *path, func() (*config.Config, error) {
		// Once a file was read, a missing file on reload is an error: never
		// fall back to the embedded example under a running daemon.
		c, err := loadConfig(*path, explicit || !cfg.Embedded)
		if err == nil {
			ov.apply(c)
		}
		return c, err
	})
	if err != nil {
		fmt.Fprintln(stderr, "dashd:", err)
		return 1
	}
	return d.wait(sigs)
}

// printConfigError prints every problem of an invalid configuration.
func printConfigError(w io.Writer, err error) {
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Fprintln(w, p.String())
		}
		fmt.Fprintf(w, "dashd: invalid configuration (%d problem(s))\n", len(ce.Problems))
		return
	}
	fmt.Fprintln(w, "dashd:", err)
}
