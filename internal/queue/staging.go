package queue

import (
	"context"
	"path/filepath"

	"fbs/internal/publish"
	"fbs/internal/store"
)

// StagingFailed starts the error of a build that was built but could not
// be staged: fbs restage ID stages it from the server's store.
const StagingFailed = publish.FailedPrefix

// Restage stages a finished build's artifacts from the server's store on
// the target its request names, and clears a staging failure.
func (s *Service) Restage(ctx context.Context, id string, target publish.Target, names []string) error {
	paths := make([]string, len(names))
	for i, n := range names {
		if err := checkName(n); err != nil {
			return err
		}
		paths[i] = filepath.Join(Dir(s.Data, id), "artifacts", n)
	}
	// Not under s.mu: an upload takes minutes, and a finished build's log
	// gets no appends meanwhile (its lease is gone).
	if err := publish.Artifacts(ctx, target, paths, LogPath(s.Data, id)); err != nil {
		return err
	}
	before, err := s.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.Restaged(ctx, id, StagingFailed); err != nil {
		return err
	}
	if before.State == store.Failed {
		s.Changed(ctx, id, "")
	}
	return nil
}
