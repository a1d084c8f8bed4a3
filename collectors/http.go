package collectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// HTTPSpec configures an http check: one request, then expectations on the
// status, the body and the latency.
type HTTPSpec struct {
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	// ExpectStatus lists accepted codes and ranges: [200, 204, "300-399"].
	ExpectStatus []string `yaml:"expect_status"`
	// BodyContains must appear in the first MiB of the body.
	BodyContains string `yaml:"body_contains"`
	// BodyRegex must match the first MiB of the body (Go RE2 syntax).
	BodyRegex string `yaml:"body_regex"`
	// JSONPath selects a value in a JSON body: "status", "checks.db.state",
	// "items[0].name". Alone it must exist; with JSONEquals it must equal it.
	JSONPath   string `yaml:"json_path"`
	JSONEquals string `yaml:"json_equals"`
	// MaxLatency makes a slower answer degraded; 0 disables it.
	MaxLatency config.Duration `yaml:"max_latency"`
	// InsecureSkipVerify accepts any certificate (expiry is still reported).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// CAFile is a PEM bundle trusted instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// CertWarnDays makes a certificate expiring sooner degraded; 0 disables it.
	CertWarnDays int `yaml:"cert_warn_days"`
}

// Defaults of an http check.
const (
	DefaultHTTPMethod       = http.MethodGet
	DefaultHTTPExpectStatus = "200-299"
	DefaultCertWarnDays     = 14
	// maxHTTPBody bounds what an http check reads and matches.
	maxHTTPBody = 1 << 20
)

func newHTTPSpec() *HTTPSpec {
	return &HTTPSpec{
		Method:       DefaultHTTPMethod,
		ExpectStatus: []string{DefaultHTTPExpectStatus},
		CertWarnDays: DefaultCertWarnDays,
	}
}

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Validate reports problems with positions.
func (h *HTTPSpec) Validate(s config.Scope) {
	if h.URL == "" {
		s.Required("url", true)
	} else if isSelfURL(h.URL) {
		validateSelfURL(s, h.URL)
	} else if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		s.Errorf("url", "must be an http:// or https:// URL with a host, got %q", config.RedactURL(h.URL))
	}
	if !containsFold(httpMethods, h.Method) {
		s.Errorf("method", "must be one of %s, got %q", strings.Join(httpMethods, ", "), h.Method)
	}
	if len(h.ExpectStatus) == 0 {
		s.Errorf("expect_status", "must list at least one status code or range")
	}
	for i, st := range h.ExpectStatus {
		if _, err := parseStatusRange(st); err != nil {
			s.Index("expect_status", i).Errorf("", "%v", err)
		}
	}
	if h.BodyRegex != "" {
		if _, err := regexp.Compile(h.BodyRegex); err != nil {
			s.Errorf("body_regex", "invalid regular expression: %v", err)
		}
	}
	if h.JSONPath != "" {
		if _, err := parseJSONPath(h.JSONPath); err != nil {
			s.Errorf("json_path", "%v", err)
		}
	} else if s.Has("json_equals") {
		s.Errorf("json_equals", "needs json_path to say which value to compare")
	}
	if h.MaxLatency < 0 {
		s.Errorf("max_latency", "must not be negative, got %s", h.MaxLatency)
	}
	if h.CertWarnDays < 0 || h.CertWarnDays > 3650 {
		s.Errorf("cert_warn_days", "must be between 0 and 3650, got %d", h.CertWarnDays)
	}
	if h.InsecureSkipVerify && h.CAFile != "" {
		s.Errorf("ca_file", "has no effect with insecure_skip_verify: true")
	}
	validateCAFile(s, h.CAFile)
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

func parseStatusRange(s string) (statusRange, error) {
	s = strings.TrimSpace(s)
	lo, hi, isRange := strings.Cut(s, "-")
	a, errA := strconv.Atoi(strings.TrimSpace(lo))
	b := a
	var errB error
	if isRange {
		b, errB = strconv.Atoi(strings.TrimSpace(hi))
	}
	if errA != nil || errB != nil || a < 100 || b > 599 || a > b {
		return statusRange{}, fmt.Errorf("%q is not a status code (100-599) or range such as \"200-299\"", s)
	}
	return statusRange{a, b}, nil
}

// jsonStep is one step of a JSON path: an object key, which also indexes
// arrays when it is a number.
type jsonStep = string

func parseJSONPath(p string) ([]jsonStep, error) {
	orig := p
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	p = strings.NewReplacer("[", ".", "]", "").Replace(p)
	steps := strings.Split(p, ".")
	for _, st := range steps {
		if st == "" {
			return nil, fmt.Errorf("%q is not a path such as \"status\", \"checks.db\" or \"items[0].name\"", orig)
		}
	}
	return steps, nil
}

