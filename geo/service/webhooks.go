package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/credential"
)

// DefaultWebhookBackoff is the wait before each retry of a delivery that
// failed when Options.WebhookBackoff is nil: seven attempts over about a
// day and a half.
var DefaultWebhookBackoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour,
	6 * time.Hour, 24 * time.Hour}

// webhookTimeout bounds one attempt of a delivery.
const webhookTimeout = 10 * time.Second

// maxWebhookURL is the longest webhook URL taken.
const maxWebhookURL = 2000

// WebhookSpec is a new webhook (POST /api/v1/webhooks).
type WebhookSpec struct {
	URL    string
	Events []string
	// Carrier is the carrier whose holes (and the dead zones) the webhook
	// is sent; empty is every hole for an admin, the user's own carrier
	// for a carrier user.
	Carrier string
}

// webhookOf reports whether v may see and manage webhook w: admins every
// one, a carrier user those of its carrier.
func webhookOf(v *geo.Viewer, w *geo.Webhook) bool {
	if own, only := v.OwnCarrier(); only {
		return w.Carrier == own
	}
	return v.Can(geo.ManageWebhooks)
}

// CreateWebhook registers a webhook and returns it with its secret, which
// is shown only now. Deliveries are JSON POSTs with the headers
// X-Gapmap-Event and X-Gapmap-Signature: sha256=<hex HMAC-SHA256 of the
// body with the secret>.
//
// Errors: v without ManageWebhooks is ErrUnauthenticated or
// ErrForbidden, as is a carrier user naming another carrier (naming
// "carrier"); a bad URL (not http or https, too long, or a loopback,
// private or link-local address not in Options.WebhookAllowHosts), an
// unknown event or carrier match ErrInvalid, naming the field.
func (s *Service) CreateWebhook(ctx context.Context, v *geo.Viewer, spec WebhookSpec) (geo.Webhook, string, error) {
	if err := v.Check(geo.ManageWebhooks); err != nil {
		return geo.Webhook{}, "", err
	}
	var es geo.FieldErrors
	if reason := s.hooks.checkURL(spec.URL); reason != "" {
		es = append(es, &geo.FieldError{Field: "url", Reason: reason})
	}
	if len(spec.Events) == 0 {
		es = append(es, &geo.FieldError{Field: "events", Reason: "required: one or more of " + strings.Join(geo.WebhookEvents, ", ")})
	}
	var events []string
	for _, e := range spec.Events {
		if !slices.Contains(geo.WebhookEvents, e) {
			es = append(es, &geo.FieldError{Field: "events", Reason: fmt.Sprintf("unknown event %q (want %s)", e, strings.Join(geo.WebhookEvents, ", "))})
		} else if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	c := geo.CarrierUnknown
	if spec.Carrier != "" {
		var err error
		if c, err = geo.ParseCarrier(spec.Carrier); err != nil || c == geo.CarrierAll {
			es = append(es, &geo.FieldError{Field: "carrier", Reason: "must be viettel, vinaphone, mobifone or vietnamobile (or none: every hole)"})
		}
	}
	if len(es) > 0 {
		return geo.Webhook{}, "", fmt.Errorf("invalid webhook: %w", es)
	}
	if own, only := v.OwnCarrier(); only {
		if c != geo.CarrierUnknown && c != own {
			return geo.Webhook{}, "", geo.NewError(geo.ErrForbidden, "a carrier's webhooks are sent its own holes only",
				&geo.FieldError{Field: "carrier", Reason: "must be " + own.String()})
		}
		c = own
	}
	secret, _ := credential.NewSecret("whsec_")
	w := geo.Webhook{ID: "w-" + strings.TrimPrefix(newHoleID(), "h-"), URL: spec.URL, Events: events, Carrier: c,
		Secret: secret, Owner: v.User, CreatedAt: s.now().UTC()}
	if err := s.store.AddWebhook(ctx, w); err != nil {
		return geo.Webhook{}, "", err
	}
	s.hooks.reload(ctx)
	s.audit(ctx, v, "webhook.create", w.ID, "url="+w.URL)
	return w, secret, nil
}

// Webhooks returns the webhooks v manages (see CreateWebhook).
func (s *Service) Webhooks(ctx context.Context, v *geo.Viewer) ([]geo.Webhook, error) {
	if err := v.Check(geo.ManageWebhooks); err != nil {
		return nil, err
	}
	ws, err := s.store.Webhooks(ctx)
	if err != nil {
		return nil, err
	}
	out := []geo.Webhook{}
	for i := range ws {
		if webhookOf(v, &ws[i]) {
			out = append(out, ws[i])
		}
	}
	return out, nil
}

// webhook returns webhook id when v manages it, ErrNotFound otherwise.
func (s *Service) webhook(ctx context.Context, v *geo.Viewer, id string) (geo.Webhook, error) {
	if err := v.Check(geo.ManageWebhooks); err != nil {
		return geo.Webhook{}, err
	}
	ws, err := s.store.Webhooks(ctx)
	if err != nil {
		return geo.Webhook{}, err
	}
	for i := range ws {
		if ws[i].ID == id && webhookOf(v, &ws[i]) {
			return ws[i], nil
		}
	}
	return geo.Webhook{}, geo.NewError(geo.ErrNotFound, "no webhook with id "+strconv.Quote(id))
}

// DeleteWebhook removes a webhook v manages, with its deliveries; one v
// does not manage is ErrNotFound.
func (s *Service) DeleteWebhook(ctx context.Context, v *geo.Viewer, id string) error {
	if _, err := s.webhook(ctx, v, id); err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	s.hooks.reload(ctx)
	s.audit(ctx, v, "webhook.delete", id, "")
	return nil
}

// WebhookDeliveries returns the latest deliveries (at most limit) of a
// webhook v manages, newest first; one v does not manage is ErrNotFound.
func (s *Service) WebhookDeliveries(ctx context.Context, v *geo.Viewer, id string, limit int) ([]geo.Delivery, error) {
	if _, err := s.webhook(ctx, v, id); err != nil {
		return nil, err
	}
	ds, err := s.store.Deliveries(ctx, id, limit)
	if ds == nil {
		ds = []geo.Delivery{}
	}
	return ds, err
}

// webhookHole is a hole as a delivery's body carries it.
type webhookHole struct {
	ID        string        `json:"id"`
	Carrier   geo.Carrier   `json:"carrier"`
	State     geo.HoleState `json:"state"`
	AnswerDue *string       `json:"answer_due"`
	FixDue    *string       `json:"fix_due"`
	Overdue   bool          `json:"overdue"`
	Lead      *geo.Carrier  `json:"lead_carrier"`
	Cause     *string       `json:"cause"`
	Funding   *string       `json:"funding"`
	ParentIDs []string      `json:"parent_ids"`
	ChildIDs  []string      `json:"child_ids"`
	Current   bool          `json:"current"`
	Areas     []string      `json:"area_codes"`
	// Track is the carrier whose answers changed (null: the hole as a
	// whole).
	Track *geo.Carrier `json:"track"`
}

// deliveryBody is the JSON a delivery posts.
type deliveryBody struct {
	Event string      `json:"event"`
	At    time.Time   `json:"at"`
	Hole  webhookHole `json:"hole"`
}

// announce hands the registry's changes to the webhooks they concern:
// each becomes a delivery, stored, then sent by the dispatcher.
func (s *Service) announce() {
	ev := s.reg.takeEvents()
	if len(ev) == 0 {
		return
	}
	hooks := s.hooks.list()
	if len(hooks) == 0 {
		return
	}
	now := s.now().UTC()
	var ds []geo.Delivery
	for _, e := range ev {
		for i := range hooks {
			w := &hooks[i]
			if !slices.Contains(w.Events, e.kind) {
				continue
			}
			view := w.Carrier
			if w.Carrier != geo.CarrierUnknown {
				// A carrier's webhook: its holes, and its own track of a
				// dead zone.
				if e.rec.Carrier != w.Carrier && e.rec.Carrier != geo.CarrierAll ||
					e.rec.Carrier == geo.CarrierAll && e.track != geo.CarrierUnknown && e.track != w.Carrier {
					continue
				}
			}
			body, err := json.Marshal(deliveryBody{Event: e.kind, At: now, Hole: s.webhookHole(e, view)})
			if err != nil {
				s.log.Error("webhook body", slog.Any("err", err))
				continue
			}
			ds = append(ds, geo.Delivery{Webhook: w.ID, Event: e.kind, HoleID: e.rec.ID, Body: body,
				CreatedAt: time.Now().UTC(), NextAt: time.Now().UTC()})
		}
	}
	if len(ds) == 0 {
		return
	}
	if _, err := s.store.AddDeliveries(context.Background(), ds); err != nil {
		s.log.Error("storing webhook deliveries failed", slog.Int("deliveries", len(ds)), slog.Any("err", err))
		return
	}
	s.hooks.wake()
}

// webhookHole is e's hole as a webhook of carrier view (CarrierUnknown:
// an admin's) sees it.
func (s *Service) webhookHole(e holeChange, view geo.Carrier) webhookHole {
	r := e.rec
	t := r.Shown()
	if view != geo.CarrierUnknown && r.Carrier == geo.CarrierAll {
		if own := r.Track(view); own != nil {
			t = own
		}
	} else if e.track != geo.CarrierUnknown {
		if tr := r.Track(e.track); tr != nil {
			t = tr
		}
	}
	now, days := s.now(), s.answerDays
	h := webhookHole{ID: r.ID, Carrier: r.Carrier, State: t.State, AnswerDue: dateOrNil(t.AnswerDue(days)),
		FixDue: dateOrNil(t.FixDue()), Overdue: t.Overdue(now, days), Cause: strOrNil(r.Cause),
		Funding: strOrNil(r.Funding), ParentIDs: append([]string{}, r.ParentIDs...),
		ChildIDs: append([]string{}, r.ChildIDs...), Current: r.Current, Areas: append([]string{}, r.Areas...)}
	if r.Lead != geo.CarrierUnknown {
		l := r.Lead
		h.Lead = &l
	}
	if e.track != geo.CarrierUnknown {
		tr := e.track
		h.Track = &tr
	}
	return h
}

// dispatcher sends the stored deliveries, each attempt signed, retrying
// failures after the waits of its backoff, until each succeeds or its
// attempts run out. Attempts run one at a time in one goroutine, on the
// wall clock; deliveries left pending when the service stops are sent
// when it starts again.
type dispatcher struct {
	s       *Service
	backoff []time.Duration
	allow   map[string]bool
	guarded *http.Client // refuses loopback, private and link-local addresses
	open    *http.Client // for the hosts of Options.WebhookAllowHosts

	hooks atomic.Pointer[[]geo.Webhook]

	mu      sync.Mutex
	started bool
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func (d *dispatcher) init(s *Service, allow []string, backoff []time.Duration) {
	d.s = s
	d.backoff = backoff
	if d.backoff == nil {
		d.backoff = DefaultWebhookBackoff
	}
	d.allow = map[string]bool{}
	for _, h := range allow {
		if h = strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]")); h != "" {
			d.allow[h] = true
		}
	}
	client := func(control func(network, address string, c syscall.RawConn) error) *http.Client {
		dialer := &net.Dialer{Timeout: webhookTimeout, Control: control}
		return &http.Client{
			Timeout: webhookTimeout,
			// Never a proxy, and no redirects: a delivery goes where the
			// webhook says, or fails.
			Transport: &http.Transport{Proxy: nil, DialContext: dialer.DialContext, TLSHandshakeTimeout: webhookTimeout,
				MaxIdleConns: 4, IdleConnTimeout: time.Minute},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	d.guarded = client(func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if reason := refusedAddr(ap.Addr()); reason != "" {
			return errors.New("refused: " + reason)
		}
		return nil
	})
	d.open = client(nil)
	d.kick = make(chan struct{}, 1)
	d.stop = make(chan struct{})
	d.done = make(chan struct{})
	empty := []geo.Webhook{}
	d.hooks.Store(&empty)
}

// refusedAddr says why a delivery may not go to a, "" when it may.
func refusedAddr(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate():
		return "a private address"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "a link-local address"
	case a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "not a unicast address"
	}
	return ""
}

