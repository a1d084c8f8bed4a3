package channel

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// Sender delivers alert messages to one configured destination.
//
// Send makes one attempt and returns nil only when the destination accepted
// the message. It honours ctx and also bounds itself by the channel's
// timeout. A failed attempt's error is retried by the caller unless
// IsPermanent says retrying cannot help; RetryAfter reads a wait the
// destination asked for. Error texts never contain the channel's secrets
// (tokens, passwords, webhook URLs' secret paths), so they may be logged
// and shown. Nothing Send starts outlives it (connections are not kept
// alive, a command's processes are killed), so a Sender needs no Close. A
// Sender is safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m model.AlertMessage) error
}

// Options is what every channel shares at run time.
type Options struct {
	// Logger receives debug lines about deliveries; nothing when nil.
	Logger *slog.Logger
	// Version is dashd's version, sent as "User-Agent: dashd/<Version>"
	// ("dev" when empty).
	Version string
	// Now is the clock for signature timestamps and Alertmanager's endsAt
	// (time.Now when nil).
	Now func() time.Time
	// RepeatInterval is alerts.repeat_interval: an alertmanager channel
	// sets a firing alert's endsAt AlertmanagerWindow(RepeatInterval)
	// ahead, so the core's reminders keep it firing.
	RepeatInterval time.Duration
	// Hostname is the name an email channel greets its server with (EHLO)
	// when the channel sets no helo (os.Hostname when empty).
	Hostname string
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func (o Options) userAgent() string { return "dashd/" + o.Version }

// spec is what every channel type's config struct implements: package
// config decodes and validates it, build turns the validated value into a
// Sender, describe names its destination without secrets.
type spec interface {
	config.ChannelSpec
	build(c config.Channel, o Options) (Sender, error)
	describe() string
}

// Types is the table of channel types, for config.Options.ChannelTypes.
// Each constructor returns a spec filled with the type's defaults. Adding a
// type means adding its file and one line here.
func Types() config.ChannelTypes {
	return config.ChannelTypes{
		"alertmanager": func() config.ChannelSpec { return newAlertmanagerSpec() },
		"command":      func() config.ChannelSpec { return newCommandSpec() },
		"discord":      func() config.ChannelSpec { return newDiscordSpec() },
		"email":        func() config.ChannelSpec { return newEmailSpec() },
		"ntfy":         func() config.ChannelSpec { return newNtfySpec() },
		"slack":        func() config.ChannelSpec { return newSlackSpec() },
		"telegram":     func() config.ChannelSpec { return newTelegramSpec() },
		"webhook":      func() config.ChannelSpec { return newWebhookSpec() },
	}
}

// New builds the Sender of a validated config.Channel (one produced by
// config.Parse with Types). Its errors name the channel and never quote
// its secrets.
func New(c config.Channel, o Options) (Sender, error) {
	s, ok := c.Spec.(spec)
	if !ok {
		return nil, fmt.Errorf("alert channel %q: type %q has no sender (spec %T)", c.Name, c.Type, c.Spec)
	}
	o = o.withDefaults()
	o.Logger = o.Logger.With("channel", c.Name, "type", c.Type)
	snd, err := s.build(c, o)
	if err != nil {
		return nil, fmt.Errorf("alert channel %q: %w", c.Name, err)
	}
	return &bounded{s: snd, timeout: c.Timeout.D(), name: c.Name, typ: c.Type, log: o.Logger}, nil
}

// Describe names a channel's destination for the Alerts page without its
// secrets: "webhook to 127.0.0.1:9999", "email to 2 recipients via
// smtp.example.org:587", "command notify-team".
func Describe(c config.Channel) string {
	if s, ok := c.Spec.(spec); ok {
		return s.describe()
	}
	return c.Type
}

// bounded applies the channel's timeout to every attempt, prefixes errors
// with the channel, and logs the outcome at debug level.
type bounded struct {
	s         Sender
	timeout   time.Duration
	name, typ string
	log       *slog.Logger
}

func (b *bounded) Send(ctx context.Context, m model.AlertMessage) error {
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	start := time.Now()
	err := b.s.Send(ctx, m)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		b.log.Debug("alert message not delivered", "id", m.ID, "duration", took, "err", err)
		return &channelError{prefix: b.typ + " " + b.name, err: err}
	}
	b.log.Debug("alert message delivered", "id", m.ID, "duration", took, "alerts", len(m.Alerts))
	return nil
}

// channelError names the channel in front of an error, keeping the chain
// for IsPermanent, RetryAfter and errors.Is.
type channelError struct {
	prefix string
	err    error
}

func (e *channelError) Error() string { return e.prefix + ": " + e.err.Error() }
func (e *channelError) Unwrap() error { return e.err }
