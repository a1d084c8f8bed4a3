package server

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
)

// originTShare applies a public note from hub "hub-b" to the open
// incident inc, as fleet.Actions does with another hub's action.
func originTShare(t *testing.T, st *testStack, inc model.Incident, text string) {
	t.Helper()
	m, ok := st.srv.deps.Incidents.(*incident.Manager)
	if !ok {
		t.Fatalf("the stack's incidents are a %T, not the Manager", st.srv.deps.Incidents)
	}
	ref := incident.Ref{Subjects: append(slices.Clone(inc.Checks), inc.Rules...), Started: inc.Started, Title: inc.Title}
	if err := m.ApplyRemote(context.Background(), "hub-b", "hub-b/incident/9/1", incident.Shared{Kind: model.EntryNote, Ref: ref,
		Incident: 9, Time: time.Now(), User: "carol", Text: text, Public: true}); err != nil {
		t.Fatal(err)
	}
}

// TestOpenAPI_OriginValidates: an incident entry and a silence that
// another hub of the site shared carry their origin in the API, and the
// answers still validate against the document.
func TestOpenAPI_OriginValidates(t *testing.T) {
	doc := loadOpenAPI(t)
	st := openAPIIncidentStack(t)
	originTShare(t, st, st.srv.deps.Incidents.Open()[0], "from the other hub")
	if _, err := st.srv.deps.Alerts.AddSilence(context.Background(), model.Silence{Checks: []string{"db"}, End: time.Now().Add(time.Hour),
		Author: "carol", Comment: "shared", Origin: "hub-b", OriginID: 7}); err != nil {
		t.Fatal(err)
	}
	validateRequests(t, doc, st.url, []apiRequest{
		{"GET", "/api/v1/incidents/1", "", 200},
		{"GET", "/api/v1/silences", "", 200},
	})

	var d incTDetail
	originTGet(t, st.url+"/api/v1/incidents/1", &d)
	if e := d.entry("note", "from the other hub"); e == nil || e["origin"] != "hub-b" {
		t.Errorf("shared note %v, want origin hub-b", e)
	}
	for _, e := range d.Entries {
		if e["kind"] == "state" && e["origin"] != nil {
			t.Errorf("dashd's own entry has an origin: %v", e)
		}
	}
	var s struct{ Silences []map[string]any }
	originTGet(t, st.url+"/api/v1/silences", &s)
	if len(s.Silences) != 1 || s.Silences[0]["origin"] != "hub-b" || s.Silences[0]["origin_id"] != float64(7) {
		t.Errorf("silences %v, want origin hub-b, origin_id 7", s.Silences)
	}
}

// TestIncidentHTTP_PublicAPIHidesOrigin: a public caller reads another
// hub's public note without the hub's name; a signed-in one sees it.
func TestIncidentHTTP_PublicAPIHidesOrigin(t *testing.T) {
	st, target := authTStack(t, "api")
	inc := incTWaitIncident(t, st, target)
	originTShare(t, st, inc, "We are on it.")
	tests := []struct {
		name   string
		login  bool
		origin any
	}{
		{"public", false, nil},
		{"operator", true, "hub-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := authTNewClient(t, st)
			if tt.login {
				c.mustLogin(authTOperator)
			}
			r := c.do("GET", "/api/v1/incidents/1", "")
			if r.code != http.StatusOK {
				t.Fatalf("GET = %d: %s", r.code, r.body)
			}
			var d incTDetail
			incTJSON(t, r, &d)
			e := d.entry("note", "We are on it.")
			if e == nil || e["origin"] != tt.origin {
				t.Errorf("note %v, want origin %v", e, tt.origin)
			}
			if tt.origin == nil && strings.Contains(r.body, "hub-b") {
				t.Errorf("the public API shows the hub:\n%s", r.body)
			}
		})
	}
}

// originTGet decodes a GET answer (200) into v.
func originTGet(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
