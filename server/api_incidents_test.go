package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// apiTGet GETs path with c and decodes the JSON answer into a map.
func apiTGet(t *testing.T, c *authTClient, path string, want int) map[string]any {
	t.Helper()
	r := c.do("GET", path, "")
	if r.code != want {
		t.Fatalf("GET %s = %d, want %d: %.500s", path, r.code, want, r.body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("GET %s: JSON: %v\n%.500s", path, err, r.body)
	}
	return out
}

// apiTIDs lists the ids of an incident list answer.
func apiTIDs(t *testing.T, page map[string]any) []float64 {
	t.Helper()
	incs, ok := page["incidents"].([]any)
	if !ok {
		t.Fatalf("no incidents array in %v", page)
	}
	if n, _ := page["count"].(float64); int(n) != len(incs) {
		t.Errorf("count %v for %d incidents", page["count"], len(incs))
	}
	var ids []float64
	for _, i := range incs {
		ids = append(ids, i.(map[string]any)["id"].(float64))
	}
	return ids
}

// TestAPIIncidents_StateFilter: state= keeps the open or the resolved
// incidents (both when both are given), follows a resolution, and a
// misspelt state, an unknown parameter or a limit out of range is a 400
// that says so.
func TestAPIIncidents_StateFilter(t *testing.T) {
	st := openAPIIncidentStack(t)
	c := authTNewClient(t, st)

	filters := func(wantOpen, wantResolved []float64) {
		t.Helper()
		for _, tt := range []struct {
			query string
			want  []float64
		}{
			{"", append(slices.Clone(wantOpen), wantResolved...)},
			{"?state=open", wantOpen},
			{"?state=resolved", wantResolved},
			{"?state=open,resolved", append(slices.Clone(wantOpen), wantResolved...)},
			{"?state=resolved&state=open&limit=5", append(slices.Clone(wantOpen), wantResolved...)},
		} {
			if got := apiTIDs(t, apiTGet(t, c, "/api/v1/incidents"+tt.query, http.StatusOK)); !slices.Equal(got, tt.want) {
				t.Errorf("GET /api/v1/incidents%s = ids %v, want %v", tt.query, got, tt.want)
			}
		}
	}
	filters([]float64{1}, nil)

	if r := c.write("POST", "/incidents/1/resolve", `{"summary":"restarted the database"}`); r.code != http.StatusOK {
		t.Fatalf("resolve = %d: %s", r.code, r.body)
	}
	filters(nil, []float64{1})

	errs := []struct{ path, want string }{
		{"/api/v1/incidents?state=closed", `state: unknown value \"closed\"; one of open, resolved`},
		{"/api/v1/incidents?state=", `state: empty value`},
		{"/api/v1/incidents?stat=open", `unknown query parameter \"stat\": this endpoint takes before, limit, state`},
		{"/api/v1/incidents?limit=0", `limit must be 1..1000, got \"0\"`},
		{"/api/v1/incidents?limit=1001", `limit must be 1..1000, got \"1001\"`},
		{"/api/v1/incidents/1?limit=5001", `limit must be 1..5000, got \"5001\"`},
		{"/api/v1/incidents/1?before=1", `unknown query parameter \"before\": this endpoint takes after, limit`},
	}
	for _, tt := range errs {
		r := c.do("GET", tt.path, "")
		if r.code != http.StatusBadRequest || !strings.Contains(r.body, tt.want) {
			t.Errorf("GET %s = %d %s, want 400 with %s", tt.path, r.code, r.body, tt.want)
		}
	}
}

// TestAPIIncidents_Vocabulary: an incident's instants are started,
// resolved (the names issue #16 fixed) and *_at, its number of entries is
// entry_count, a timeline entry's state change is from_state/to_state,
// and a check's incident figures count with *_count; none of the old
// names is left.
func TestAPIIncidents_Vocabulary(t *testing.T) {
	st := openAPIIncidentStack(t)
	c := authTNewClient(t, st)

	d := apiTGet(t, c, "/api/v1/incidents/1", http.StatusOK)
	inc, _ := d["incident"].(map[string]any)
	for _, k := range []string{"id", "state", "checks", "started", "updated_at", "acknowledged_at", "acknowledged_by", "resolved", "resolved_by", "entry_count"} {
		if _, ok := inc[k]; !ok {
			t.Errorf("incident lacks %q: %v", k, inc)
		}
	}
	for _, k := range []string{"updated", "acknowledged", "entries", "started_at", "resolved_at"} {
		if _, ok := inc[k]; ok {
			t.Errorf("incident has %q: %v", k, inc)
		}
	}
	if inc["acknowledged_at"] != nil || inc["resolved"] != nil || inc["state"] != "open" {
		t.Errorf("an open incident nobody acknowledged: %v", inc)
	}
	es, _ := d["entries"].([]any)
	if n, _ := d["count"].(float64); len(es) == 0 || int(n) != len(es) {
		t.Fatalf("count %v for %d entries", d["count"], len(es))
	}
	states := 0
	for _, e := range es {
		e := e.(map[string]any)
		if _, ok := e["from"]; ok {
			t.Errorf("entry with from: %v", e)
		}
		if _, ok := e["incident"]; ok {
			t.Errorf("entry repeats its incident: %v", e)
		}
		if e["kind"] == "state" {
			states++
			if e["to_state"] != "down" || e["from_state"] == nil || e["check"] != "db" {
				t.Errorf("state entry %v, want db's change to down in from_state/to_state", e)
			}
		}
	}
	if states == 0 {
		t.Errorf("no state entry in %v", es)
	}

	chk := apiTGet(t, c, "/api/v1/checks/db", http.StatusOK)
	figs, _ := chk["incidents"].(map[string]any)
	w, _ := figs["30d"].(map[string]any)
	if w["count"] != float64(1) || w["acknowledged_count"] != float64(0) || w["resolved_count"] != float64(0) {
		t.Errorf("30d figures %v, want count 1, acknowledged_count 0, resolved_count 0", w)
	}
	if _, ok := w["acknowledged"]; ok {
		t.Errorf("figures keep the old name acknowledged: %v", w)
	}
}
