package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// received is one request a webhook receiver got.
type received struct {
	event, signature, delivery string
	body                       []byte
}

// receiver is a webhook endpoint on loopback that fails its first fail
// requests with 500 and passes every request to got.
func receiver(t *testing.T, fail int) (*httptest.Server, chan received) {
	got := make(chan received, 100)
	var mu sync.Mutex
	n := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Get("X-Gapmap-Event"), r.Header.Get("X-Gapmap-Signature"), r.Header.Get("X-Gapmap-Delivery"), b}
		mu.Lock()
		n++
		failing := n <= fail
		mu.Unlock()
		if failing {
			http.Error(w, "busy", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(ts.Close)
	return ts, got
}

func next(t *testing.T, got chan received) received {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10 s")
	}
	return received{}
}

// TestWebhooksSignedAndRetried: a carrier's webhook is sent its holes'
// changes, signed with the secret shown once; a delivery the receiver
// fails is retried, and the log says so.
func TestWebhooksSignedAndRetried(t *testing.T) {
	clk := &testClock{t: testNow}
	e := newEnvSvc(t, Options{}, service.Options{Now: clk.now, TickEvery: -1, WebhookAllowHosts: []string{"127.0.0.1"},
		WebhookBackoff: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond}})
	ts, got := receiver(t, 1)
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	r := vt.do("POST", "/api/v1/webhooks", "application/json", []byte(`{"url":"`+ts.URL+`/hook","events":["hole.changed","hole.overdue"]}`))
	var hook webhookOut
	if err := json.Unmarshal(r.body, &hook); err != nil || r.status != 201 || !strings.HasPrefix(hook.Secret, "whsec_") || hook.Carrier != geo.Viettel {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := vt.get("/api/v1/webhooks"); r.status != 200 || strings.Contains(string(r.body), hook.Secret) || !strings.Contains(string(r.body), hook.ID) {
		t.Errorf("listing: %d %s", r.status, r.body)
	}
	id := e.holeOf(geo.Viettel)
	decodeHole(t, vt.answer(id, `{"state":"acknowledged"}`), 201)

	first, second := next(t, got), next(t, got)
	for _, d := range []received{first, second} {
		m := hmac.New(sha256.New, []byte(hook.Secret))
		m.Write(d.body)
		if d.signature != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("signature %q does not match the body", d.signature)
		}
		if d.event != "hole.changed" {
			t.Errorf("event %q", d.event)
		}
	}
	if string(first.body) != string(second.body) || first.delivery != second.delivery {
		t.Errorf("the retry differs:\n%s\n%s", first.body, second.body)
	}
	var body struct {
		Event string
		Hole  struct{ ID, State, Carrier, Track string }
	}
	if err := json.Unmarshal(first.body, &body); err != nil || body.Event != "hole.changed" || body.Hole.ID != id ||
		body.Hole.State != "acknowledged" || body.Hole.Track != "viettel" {
		t.Errorf("body %s: %v", first.body, err)
	}
	var log struct{ Deliveries []geo.Delivery }
	deadline := time.Now().Add(10 * time.Second)
	for {
		json.Unmarshal(vt.get("/api/v1/webhooks/"+hook.ID+"/deliveries").body, &log)
		if len(log.Deliveries) == 1 && log.Deliveries[0].Delivered || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	if len(log.Deliveries) != 1 || !log.Deliveries[0].Delivered || log.Deliveries[0].Attempts != 2 || log.Deliveries[0].Status != 200 {
		t.Errorf("delivery log %+v", log.Deliveries)
	}
	// Overdue is announced once its day has passed.
	decodeHole(t, vt.answer(id, `{"state":"planned","planned_date":"2025-09-20"}`), 201)
	if d := next(t, got); d.event != "hole.changed" {
		t.Errorf("event %q after planning", d.event)
	}
	clk.set(time.Date(2025, 9, 21, 3, 0, 0, 0, time.UTC))
	e.tick()
	e.tick() // once only
	if d := next(t, got); d.event != "hole.overdue" {
		t.Errorf("event %q after the planned day", d.event)
	}
	select {
	case d := <-got:
		t.Errorf("an extra delivery: %s %s", d.event, d.body)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestWebhooksOwnCarrierOnly: a carrier's webhooks hear of its own holes
// only, and one carrier cannot see or remove another's webhooks.
func TestWebhooksOwnCarrierOnly(t *testing.T) {
	e := newEnvSvc(t, Options{}, service.Options{TickEvery: -1, WebhookAllowHosts: []string{"127.0.0.1"}})
	ts, got := receiver(t, 0)
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	vn := e.as(e.user("vina-planning", geo.RoleCarrier, geo.VinaPhone))
	r := vn.do("POST", "/api/v1/webhooks", "application/json", []byte(`{"url":"`+ts.URL+`","events":["hole.changed"]}`))
	var hook webhookOut
	if err := json.Unmarshal(r.body, &hook); err != nil || r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	wantProblem(t, vn.do("POST", "/api/v1/webhooks", "application/json", []byte(`{"url":"`+ts.URL+`","events":["hole.changed"],"carrier":"viettel"}`)), 403, "carrier")
	wantProblem(t, vt.do("DELETE", "/api/v1/webhooks/"+hook.ID, "", nil), 404, "")
	wantProblem(t, vt.get("/api/v1/webhooks/"+hook.ID+"/deliveries"), 404, "")
	if r := vt.get("/api/v1/webhooks"); strings.Contains(string(r.body), hook.ID) {
		t.Errorf("Viettel lists VinaPhone's webhook: %s", r.body)
	}
	decodeHole(t, vt.answer(e.holeOf(geo.Viettel), `{"state":"acknowledged"}`), 201)
	select {
	case d := <-got:
		t.Errorf("VinaPhone's webhook heard of Viettel's hole: %s", d.body)
	case <-time.After(200 * time.Millisecond):
	}
	for _, tc := range []struct{ body, field string }{
		{`{"url":"ftp://x.example/","events":["hole.changed"]}`, "url"},
		{`{"url":"http://10.0.0.5/hook","events":["hole.changed"]}`, "url"},
		{`{"url":"http://[fe80::1]/hook","events":["hole.changed"]}`, "url"},
		{`{"url":"http://localhost:8080/hook","events":["hole.changed"]}`, "url"},
		{`{"url":"http://127.0.0.2/hook","events":["hole.changed"]}`, "url"},
		{`{"url":"https://x.example/","events":[]}`, "events"},
		{`{"url":"https://x.example/","events":["hole.gone"]}`, "events"},
	} {
		wantProblem(t, e.do("POST", "/api/v1/webhooks", "application/json", []byte(tc.body)), 400, tc.field)
	}
	if r := e.do("DELETE", "/api/v1/webhooks/"+hook.ID, "", nil); r.status != 204 {
		t.Errorf("an admin deletes it: %d", r.status)
	}
}
