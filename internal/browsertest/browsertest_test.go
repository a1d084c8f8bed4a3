package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestNew_TabsAndIsolation checks the helper itself: a page loads, a second
// tab shares cookies, an isolated tab does not.
func TestNew_TabsAndIsolation(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "who", Value: "first", Path: "/"})
		}
		fmt.Fprint(w, `<!doctype html><title>t</title><p id="p">hello</p>`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String()

	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/set")); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#p")))
	if err != nil || text != "hello" {
		t.Fatalf("text %q, err %v", text, err)
	}

	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"second tab shares cookies", NewTab(t, ctx), "who=first"},
		{"isolated tab shares nothing", NewIsolated(t, ctx), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := chromedp.Do(tt.ctx, chromedp.Navigate(base+"/")); err != nil {
				t.Fatal(err)
			}
			got, err := chromedp.Run(tt.ctx, chromedp.Evaluate[string]("document.cookie"))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("document.cookie = %q, want %q", got, tt.want)
			}
		})
	}
}
