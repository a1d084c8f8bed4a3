package config

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// secretVars are the environment of testdata/secrets.yaml: their values are
// credentials too, and must never show in problems.
var secretVars = map[string]string{
	"PROXY_AUTH": "Basic env-secret-1",
	"API_TOKEN":  "env-secret-2",
	"BODY":       `{"k":"env-secret-3"}`,
	"API_KEY":    "env-secret-4",
	"USER":       "env-user",
	"PASS":       "env-secret-5",
	"Q":          "plain-query",
}

// secretRE finds every credential spelled in testdata/secrets.yaml and in
// secretVars.
var secretRE = regexp.MustCompile(`[a-z]+-secret-[0-9]|ghp_tokenuser0secret0000000001`)

func loadSecretsFixture(t *testing.T, types CheckTypes) (*Config, error) {
	t.Helper()
	data, err := os.ReadFile("testdata/secrets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(secretRE.FindAllString(string(data), -1)); n < 20 {
		t.Fatalf("fixture has %d secrets: the pattern no longer matches it", n)
	}
	return Parse("secrets.yaml", data, Options{CheckTypes: types, LookupEnv: env(secretVars)})
}

// TestSource_Redacted loads a configuration holding every kind of secret and
// checks that no Source reveals one, that ${VAR} references stay as written,
// and that redaction changed nothing that runs.
func TestSource_Redacted(t *testing.T) {
	cfg, err := loadSecretsFixture(t, unionTypes)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, c := range cfg.Checks {
		if c.Source == "" {
			t.Errorf("%s: empty Source", c.Name)
		}
		if s := secretRE.FindAllString(c.Source, -1); len(s) > 0 {
			t.Errorf("%s: Source shows %q:\n%s", c.Name, s, c.Source)
		}
		all.WriteString(c.Source)
	}
	src := all.String()
	for _, want := range []string{
		// What stays readable around the secrets.
		"http://admin:***@127.0.0.1:9/status?token=***&page=2#access_token=***",
		"https://***@127.0.0.1/repo.git",
		`Authorization: "Bearer ***"`,
		`Cookie: "***"`,
		"X-Api-Key: '***'",
		"X-Custom-Token: '***'",
		"accept: application/json",
		`body: '<redacted: 41 bytes>'`,
		`body_contains: !secret '***'`,
		`send: "<redacted: 20 bytes>"`,
		"--password=***", "- --token\n", "- bob:***", "Authorization: Basic ***", "PGPASSWORD=***",
		"dbname=d password=***", "https://ci:***@127.0.0.1/x", "- -pSHORTAMBIGUOUS",
		"password: '***'", "client_secret: '***'", "user: '***'", "host: db.internal", "private_key: |-\n        ***\n", "retry: 3",
		// ${VAR} references reveal nothing and stay as written.
		"Proxy-Authorization: ${PROXY_AUTH}",
		`X-Env-Auth: "Bearer ${API_TOKEN}"`,
		"body: ${BODY}",
		"- ${API_KEY}",
		"url: https://${USER}:${PASS}@127.0.0.1/?api_key=${API_KEY}&q=${Q}",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("Source lacks %q", want)
		}
	}

	// What runs is untouched: the decoded specs hold the real values.
	spec := func(name string) *unionSpec {
		c, ok := cfg.Check(name)
		if !ok {
			t.Fatalf("no check %s", name)
		}
		return c.Spec.(*unionSpec)
	}
	if got := spec("userinfo").URL; !strings.Contains(got, "admin:userinfo-secret-1@") || !strings.Contains(got, "token=query-secret-1") {
		t.Errorf("url redacted in the spec: %s", got)
	}
	if got := spec("headers").Headers; got["Authorization"] != "Bearer header-secret-1" || got["X-Env-Auth"] != "Bearer env-secret-2" {
		t.Errorf("headers changed: %v", got)
	}
	if got := spec("tagged"); got.BodyContains != "tagged-secret-1" || got.Retries != 5 {
		t.Errorf("!secret values decode as plain values: body_contains=%q retries=%d", got.BodyContains, got.Retries)
	}
	if got := spec("cli").Command; len(got) != 14 || got[3] != "argv-secret-2" || got[13] != "env-secret-4" {
		t.Errorf("command changed: %q", got)
	}
	if got := spec("env-body").Body; got != secretVars["BODY"] {
		t.Errorf("body = %q", got)
	}
}

