package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Notification is one message about a build to one recipient: an email
// or a webhook call, with its delivery state.
type Notification struct {
	ID       string     `json:"id"`
	BuildID  string     `json:"-"`
	Kind     string     `json:"kind"`   // email or webhook
	Target   string     `json:"target"` // the address or URL
	Event    string     `json:"event"`  // accepted, running, succeeded, failed, cancelled, queued
	State    string     `json:"state"`  // pending, sent, failed
	Attempts int        `json:"attempts"`
	Error    string     `json:"error,omitempty"`
	Created  time.Time  `json:"created"`
	Sent     *time.Time `json:"sent,omitempty"`
}

// Delivery states.
const (
	Pending       = "pending"
	Sent          = "sent"
	Undeliverable = "failed"
)

func (s *DB) AddNotifications(ctx context.Context, ns []*Notification) error {
	start := time.Now().UTC()
	for i, n := range ns {
		now := start.Add(time.Duration(i)) // they sort as they were filed
		n.ID, n.State, n.Created = newID(), Pending, now
		_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO notifications (id, build_id, kind, target, event, state, next_at, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), n.ID, n.BuildID, n.Kind, n.Target, n.Event, n.State, now.UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
	}
	return nil
}

const notificationColumns = `id, build_id, kind, target, event, state, attempts, error, created, sent`

func scanNotification(r scanner) (*Notification, error) {
	var n Notification
	var created int64
	var sent sql.NullInt64
	if err := r.Scan(&n.ID, &n.BuildID, &n.Kind, &n.Target, &n.Event, &n.State, &n.Attempts, &n.Error, &created, &sent); err != nil {
		return nil, err
	}
	n.Created = time.Unix(0, created).UTC()
	if sent.Valid {
		t := time.Unix(0, sent.Int64).UTC()
		n.Sent = &t
	}
	return &n, nil
}

func (s *DB) DueNotifications(ctx context.Context, now time.Time, hold time.Duration, limit int) ([]*Notification, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `SELECT ` + notificationColumns + ` FROM notifications WHERE state = ? AND next_at <= ? ORDER BY next_at, created LIMIT ?`
	if s.postgres {
		q += ` FOR UPDATE SKIP LOCKED` // each is sent by one server
	}
	rows, err := tx.QueryContext(ctx, s.q(q), Pending, now.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	var out []*Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, n)
	}
	rows.Close()
	for _, n := range out {
		// Held while it is being sent; a server that dies sending it lets it go.
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE notifications SET next_at = ? WHERE id = ?`), now.Add(hold).UnixNano(), n.ID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

func (s *DB) NotificationResult(ctx context.Context, id string, sendErr error, retryAt time.Time, give bool) error {
	now := time.Now().UTC()
	var err error
	switch {
	case sendErr == nil:
		_, err = s.db.ExecContext(ctx, s.q(`UPDATE notifications SET state = ?, attempts = attempts + 1, error = '', sent = ? WHERE id = ?`), Sent, now.UnixNano(), id)
	case give:
		_, err = s.db.ExecContext(ctx, s.q(`UPDATE notifications SET state = ?, attempts = attempts + 1, error = ? WHERE id = ?`), Undeliverable, sendErr.Error(), id)
	default:
		_, err = s.db.ExecContext(ctx, s.q(`UPDATE notifications SET attempts = attempts + 1, error = ?, next_at = ? WHERE id = ?`), sendErr.Error(), retryAt.UnixNano(), id)
	}
	return err
}

func (s *DB) Notifications(ctx context.Context, buildID string) ([]*Notification, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+notificationColumns+` FROM notifications WHERE build_id = ? ORDER BY created, id`), buildID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}
