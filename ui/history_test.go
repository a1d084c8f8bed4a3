package ui

import (
	"regexp"
	"strings"
	"testing"
)

func TestHistoryHref(t *testing.T) {
	tests := []struct {
		name string
		card StatCard
		want string
	}{
		{"cpu", StatCard{Key: "cpu", Title: "CPU"}, "/host/cpu"},
		{"memory", StatCard{Key: "mem", Title: "Memory"}, "/host/memory"},
		{"processes", StatCard{Key: "procs", Title: "Processes"}, "/host/processes"},
		{"dashd", StatCard{Key: "dashd", Title: "dashd itself"}, "/host/dashd"},
		{"filesystem", StatCard{Key: SignalKey("fs", "/srv/a b"), Title: "Disk /srv/a b"}, "/host/fs?mount=%2Fsrv%2Fa+b"},
		// A title that does not hash to the key names another mount.
		{"filesystem with a foreign title", StatCard{Key: SignalKey("fs", "/"), Title: "Disk /srv"}, ""},
		{"unknown card", StatCard{Key: "gpu", Title: "GPU"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HistoryHref(tt.card); got != tt.want {
				t.Errorf("HistoryHref = %q, want %q", got, tt.want)
			}
		})
	}
}

// stripStrings removes the string literals of a JavaScript expression.
var jsStrings = regexp.MustCompile(`'(\\'|[^'])*'|"(\\"|[^"])*"`)

// TestHistoryExpressions keeps the page's Datastar expressions within what
// the beta.11 client compiles as meant: it splits an expression at
// semicolons outside string and regex literals (two "/" outside strings
// read as a regex literal and swallow the semicolons between them) and
// returns the last statement (which must be an expression); "$" starts a
// signal and "@" an action, anywhere.
func TestHistoryExpressions(t *testing.T) {
	for name, expr := range map[string]string{
		"readout": historyReadout, "cookie": historyTZCookie,
		"cursor": historyCursorStyle("h0"), "text": historyReadoutText("h0"),
	} {
		code := jsStrings.ReplaceAllString(expr, "''")
		if n := strings.Count(code, "/"); n > 1 {
			t.Errorf("%s: %d slashes outside strings", name, n)
		}
		if strings.Contains(expr, "@") || strings.Contains(expr, "${") {
			t.Errorf("%s: an @ or a template literal", name)
		}
		for _, sig := range regexp.MustCompile(`\$\w+`).FindAllString(code, -1) {
			switch sig {
			case "$_hc", "$_hr", "$_hx":
			default:
				t.Errorf("%s: signal %s is not declared by HistorySignals", name, sig)
			}
		}
		stmts := strings.Split(code, ";")
		if last := strings.TrimSpace(stmts[len(stmts)-1]); strings.HasSuffix(last, "}") || strings.HasPrefix(last, "if") || strings.HasPrefix(last, "for") {
			t.Errorf("%s: the last statement %q is not an expression", name, last)
		}
	}
	sigs := HistorySignals(ChromeView{}, "6h")
	for _, want := range []string{`"_hc":""`, `"_hr":""`, `"_hx":0`, `"range":"6h"`} {
		if !strings.Contains(sigs, want) {
			t.Errorf("signals %s lack %s", sigs, want)
		}
	}
}
