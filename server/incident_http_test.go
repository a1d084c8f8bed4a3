package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dashd/dashd/model"
)

// Incidents over HTTP (issue #16), against a whole dashd in mode local
// (authTStack: a viewer, an operator, an admin and tokens) whose check
// "web" the test breaks: the pages, the actions and who may take them,
// the Manager's refusals as statuses with messages, the audit, the API
// for each audience, MTTA/MTTR, and the live streams.

// incTWaitIncident breaks the target and waits for incident #1 to open.
func incTWaitIncident(t *testing.T, st *testStack, target *flipServer) model.Incident {
	t.Helper()
	target.code.Store(500)
	var inc model.Incident
	authTWaitFor(t, "incident #1 to open", func() bool {
		open := st.srv.deps.Incidents.Open()
		if len(open) == 0 {
			return false
		}
		inc = open[0]
		return true
	})
	if inc.ID != 1 || inc.Title != "web is down" {
		t.Fatalf("incident %+v", inc)
	}
	return inc
}

// incTStream is a page's stream read on a goroutine.
type incTStream struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *incTStream) has(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.buf.String(), sub)
}

// incTOpenStream opens path as c's stream until the test ends.
func incTOpenStream(t *testing.T, c *authTClient, path string) *incTStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	hc := &http.Client{Jar: c.hc.Jar}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		t.Fatalf("open %s: status %d", path, resp.StatusCode)
	}
	s := &incTStream{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.buf.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// incTPost posts body to path as c and reads the whole answer, an
// action's event stream too (authTClient.do stops at a stream's head).
func incTPost(t *testing.T, c *authTClient, path, body string, hdr ...string) authTResp {
	t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("POST %s: read: %v", path, err)
	}
	return authTResp{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// incTJSON decodes an API answer.
func incTJSON(t *testing.T, r authTResp, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("JSON: %v\n%.1000s", err, r.body)
	}
}

// incTDetail is /api/v1/incidents/{id} as the tests read it.
type incTDetail struct {
	Incident map[string]any   `json:"incident"`
	Entries  []map[string]any `json:"entries"`
	Next     *uint64          `json:"next"`
}

func (d incTDetail) kinds() []string {
	var out []string
	for _, e := range d.Entries {
		k, _ := e["kind"].(string)
		out = append(out, k)
	}
	return out
}

func (d incTDetail) entry(kind, text string) map[string]any {
	for _, e := range d.Entries {
		if e["kind"] == kind && (text == "" || e["text"] == text) {
			return e
		}
	}
	return nil
}

// TestIncidentHTTP_Flow: an incident opens when web goes down; viewers
// read it (page, list, banner, API) and are refused every action; the
// operator acknowledges, notes, chats, holds and resolves it, each refusal
// of the Manager is a 4xx with its message under the form; the acts are
// in the audit log; the streams carry the changes live; the check's
// MTTA/MTTR follow.
func TestIncidentHTTP_Flow(t *testing.T) {
	st, target := authTStack(t)
	viewer, operator, admin := authTNewClient(t, st), authTNewClient(t, st), authTNewClient(t, st)
	viewer.mustLogin(authTViewer)
	operator.mustLogin(authTOperator)
	admin.mustLogin(authTAdmin)
	reader := authTNewClient(t, st)
	reader.hdr.Set("Authorization", "Bearer "+authTTokenRead)
	writer := authTNewClient(t, st)
	writer.hdr.Set("Authorization", "Bearer "+authTTokenWrite)

	incTWaitIncident(t, st, target)
	live := incTOpenStream(t, viewer, "/incidents/1/events")
	dash := incTOpenStream(t, viewer, "/api/events")
	list := incTOpenStream(t, viewer, "/incidents/events")
	authTWaitFor(t, "the incident page's state", func() bool { return live.has(`id="incident-timeline"`) && live.has("up → down") })
	authTWaitFor(t, "the dashboard's banner", func() bool { return dash.has(`id="incident-banner"`) && dash.has("#1 web is down") })

	// Pages: what a viewer and an operator are shown.
	pages := []struct {
		name       string
		c          *authTClient
		path       string
		want, nope []string
	}{
		{"viewer list", viewer, "/incidents", []string{"1 open incident", "#1 web is down", "unacknowledged", `href="/incidents/1"`}, nil},
		{"viewer page", viewer, "/incidents/1", []string{"Incident #1: web is down", `id="incident-timeline"`, "up → down", "can read this incident"},
			[]string{`id="inc-ack"`, `id="inc-chat-input"`}},
		{"operator page", operator, "/incidents/1", []string{`id="inc-ack"`, `id="inc-chat-input"`, `id="inc-note-public"`, `id="inc-resolve"`}, nil},
		{"dashboard banner", viewer, "/", []string{`id="incident-banner"`, "#1 web is down", "unacknowledged"}, nil},
		{"check page panel", viewer, "/checks/web", []string{`id="check-incidents"`, "/checks/web/incidents"}, nil},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.c.do("GET", tt.path, "", "Accept", "text/html")
			if r.code != http.StatusOK {
				t.Fatalf("GET %s = %d: %.500s", tt.path, r.code, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("GET %s lacks %q", tt.path, w)
				}
			}
			for _, w := range tt.nope {
				if strings.Contains(r.body, w) {
					t.Errorf("GET %s shows %q", tt.path, w)
				}
			}
		})
	}

	// Actions, in order: who, what, the status and what the answer says.
	actions := []struct {
		name   string
		c      *authTClient
		path   string
		body   string
		code   int
		answer string
	}{
		{"viewer may not acknowledge", viewer, "/incidents/1/ack", `{}`, http.StatusForbidden, "may not acknowledge"},
		{"viewer may not chat", viewer, "/incidents/1/chat", `{"message":"hi"}`, http.StatusForbidden, "may not post"},
		{"read token may not acknowledge", reader, "/incidents/1/ack", `{}`, http.StatusForbidden, "may not acknowledge"},
		{"bad id", operator, "/incidents/x/ack", `{}`, http.StatusBadRequest, "incident id"},
		{"unknown incident", operator, "/incidents/99/ack", `{}`, http.StatusNotFound, "no such incident"},
		{"operator acknowledges", operator, "/incidents/1/ack", `{}`, http.StatusOK, `id="incident-error"`},
		{"empty note", operator, "/incidents/1/note", `{"note":"   ","notePublic":true}`, http.StatusBadRequest, "the note is empty"},
		{"public note", operator, "/incidents/1/note", `{"note":"We are looking into it.","notePublic":true}`, http.StatusOK, `"notePublic":false`},
		{"private note", operator, "/incidents/1/note", `{"note":"db01 disk at 99%"}`, http.StatusOK, `"note":""`},
		{"chat", operator, "/incidents/1/chat", `{"message":"restarting <nginx> $now"}`, http.StatusOK, `"message":""`},
		{"write token holds it open", writer, "/incidents/1/hold", `{}`, http.StatusNoContent, ""},
		{"empty summary", operator, "/incidents/1/resolve", `{"summary":""}`, http.StatusBadRequest, "the summary is empty"},
		{"operator resolves", operator, "/incidents/1/resolve", `{"summary":"restarted nginx"}`, http.StatusOK, `"summary":""`},
		{"acknowledge after resolve", operator, "/incidents/1/ack", `{}`, http.StatusConflict, "already resolved"},
		{"release after resolve", operator, "/incidents/1/release", `{}`, http.StatusConflict, "already resolved"},
		{"note after resolve (a postmortem)", operator, "/incidents/1/note", `{"note":"postmortem: see doc"}`, http.StatusOK, ""},
	}
	for _, tt := range actions {
		t.Run(tt.name, func(t *testing.T) {
			var r authTResp
			if tt.c == reader || tt.c == writer {
				r = incTPost(t, tt.c, tt.path, tt.body, "Content-Type", "application/json")
			} else {
				r = incTPost(t, tt.c, tt.path, tt.body, "Datastar-Request", "true", "Content-Type", "application/json",
					"Origin", tt.c.base, "Sec-Fetch-Site", "same-origin")
			}
			if r.code != tt.code {
				t.Fatalf("POST %s = %d, want %d: %.500s", tt.path, r.code, tt.code, r.body)
			}
			if !strings.Contains(r.body, tt.answer) {
				t.Errorf("POST %s answer lacks %q:\n%.1000s", tt.path, tt.answer, r.body)
			}
		})
	}

	// Live: the viewer's incident page got each entry, the header and
	// the state signals; the dashboard and the list who is on it.
	for _, want := range []string{"acknowledged by <strong>otto</strong>", "We are looking into it.", "restarting &lt;nginx&gt; $now",
		"mergeMode append", `"_incHeld":true`, `"_incOpen":false`, "restarted nginx"} {
		authTWaitFor(t, "the incident stream to carry "+want, func() bool { return live.has(want) })
	}
	authTWaitFor(t, "the dashboard to show who is on it", func() bool { return dash.has("acknowledged by <strong>otto</strong>") })
	authTWaitFor(t, "the list to show who is on it", func() bool { return list.has("acknowledged by <strong>otto</strong>") })
	authTWaitFor(t, "the banner to go once it resolved", func() bool {
		return dash.has(`<section id="incident-banner" class="inc-banner" aria-label="Open incidents" hidden></section>`)
	})

	// The audit log has each act, by the signed-in user.
	var acts []string
	for _, e := range authTAudit(t, admin) {
		if e.User == authTOperator || e.User == "token writer" {
			acts = append(acts, e.User+": "+e.Reason)
		}
	}
	for _, want := range []string{"otto: acknowledged incident #1", "otto: posted a public update on incident #1", "otto: noted on incident #1",
		"token writer: held open incident #1", "otto: resolved incident #1"} {
		if !strings.Contains(strings.Join(acts, "\n"), want) {
			t.Errorf("audit lacks %q:\n%s", want, strings.Join(acts, "\n"))
		}
	}

	// The API, per audience.
	t.Run("API list", func(t *testing.T) {
		r := reader.do("GET", "/api/v1/incidents", "")
		var out struct {
			Incidents []map[string]any `json:"incidents"`
		}
		incTJSON(t, r, &out)
		if r.code != http.StatusOK || len(out.Incidents) != 1 {
			t.Fatalf("GET /api/v1/incidents = %d: %s", r.code, r.body)
		}
		inc := out.Incidents[0]
		for _, k := range []string{"id", "state", "checks", "started", "acknowledged_by", "resolved", "title", "summary", "time_to_resolve_seconds"} {
			if _, ok := inc[k]; !ok {
				t.Errorf("no %q in %v", k, inc)
			}
		}
		if inc["state"] != "resolved" || inc["acknowledged_by"] != authTOperator || inc["summary"] != "restarted nginx" || inc["resolved_by"] != authTOperator {
			t.Errorf("incident %v", inc)
		}
	})
	t.Run("API detail, viewer", func(t *testing.T) {
		var d incTDetail
		r := viewer.do("GET", "/api/v1/incidents/1", "")
		incTJSON(t, r, &d)
		if d.entry("chat", "restarting <nginx> $now") == nil || d.entry("note", "db01 disk at 99%") == nil {
			t.Errorf("a signed-in viewer lacks the chat or a note: %v", d.kinds())
		}
		if e := d.entry("note", "We are looking into it."); e == nil || e["public"] != true {
			t.Errorf("public note %v", e)
		}
		if strings.Contains(r.body, `"address"`) {
			t.Errorf("a viewer sees client addresses:\n%.1000s", r.body)
		}
	})
	t.Run("API detail, admin sees addresses", func(t *testing.T) {
		if r := admin.do("GET", "/api/v1/incidents/1", ""); !strings.Contains(r.body, `"address":"127.0.0.1"`) {
			t.Errorf("no address for an admin:\n%.1000s", r.body)
		}
	})
	t.Run("API paging", func(t *testing.T) {
		var d incTDetail
		incTJSON(t, viewer.do("GET", "/api/v1/incidents/1?limit=2", ""), &d)
		if len(d.Entries) != 2 || d.Next == nil || *d.Next != 2 {
			t.Fatalf("page of 2: %v next %v", d.kinds(), d.Next)
		}
		var d2 incTDetail
		incTJSON(t, viewer.do("GET", "/api/v1/incidents/1?after=2&limit=2", ""), &d2)
		if len(d2.Entries) != 2 || d2.Entries[0]["seq"] != float64(3) {
			t.Errorf("second page %v", d2.Entries)
		}
	})
	errs := []struct {
		path, want string
		code       int
	}{
		{"/api/v1/incidents/99", "no such incident", http.StatusNotFound},
		{"/api/v1/incidents/zero", "incident id", http.StatusBadRequest},
		{"/api/v1/incidents?limit=0", "limit", http.StatusBadRequest},
		{"/api/v1/incidents?before=x", "before", http.StatusBadRequest},
	}
	for _, tt := range errs {
		t.Run("API error "+tt.path, func(t *testing.T) {
			r := reader.do("GET", tt.path, "")
			var e struct {
				Error  string `json:"error"`
				Status int    `json:"status"`
			}
			incTJSON(t, r, &e)
			if r.code != tt.code || e.Status != tt.code || !strings.Contains(e.Error, tt.want) {
				t.Errorf("GET %s = %d %+v, want %d with %q", tt.path, r.code, e, tt.code, tt.want)
			}
		})
	}

	// MTTA/MTTR: in the check's API and the check page's panel.
	t.Run("MTTA/MTTR", func(t *testing.T) {
		var c struct {
			Name      string `json:"name"`
			Incidents map[string]struct {
				Count       int      `json:"count"`
				MTTASeconds *float64 `json:"mtta_seconds"`
				MTTRSeconds *float64 `json:"mttr_seconds"`
			} `json:"incidents"`
		}
		incTJSON(t, reader.do("GET", "/api/v1/checks/web", ""), &c)
		for _, w := range []string{"30d", "90d"} {
			s := c.Incidents[w]
			if s.Count != 1 || s.MTTASeconds == nil || s.MTTRSeconds == nil || *s.MTTRSeconds < *s.MTTASeconds {
				t.Errorf("%s: %+v", w, s)
			}
		}
		r := viewer.do("GET", "/checks/web/incidents", "", "Datastar-Request", "true")
		if r.code != http.StatusOK {
			t.Fatalf("panel = %d", r.code)
		}
		if r := viewer.do("GET", "/checks/nope/incidents", "", "Datastar-Request", "true"); r.code != http.StatusNotFound {
			t.Errorf("unknown check panel = %d", r.code)
		}
	})
}

