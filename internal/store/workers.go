package store

import (
	"context"
	"strings"
	"time"
)

func (s *DB) SeenWorker(ctx context.Context, w *Worker) error {
	now := time.Now().UTC().UnixNano()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO workers (name, arches, releases, types, slots, version, draining, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET arches = excluded.arches, releases = excluded.releases, types = excluded.types,
			slots = excluded.slots, version = excluded.version, draining = excluded.draining, last_seen = excluded.last_seen`),
		w.Name, strings.Join(w.Arches, ","), strings.Join(w.Releases, ","), strings.Join(w.Types, ","), w.Slots, w.Version, boolInt(w.Draining), now, now)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func (s *DB) Workers(ctx context.Context) ([]*Worker, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, arches, releases, types, slots, version, draining, first_seen, last_seen,
		(SELECT COUNT(*) FROM builds b WHERE b.worker = w.name AND b.state = 'running'),
		(SELECT COUNT(*) FROM builds b WHERE b.worker = w.name AND b.state = 'succeeded'),
		(SELECT COUNT(*) FROM builds b WHERE b.worker = w.name AND b.state = 'failed')
		FROM workers w ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Worker
	for rows.Next() {
		var w Worker
		var arches, releases, types string
		var draining int
		var first, last int64
		if err := rows.Scan(&w.Name, &arches, &releases, &types, &w.Slots, &w.Version, &draining, &first, &last,
			&w.Running, &w.Succeeded, &w.Failed); err != nil {
			return nil, err
		}
		w.Arches, w.Releases, w.Types, w.Draining = split(arches), split(releases), split(types), draining != 0
		w.FirstSeen, w.LastSeen = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
		out = append(out, &w)
	}
	return out, rows.Err()
}

func (s *DB) Counts(ctx context.Context) ([]Count, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT type, arch, release, state, COUNT(*) FROM builds GROUP BY type, arch, release, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Type, &c.Arch, &c.Release, &c.State, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
