package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The OpenAPI document is served as 3.1 and validated as 3.1: kin-openapi
// v0.153.0 loads 3.1 documents and openapi3filter validates their schemas
// with its JSON Schema 2020-12 validator (type arrays with "null" for
// nullable fields, "const"), so what these tests check is the document
// clients read.

// loadOpenAPI loads and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi.json is %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not valid: %v", err)
	}
	return doc
}

// fiberToOpenAPI turns a fiber route path under /api/v1 into the
// document's path: ":name" parameters become "{name}" and the series
// wildcard "{metric}".
func fiberToOpenAPI(p string) string {
	p = strings.TrimPrefix(p, "/api/v1")
	p = strings.Replace(p, "/series/*", "/series/{metric}", 1)
	return regexp.MustCompile(`:([A-Za-z_]+)`).ReplaceAllString(p, "{$1}")
}

// TestOpenAPI_EveryRouteDocumented: every route fiber serves under
// /api/v1 is in the document with its method, and every documented
// operation is served.
func TestOpenAPI_EveryRouteDocumented(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newAPIEnv(t)
	served := map[string]bool{}
	for _, r := range e.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == http.MethodHead {
			continue
		}
		served[r.Method+" "+fiberToOpenAPI(r.Path)] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("route %s is served but not in openapi.json", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which is not served", k)
		}
	}
	if len(served) < 15 {
		t.Errorf("only %d routes found under /api/v1: %v", len(served), served)
	}
}

// vocabularyProblems walks a schema's properties and names the ones that
// break the API's vocabulary (api_json.go).
func vocabularyProblems(where string, s *openapi3.Schema, seen map[*openapi3.Schema]bool) []string {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	var out []string
	badSuffix := regexp.MustCompile(`(_ns|_ms|_s|_bps|_pps|_ps|_iops|_percent|_sec)$`)
	for name, ref := range s.Properties {
		p := ref.Value
		at := where + "." + name
		isTime := p.Format == "date-time"
		switch {
		case vocabularyException(s, name):
		case name == "t" || name == "v":
			out = append(out, at+": abbreviated name")
		case badSuffix.MatchString(name):
			out = append(out, at+": unit suffix outside the vocabulary (_seconds, _per_second, _pct)")
		case isTime && name != "time" && name != "from" && name != "to" && !strings.HasSuffix(name, "_at"):
			out = append(out, at+": an instant must be time, from, to or end in _at")
		case (name == "from" || name == "to") && !isTime:
			out = append(out, at+": from/to are only time bounds (state changes are from_state/to_state)")
		case name == "points" && !p.Type.Is("array"):
			out = append(out, at+": points is only a data array (a number is count)")
		case strings.HasSuffix(name, "_at") && !isTime:
			out = append(out, at+": _at names an instant")
		}
		out = append(out, vocabularyProblems(at, p, seen)...)
		if p.Items != nil {
			out = append(out, vocabularyProblems(at+"[]", p.Items.Value, seen)...)
		}
	}
	if s.Items != nil {
		out = append(out, vocabularyProblems(where+"[]", s.Items.Value, seen)...)
	}
	for _, sub := range s.AllOf {
		out = append(out, vocabularyProblems(where, sub.Value, seen)...)
	}
	return out
}

// vocabularyException reports whether a property is one of the names
// fixed before the vocabulary: issue #16 named the incident's instants
// "started" and "resolved" (incidentJSON). Only the schema titled
// "Incident" has them; anywhere else they are problems.
func vocabularyException(s *openapi3.Schema, name string) bool {
	return s.Title == "Incident" && (name == "started" || name == "resolved")
}

// TestOpenAPI_Vocabulary: every field of every documented answer follows
// the one vocabulary; with additionalProperties false everywhere, the
// validation below makes the answers follow it too.
func TestOpenAPI_Vocabulary(t *testing.T) {
	doc := loadOpenAPI(t)
	var problems []string
	seen := map[*openapi3.Schema]bool{}
	for name, ref := range doc.Components.Schemas {
		if strings.HasSuffix(name, "Create") {
			// A request body: its instants are times as from= takes
			// them ("-1h", "now"), strings rather than date-times.
			continue
		}
		problems = append(problems, vocabularyProblems(name, ref.Value, seen)...)
		if v := ref.Value; v.Type.Is("object") && (v.AdditionalProperties.Has == nil || *v.AdditionalProperties.Has) && v.AdditionalProperties.Schema == nil {
			problems = append(problems, name+": additionalProperties must be false, so an undocumented field fails validation")
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
	// The check itself catches what it is for.
	bad := &openapi3.Schema{Properties: openapi3.Schemas{
		"t":          &openapi3.SchemaRef{Value: openapi3.NewDateTimeSchema()},
		"latency_ns": &openapi3.SchemaRef{Value: openapi3.NewIntegerSchema()},
		"from":       &openapi3.SchemaRef{Value: openapi3.NewStringSchema()},
		"points":     &openapi3.SchemaRef{Value: openapi3.NewIntegerSchema()},
		"started":    &openapi3.SchemaRef{Value: openapi3.NewDateTimeSchema()},
	}}
	if got := vocabularyProblems("bad", bad, map[*openapi3.Schema]bool{}); len(got) != 5 {
		t.Errorf("vocabulary check found %d of 5 problems: %q", len(got), got)
	}
	// The incident's exception is its own: started is fine there, and
	// updated (which the vocabulary names updated_at) is not.
	bad.Title = "Incident"
	bad.Properties["updated"] = &openapi3.SchemaRef{Value: openapi3.NewDateTimeSchema()}
	if got := vocabularyProblems("Incident", bad, map[*openapi3.Schema]bool{}); len(got) != 5 || slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, "Incident.started:") }) {
		t.Errorf("in Incident, want started allowed and updated refused: %q", got)
	}
}