// TestIncidentHTTP_PublicAPI: with the API public, somebody not signed in
// reads incidents as a status page would: no chat, no private notes, no
// names, no internal reasons, no alert deliveries; the public note with
// its text.
func TestIncidentHTTP_PublicAPI(t *testing.T) {
	st, target := authTStack(t, "api")
	operator := authTNewClient(t, st)
	operator.mustLogin(authTOperator)
	incTWaitIncident(t, st, target)
	for _, a := range []struct{ path, body string }{
		{"/incidents/1/ack", `{}`},
		{"/incidents/1/note", `{"note":"Checkout is slow; we are on it.","notePublic":true}`},
		{"/incidents/1/note", `{"note":"db01 password rotated"}`},
		{"/incidents/1/chat", `{"message":"ssh to 10.0.0.5"}`},
	} {
		if r := operator.write("POST", a.path, a.body); r.code != http.StatusOK {
			t.Fatalf("POST %s = %d: %s", a.path, r.code, r.body)
		}
	}
	anon := authTNewClient(t, st)
	r := anon.do("GET", "/api/v1/incidents/1", "")
	if r.code != http.StatusOK {
		t.Fatalf("public GET = %d: %s", r.code, r.body)
	}
	var d incTDetail
	incTJSON(t, r, &d)
	if e := d.entry("note", "Checkout is slow; we are on it."); e == nil {
		t.Errorf("no public note: %s", r.body)
	}
	for _, secret := range []string{"db01", "10.0.0.5", authTOperator, `"chat"`, `"address"`, "HTTP 500"} {
		if strings.Contains(r.body, secret) {
			t.Errorf("the public API shows %q:\n%s", secret, r.body)
		}
	}
	if d.entry("ack", "") == nil || d.entry("state", "") == nil {
		t.Errorf("the public timeline lacks the acknowledgement or the state change: %v", d.kinds())
	}
	if d.Incident["acknowledged_by"] != nil || d.Incident["acknowledged_at"] == nil {
		t.Errorf("public incident %v", d.Incident)
	}
	l := anon.do("GET", "/api/v1/incidents", "")
	if l.code != http.StatusOK || strings.Contains(l.body, authTOperator) {
		t.Errorf("public list = %d: %s", l.code, l.body)
	}
	// The pages stay private.
	if p := anon.do("GET", "/incidents/1", ""); p.code != http.StatusUnauthorized {
		t.Errorf("anonymous incident page = %d", p.code)
	}
}
