package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSecrets_NotShown: literal credentials in a check's configuration never
// reach the check page, the API or its stream; ${VAR} references stay.
func TestSecrets_NotShown(t *testing.T) {
	checks := `  - name: secret-web
    type: http
    url: http://admin:hunter2@127.0.0.1:1/health?token=tok3n-value
    interval: 1s
    headers:
      Authorization: "Bearer s3cr3t-bearer"
      X-Api-Key: k3y-value
      Accept: text/plain
    body: '{"password":"b0dy-secret"}'
`
	st := newTestStack(t, stackOptions{checks: checks})
	secrets := []string{"hunter2", "tok3n-value", "s3cr3t-bearer", "k3y-value", "b0dy-secret"}
	// Wait for a result, so reasons and details (which may quote the URL)
	// are there too.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if s, ok := st.runner.Status("secret-web"); ok && !s.LastCheck.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the check never ran")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, path := range []string{"/checks/secret-web", "/api/v1/checks/secret-web", "/api/v1/checks", "/api/v1/checks/secret-web/history"} {
		resp, err := http.Get(st.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("GET %s shows the secret %q", path, s)
			}
		}
		if path == "/checks/secret-web" && !strings.Contains(string(b), "Accept") {
			t.Errorf("the page no longer shows the configuration at all")
		}
	}
}
