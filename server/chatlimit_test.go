package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// chatPost sends one message as the chat page does, from a session cookie.
func chatPost(t *testing.T, st *testStack, room, session, text string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", st.url+"/chat/"+room+"/send", strings.NewReader(fmt.Sprintf(`{"message":%q}`, text)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Datastar-Request", "true")
	if session != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func session(i int) string { return fmt.Sprintf("%032x", i+1) }

// TestChat_FloodMeetsRateLimits: one session, then many sessions from one
// address, posting as fast as they can: the limits hold, refusals are 429
// with Retry-After and a message, and only accepted messages are stored.
func TestChat_FloodMeetsRateLimits(t *testing.T) {
	st := newTestStack(t, stackOptions{head: "chat:\n  messages_per_minute: 6\n  messages_per_minute_per_address: 12\n"})
	accepted, refused := 0, 0
	for i := range 20 {
		status, h, body := chatPost(t, st, "ops", session(0), fmt.Sprint("flood ", i))
		switch status {
		case 200:
			accepted++
		case http.StatusTooManyRequests:
			refused++
			if h.Get("Retry-After") == "" || !strings.Contains(body, "too fast") {
				t.Fatalf("429 without Retry-After or message: %v %s", h, body)
			}
		default:
			t.Fatalf("status %d: %s", status, body)
		}
	}
	// Burst of chatBurst(6) = 3, maybe one more refilled while posting.
	if accepted < 3 || accepted > 4 || refused < 16 {
		t.Fatalf("one session: %d accepted, %d refused; want the burst of 3 (or 4) and the rest refused", accepted, refused)
	}
	// Fresh sessions from the same address hit the per-address limit.
	perAddr := 0
	for i := 1; i <= 40; i++ {
		if status, _, _ := chatPost(t, st, "ops", session(i), "x"); status == 200 {
			perAddr++
		}
	}
	// The address had a burst of 3 (chatBurst(12)) minus what session 0 used.
	if perAddr > 3 {
		t.Fatalf("new sessions from one address got %d messages through; the per-address limit allows at most 3 more", perAddr)
	}
	msgs, err := st.db.ChatLatest("ops", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != accepted+perAddr {
		t.Fatalf("stored %d messages, accepted %d", len(msgs), accepted+perAddr)
	}
}

// TestChat_BoundedRooms: new rooms stop at chat.max_rooms; a configured
// room list allows those rooms only.
func TestChat_BoundedRooms(t *testing.T) {
	st := newTestStack(t, stackOptions{head: "chat:\n  max_rooms: 2\n  messages_per_minute: 600\n  messages_per_minute_per_address: 6000\n"})
	for i, want := range []int{200, 200, 403, 403} {
		room := fmt.Sprint("room", i)
		status, _, body := chatPost(t, st, room, session(i), "hello")
		if status != want {
			t.Fatalf("room %s: status %d, want %d: %s", room, status, want, body)
		}
		if status == 403 && !strings.Contains(body, "chat.max_rooms") {
			t.Fatalf("refusal does not name the limit: %s", body)
		}
	}
	// An existing room still takes messages.
	if status, _, body := chatPost(t, st, "room0", session(9), "again"); status != 200 {
		t.Fatalf("existing room refused: %d %s", status, body)
	}
	rooms, err := st.db.ChatRooms()
	if err != nil || len(rooms) != 2 {
		t.Fatalf("rooms %v, %v; want 2", rooms, err)
	}

	listed := newTestStack(t, stackOptions{head: "chat:\n  rooms: [ops, db]\n"})
	if status, _, _ := chatPost(t, listed, "ops", session(1), "hi"); status != 200 {
		t.Fatalf("listed room refused: %d", status)
	}
	for _, path := range []string{"/chat/other", "/api/events?chat=other"} {
		resp, err := http.Get(listed.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404 for a room not in chat.rooms", path, resp.StatusCode)
		}
	}
	if status, _, _ := chatPost(t, listed, "other", session(2), "hi"); status != 404 {
		t.Errorf("post to an unlisted room: %d, want 404", status)
	}
}
