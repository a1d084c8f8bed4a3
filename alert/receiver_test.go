package alert

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// answer is how a receiver answers one request.
type answer struct {
	status int
	header map[string]string
	// hang holds the request until the client gives up.
	hang bool
	// gate, when set, holds the request until it is closed (or the
	// client gives up).
	gate chan struct{}
}

// hookMsg is the webhook's default JSON document (see alert/channel).
type hookMsg struct {
	ID       string        `json:"id"`
	Host     string        `json:"host"`
	Title    string        `json:"title"`
	Alerts   []model.Alert `json:"alerts"`
	Reminder bool          `json:"reminder"`
	Test     bool          `json:"test"`
}

// hookReq is one request a receiver got.
type hookReq struct {
	at     time.Time
	status int
	// key is the Idempotency-Key header.
	key string
	msg hookMsg
}

// receiver is a webhook endpoint on 127.0.0.1 that records every request
// and answers as scripted: the queued answers first, then def.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	answers []answer
	def     answer
	reqs    []hookReq
	started int // requests received, finished or not
}

func newReceiver(t *testing.T, answers ...answer) *receiver {
	t.Helper()
	r := &receiver{t: t, answers: answers, def: answer{status: http.StatusOK}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hook" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var m hookMsg
	if err := json.Unmarshal(body, &m); err != nil {
		r.t.Errorf("receiver: body is not the webhook document: %v\n%s", err, body)
	}
	r.mu.Lock()
	r.started++
	a := r.def
	if len(r.answers) > 0 {
		a, r.answers = r.answers[0], r.answers[1:]
	}
	r.mu.Unlock()
	if a.hang {
		<-req.Context().Done()
		a.status = 0
	}
	if a.gate != nil {
		select {
		case <-a.gate:
		case <-req.Context().Done():
			a.status = 0
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, hookReq{at: time.Now(), status: a.status, key: req.Header.Get("Idempotency-Key"), msg: m})
	r.mu.Unlock()
	if a.status == 0 {
		return
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
}

// inFlight is how many requests the receiver holds now.
func inFlight(r *receiver) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started - len(r.reqs)
}

// setDefault changes the answer after the scripted ones.
func (r *receiver) setDefault(a answer) {
	r.mu.Lock()
	r.def = a
	r.mu.Unlock()
}

// all returns every request so far.
func (r *receiver) all() []hookReq {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookReq(nil), r.reqs...)
}

// accepted returns the requests answered 2xx: the messages delivered.
func (r *receiver) accepted() []hookReq {
	var out []hookReq
	for _, q := range r.all() {
		if q.status >= 200 && q.status <= 299 {
			out = append(out, q)
		}
	}
	return out
}

// waitAccepted waits until n messages were delivered and returns them.
func (r *receiver) waitAccepted(n int, timeout time.Duration) []hookReq {
	r.t.Helper()
	waitFor(r.t, timeout, "delivered messages", func() bool { return len(r.accepted()) >= n })
	return r.accepted()
}

// alertsOf lists "key/state" of a message's alerts.
func alertsOf(m hookMsg) []string {
	var out []string
	for _, a := range m.Alerts {
		out = append(out, a.Key+"/"+string(a.State))
	}
	return out
}

// amReceiver is an Alertmanager API endpoint on 127.0.0.1: it records
// each POST /api/v2/alerts.
type amReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	posts [][]amPosted
}

// amPosted is one alert of a post, as Alertmanager reads it.
type amPosted struct {
	Labels   map[string]string `json:"labels"`
	StartsAt string            `json:"startsAt"`
	EndsAt   string            `json:"endsAt"`
}

func newAMReceiver(t *testing.T) *amReceiver {
	t.Helper()
	r := &amReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/api/v2/alerts" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var list []amPosted
		if err := json.NewDecoder(req.Body).Decode(&list); err != nil {
			t.Errorf("alertmanager: bad body: %v", err)
		}
		r.mu.Lock()
		r.posts = append(r.posts, list)
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *amReceiver) all() [][]amPosted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]amPosted(nil), r.posts...)
}