// allowed reports whether host (a URL's) is listed in
// Options.WebhookAllowHosts.
func (d *dispatcher) allowed(host string) bool { return d.allow[strings.ToLower(host)] }

// checkURL says what is wrong with a webhook URL, "" when nothing is.
// Host names are checked when a delivery connects, against the addresses
// they resolve to.
func (d *dispatcher) checkURL(raw string) string {
	if raw == "" {
		return "required: the http or https URL to post to"
	}
	if len(raw) > maxWebhookURL {
		return "longer than " + strconv.Itoa(maxWebhookURL) + " bytes"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "not an http or https URL with a host"
	}
	if u.User != nil {
		return "must not hold a user name or password"
	}
	host := u.Hostname()
	if d.allowed(host) {
		return ""
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return "a loopback address (list the host in GAPMAP_WEBHOOK_ALLOW_HOSTS to allow it)"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if reason := refusedAddr(a); reason != "" {
			return reason + " (list the host in GAPMAP_WEBHOOK_ALLOW_HOSTS to allow it)"
		}
	}
	return ""
}

// list returns the webhooks, as last loaded.
func (d *dispatcher) list() []geo.Webhook { return *d.hooks.Load() }

// reload reads the webhooks from the store again.
func (d *dispatcher) reload(ctx context.Context) {
	ws, err := d.s.store.Webhooks(ctx)
	if err != nil {
		d.s.log.Error("reading the webhooks failed", slog.Any("err", err))
		return
	}
	d.hooks.Store(&ws)
}

