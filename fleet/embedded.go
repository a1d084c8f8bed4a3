package fleet

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/dashd/dashd/config"
)

// hubUser is the embedded server's user for the hub itself (in-process,
// with a password made up at every start).
const hubUser = "dashd-hub"

// EmbeddedOptions configures the hub's own NATS server.
type EmbeddedOptions struct {
	// Listen is host:port for agents (port 0: any free port).
	Listen string
	// StoreDir holds JetStream's files (under the data directory).
	StoreDir string
	// MaxStore bounds JetStream's files in bytes.
	MaxStore int64
	// Agents may connect, each publishing only under its own host.
	Agents []config.FleetAgent
	// Hubs are the other hubs of the site: they connect with a hub's
	// permissions (everything).
	Hubs []config.FleetAgent
	TLS  config.FleetTLS
	// Cluster, when set, joins other embedded servers into one JetStream
	// cluster (Name must be unique per server).
	Cluster *ClusterOptions
	Name    string
	Logger  *slog.Logger
	// Ready bounds the wait for the server to accept connections (10s).
	Ready time.Duration
}

// ClusterOptions make an embedded server one node of a cluster.
type ClusterOptions struct {
	Name   string   // the cluster's name, the same on every node
	Listen string   // host:port of this node's route listener
	Routes []string // nats-route://host:port of the other nodes
}

// Embedded is a running embedded NATS server with JetStream.
type Embedded struct {
	srv      *server.Server
	password string
}

// StartEmbedded starts the server and waits until it accepts connections.
func StartEmbedded(o EmbeddedOptions) (*Embedded, error) {
	host, portS, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("fleet: embedded NATS listen %q: %w", o.Listen, err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return nil, fmt.Errorf("fleet: embedded NATS listen %q: bad port", o.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if o.StoreDir == "" {
		return nil, errors.New("fleet: embedded NATS needs a store directory")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Ready <= 0 {
		o.Ready = 10 * time.Second
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("fleet: hub password: %w", err)
	}
	e := &Embedded{password: hex.EncodeToString(secret)}
	opts := &server.Options{
		ServerName:        o.Name,
		Host:              host,
		Port:              port,
		JetStream:         true,
		StoreDir:          o.StoreDir,
		JetStreamMaxStore: o.MaxStore,
		// JetStream keeps nothing in memory storage here.
		JetStreamMaxMemory: 64 << 20,
		MaxPayload:         MaxPayload,
		NoSigs:             true,
		Users:              []*server.User{{Username: hubUser, Password: e.password}},
	}
	for _, a := range o.Agents {
		perms := AgentPermissions(a.Host)
		if a.NKey != "" {
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: a.NKey, Permissions: perms})
		} else {
			opts.Users = append(opts.Users, &server.User{Username: a.User, Password: a.Password, Permissions: perms})
		}
	}
	for _, h := range o.Hubs {
		if h.NKey != "" {
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: h.NKey})
		} else {
			opts.Users = append(opts.Users, &server.User{Username: h.User, Password: h.Password})
		}
	}
	if o.TLS.CertFile != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.TLS.CertFile, KeyFile: o.TLS.KeyFile,
			CaFile: o.TLS.CAFile, Verify: o.TLS.CAFile != "", Timeout: 2})
		if err != nil {
			return nil, fmt.Errorf("fleet: embedded NATS TLS: %w", err)
		}
		opts.TLSConfig, opts.TLSVerify, opts.TLSTimeout = tc, o.TLS.CAFile != "", 2
	}
	if c := o.Cluster; c != nil {
		ch, cp, err := net.SplitHostPort(c.Listen)
		if err != nil {
			return nil, fmt.Errorf("fleet: cluster listen %q: %w", c.Listen, err)
		}
		opts.Cluster.Name, opts.Cluster.Host = c.Name, ch
		if opts.Cluster.Port, err = strconv.Atoi(cp); err != nil {
			return nil, fmt.Errorf("fleet: cluster listen %q: bad port", c.Listen)
		}
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("fleet: cluster route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("fleet: embedded NATS: %w", err)
	}
	srv.SetLoggerV2(slogLogger{o.Logger}, false, false, false)
	e.srv = srv
	srv.Start()
	if !srv.ReadyForConnections(o.Ready) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("fleet: embedded NATS on %s not ready within %s (is the port in use?)", o.Listen, o.Ready)
	}
	return e, nil
}

// AgentPermissions are what an agent for host may do: publish under its
// own subjects (dashd.<host>.>), hear replies only in its own inbox,
// take the range requests for its own history (HistorySubject) and
// answer each request once, within a minute (the server's allow
// responses: the reply subject of a request it received, nothing else).
// The hubs' actions (ActionSubjects: chat shared between hubs) are denied
// outright, so no agent can speak in the site's chat even if the allow
// list grows. Publishing to its own history subject is denied too: an
// agent that could send itself a request there would be granted a reply
// to whatever subject it named, another host's or the actions stream's
// (the server checks allowed responses after the deny list).
func AgentPermissions(host string) *server.Permissions {
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{HostSubjects(host)}, Deny: []string{ActionSubjects, HistorySubject(host)}},
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(host) + ".>", HistorySubject(host)}},
		Response:  &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
}

// Connect opens the hub's own connection, in process (no socket).
func (e *Embedded) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(e.srv), nats.UserInfo(hubUser, e.password), nats.Name("dashd hub"),
		nats.MaxReconnects(-1)}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("fleet: connect to the embedded NATS: %w", err)
	}
	return nc, nil
}

// ClientURL is where agents connect (nats://host:port).
func (e *Embedded) ClientURL() string { return e.srv.ClientURL() }

// ClusterURL is this node's route address (nats-route://host:port), for
// the other nodes' Routes; "" without a cluster.
func (e *Embedded) ClusterURL() string {
	a := e.srv.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + a.String()
}

// Shutdown stops the server and waits until it has.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// slogLogger passes the NATS server's log to slog: its notices are Debug
// (it is chatty at start), warnings and errors keep their level.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Noticef(f string, v ...any) { s.l.Debug(fmt.Sprintf(f, v...), "part", "nats") }
func (s slogLogger) Warnf(f string, v ...any)   { s.l.Warn(fmt.Sprintf(f, v...), "part", "nats") }
func (s slogLogger) Fatalf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...), "part", "nats") }
func (s slogLogger) Errorf(f string, v ...any)  { s.l.Error(fmt.Sprintf(f, v...), "part", "nats") }
func (s slogLogger) Debugf(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...), "part", "nats") }
func (s slogLogger) Tracef(f string, v ...any)  {}