// serveAPIEnv serves e's app on a real loopback listener until the test
// ends, and returns its base URL.
func serveAPIEnv(t *testing.T, e *apiEnv) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = e.srv.App().Listener(ln) }()
	t.Cleanup(func() {
		_ = e.srv.App().ShutdownWithTimeout(5 * time.Second)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// TestOpenAPI_ResponsesValidate drives real requests, successes and
// errors, against a real server and validates each answer (status,
// headers, body) against the document.
func TestOpenAPI_ResponsesValidate(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newAPIEnv(t)
	base := serveAPIEnv(t, e)
	silence := `{"checks":["web"],"duration":"1h","author":"ann","comment":"drill"}`
	tests := []apiRequest{
		{"GET", "/api/v1/openapi.json", "", 200},
		{"GET", "/api/v1/system", "", 200},
		{"GET", "/api/v1/checks", "", 200},
		{"GET", "/api/v1/checks?state=down,up&type=http", "", 200},
		{"GET", "/api/v1/checks?state=sideways", "", 400},
		{"GET", "/api/v1/checks?stat=down", "", 400},
		{"GET", "/api/v1/checks/web", "", 200},
		{"GET", "/api/v1/checks/api.v2", "", 200},
		{"GET", "/api/v1/checks/nope", "", 404},
		{"GET", "/api/v1/checks/web/history?from=-1h&points=20", "", 200},
		{"GET", "/api/v1/checks/web/history?points=0", "", 400},
		{"GET", "/api/v1/series", "", 200},
		{"GET", "/api/v1/series/cpu.total?from=-2h&points=12", "", 200},
		{"GET", "/api/v1/series/no.such", "", 404},
		{"GET", "/api/v1/events?limit=2", "", 200},
		{"GET", "/api/v1/events?kind=check&check=web&limit=2", "", 200},
		{"GET", "/api/v1/events?limit=0", "", 400},
		{"GET", "/api/v1/audit", "", 200},
		{"GET", "/api/v1/alerts", "", 200},
		{"POST", "/api/v1/silences", silence, 201},
		{"POST", "/api/v1/silences", `{"comment":"no end"}`, 400},
		{"GET", "/api/v1/silences", "", 200},
		{"DELETE", "/api/v1/silences/999", "", 404},
		{"GET", "/api/v1/channels", "", 200},
		{"GET", "/api/v1/deliveries?limit=5", "", 200},
		{"GET", "/api/v1/deliveries?limit=0", "", 400},
		{"POST", "/api/v1/checks/web/run", "", 202},
		{"POST", "/api/v1/checks/nope/run", "", 404},
		// Wrong methods: 405 with Allow, as documented.
		{"POST", "/api/v1/checks", "{}", 405},
		{"GET", "/api/v1/checks/web/run", "", 405},
		{"PUT", "/api/v1/silences", "{}", 405},
		{"GET", "/api/v1/silences/1", "", 405},
		{"GET", "/api/v1/hosts", "", 200},
		{"GET", "/api/v1/hosts?host=x", "", 400},
		{"POST", "/api/v1/hosts", "{}", 405},
	}
	validateRequests(t, doc, base, tests)
}

// apiRequest is one request of a validation test and the status it must
// get.
type apiRequest struct {
	method, path, body string
	status             int
}

// validateRequests sends each request to the dashd at base over real
// HTTP, checks its status (and Allow on a 405), and validates the answer
// against doc.
func validateRequests(t *testing.T, doc *openapi3.T, base string, tests []apiRequest) {
	t.Helper()
	doc.Servers = openapi3.Servers{{URL: base + "/api/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, tt.method, base+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, got)
			}
			if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
			validateResponse(t, router, req, resp, got)
		})
	}
}

