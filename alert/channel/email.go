package channel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// EmailSpec configures an email channel: a plain-text mail per message
// over SMTP, to one or more recipients.
type EmailSpec struct {
	Host string `yaml:"host"`
	// Port defaults to 587 for starttls, 465 for tls and 25 for none.
	Port int `yaml:"port"`
	// TLS is starttls (default: plain connect, then STARTTLS, refused when
	// the server does not offer it), tls (TLS from the first byte, "SMTPS")
	// or none (only for a server on this machine).
	TLS string `yaml:"tls"`
	// Username and Password authenticate with AUTH PLAIN or LOGIN, only
	// ever over TLS or to this machine.
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	// Helo is the name dashd greets the server with (default this host's
	// name).
	Helo               string `yaml:"helo"`
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Email transport security modes.
const (
	EmailSTARTTLS = "starttls"
	EmailTLS      = "tls"
	EmailNone     = "none"
)

// maxEmailRecipients bounds the to: list.
const maxEmailRecipients = 100

func newEmailSpec() *EmailSpec { return &EmailSpec{TLS: EmailSTARTTLS} }

func (e *EmailSpec) port() int {
	switch {
	case e.Port != 0:
		return e.Port
	case e.TLS == EmailTLS:
		return 465
	case e.TLS == EmailNone:
		return 25
	}
	return 587
}

// Validate reports problems with positions.
func (e *EmailSpec) Validate(s config.Scope) {
	switch {
	case e.Host == "":
		s.Required("host", true)
	case strings.ContainsAny(e.Host, "/ \r\n") || strings.Count(e.Host, ":") == 1:
		s.Errorf("host", "must be a host name or address alone (the port goes in port:), got %q", e.Host)
	}
	if e.Port < 0 || e.Port > 65535 {
		s.Errorf("port", "must be between 1 and 65535, got %d", e.Port)
	}
	switch e.TLS {
	case EmailSTARTTLS, EmailTLS:
	case EmailNone:
		if e.Host != "" && !isLoopback(e.Host) {
			s.Errorf("tls", "none sends mail (and any password) in clear text: only allowed for a server on this machine (localhost, 127.0.0.1, ::1); use starttls or tls")
		}
	default:
		s.Errorf("tls", "must be starttls, tls or none, got %q", e.TLS)
	}
	if (e.Username == "") != (e.Password == "") {
		s.Errorf("username", "username and password go together")
	}
	if e.From == "" {
		s.Required("from", true)
	} else if _, err := parseAddress(e.From); err != nil {
		s.Errorf("from", "%v", err)
	}
	switch {
	case len(e.To) == 0:
		s.Errorf("to", "must list at least one recipient")
	case len(e.To) > maxEmailRecipients:
		s.Errorf("to", "lists %d recipients; at most %d (use a mailing list)", len(e.To), maxEmailRecipients)
	}
	for i, to := range e.To {
		if _, err := parseAddress(to); err != nil {
			s.Index("to", i).Errorf("", "%v", err)
		}
	}
	if strings.ContainsAny(e.Helo, " \t\r\n<>") {
		s.Errorf("helo", "must be a host name, got %q", e.Helo)
	}
	validateTLS(s, e.CAFile, e.InsecureSkipVerify)
}

// parseAddress reads one mail address ("ops@example.org" or
// "Ops <ops@example.org>").
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%q is not one mail address", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a mail address such as ops@example.org or \"Ops <ops@example.org>\"", s)
	}
	return a, nil
}

func (e *EmailSpec) describe() string {
	n := "recipients"
	if len(e.To) == 1 {
		n = "recipient"
	}
	return fmt.Sprintf("email to %d %s via %s", len(e.To), n, net.JoinHostPort(e.Host, strconv.Itoa(e.port())))
}

type email struct {
	addr, host, mode   string
	helo               string
	username, password string
	from               *mail.Address
	to                 []*mail.Address
	tls                *tls.Config
	scrub              scrubber
}

var _ Sender = (*email)(nil)

