package queue

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// Retain removes the artifacts and logs of finished builds beyond the
// keep newest (0: no such limit) and of those finished more than days ago
// (0: no such limit) from the server's store; their records stay. It
// never touches what was staged elsewhere.
func (s *Service) Retain(ctx context.Context, keep int, age time.Duration) error {
	if keep <= 0 && age <= 0 {
		return nil
	}
	var before time.Time
	if age > 0 {
		before = time.Now().Add(-age)
	}
	ids, err := s.Store.Purgeable(ctx, keep, before)
	if err != nil {
		return err
	}
	for _, id := range ids {
		dir := Dir(s.Data, id)
		if err := os.RemoveAll(filepath.Join(dir, "artifacts")); err != nil {
			s.Log.Error("retention", "build", id, "err", err)
			continue
		}
		os.Remove(filepath.Join(dir, "build.log"))
		os.Remove(dir)
		if err := s.Store.Purge(ctx, id); err != nil {
			return err
		}
		s.Log.Info("retention: artifacts and log removed", "build", id)
	}
	return nil
}

// RetainEvery runs Retain now and then every period until ctx ends.
func (s *Service) RetainEvery(ctx context.Context, period time.Duration, keep int, age time.Duration) {
	for {
		if err := s.Retain(ctx, keep, age); err != nil && ctx.Err() == nil {
			s.Log.Error("retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(period):
		}
	}
}