// openAPIIncidentStack is a whole dashd (auth mode none) with one tcp
// check, "db", at a loopback port nothing listens on: it fails from its
// first run, and incident #1 is open when this returns.
func openAPIIncidentStack(t *testing.T) *testStack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	st := newTestStack(t, stackOptions{checks: "  - name: db\n    type: tcp\n    address: " + closed +
		"\n    interval: 1s\n    timeout: 500ms\n    fail_after: 1\n"})
	authTWaitFor(t, "incident #1 to open", func() bool { return len(st.srv.deps.Incidents.Open()) > 0 })
	return st
}

// TestOpenAPI_IncidentResponsesValidate: the incident routes' real
// answers (an open incident of a check at a closed port, its timeline,
// filters, refusals) validate against the document.
func TestOpenAPI_IncidentResponsesValidate(t *testing.T) {
	doc := loadOpenAPI(t)
	st := openAPIIncidentStack(t)
	validateRequests(t, doc, st.url, []apiRequest{
		{"GET", "/api/v1/incidents", "", 200},
		{"GET", "/api/v1/incidents?state=open&limit=1", "", 200},
		{"GET", "/api/v1/incidents?state=resolved", "", 200},
		{"GET", "/api/v1/incidents?state=closed", "", 400},
		{"GET", "/api/v1/incidents?stat=open", "", 400},
		{"GET", "/api/v1/incidents?limit=0", "", 400},
		{"GET", "/api/v1/incidents?before=x", "", 400},
		{"GET", "/api/v1/incidents/1", "", 200},
		{"GET", "/api/v1/incidents/1?after=1&limit=1", "", 200},
		{"GET", "/api/v1/incidents/1?limit=5001", "", 400},
		{"GET", "/api/v1/incidents/1?before=1", "", 400},
		{"GET", "/api/v1/incidents/99", "", 404},
		{"GET", "/api/v1/incidents/zero", "", 400},
		{"POST", "/api/v1/incidents", "{}", 405},
		{"DELETE", "/api/v1/incidents/1", "", 405},
		{"GET", "/api/v1/checks/db", "", 200},
	})
}

// validateResponse checks one answer against the document; an
// undocumented status is a failure too.
func validateResponse(t *testing.T, router routers.Router, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	// The router matches on the operation's method; a 405 is documented
	// under the operations that do exist at the path.
	vreq := req.Clone(req.Context())
	if resp.StatusCode == http.StatusMethodNotAllowed {
		allow := strings.Split(resp.Header.Get("Allow"), ",")
		vreq.Method = strings.TrimSpace(allow[0])
	}
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("no documented route for %s %s: %v", vreq.Method, req.URL, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("answer does not match openapi.json: %v\nbody: %.2000s", err, bytes.TrimSpace(body))
	}
}

// TestOpenAPI_DocumentedParamsAccepted: every documented query parameter
// is taken by its route (with the document's example), and an
// undocumented one is refused: the document and queryParams agree.
func TestOpenAPI_DocumentedParamsAccepted(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newAPIEnv(t)
	// The incident routes need an incident: they are asked of a dashd
	// that has one.
	st := openAPIIncidentStack(t)
	get := func(p string) (*http.Response, []byte) {
		if strings.HasPrefix(p, "/api/v1/incidents") {
			return httpGet(t, st.url+p)
		}
		return e.get(t, p)
	}
	fill := strings.NewReplacer("{check}", "web", "{metric}", "cpu.total", "{id}", "1", "{host}", "box")
	for path, item := range doc.Paths.Map() {
		op := item.Get
		if op == nil {
			continue
		}
		p := "/api/v1" + fill.Replace(path)
		for _, pr := range op.Parameters {
			if pr.Value.In != "query" {
				continue
			}
			ex := pr.Value.Example
			if ex == nil {
				ex = ""
			}
			v := ""
			switch x := ex.(type) {
			case []any:
				v = x[0].(string)
			case float64:
				v = strconv.FormatFloat(x, 'f', -1, 64)
			case string:
				v = x
			}
			if v == "" {
				if slices.Contains([]string{"group"}, pr.Value.Name) {
					continue // no check of the test has a group
				}
				t.Errorf("%s %s: no example", path, pr.Value.Name)
				continue
			}
			resp, body := get(p + "?" + pr.Value.Name + "=" + v)
			if resp.StatusCode != 200 {
				t.Errorf("GET %s?%s=%s = %d: %s", p, pr.Value.Name, v, resp.StatusCode, body)
			}
		}
		if resp, body := get(p + "?undocumented=1"); resp.StatusCode != 400 || !strings.Contains(string(body), `unknown query parameter \"undocumented\"`) {
			t.Errorf("GET %s?undocumented=1 = %d: %s", p, resp.StatusCode, body)
		}
	}
}

// httpGet sends a GET over real HTTP and returns the response and its
// body.
func httpGet(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
