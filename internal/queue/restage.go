package queue

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"fbs/internal/buildlog"
	"fbs/internal/publish"
	"fbs/internal/store"
)

// PublishFailed starts the error of a build that was built but could not
// be published: fbs restage ID publishes it from the server's store.
const PublishFailed = publish.FailedPrefix

// Restage publishes a finished build's artifacts from the server's store
// on the target its request names, as its build did (the log last), and
// clears a publishing failure.
func (s *Service) Restage(ctx context.Context, id string, target publish.Target, names []string) error {
	files := make([]publish.File, len(names))
	for i, n := range names {
		if err := checkName(n); err != nil {
			return err
		}
		files[i] = publish.File{Path: filepath.Join(Dir(s.Data, id), "artifacts", n), Name: n}
	}
	// Not under s.mu: an upload takes minutes, and a finished build's log
	// gets no appends meanwhile (its lease is gone).
	logPath := LogPath(s.Data, id)
	log, err := buildlog.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	// As the build's stage runner logs a stage, for the stage table.
	log.Printf("=== stage %s", publish.Stage)
	log.Printf("fbs restage: %d artifacts to %s", len(files), target)
	start := time.Now()
	if _, err := publish.Artifacts(ctx, target, files, logPath, log.Printf); err != nil {
		log.Printf("publishing failed: %v (the artifacts are kept: fbs restage %s tries again)", err, id)
		return fmt.Errorf("restage %s: %w", id, err)
	}
	log.Printf("=== stage %s done in %s: %s", publish.Stage, time.Since(start).Round(time.Millisecond), target)
	before, err := s.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Store.Restaged(ctx, id, PublishFailed); err != nil {
		return err
	}
	if before.State == store.Failed {
		s.Changed(ctx, id, "")
	}
	return nil
}