// start loads the webhooks and begins sending what is pending.
func (d *dispatcher) start(ctx context.Context) {
	d.reload(ctx)
	d.mu.Lock()
	d.started = true
	d.mu.Unlock()
	go d.run()
	d.wake()
}

// wake has the dispatcher look for deliveries due.
func (d *dispatcher) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *dispatcher) close() {
	d.mu.Lock()
	started := d.started
	d.started = false
	d.mu.Unlock()
	if started {
		close(d.stop)
		<-d.done
	}
}

// leaderPoll is how often, over a store shared by replicas, a dispatcher
// looks for deliveries other replicas added, and one that does not lead
// asks whether it does now.
const leaderPoll = 5 * time.Second

func (d *dispatcher) run() {
	defer close(d.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-d.stop
		cancel()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := d.sendDue(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Hour
		if _, shared := d.s.store.(geo.Leader); shared {
			// Deliveries may be added by another replica, which kicks
			// only its own dispatcher.
			wait = leaderPoll
		}
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 0))
		}
		timer.Reset(wait)
		select {
		case <-d.stop:
			return
		case <-d.kick:
		case <-timer.C:
		}
	}
}

// sendDue attempts the deliveries due and returns when the next one is
// due (zero: none pending).
func (d *dispatcher) sendDue(ctx context.Context) time.Time {
	// Over a store that several replicas share, one of them delivers;
	// the others ask again shortly, to take over when it stops.
	if l, ok := d.s.store.(geo.Leader); ok {
		if lead, err := l.Lead(ctx, "webhook-deliveries"); err != nil || !lead {
			return time.Now().Add(leaderPoll)
		}
	}
	pending, err := d.s.store.PendingDeliveries(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.s.log.Error("reading webhook deliveries failed", slog.Any("err", err))
		}
		return time.Now().Add(time.Minute)
	}
	hooks := map[string]*geo.Webhook{}
	ws := d.list()
	for i := range ws {
		hooks[ws[i].ID] = &ws[i]
	}
	var next time.Time
	for _, del := range pending {
		if ctx.Err() != nil {
			return time.Time{}
		}
		if del.NextAt.After(time.Now()) {
			if next.IsZero() || del.NextAt.Before(next) {
				next = del.NextAt
			}
			continue
		}
		w := hooks[del.Webhook]
		if w == nil {
			continue // deleted meanwhile
		}
		del = d.attempt(ctx, w, del)
		if ctx.Err() != nil {
			return time.Time{}
		}
		if err := d.s.store.UpdateDelivery(context.WithoutCancel(ctx), del); err != nil && !errors.Is(err, geo.ErrNotFound) {
			d.s.log.Error("recording a webhook delivery failed", slog.Int64("delivery", del.ID), slog.Any("err", err))
		}
		if !del.NextAt.IsZero() && (next.IsZero() || del.NextAt.Before(next)) {
			next = del.NextAt
		}
	}
	return next
}

