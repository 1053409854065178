package geo

import (
	"context"
	"time"
)

// Webhook events: a hole listed (or back in the analysis), any change of
// its state, its deadline passed, reopened or verified by the reports
// after its fix.
const (
	EventHoleOpened   = "hole.opened"
	EventHoleChanged  = "hole.changed"
	EventHoleOverdue  = "hole.overdue"
	EventHoleReopened = "hole.reopened"
	EventHoleVerified = "hole.verified"
)

// WebhookEvents lists every webhook event.
var WebhookEvents = []string{EventHoleOpened, EventHoleChanged, EventHoleOverdue, EventHoleReopened, EventHoleVerified}

// Webhook is a URL that is sent the events of holes as they happen: each
// a JSON POST signed with the webhook's secret.
type Webhook struct {
	// ID is public ("w-" and 12 hex digits).
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Carrier limits the webhook to that carrier's holes and the dead
	// zones; CarrierUnknown is every hole (admins only).
	Carrier Carrier `json:"carrier"`
	// Secret signs the deliveries (HMAC-SHA256); it is shown once, when
	// the webhook is made.
	Secret    string    `json:"-"`
	Owner     string    `json:"owner"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is one event sent, or to be sent, to a webhook.
type Delivery struct {
	ID        int64     `json:"id"`
	Webhook   string    `json:"webhook_id"`
	Event     string    `json:"event"`
	HoleID    string    `json:"hole_id"`
	Body      []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	// Attempts counts the attempts made; Status is the HTTP status of the
	// last (0: no reply) and Error why it failed.
	Attempts int    `json:"attempts"`
	Status   int    `json:"status"`
	Error    string `json:"error,omitempty"`
	// NextAt is when the next attempt is due (zero: none); DoneAt when
	// the delivery succeeded (Delivered) or was given up.
	NextAt    time.Time `json:"next_at,omitzero"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	Delivered bool      `json:"delivered"`
}

// WebhookStore is the storage contract of the webhooks and their delivery
// log. Unknown IDs are errors matching ErrNotFound.
type WebhookStore interface {
	// AddWebhook stores a new webhook.
	AddWebhook(ctx context.Context, w Webhook) error
	// Webhooks returns every webhook, oldest first.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// DeleteWebhook removes a webhook and its deliveries.
	DeleteWebhook(ctx context.Context, id string) error
	// AddDeliveries stores new deliveries and returns their IDs.
	AddDeliveries(ctx context.Context, ds []Delivery) ([]int64, error)
	// UpdateDelivery records an attempt: the attempts, status, error,
	// next attempt and end of the delivery with d's ID.
	UpdateDelivery(ctx context.Context, d Delivery) error
	// Deliveries returns up to limit deliveries of a webhook, newest
	// first.
	Deliveries(ctx context.Context, webhook string, limit int) ([]Delivery, error)
	// PendingDeliveries returns the deliveries with an attempt due (of
	// webhooks that exist), the earliest due first.
	PendingDeliveries(ctx context.Context) ([]Delivery, error)
}
