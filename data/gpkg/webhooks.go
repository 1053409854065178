package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/gapmap/gapmap/geo"
)

var _ geo.WebhookStore = (*Store)(nil)

// AddWebhook stores w (table webhooks); an ID already taken matches
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
	_, err = s.db.ExecContext(ctx, `INSERT INTO webhooks (id, url, events, carrier, secret, owner, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)`, w.ID, w.URL, string(ev), car, w.Secret, w.Owner, timeUTC(w.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("gpkg: webhook %s: %w", w.ID, geo.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("gpkg: add webhook: %w", err)
	}
	return nil
}

// Webhooks returns every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]geo.Webhook, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, url, events, carrier, secret, owner, created_at FROM webhooks
  ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: webhooks: %w", err)
	}
	defer rows.Close()
	var ws []geo.Webhook
	for rows.Next() {
		var w geo.Webhook
		var ev, car string
		var at sql.NullString
		if err := rows.Scan(&w.ID, &w.URL, &ev, &car, &w.Secret, &w.Owner, &at); err != nil {
			return nil, fmt.Errorf("gpkg: webhooks: %w", err)
		}
		if err := json.Unmarshal([]byte(ev), &w.Events); err != nil {
			return nil, fmt.Errorf("gpkg: webhook %s: %w", w.ID, err)
		}
		if car != "" {
			if w.Carrier, err = geo.ParseCarrier(car); err != nil {
				return nil, fmt.Errorf("gpkg: webhook %s: %w", w.ID, err)
			}
		}
		if w.CreatedAt, err = parseUTC(at); err != nil {
			return nil, fmt.Errorf("gpkg: webhook %s: %w", w.ID, err)
		}
		ws = append(ws, w)
	}
	return ws, rows.Err()
}

// DeleteWebhook removes webhook id and its deliveries; an unknown ID
// matches geo.ErrNotFound.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE webhook_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		return mustAffect(res, geo.ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("gpkg: delete webhook %s: %w", id, err)
	}
	return nil
}

// AddDeliveries stores ds (table webhook_deliveries) in one transaction
// and returns their IDs.
func (s *Store) AddDeliveries(ctx context.Context, ds []geo.Delivery) ([]int64, error) {
	ids := make([]int64, 0, len(ds))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, d := range ds {
			res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event, hole_id, body, created_at,
  attempts, status, error, next_at, done_at, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d.Webhook, d.Event, d.HoleID, d.Body, timeUTC(d.CreatedAt), d.Attempts, d.Status, d.Error,
				timeUTC(d.NextAt), timeUTC(d.DoneAt), d.Delivered)
			if err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gpkg: add deliveries: %w", err)
	}
	return ids, nil
}

// UpdateDelivery records an attempt of delivery d.ID; an unknown ID (its
// webhook deleted meanwhile) matches geo.ErrNotFound.
func (s *Store) UpdateDelivery(ctx context.Context, d geo.Delivery) error {
	res, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = ?, status = ?, error = ?, next_at = ?,
  done_at = ?, delivered = ? WHERE id = ?`, d.Attempts, d.Status, d.Error, timeUTC(d.NextAt), timeUTC(d.DoneAt), d.Delivered, d.ID)
	if err == nil {
		err = mustAffect(res, geo.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("gpkg: update delivery %d: %w", d.ID, err)
	}
	return nil
}

const deliveryColumns = `id, webhook_id, event, hole_id, body, created_at, attempts, status, error, next_at, done_at, delivered`

func scanDelivery(row interface{ Scan(...any) error }) (geo.Delivery, error) {
	var d geo.Delivery
	var created, next, done sql.NullString
	if err := row.Scan(&d.ID, &d.Webhook, &d.Event, &d.HoleID, &d.Body, &created, &d.Attempts, &d.Status, &d.Error,
		&next, &done, &d.Delivered); err != nil {
		return d, err
	}
	var err error
	if d.CreatedAt, err = parseUTC(created); err == nil {
		if d.NextAt, err = parseUTC(next); err == nil {
			d.DoneAt, err = parseUTC(done)
		}
	}
	return d, err
}

// Deliveries returns up to limit deliveries of webhook, newest first.
func (s *Store) Deliveries(ctx context.Context, webhook string, limit int) ([]geo.Delivery, error) {
	return s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`,
		webhook, limit)
}

// PendingDeliveries returns the deliveries with an attempt due, the
// earliest first.
func (s *Store) PendingDeliveries(ctx context.Context) ([]geo.Delivery, error) {
	return s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE next_at IS NOT NULL
  ORDER BY next_at, id`)
}

func (s *Store) deliveries(ctx context.Context, q string, args ...any) ([]geo.Delivery, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("gpkg: deliveries: %w", err)
	}
	defer rows.Close()
	var ds []geo.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("gpkg: deliveries: %w", err)
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}
