package channel

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

func TestSlack_Request(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustSender(t, "      type: slack\n      url: "+rc.URL+"/services/T1/B2/XYZsecret\n      channel: \"#ops\"\n      username: dashd\n      icon_emoji: \":rotating_light:\"\n", testOptions())
	if err := send(t, s, mixedAlerts()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := rc.only(t)
	if r.Method != http.MethodPost || r.Path != "/services/T1/B2/XYZsecret" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	checkHeader(t, r.Header, "Content-Type", "application/json")
	golden.Assert(t, "slack_mixed.json", indentJSON(t, r.Body))
}

func TestSlack_ManyAlertsCapped(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustSender(t, "      type: slack\n      url: "+rc.URL+"/hooks/abc\n", testOptions())
	m := oneAlert()
	for i := 0; i < 30; i++ {
		a := webAlert()
		a.Key = fmt.Sprintf("check:web%d", i)
		m.Alerts = append(m.Alerts, a)
	}
	if err := send(t, s, m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got slackMessage
	if err := json.Unmarshal(rc.only(t).Body, &got); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Attachments); n != maxSlackAttachments {
		t.Fatalf("%d attachments, want %d", n, maxSlackAttachments)
	}
	if last := got.Attachments[maxSlackAttachments-1].Title; last != "… and 12 more" {
		t.Errorf("last attachment %q, want \"… and 12 more\"", last)
	}
	if got.Channel != "" || got.Username != "" {
		t.Errorf("overrides sent though not configured: %+v", got)
	}
}

func TestSlack_TestMessage(t *testing.T) {
	rc := newReceiver(t, nil)
	s := mustSender(t, "      type: slack\n      url: "+rc.URL+"/hooks/abc\n", testOptions())
	if err := send(t, s, model.AlertMessage{ID: "t", Host: "db-1", Test: true, Time: t0}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got slackMessage
	if err := json.Unmarshal(rc.only(t).Body, &got); err != nil {
		t.Fatal(err)
	}
	if want := "[TEST] dashd test message from db-1\nThis is a test message: the channel works."; got.Text != want || len(got.Attachments) != 0 {
		t.Errorf("text %q with %d attachments, want %q and none", got.Text, len(got.Attachments), want)
	}
}
