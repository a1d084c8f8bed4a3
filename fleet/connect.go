package fleet

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dashd/dashd/config"
)

// ConnectOptions are the NATS client options of a dashd in the fleet
// named host, from its fleet.nats section: credentials, TLS, reconnecting
// for ever (an agent outlives any NATS outage), no client-side reconnect
// buffer (a publish while disconnected fails at once and goes to the
// spool instead of a buffer that dies with the process) and a reply inbox
// of its own (the embedded server lets an agent subscribe only there).
func ConnectOptions(n config.FleetNATS, host string, log *slog.Logger) ([]nats.Option, error) {
	return connectOptions(n, "dashd "+host, InboxPrefix(host), log)
}

// HubConnectOptions are ConnectOptions for a hub connecting by URL (its
// ingester and its Actions): the same settings, with the reply inbox
// HubInboxPrefix, which no agent may subscribe to (an agent's own inbox,
// InboxPrefix("hub") for an agent named "hub", would let it read what
// the hubs fetch from the streams).
func HubConnectOptions(n config.FleetNATS, log *slog.Logger) ([]nats.Option, error) {
	return connectOptions(n, "dashd hub", HubInboxPrefix, log)
}

// connectOptions are the options ConnectOptions describes, with the
// connection name and the reply inbox prefix.
func connectOptions(n config.FleetNATS, name, inbox string, log *slog.Logger) ([]nats.Option, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(200*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1),
		nats.Timeout(3 * time.Second),
		nats.CustomInboxPrefix(inbox),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("reconnected to NATS", "url", c.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Warn("NATS error", "err", err) }),
	}
	switch {
	case n.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(n.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("fleet: nkey seed %s: %w", n.NKeySeedFile, err)
		}
		opts = append(opts, o)
	case n.User != "":
		opts = append(opts, nats.UserInfo(n.User, n.Password))
	}
	if n.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(n.TLS.CAFile))
	}
	if n.TLS.CertFile != "" {
		opts = append(opts, nats.ClientCert(n.TLS.CertFile, n.TLS.KeyFile))
	}
	return opts, nil
}

// Connect connects to the servers in urls (it returns at once even when
// none answers: the connection keeps trying in the background).
func Connect(urls []string, opts []nats.Option) (*nats.Conn, error) {
	if len(urls) == 0 {
		return nil, errors.New("fleet: no NATS URLs (fleet.nats.urls)")
	}
	nc, err := nats.Connect(strings.Join(urls, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("fleet: connect to NATS: %w", err)
	}
	return nc, nil
}
