package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

func (s *DB) CreateSession(ctx context.Context, id, user string, expires time.Time) error {
	if id == "" || user == "" {
		return errors.New("store: a session needs an id and a user")
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (hash, name, created, expires) VALUES (?, ?, ?, ?)`),
		hashToken(id), user, time.Now().UTC().UnixNano(), expires.UTC().UnixNano())
	if err != nil {
		return fmt.Errorf("store: create %s's session: %w", user, err)
	}
	return nil
}

func (s *DB) Session(ctx context.Context, id string, now time.Time) (*Session, error) {
	var sess Session
	var created, expires int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT name, created, expires FROM sessions WHERE hash = ? AND expires > ?`),
		hashToken(id), now.UTC().UnixNano()).Scan(&sess.User, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("store: read session: %w", err)
	}
	sess.Created, sess.Expires = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
	return &sess, nil
}

func (s *DB) EndSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE hash = ?`), hashToken(id)); err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	return nil
}

func (s *DB) SweepSessions(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires <= ?`), before.UTC().UnixNano())
	if err != nil {
		return 0, fmt.Errorf("store: sweep expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
