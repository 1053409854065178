package postgis

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ geo.WebhookStore = (*Store)(nil)

// AddWebhook stores a new webhook; an ID already stored matches
// geo.ErrConflict.
func (s *Store) AddWebhook(ctx context.Context, w geo.Webhook) error {
	ev, err := json.Marshal(w.Events)
	if err != nil {
		return err
	}
	car := ""
	if w.Carrier != geo.CarrierUnknown {
		car = w.Carrier.String()
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO webhooks (id, url, events, carrier, secret, owner, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`, w.ID, w.URL, string(ev), car, w.Secret, w.Owner, nullTime(w.CreatedAt))
	if pgCode(err) == uniqueViolation {
		return fmt.Errorf("postgis: webhook %s: %w", w.ID, geo.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgis: add webhook: %w", classify(err))
	}
	return nil
}

// Webhooks returns every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]geo.Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, url, events, carrier, secret, owner, created_at FROM webhooks
  ORDER BY created_at, id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgis: webhooks: %w", classify(err))
	}
	ws, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Webhook, error) { return scanWebhook(r) })
	if err != nil {
		return nil, fmt.Errorf("postgis: webhooks: %w", classify(err))
	}
	return ws, nil
}

// scanWebhook reads a webhook's row.
func scanWebhook(row pgx.Row) (geo.Webhook, error) {
	var w geo.Webhook
	var ev []byte
	var car string
	var at pgtype.Timestamptz
	if err := row.Scan(&w.ID, &w.URL, &ev, &car, &w.Secret, &w.Owner, &at); err != nil {
		return w, err
	}
	if err := json.Unmarshal(ev, &w.Events); err != nil {
		return w, fmt.Errorf("webhook %s: %w", w.ID, err)
	}
	if car != "" {
		var err error
		if w.Carrier, err = geo.ParseCarrier(car); err != nil {
			return w, fmt.Errorf("webhook %s: %w", w.ID, err)
		}
	}
	w.CreatedAt = utc(at)
	return w, nil
}

// DeleteWebhook removes a webhook and its deliveries; an unknown ID
// matches geo.ErrNotFound.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id) // deliveries cascade
	if err == nil {
		err = mustAffect(tag, geo.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgis: delete webhook %s: %w", id, classify(err))
	}
	return nil
}

// AddDeliveries stores new deliveries in one transaction and returns
// their IDs.
func (s *Store) AddDeliveries(ctx context.Context, ds []geo.Delivery) ([]int64, error) {
	ids := make([]int64, 0, len(ds))
	err := s.tx(ctx, func(tx pgx.Tx) error {
		for _, d := range ds {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO webhook_deliveries (webhook_id, event, hole_id, body, created_at,
  attempts, status, error, next_at, done_at, delivered) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
				d.Webhook, d.Event, d.HoleID, d.Body, nullTime(d.CreatedAt), d.Attempts, d.Status, d.Error,
				nullTime(d.NextAt), nullTime(d.DoneAt), d.Delivered).Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: add deliveries: %w", classify(err))
	}
	return ids, nil
}

// UpdateDelivery records an attempt of the delivery with d's ID; an
// unknown ID matches geo.ErrNotFound.
func (s *Store) UpdateDelivery(ctx context.Context, d geo.Delivery) error {
	tag, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = $1, status = $2, error = $3, next_at = $4,
  done_at = $5, delivered = $6 WHERE id = $7`, d.Attempts, d.Status, d.Error, nullTime(d.NextAt), nullTime(d.DoneAt), d.Delivered, d.ID)
	if err == nil {
		err = mustAffect(tag, geo.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgis: update delivery %d: %w", d.ID, classify(err))
	}
	return nil
}

const deliveryColumns = `id, webhook_id, event, hole_id, body, created_at, attempts, status, error, next_at, done_at, delivered`

// Deliveries returns up to limit deliveries of a webhook, newest first.
func (s *Store) Deliveries(ctx context.Context, webhook string, limit int) ([]geo.Delivery, error) {
	return s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`,
		webhook, limit)
}

// PendingDeliveries returns the deliveries with an attempt due, the
// earliest first.
func (s *Store) PendingDeliveries(ctx context.Context) ([]geo.Delivery, error) {
	return s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE next_at IS NOT NULL
  ORDER BY next_at, id`)
}

func (s *Store) deliveries(ctx context.Context, q string, args ...any) ([]geo.Delivery, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgis: deliveries: %w", classify(err))
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Delivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, fmt.Errorf("postgis: deliveries: %w", classify(err))
	}
	return ds, nil
}

// scanDelivery reads the deliveryColumns of one row.
func scanDelivery(row pgx.Row) (geo.Delivery, error) {
	var d geo.Delivery
	var created, next, done pgtype.Timestamptz
	err := row.Scan(&d.ID, &d.Webhook, &d.Event, &d.HoleID, &d.Body, &created, &d.Attempts, &d.Status, &d.Error,
		&next, &done, &d.Delivered)
	d.CreatedAt, d.NextAt, d.DoneAt = utc(created), utc(next), utc(done)
	return d, err
}
