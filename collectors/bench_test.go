package collectors

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Cost of one run of each cheap local check; multiply by checks/interval for
// the steady-state CPU the checks add. Run: go test -run '^$' -bench . -benchmem ./collectors/
func BenchmarkCheckRun(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello\r\n"))
			c.Close()
		}
	}()
	cases := []struct{ typ, body string }{
		{"http", "url: " + srv.URL + "\nbody_contains: ok"},
		{"tcp", "address: " + ln.Addr().String() + "\nexpect: hello"},
		{"process", "process_name: dashd-bench-no-such-process\nmin_count: 0"},
		{"command", "command: [true]"},
	}
	for _, c := range cases {
		b.Run(c.typ, func(b *testing.B) {
			ch := mustBuild(b, c.typ, c.body)
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if out := ch.Run(ctx); out.State.String() != "up" {
					b.Fatalf("%s: %s %s", c.typ, out.State, out.Reason)
				}
				cancel()
			}
		})
	}
}
