package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// runAlert is `dashd alert test CHANNEL`: it sends a test message straight
// to one channel of the configuration (no daemon, no outbox), so a channel
// can be checked before dashd runs with it.
func runAlert(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashd alert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: dashd alert test CHANNEL [--config PATH]\n\nSends a test message to the alert channel named CHANNEL in the configuration and\nsays whether it was accepted. Exit status 0 when it was, 1 when not.\n\nFlags:")
		fs.PrintDefaults()
	}
	// Flags may come after the words: dashd alert test ops-hook --config x.
	var words []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return flagExit(err)
		}
		if fs.NArg() == 0 {
			break
		}
		words = append(words, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(words) != 2 || words[0] != "test" {
		fs.Usage()
		return 2
	}
	name := words[1]
	cfg, err := loadConfig(*path, explicitConfig(fs))
	if err != nil {
		printConfigError(stderr, err)
		return 1
	}
	var ch *config.Channel
	var names []string
	for i, c := range cfg.Alerts.Channels {
		names = append(names, c.Name)
		if c.Name == name {
			ch = &cfg.Alerts.Channels[i]
		}
	}
	if ch == nil {
		fmt.Fprintf(stderr, "dashd: no alert channel %q in %s (channels: %v)\n", name, cfg.File, names)
		return 1
	}
	host, _ := os.Hostname()
	sender, err := channel.New(*ch, channel.Options{Version: version, Hostname: host, RepeatInterval: cfg.Alerts.RepeatInterval.D()})
	if err != nil {
		fmt.Fprintln(stderr, "dashd:", err)
		return 1
	}
	now := time.Now()
	al := model.Alert{Key: "dashd:test:" + name, Source: model.AlertSourceDashd, Name: "dashd.test", State: model.AlertFiring,
		Severity: "info", Summary: "test message from dashd", Reason: "sent by dashd alert test",
		Labels: map[string]string{"host": host, "rule": "dashd.test", "severity": "info"}, StartsAt: now}
	msg := model.AlertMessage{ID: fmt.Sprintf("dashd-%s-%s-cli-%d", host, name, now.UnixNano()), Channel: name, Host: host,
		Alerts: []model.Alert{al}, Test: true, ExternalURL: cfg.Alerts.ExternalURL, Time: now}
	ctx, cancel := context.WithTimeout(context.Background(), ch.Timeout.D()+time.Second)
	defer cancel()
	if err := sender.Send(ctx, msg); err != nil {
		kind := "retryable"
		if channel.IsPermanent(err) {
			kind = "permanent"
		}
		fmt.Fprintf(stderr, "dashd: %s (%s %s): not delivered (%s error): %v\n", name, ch.Type, channel.Describe(*ch), kind, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s (%s): test message delivered\n", name, channel.Describe(*ch))
	return 0
}