func TestProblems_Redacted(t *testing.T) {
	types := CheckTypes{}
	for name := range unionTypes {
		types[name] = func() CheckSpec { return &unionSpec{quote: true} }
	}
	_, err := loadSecretsFixture(t, types)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error", err)
	}
	msg := ce.Error()
	if n := strings.Count(msg, "rejected"); n < 15 {
		t.Fatalf("only %d problems quote values:\n%s", n, msg)
	}
	if s := secretRE.FindAllString(msg, -1); len(s) > 0 {
		t.Errorf("problems show %q:\n%s", s, msg)
	}
	for _, want := range []string{"admin:***@127.0.0.1", "Bearer ***", "page=2", "db.internal", "env-user:***@"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}

// TestProblems_RedactedBuiltIn covers the problems the decoder itself words:
// a wrong type, and a ${ that is never closed, quote the value.
func TestProblems_RedactedBuiltIn(t *testing.T) {
	src := "checks:\n  - name: a\n    type: http\n    retries: !secret 12-secret-34\n" +
		"    url: \"http://u:pw-secret-1@h/${X\"\n" +
		"    options: {password: [1, 2]}\n"
	_, err := Parse("c.yaml", []byte(src), Options{CheckTypes: unionTypes, LookupEnv: env(nil)})
	if err == nil {
		t.Fatal("no problems")
	}
	msg := err.Error()
	for _, want := range []string{
		`c.yaml:4:14: checks[0].retries: expected a whole number, got "***"`,
		`c.yaml:5:10: checks[0].url: unterminated ${ in "http://u:***@h/${X" (write $$ for a literal $)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "pw-secret-1") || strings.Contains(msg, "12-secret-34") {
		t.Errorf("problems show a secret:\n%s", msg)
	}
}

func TestConfig_Redact(t *testing.T) {
	cfg, err := loadSecretsFixture(t, unionTypes)
	if err != nil {
		t.Fatal(err)
	}
	in := `Post "http://127.0.0.1:9/": body {"user":"bot","password":"body-secret-1"} token env-secret-2, see https://x/?sig=abcdef`
	got := cfg.Redact(in)
	if s := secretRE.FindAllString(got, -1); len(s) > 0 {
		t.Errorf("Redact left %q: %s", s, got)
	}
	if !strings.Contains(got, "sig=***") || !strings.Contains(got, `Post "http://127.0.0.1:9/"`) {
		t.Errorf("Redact = %s", got)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://admin:hunter2@host/", "http://admin:***@host/"},
		{"postgres://u:p%40ss@db:5432/x?sslmode=disable&password=pw", "postgres://u:***@db:5432/x?sslmode=disable&password=***"},
		{"https://host/path?access_token=abc&page=1&api_key=k&apikey=k2&Signature=s&sig=z&auth=a&q=ok", "https://host/path?access_token=***&page=1&api_key=***&apikey=***&Signature=***&sig=***&auth=***&q=ok"},
		{"https://host/cb#access_token=abc&state=x", "https://host/cb#access_token=***&state=x"},
		{"https://host/?next=/a#frag?token=1", "https://host/?next=/a#frag?token=***"},
		{"https://user@host/", "https://user@host/"},
		{"https://ghp_0123456789abcdefghij@github.com/x", "https://***@github.com/x"},
		{"https://${U}:${P}@host/?token=${T}", "https://${U}:${P}@host/?token=${T}"},
		{"https://u:pre${P}@host/", "https://u:***@host/"},
		{"https://u:@host/?token=", "https://u:@host/?token="},
		{"https://host:8443/a/b", "https://host:8443/a/b"},
		{"host:80/?password=x", "host:80/?password=***"},
		{"no url at all", "no url at all"},
		{"https://h/?password_file=/run/x&token_url=https://t/", "https://h/?password_file=/run/x&token_url=https://t/"},
		{"https://h/?%74oken=x", "https://h/?%74oken=***"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	in := `curl -fsS "https://a:b1@x/y?token=t1" then ftp://c:d2@z/ and 'http://ok/'`
	want := `curl -fsS "https://a:***@x/y?token=***" then ftp://c:***@z/ and 'http://ok/'`
	if got := RedactURLs(in); got != want {
		t.Errorf("RedactURLs\n got %q\nwant %q", got, want)
	}
}

func TestRedactHeader(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Authorization", "Bearer abc", "Bearer ***"},
		{"authorization", "Basic dXNlcjpwYXNz", "Basic ***"},
		{"Authorization", "abc", "***"},
		{"Authorization", "Bearer ${TOKEN}", "Bearer ${TOKEN}"},
		{"Authorization", "${AUTH}", "${AUTH}"},
		{"Proxy-Authorization", "Basic x", "Basic ***"},
		{"Cookie", "a=1; b=2", "***"},
		{"Set-Cookie", "id=1", "***"},
		{"X-Api-Key", "k", "***"},
		{"X-Auth-Token", "t", "***"},
		{"X-My-Secret", "s", "***"},
		{"X-Password", "p", "***"},
		{"Private-Token", "p", "***"},
		{"Accept", "application/json", "application/json"},
		{"User-Agent", "dashd", "dashd"},
		{"X-Request-Id", "42", "42"},
	}
	for _, tt := range tests {
		if got := RedactHeader(tt.name, tt.value); got != tt.want {
			t.Errorf("RedactHeader(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestRedactArgv(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"flag with =", []string{"x", "--password=p1", "--token=${T}"}, []string{"x", "--password=***", "--token=${T}"}},
		{"flag then value", []string{"x", "--token", "t1", "--verbose", "v"}, []string{"x", "--token", "***", "--verbose", "v"}},
		{"flag then reference", []string{"x", "--api-key", "${K}"}, []string{"x", "--api-key", "${K}"}},
		{"single-dash long flag", []string{"x", "-password", "p"}, []string{"x", "-password", "***"}},
		{"boolean-looking flags name a place", []string{"docker", "login", "--password-stdin", "host"}, []string{"docker", "login", "--password-stdin", "host"}},
		{"password file", []string{"x", "--password-file", "/run/secret"}, []string{"x", "--password-file", "/run/secret"}},
		{"curl user", []string{"curl", "-u", "bob:pw", "--user", "amy:pw2", "-u", "justname"}, []string{"curl", "-u", "bob:***", "--user", "amy:***", "-u", "justname"}},
		{"header line", []string{"curl", "-H", "Authorization: Bearer t", "-H", "Accept: text/plain"}, []string{"curl", "-H", "Authorization: Bearer ***", "-H", "Accept: text/plain"}},
		{"environment", []string{"env", "PGPASSWORD=p", "HOME=/root", "psql"}, []string{"env", "PGPASSWORD=***", "HOME=/root", "psql"}},
		{"connection string", []string{"psql", "host=db password=p user=u"}, []string{"psql", "host=db password=*** user=u"}},
		{"url", []string{"curl", "https://u:p@h/?token=t"}, []string{"curl", "https://u:***@h/?token=***"}},
		{"ambiguous short form left alone", []string{"mysql", "-phunter2", "-p", "x"}, []string{"mysql", "-phunter2", "-p", "x"}},
		{"shell script", []string{"sh", "-c", "curl -H 'X-Api-Key: k' https://a:b@h/"}, []string{"sh", "-c", "curl -H 'X-Api-Key: k' https://a:***@h/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]string(nil), tt.in...)
			got := RedactArgv(tt.in)
			if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if strings.Join(in, "\x00") != strings.Join(tt.in, "\x00") {
				t.Errorf("the input was modified")
			}
		})
	}
}

func TestLooksSecret(t *testing.T) {
	secret := []string{"password", "passwd", "token", "secret", "api_key", "apiKey", "API-KEY", "private_key",
		"client_secret", "credentials", "access_token", "key", "auth", "sig", "signature", "X-Amz-Signature",
		"PGPASSWORD", "subscription-key", "passphrase", "session_id", "pwd"}
	plain := []string{"name", "type", "url", "headers", "body", "host", "user", "username", "monkeys", "keyboard",
		"password_file", "token_url", "password-stdin", "description", "interval", "expect", "json_path",
		"insecure_skip_verify", "max_storage", "allowed_hosts", "query", "author", ""}
	for _, n := range secret {
		if !LooksSecret(n) {
			t.Errorf("LooksSecret(%q) = false", n)
		}
	}
	for _, n := range plain {
		if LooksSecret(n) {
			t.Errorf("LooksSecret(%q) = true", n)
		}
	}
}

func TestRevealsNothing(t *testing.T) {
	for v, want := range map[string]bool{
		"": true, "${A}": true, " ${A}${B_2} ": true, "${A} ${B}": true,
		"x${A}": false, "${A}x": false, "${1A}": false, "${A": false, "$A": false, "abc": false,
	} {
		if got := revealsNothing(v); got != want {
			t.Errorf("revealsNothing(%q) = %v, want %v", v, got, want)
		}
	}
}
