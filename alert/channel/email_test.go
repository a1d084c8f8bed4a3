package channel

import (
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	netsmtp "net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is a real SMTP server (go-smtp) on 127.0.0.1 that records
// what it receives and refuses what it is told to.
type mailServer struct {
	addr string
	ca   string // PEM file of its certificate

	// Set before the first connection.
	mechs   []string                   // AUTH mechanisms offered (after TLS)
	refuse  map[string]*smtp.SMTPError // RCPT refusals by address
	user    string
	pass    string
	mu      sync.Mutex
	mails   []receivedMail
	authed  []string
	sawTLS  bool
	mailCmd int
}

type receivedMail struct {
	from string
	to   []string
	data []byte
}

// serverMode says how the test server speaks TLS.
type serverMode int

const (
	serveSTARTTLS serverMode = iota // offers STARTTLS, AUTH only after it
	serveImplicit                   // TLS from the first byte
	servePlain                      // no TLS at all, AUTH allowed in clear
)

func newMailServer(t *testing.T, mode serverMode, configure func(ms *mailServer)) *mailServer {
	t.Helper()
	cert, caPath := selfSigned(t)
	ms := &mailServer{ca: caPath, mechs: []string{sasl.Plain}, user: "alerts", pass: "s3cret-smtp-pass", refuse: map[string]*smtp.SMTPError{}}
	if configure != nil {
		configure(ms)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{ms: ms, conn: c}, nil
	}))
	srv.Domain = "mx.test"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = discardLogger{}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case serveSTARTTLS:
		srv.TLSConfig = tc
	case serveImplicit:
		srv.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
	case servePlain:
		srv.AllowInsecureAuth = true
	}
	ms.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ms
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

func (ms *mailServer) received() []receivedMail {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]receivedMail(nil), ms.mails...)
}

// mailSession is one SMTP session of the test server.
type mailSession struct {
	ms   *mailServer
	conn *smtp.Conn
	from string
	to   []string
}

