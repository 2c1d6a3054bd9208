package queue

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"fbs/internal/buildlog"
	"fbs/internal/stage"
	"fbs/internal/store"
)

// StagingFailed starts the error of a build that was built but could not
// be staged: fbs restage ID stages it from the server's store.
const StagingFailed = "staging: "

// StageArtifacts stages a built build's artifacts (the ISO first), and its
// log as it is then, on target; progress goes into the log at logPath.
func StageArtifacts(ctx context.Context, target stage.Target, paths []string, logPath string) error {
	log, err := buildlog.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	files := make([]stage.File, len(paths))
	for i, p := range paths {
		files[i] = stage.File{Path: p, Name: filepath.Base(p)}
	}
	log.Printf("=== stage staging: %d artifacts to %s", len(files), target)
	if _, err := stage.All(ctx, target, files, stage.DefaultRetry, log.Printf); err != nil {
		log.Printf("staging failed: %v (the artifacts are kept: fbs restage ID tries again)", err)
		return fmt.Errorf("%s%w", StagingFailed, err)
	}
	// The log goes last, as it is now; nothing is written to it meanwhile.
	logName := strings.TrimSuffix(files[0].Name, filepath.Ext(files[0].Name)) + ".log"
	if _, err := stage.All(ctx, target, []stage.File{{Path: logPath, Name: logName}}, stage.DefaultRetry, func(string, ...any) {}); err != nil {
		log.Printf("staging the log failed: %v", err)
		return fmt.Errorf("%s%w", StagingFailed, err)
	}
	log.Printf("=== stage staging done: %s", target)
	return nil
}

// Restage stages a finished build's artifacts from the server's store on
// the target its request names, and clears a staging failure.
func (s *Service) Restage(ctx context.Context, id string, target stage.Target, names []string) error {
	paths := make([]string, len(names))
	for i, n := range names {
		if err := checkName(n); err != nil {
			return err
		}
		paths[i] = filepath.Join(Dir(s.Data, id), "artifacts", n)
	}
	// Not under s.mu: an upload takes minutes, and a finished build's log
	// gets no appends meanwhile (its lease is gone).
	if err := StageArtifacts(ctx, target, paths, LogPath(s.Data, id)); err != nil {
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
