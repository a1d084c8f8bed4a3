package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tlsCA is a certificate authority made for one test (ECDSA P-256):
// nothing that expires is checked in.
type tlsCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTLSCA(t *testing.T) *tlsCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          tlsSerial(t),
		Subject:               pkix.Name{CommonName: "dashd test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tlsCA{cert: cert, key: key, pool: pool}
}

// tlsLeaf is a server certificate for 127.0.0.1 and its key, PEM encoded.
type tlsLeaf struct {
	cert, key []byte
	serial    *big.Int
}

// leaf issues a new certificate (new key, new serial) for 127.0.0.1.
func (ca *tlsCA) leaf(t *testing.T) tlsLeaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: tlsSerial(t),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return tlsLeaf{
		cert:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:    pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		serial: tmpl.SerialNumber,
	}
}

func tlsSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// renameOver replaces path with data the way certbot and cert-manager
// renew: a new file renamed over the old one.
func renameOver(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// httpsClient trusts ca only, keeps cookies and does not follow redirects
// (the tests look at each answer).
func httpsClient(t *testing.T, ca *tlsCA) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// waitHTTPS waits until dashd answers /healthz over TLS.
func waitHTTPS(t *testing.T, d *child, c *http.Client) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			t.Fatalf("dashd exited early (%v):\n%s", d.err, d.output())
		default:
		}
		resp, err := c.Get("https://" + d.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dashd did not answer HTTPS on %s:\n%s", d.addr, d.output())
}

// servedSerial makes a new connection and returns the serial of the
// certificate it gets (verified against ca).
func servedSerial(t *testing.T, addr string, ca *tlsCA) *big.Int {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{RootCAs: ca.pool})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

// streamLen is how many bytes a stream has received so far.
func streamLen(s *stream) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Len()
}

// keepsReceiving waits until s has received more after now than before.
func keepsReceiving(t *testing.T, s *stream, when string) {
	t.Helper()
	before := streamLen(s)
	eventually(t, "the stream to keep receiving "+when, func() bool {
		if !s.open() {
			t.Fatalf("the stream ended %s: %v", when, s.err)
		}
		return streamLen(s) > before+64
	})
}

// TestTLS_ServesAndRenewsWithoutDroppingStreams runs dashd with
// server.tls and a local user: HTTPS with HSTS, the session cookie's
// flags, then renewals by rename and a SIGHUP under an open stream, and a
// broken renewal that keeps the old certificate with one error line.
func TestTLS_ServesAndRenewsWithoutDroppingStreams(t *testing.T) {
	dir := t.TempDir()
	ca := newTLSCA(t)
	first, second, third, stray := ca.leaf(t), ca.leaf(t), ca.leaf(t), ca.leaf(t)
	certFile, keyFile := filepath.Join(dir, "tls", "cert.pem"), filepath.Join(dir, "tls", "key.pem")
	if err := os.Mkdir(filepath.Dir(certFile), 0o700); err != nil {
		t.Fatal(err)
	}
	renameOver(t, certFile, first.cert)
	renameOver(t, keyFile, first.key)
	cfg := writeConfig(t, dir, "server:\n  tls:\n    cert_file: "+certFile+"\n    key_file: "+keyFile+"\n"+
		localUsers(t, authUser{"alice", "operator"}))
	d := newDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	c := httpsClient(t, ca)
	waitHTTPS(t, d, c)
	base := "https://" + d.addr

	t.Run("HSTS on every answer", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/login", "/", "/api/v1/checks"} {
			resp, body := send(t, c, "GET", base+path, nil, nil)
			if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") || got == "max-age=0" {
				t.Errorf("GET %s (%d): Strict-Transport-Security = %q, want a max-age", path, resp.StatusCode, got)
			}
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s = %d: %s", path, resp.StatusCode, body)
			}
		}
	})
	t.Run("plain HTTP is not served", func(t *testing.T) {
		resp, err := http.Get("http://" + d.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Fatalf("plain HTTP on the TLS port answered %s", resp.Status)
			}
		}
	})

	login := signIn(t, c, base, "alice", "alice-secret")
	if login.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in = %d, want 303", login.StatusCode)
	}
	ck := cookieNamed(login, "dashd_auth")
	if ck == nil {
		t.Fatalf("sign-in set no dashd_auth cookie: %v", login.Header.Values("Set-Cookie"))
	}
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %q: Secure %v, HttpOnly %v, SameSite %v; want Secure, HttpOnly, SameSite=Lax",
			login.Header.Values("Set-Cookie"), ck.Secure, ck.HttpOnly, ck.SameSite)
	}

	s := openStreamWith(t, c, base+"/api/events")
	eventually(t, "the stream's first state", func() bool { return s.contains("datastar-merge") })
	if got := servedSerial(t, d.addr, ca); got.Cmp(first.serial) != 0 {
		t.Fatalf("serves serial %s, want the first certificate's %s", got, first.serial)
	}

	// A renewal: both files replaced by rename, the key first.
	renameOver(t, keyFile, second.key)
	renameOver(t, certFile, second.cert)
	eventually(t, "new connections to get the renewed certificate", func() bool {
		return servedSerial(t, d.addr, ca).Cmp(second.serial) == 0
	})
	keepsReceiving(t, s, "after the renewal")

	reloads := strings.Count(d.output(), `msg="configuration reloaded"`)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the SIGHUP reload", func() bool {
		return strings.Count(d.output(), `msg="configuration reloaded"`) > reloads
	})
	keepsReceiving(t, s, "after SIGHUP")
	if got := servedSerial(t, d.addr, ca); got.Cmp(second.serial) != 0 {
		t.Fatalf("after SIGHUP serves serial %s, want the renewed %s", got, second.serial)
	}

	// A broken renewal: both files replaced, but the key is not the new
	// certificate's. Both the certificate's and the key's watch see it.
	const refused = "new certificate not loaded; still serving the old one"
	renameOver(t, certFile, third.cert)
	renameOver(t, keyFile, stray.key)
	eventually(t, "the broken renewal to be logged", func() bool { return strings.Contains(d.output(), refused) })
	time.Sleep(3 * time.Second) // many debounce periods: any repeat would be logged by now
	var lines []string
	for _, l := range strings.Split(d.output(), "\n") {
		if strings.Contains(l, refused) {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("the broken renewal was logged %d times, want once:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"level=ERROR", certFile, "private key does not match public key"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("error line %q does not say %q", lines[0], want)
		}
	}
	if got := servedSerial(t, d.addr, ca); got.Cmp(second.serial) != 0 {
		t.Fatalf("during a broken renewal serves serial %s, want the last good %s", got, second.serial)
	}
	keepsReceiving(t, s, "during a broken renewal")
	if resp, body := send(t, c, "GET", base+"/api/v1/checks", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/checks during a broken renewal = %d: %s", resp.StatusCode, body)
	}

	// The key arrives: the renewal completes.
	renameOver(t, keyFile, third.key)
	eventually(t, "the completed renewal to be served", func() bool {
		return servedSerial(t, d.addr, ca).Cmp(third.serial) == 0
	})
	keepsReceiving(t, s, "after the renewal completed")

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0", code)
	}
}

// cookieNamed is the cookie resp sets under name, parsed.
func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