func (s *mailSession) AuthMechanisms() []string { return s.ms.mechs }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != s.ms.user || pass != s.ms.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		s.ms.mu.Lock()
		s.ms.authed = append(s.ms.authed, mech+":"+user)
		s.ms.mu.Unlock()
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	s.ms.mailCmd++
	if _, ok := s.conn.TLSConnectionState(); ok {
		s.ms.sawTLS = true
	}
	if s.ms.user != "" && len(s.ms.authed) == 0 {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := s.ms.refuse[to]; e != nil {
		return e
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ms.mu.Lock()
	s.ms.mails = append(s.ms.mails, receivedMail{from: s.from, to: s.to, data: b})
	s.ms.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client's).
type loginServer struct {
	check      func(user, pass string) error
	step       int
	user, pass string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil { // an initial response is the user name
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case 3:
		l.pass = string(resp)
		return nil, true, l.check(l.user, l.pass)
	}
	return nil, false, errors.New("unexpected response")
}

// emailKeys configures an email channel for ms.
func emailKeys(ms *mailServer, tlsMode string, extra string) string {
	host, port, _ := net.SplitHostPort(ms.addr)
	return "      type: email\n      host: " + host + "\n      port: " + port + "\n      tls: " + tlsMode +
		"\n      from: \"dashd alerts <dashd@example.org>\"\n      to: [ops@example.org, \"On Call <oncall@example.org>\"]\n" + extra
}

func TestEmail_STARTTLSWithAuth(t *testing.T) {
	ms := newMailServer(t, serveSTARTTLS, nil)
	s := mustSender(t, emailKeys(ms, "starttls", "      username: alerts\n      password: s3cret-smtp-pass\n      ca_file: "+ms.ca+"\n"), testOptions())
	if err := send(t, s, mixedAlerts()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := ms.received()
	if len(got) != 1 {
		t.Fatalf("server got %d mails, want 1", len(got))
	}
	m := got[0]
	if m.from != "dashd@example.org" || strings.Join(m.to, ",") != "ops@example.org,oncall@example.org" {
		t.Errorf("envelope from %q to %q", m.from, m.to)
	}
	if !ms.sawTLS || strings.Join(ms.authed, ",") != "PLAIN:alerts" {
		t.Errorf("TLS %v, auth %v; want TLS and PLAIN:alerts", ms.sawTLS, ms.authed)
	}
	golden.Assert(t, "email_mixed.eml", m.data)
}

func TestEmail_Modes(t *testing.T) {
	tests := []struct {
		name    string
		mode    serverMode
		tlsMode string
		mechs   []string
		extra   func(ms *mailServer) string
		auth    string
	}{
		{"implicit TLS", serveImplicit, "tls", []string{sasl.Plain}, func(ms *mailServer) string {
			return "      username: alerts\n      password: s3cret-smtp-pass\n      ca_file: " + ms.ca + "\n"
		}, "PLAIN:alerts"},
		{"AUTH LOGIN when PLAIN is not offered", serveSTARTTLS, "starttls", []string{sasl.Login}, func(ms *mailServer) string {
			return "      username: alerts\n      password: s3cret-smtp-pass\n      insecure_skip_verify: true\n"
		}, "LOGIN:alerts"},
		{"no TLS to a server on this machine", servePlain, "none", []string{sasl.Plain}, func(ms *mailServer) string {
			return "      username: alerts\n      password: s3cret-smtp-pass\n"
		}, "PLAIN:alerts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMailServer(t, tt.mode, func(ms *mailServer) { ms.mechs = tt.mechs })
			s := mustSender(t, emailKeys(ms, tt.tlsMode, tt.extra(ms)), testOptions())
			if err := send(t, s, oneAlert()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if n := len(ms.received()); n != 1 || strings.Join(ms.authed, ",") != tt.auth {
				t.Errorf("%d mails, auth %v; want 1 and %s", n, ms.authed, tt.auth)
			}
		})
	}
}

func TestEmail_Failures(t *testing.T) {
	refused550 := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	busy451 := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	tests := []struct {
		name      string
		mode      serverMode
		configure func(ms *mailServer)
		keys      func(ms *mailServer) string
		permanent bool
		contains  string
		delivered int // mails the server stored
		mailCmds  int // MAIL commands it saw (-1: do not check)
	}{
		{"one recipient refused 5xx", serveSTARTTLS, func(ms *mailServer) { ms.refuse["oncall@example.org"] = refused550 },
			func(ms *mailServer) string { return emailKeys(ms, "starttls", authKeys(ms)) },
			true, "delivered to 1 of 2 recipients; refused: oncall@example.org (550 5.1.1 No such user here)", 1, 1},
		{"every recipient refused 4xx", serveSTARTTLS, func(ms *mailServer) {
			ms.refuse["oncall@example.org"], ms.refuse["ops@example.org"] = busy451, busy451
		},
			func(ms *mailServer) string { return emailKeys(ms, "starttls", authKeys(ms)) },
			false, "delivered to 0 of 2 recipients", 0, 1},
		{"4xx and 5xx refusals are retried", serveSTARTTLS, func(ms *mailServer) {
			ms.refuse["oncall@example.org"], ms.refuse["ops@example.org"] = busy451, refused550
		},
			func(ms *mailServer) string { return emailKeys(ms, "starttls", authKeys(ms)) },
			false, "oncall@example.org (451 4.3.0 Try again later)", 0, 1},
		{"wrong password", serveSTARTTLS, nil,
			func(ms *mailServer) string {
				return emailKeys(ms, "starttls", "      username: alerts\n      password: wrong-pass-999\n      ca_file: "+ms.ca+"\n")
			},
			true, "AUTH: 535", 0, 0},
		{"server without STARTTLS", servePlain, nil,
			func(ms *mailServer) string { return emailKeys(ms, "starttls", "") },
			false, "does not offer STARTTLS", 0, 0},
		{"untrusted certificate", serveSTARTTLS, nil,
			func(ms *mailServer) string { return emailKeys(ms, "starttls", "") },
			false, "certificate", 0, 0},
		{"no AUTH offered", serveSTARTTLS, func(ms *mailServer) { ms.mechs = nil },
			func(ms *mailServer) string { return emailKeys(ms, "starttls", authKeys(ms)) },
			true, "offers no AUTH", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMailServer(t, tt.mode, tt.configure)
			s := mustSender(t, tt.keys(ms), testOptions())
			err := send(t, s, oneAlert())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Send = %v (permanent %v); want permanent %v containing %q", err, IsPermanent(err), tt.permanent, tt.contains)
			}
			if strings.Contains(err.Error(), "s3cret-smtp-pass") || strings.Contains(err.Error(), "wrong-pass-999") {
				t.Errorf("error shows the password: %v", err)
			}
			if n := len(ms.received()); n != tt.delivered {
				t.Errorf("server stored %d mails, want %d", n, tt.delivered)
			}
			ms.mu.Lock()
			defer ms.mu.Unlock()
			if ms.mailCmd != tt.mailCmds {
				t.Errorf("server saw %d MAIL commands, want %d", ms.mailCmd, tt.mailCmds)
			}
		})
	}
}

func authKeys(ms *mailServer) string {
	return "      username: alerts\n      password: s3cret-smtp-pass\n      ca_file: " + ms.ca + "\n"
}

func TestEmail_SilentServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // accepts, never greets, holds the connection until closed
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s := mustSender(t, "      type: email\n      timeout: 300ms\n      host: "+host+"\n      port: "+port+"\n      tls: none\n      from: a@example.org\n      to: [b@example.org]\n", testOptions())
	start := time.Now()
	err = send(t, s, oneAlert())
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Send = %v (permanent %v), want a retried deadline", err, IsPermanent(err))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Send took %s with a 300ms timeout", took)
	}
}

