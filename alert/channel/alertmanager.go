package channel

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// AlertmanagerSpec configures an alertmanager channel: dashd's alerts
// posted to a Prometheus Alertmanager, which groups, silences and routes
// them like Prometheus' own.
type AlertmanagerSpec struct {
	// URL is Alertmanager's base address (http://127.0.0.1:9093, or a
	// prefix behind a proxy); dashd posts to <url>/api/v2/alerts.
	URL string `yaml:"url"`
	// Username and Password (basic) or Token (bearer) authenticate with a
	// proxy in front of Alertmanager.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Token    string `yaml:"token"`
	// Labels are added to every alert (team: ops); an alert's own labels
	// win.
	Labels             map[string]string `yaml:"labels"`
	CAFile             string            `yaml:"ca_file"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
}

// Alertmanager windows: a firing alert is sent with endsAt that far ahead
// (Alertmanager resolves it then unless it hears again), as Prometheus
// does with 4x its resend delay.
const (
	// MinAlertmanagerWindow is the shortest window.
	MinAlertmanagerWindow = time.Hour
	// testAlertWindow is how long a test message's alert fires.
	testAlertWindow = 5 * time.Minute
)

// AlertmanagerWindow is how far ahead a firing alert's endsAt is set:
// four repeat intervals, at least an hour. The alert core must send a
// firing alert to an alertmanager channel again within this window (a
// reminder), or Alertmanager resolves it.
func AlertmanagerWindow(repeat time.Duration) time.Duration {
	return max(4*repeat, MinAlertmanagerWindow)
}

// labelNameRE is what Alertmanager accepts as a label name.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func newAlertmanagerSpec() *AlertmanagerSpec { return &AlertmanagerSpec{} }

// Validate reports problems with positions.
func (a *AlertmanagerSpec) Validate(s config.Scope) {
	validateHTTPURL(s, "url", a.URL, plainURL)
	if a.Token != "" && (a.Username != "" || a.Password != "") {
		s.Errorf("token", "use either token or username/password, not both")
	}
	if (a.Username == "") != (a.Password == "") {
		s.Errorf("username", "username and password go together")
	}
	ls := s.Child("labels")
	for k := range a.Labels {
		if !labelNameRE.MatchString(k) {
			ls.Errorf(k, "%q is not a label name (letters, digits and '_', not starting with a digit)", k)
		}
	}
	validateTLS(s, a.CAFile, a.InsecureSkipVerify)
}

func (a *AlertmanagerSpec) describe() string { return "alertmanager at " + hostOf(a.URL) }

type alertmanager struct {
	url    string
	auth   string
	labels map[string]string
	window time.Duration
	http   *httpTarget
}

var _ Sender = (*alertmanager)(nil)

func (a *AlertmanagerSpec) build(_ config.Channel, o Options) (Sender, error) {
	auth := ""
	switch {
	case a.Token != "":
		auth = "Bearer " + a.Token
	case a.Username != "":
		auth = "Basic " + basicAuth(a.Username, a.Password)
	}
	full := joinURL(a.URL, "api/v2/alerts")
	t, err := newHTTPTarget(a.CAFile, a.InsecureSkipVerify, o, showURL(full, plainURL),
		a.Token, a.Password, urlPassword(a.URL), strings.TrimPrefix(auth, "Basic "))
	if err != nil {
		return nil, err
	}
	return &alertmanager{url: full, auth: auth, labels: a.Labels, window: AlertmanagerWindow(o.RepeatInterval), http: t}, nil
}

// amAlert is one alert of Alertmanager's v2 API.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// labelName makes a dashd label name one Alertmanager accepts: characters
// other than letters, digits and '_' become '_', and a leading digit gets
// a '_' in front.
func labelName(k string) string {
	b := []byte(k)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// amAlerts renders the message as Alertmanager alerts: the alert's labels
// plus alertname (its Name), severity and dashd_source; the summary,
// reason (description) and link (dashd_url) as annotations; endsAt the
// alert's end when resolved, now + the window while firing (5 minutes for
// a test message). A test message without alerts sends one, alertname
// dashd_test.
func (am *alertmanager) amAlerts(m model.AlertMessage, now time.Time) []amAlert {
	alerts := m.Alerts
	if len(alerts) == 0 && m.Test {
		alerts = []model.Alert{{
			Name: "dashd_test", Source: model.AlertSourceDashd, Severity: config.SeverityInfo, State: model.AlertFiring,
			Summary: "test message from dashd", Labels: map[string]string{"host": m.Host}, StartsAt: now,
		}}
	}
	out := make([]amAlert, 0, len(alerts))
	for _, a := range alerts {
		labels := map[string]string{}
		for k, v := range am.labels {
			labels[k] = v
		}
		for k, v := range a.Labels {
			if v != "" {
				labels[labelName(k)] = v
			}
		}
		labels["alertname"] = a.Name
		if a.Name == "" {
			labels["alertname"] = "dashd_" + labelName(a.Source)
		}
		if a.Severity != "" {
			labels["severity"] = a.Severity
		}
		labels["dashd_source"] = a.Source
		for k, v := range labels {
			if v == "" {
				delete(labels, k)
			}
		}
		ann := map[string]string{"summary": a.Summary}
		if a.Reason != "" {
			ann["description"] = a.Reason
		}
		if u := webURL(a.URL); u != "" {
			ann["dashd_url"] = u
		}
		x := amAlert{Labels: labels, Annotations: ann, GeneratorURL: webURL(a.URL)}
		if !a.StartsAt.IsZero() {
			x.StartsAt = a.StartsAt.UTC().Format(time.RFC3339Nano)
		}
		switch {
		case a.State != model.AlertFiring && !a.EndsAt.IsZero():
			x.EndsAt = a.EndsAt.UTC().Format(time.RFC3339Nano)
		case a.State != model.AlertFiring:
			x.EndsAt = now.UTC().Format(time.RFC3339Nano)
		case m.Test:
			x.EndsAt = now.Add(testAlertWindow).UTC().Format(time.RFC3339Nano)
		default:
			x.EndsAt = now.Add(am.window).UTC().Format(time.RFC3339Nano)
		}
		out = append(out, x)
	}
	return out
}

// Send posts the message's alerts to Alertmanager. A message without
// alerts (nothing to say) sends nothing.
func (am *alertmanager) Send(ctx context.Context, m model.AlertMessage) error {
	alerts := am.amAlerts(m, am.http.now())
	if len(alerts) == 0 {
		return nil
	}
	b, err := marshalJSON(alerts)
	if err != nil {
		return Permanent(err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if am.auth != "" {
		h.Set("Authorization", am.auth)
	}
	return am.http.send(ctx, m.ID, httpRequest{method: http.MethodPost, url: am.url, body: b, header: h})
}