// lookupJSON walks steps through a decoded JSON document.
func lookupJSON(doc any, steps []jsonStep) (any, bool) {
	cur := doc
	for _, st := range steps {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[st]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(st)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// jsonText renders a JSON value the way an operator writes it in YAML:
// strings bare, numbers without exponent, objects as compact JSON.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

type httpCheck struct {
	url, method, body string
	headers           map[string]string
	expect            []statusRange
	contains          string
	re                *regexp.Regexp
	jsonPath          []jsonStep
	jsonPathText      string
	jsonEquals        string
	hasJSONEquals     bool
	maxLatency        time.Duration
	warnDays          int
	client            *http.Client
}

var _ Check = (*httpCheck)(nil)

func (h *HTTPSpec) build(c config.Check) (Check, error) {
	hc := &httpCheck{
		url:          h.URL,
		method:       strings.ToUpper(h.Method),
		body:         h.Body,
		headers:      h.Headers,
		contains:     h.BodyContains,
		jsonPathText: h.JSONPath,
		jsonEquals:   h.JSONEquals,
		maxLatency:   h.MaxLatency.D(),
		warnDays:     h.CertWarnDays,
	}
	// Validate ran, but New may be handed a hand-built config.Check: re-check.
	for _, st := range h.ExpectStatus {
		r, err := parseStatusRange(st)
		if err != nil {
			return nil, fmt.Errorf("expect_status: %w", err)
		}
		hc.expect = append(hc.expect, r)
	}
	if h.BodyRegex != "" {
		re, err := regexp.Compile(h.BodyRegex)
		if err != nil {
			return nil, fmt.Errorf("body_regex: %w", err)
		}
		hc.re = re
	}
	if h.JSONPath != "" {
		steps, err := parseJSONPath(h.JSONPath)
		if err != nil {
			return nil, fmt.Errorf("json_path: %w", err)
		}
		hc.jsonPath = steps
		hc.hasJSONEquals = h.JSONEquals != ""
	}
	roots, err := loadCAFile(h.CAFile)
	if err != nil {
		return nil, err
	}
	// One transport per check, without keep-alive: every run measures a
	// full connect (and TLS handshake, so the certificate is seen each time),
	// and no idle connection outlives a run.
	tr := &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DialContext:       (&net.Dialer{}).DialContext,
		DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: h.InsecureSkipVerify, //nolint:gosec // operator opt-out, off by default
			RootCAs:            roots,
		},
	}
	hc.client = &http.Client{Transport: tr}
	return hc, nil
}

// Run makes the request and judges the answer. The reason and detail never
// show URL credentials: a URL may reach them through an error (a redirect's
// Location, a parse error) or from the response itself.
func (h *httpCheck) Run(ctx context.Context) Outcome {
	out := h.run(ctx)
	out.Reason = config.RedactURLs(out.Reason)
	out.Detail = config.RedactURLs(out.Detail)
	return out
}

func (h *httpCheck) run(ctx context.Context) Outcome {
	var body io.Reader
	if h.body != "" {
		body = strings.NewReader(h.body)
	}
	req, err := http.NewRequestWithContext(ctx, h.method, h.url, body)
	if err != nil {
		return downf("request: %s", errReason(err))
	}
	req.Header.Set("User-Agent", "dashd-check")
	for k, v := range h.headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		out := down(errReason(err))
		out.Latency = time.Since(start)
		return out
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	latency := time.Since(start)
	values := map[string]float64{"status": float64(resp.StatusCode)}
	out := h.judge(resp, data, err, latency, values)
	out.Latency = latency
	out.Values = values
	return out
}

func (h *httpCheck) judge(resp *http.Response, data []byte, readErr error, latency time.Duration, values map[string]float64) Outcome {
	status := fmt.Sprintf("HTTP %d", resp.StatusCode)
	var certDays float64
	hasCert := resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0
	if hasCert {
		certDays = certDaysLeft(resp.TLS.PeerCertificates[0].NotAfter, time.Now())
		values["cert_days_left"] = certDays
	}
	if !h.statusOK(resp.StatusCode) {
		return down(status)
	}
	if readErr != nil {
		return downf("%s, reading body: %s", status, errReason(readErr))
	}
	if h.contains != "" && !bytes.Contains(data, []byte(h.contains)) {
		return downf("%s, body does not contain %q", status, shorten(h.contains, 60))
	}
	if h.re != nil && !h.re.Match(data) {
		return downf("%s, body does not match %s", status, shorten(h.re.String(), 60))
	}
	if h.jsonPath != nil {
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			return downf("%s, body is not JSON", status)
		}
		v, ok := lookupJSON(doc, h.jsonPath)
		if !ok {
			return downf("%s, JSON %s missing", status, h.jsonPathText)
		}
		if got := jsonText(v); h.hasJSONEquals && got != h.jsonEquals {
			return downf("%s, JSON %s = %q, want %q", status, h.jsonPathText, shorten(got, 60), h.jsonEquals)
		}
	}
	if hasCert && certDays < 0 {
		return down(expiryReason(certDays))
	}
	if hasCert && h.warnDays > 0 && certDays < float64(h.warnDays) {
		return degraded(expiryReason(certDays))
	}
	if h.maxLatency > 0 && latency > h.maxLatency {
		return degraded(fmt.Sprintf("%s, slow: %s (max %s)", status, latency.Round(time.Millisecond), h.maxLatency))
	}
	return Outcome{State: model.StateUp, Reason: status}
}

func (h *httpCheck) statusOK(code int) bool {
	for _, r := range h.expect {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}
