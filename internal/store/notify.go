package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// channel is the PostgreSQL notification channel for queue changes.
const channel = "fbs_queue"

// queued tells listeners that builds may be waiting: through PostgreSQL
// to every server on the database, or in-process for SQLite (one server).
func (s *DB) queued(ctx context.Context) {
	if s.postgres {
		s.db.ExecContext(ctx, `SELECT pg_notify('`+channel+`', '')`) // a lost wake-up costs a claimer's poll interval, no more
		return
	}
	s.mu.Lock()
	hooks := append([]func(){}, s.hooks...)
	s.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
}

func (s *DB) Listen(ctx context.Context, fn func(), errs func(error)) {
	if !s.postgres {
		s.mu.Lock()
		s.hooks = append(s.hooks, fn)
		s.mu.Unlock()
		return
	}
	go func() {
		wait := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := s.listen(ctx, fn)
			if ctx.Err() != nil {
				return
			}
			if errs != nil {
				errs(err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, 5*time.Second)
		}
	}()
}

// listen holds one connection on LISTEN until it fails.
func (s *DB) listen(ctx context.Context, fn func()) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	fn() // whatever was queued while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		fn()
	}
}