// attempt posts del to w once and returns del with the outcome recorded.
func (d *dispatcher) attempt(ctx context.Context, w *geo.Webhook, del geo.Delivery) geo.Delivery {
	del.Attempts++
	del.Status, del.Error = 0, ""
	req, err := http.NewRequestWithContext(ctx, "POST", w.URL, bytes.NewReader(del.Body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "gapmap-webhook")
		req.Header.Set("X-Gapmap-Event", del.Event)
		req.Header.Set("X-Gapmap-Delivery", strconv.FormatInt(del.ID, 10))
		req.Header.Set("X-Gapmap-Signature", "sha256="+credential.Sign(w.Secret, del.Body))
		client := d.guarded
		if d.allowed(req.URL.Hostname()) {
			client = d.open
		}
		var res *http.Response
		if res, err = client.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			res.Body.Close()
			del.Status = res.StatusCode
			if res.StatusCode < 200 || res.StatusCode > 299 {
				err = errors.New(res.Status)
			}
		}
	}
	now := time.Now().UTC()
	if err == nil {
		del.Delivered, del.DoneAt, del.NextAt = true, now, time.Time{}
		return del
	}
	del.Error = err.Error()
	if len(del.Error) > 500 {
		del.Error = del.Error[:500]
	}
	if del.Attempts > len(d.backoff) {
		del.DoneAt, del.NextAt = now, time.Time{} // given up
		d.s.log.Warn("webhook delivery given up", slog.String("webhook", w.ID), slog.Int64("delivery", del.ID),
			slog.Int("attempts", del.Attempts), slog.String("err", del.Error))
		return del
	}
	del.NextAt = now.Add(d.backoff[del.Attempts-1])
	return del
}