func (e *EmailSpec) build(_ config.Channel, o Options) (Sender, error) {
	tc, err := tlsConfig(e.CAFile, e.InsecureSkipVerify, e.Host)
	if err != nil {
		return nil, err
	}
	em := &email{
		addr: net.JoinHostPort(e.Host, strconv.Itoa(e.port())), host: e.Host, mode: e.TLS,
		helo: e.Helo, username: e.Username, password: e.Password, tls: tc,
		scrub: newScrubber(e.Password, basicAuth(e.Username, e.Password)),
	}
	if em.mode == "" {
		em.mode = EmailSTARTTLS
	}
	if em.mode == EmailNone && !isLoopback(e.Host) {
		return nil, errors.New("tls: none is only allowed for a server on this machine")
	}
	if em.helo == "" {
		em.helo = o.Hostname
	}
	if em.helo == "" {
		em.helo, _ = os.Hostname()
	}
	if em.helo == "" || strings.ContainsAny(em.helo, " \t\r\n<>") {
		em.helo = "localhost"
	}
	if em.from, err = parseAddress(e.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(e.To) == 0 {
		return nil, errors.New("to: no recipient")
	}
	for _, t := range e.To {
		a, err := parseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		em.to = append(em.to, a)
	}
	return em, nil
}

// Send delivers the message in one SMTP session.
//
// Recipients the server refuses do not stop delivery to the others. When
// some are refused, the error names them: permanent when every refusal is
// 5xx (retrying cannot fix an address the server rejects), retried when
// any is 4xx (the accepted recipients then get the message again, with the
// same Message-ID).
func (e *email) Send(ctx context.Context, m model.AlertMessage) error {
	return e.scrub.wrap(e.deliver(ctx, composeMail(m, e.from, e.to)))
}

func (e *email) deliver(ctx context.Context, msg []byte) (err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.addr, err)
	}
	defer conn.Close()
	// Every read and write ends when ctx does (its deadline, or a cancel):
	// the deadline in the past fails what is blocked and all that follows.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
	}()

	if e.mode == EmailTLS {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("smtp %s: TLS: %w", e.addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return smtpError(e.addr, "greeting", err)
	}
	defer c.Close()
	if err := c.Hello(e.helo); err != nil {
		return smtpError(e.addr, "EHLO", err)
	}
	if e.mode == EmailSTARTTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp %s: the server does not offer STARTTLS; refusing to send in clear text", e.addr)
		}
		if err := c.StartTLS(e.tls); err != nil {
			return smtpError(e.addr, "STARTTLS", err)
		}
	}
	if e.username != "" {
		if err := e.auth(c); err != nil {
			return err
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return smtpError(e.addr, "MAIL FROM", err)
	}
	var refused []string
	allPermanent := true
	accepted := 0
	for _, to := range e.to {
		err := c.Rcpt(to.Address)
		var te *textproto.Error
		switch {
		case err == nil:
			accepted++
		case errors.As(err, &te):
			refused = append(refused, fmt.Sprintf("%s (%d %s)", to.Address, te.Code, shown([]byte(te.Msg))))
			allPermanent = allPermanent && te.Code >= 500
		default:
			return smtpError(e.addr, "RCPT TO", err)
		}
	}
	if accepted > 0 {
		if err := data(c, msg); err != nil {
			return smtpError(e.addr, "DATA", err)
		}
		_ = c.Quit() // delivered: a failed goodbye changes nothing
	}
	if len(refused) == 0 {
		return nil
	}
	err = fmt.Errorf("smtp %s: delivered to %d of %d recipients; refused: %s", e.addr, accepted, len(e.to), strings.Join(refused, ", "))
	if allPermanent {
		return Permanent(err)
	}
	return err
}

// data sends the message text.
func data(c *smtp.Client, msg []byte) error {
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

// auth authenticates with the first of PLAIN and LOGIN the server offers.
func (e *email) auth(c *smtp.Client) error {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return Permanent(fmt.Errorf("smtp %s: a username is set but the server offers no AUTH", e.addr))
	}
	var a smtp.Auth
	offered := strings.Fields(strings.ToUpper(mechs))
	for _, want := range []string{"PLAIN", "LOGIN"} {
		for _, m := range offered {
			if a == nil && m == want {
				a = &saslAuth{mech: want, user: e.username, pass: e.password}
			}
		}
	}
	if a == nil {
		return Permanent(fmt.Errorf("smtp %s: the server offers AUTH %s; dashd speaks PLAIN and LOGIN", e.addr, mechs))
	}
	if err := c.Auth(a); err != nil {
		return smtpError(e.addr, "AUTH", err)
	}
	return nil
}

// saslAuth is AUTH PLAIN or LOGIN, refused on a connection without TLS to
// another machine (the password would cross the network in clear text).
type saslAuth struct {
	mech, user, pass string
	step             int
}

func (a *saslAuth) Start(s *smtp.ServerInfo) (string, []byte, error) {
	if !s.TLS && !isLoopback(s.Name) {
		return "", nil, Permanent(errors.New("refusing to send the password over a connection without TLS"))
	}
	if a.mech == "PLAIN" {
		return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
	}
	return "LOGIN", nil, nil
}

// Next answers LOGIN's two challenges (user name, then password).
func (a *saslAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch {
	case a.mech == "LOGIN" && a.step == 1:
		return []byte(a.user), nil
	case a.mech == "LOGIN" && a.step == 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected challenge from the server")
}

// smtpError describes a failed SMTP step: the server's reply, permanent
// for 5xx; any other failure (I/O, TLS) is retried.
func smtpError(addr, step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		e := fmt.Errorf("smtp %s: %s: %d %s", addr, step, te.Code, shown([]byte(te.Msg)))
		if te.Code >= 500 {
			return Permanent(e)
		}
		return e
	}
	return fmt.Errorf("smtp %s: %s: %w", addr, step, err)
}
