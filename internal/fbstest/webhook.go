package fbstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Webhook is a webhook receiver on 127.0.0.1 that takes only bodies
// signed with secret (Fbs-Signature: sha256=<HMAC-SHA256 of the body>,
// checked here independently of fbs's code) and keeps their events.
type Webhook struct {
	URL    string
	mu     sync.Mutex
	events []string
}

// StartWebhook starts one; it stops when the test ends.
func StartWebhook(t testing.TB, secret string) *Webhook {
	w := &Webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("Fbs-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			http.Error(rw, "bad signature", http.StatusForbidden)
			return
		}
		var ev struct{ Event string }
		json.Unmarshal(body, &ev)
		w.mu.Lock()
		w.events = append(w.events, ev.Event)
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// Events are the events received, sorted (delivery order is not promised).
func (w *Webhook) Events() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.events)
	slices.Sort(out)
	return out
}