func TestEmail_Compose(t *testing.T) {
	from, _ := parseAddress("dashd <dashd@example.org>")
	to, _ := parseAddress("ops@example.org")
	m := oneAlert()
	m.ID = "dashd-db 1/x..y"
	m.Host = "db_1.example.org"
	m.Alerts[0].Summary = "Größe überschritten: " + strings.Repeat("sehr lange Zeile ", 30)
	m.Alerts[0].Key = "rule:disk:/mnt/données"
	msg := string(composeMail(m, from, []*mail.Address{to}))
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line of %d bytes", len(line))
		}
		for _, r := range line {
			if r > 0x7e {
				t.Errorf("header line not ASCII: %q", line)
				break
			}
		}
	}
	parsed, err := mail.ReadMessage(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil || !strings.HasPrefix(subject, "[FIRING] Größe überschritten: sehr lange Zeile") || !strings.HasSuffix(subject, "…") {
		t.Errorf("Subject decodes to %q (%v)", subject, err)
	}
	if got := parsed.Header.Get("Message-ID"); got != "<dashd-db-1/x.y@db-1.example.org>" {
		t.Errorf("Message-ID %q", got)
	}
	if keys, _ := dec.DecodeHeader(parsed.Header.Get("X-Dashd-Alert-Keys")); keys != "rule:disk:/mnt/données" {
		t.Errorf("X-Dashd-Alert-Keys decodes to %q", keys)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if want := strings.ReplaceAll(m.Text(), "\n", "\r\n"); string(body) != want {
		t.Errorf("body decodes to\n%q\nwant\n%q", body, want)
	}
}

// The mail of a message carries its alerts' keys and stable id even when
// a test message has no alert.
func TestEmail_TestMessage(t *testing.T) {
	from, _ := parseAddress("dashd@example.org")
	msg := string(composeMail(model.AlertMessage{ID: "t-1", Host: "db-1", Test: true, Time: t0}, from, []*mail.Address{from}))
	if !strings.Contains(msg, "Subject: [TEST] dashd test message from db-1\r\n") || strings.Contains(msg, "X-Dashd-Alert-Keys") {
		t.Errorf("test mail:\n%s", msg)
	}
}

func TestEmail_NoPasswordInClearText(t *testing.T) {
	tests := []struct {
		name string
		info netsmtp.ServerInfo
		ok   bool
	}{
		{"remote without TLS", netsmtp.ServerInfo{Name: "smtp.example.org"}, false},
		{"remote with TLS", netsmtp.ServerInfo{Name: "smtp.example.org", TLS: true}, true},
		{"loopback without TLS", netsmtp.ServerInfo{Name: "127.0.0.1"}, true},
		{"localhost without TLS", netsmtp.ServerInfo{Name: "localhost"}, true},
	}
	for _, tt := range tests {
		for _, mech := range []string{"PLAIN", "LOGIN"} {
			a := &saslAuth{mech: mech, user: "u", pass: "p"}
			_, resp, err := a.Start(&tt.info)
			if (err == nil) != tt.ok || (err != nil && (!IsPermanent(err) || resp != nil)) {
				t.Errorf("%s %s: Start = %q, %v", tt.name, mech, resp, err)
			}
		}
	}
}
