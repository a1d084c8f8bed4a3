package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/internal/tlscert"
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashd validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: dashd validate [--config PATH]\n\nChecks a configuration file and prints every problem as FILE:LINE:COL: key: message.\nExit status 0 when valid, 1 when not.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	cfg, err := loadConfig(*path, explicitConfig(fs))
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				fmt.Fprintln(stdout, p.String())
			}
			fmt.Fprintf(stderr, "%s: %d problem(s)\n", *path, len(ce.Problems))
			return 1
		}
		fmt.Fprintln(stderr, "dashd:", err)
		return 1
	}
	// What validation alone cannot say: whether the TLS files make a pair,
	// and whether the listen address would be refused without sign-in.
	if t := cfg.Server.TLS; t.Enabled() {
		if _, err := tlscert.Load(t.CertFile, t.KeyFile, nil); err != nil {
			fmt.Fprintf(stdout, "%s: server.tls: %v\n", cfg.File, err)
			return 1
		}
	}
	if msg := cfg.ExposedWithoutAuth(); msg != "" {
		fmt.Fprintf(stdout, "%s: auth.mode: %s\n", cfg.File, msg)
		return 1
	}
	n := len(cfg.Checks)
	noun := "checks"
	if n == 1 {
		noun = "check"
	}
	fmt.Fprintf(stdout, "%s: OK, %d %s\n", cfg.File, n, noun)
	return 0
}
