package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"fbs/internal/publish"
)

// publish is the build's last stage: it moves the artifacts into the
// service's store when there is one, and publishes them on the request's
// target, the log last (publish.Artifacts, which fbs restage uses too).
// All or nothing: when publishing fails, the artifacts stay where they are.
func (b *build) publish(ctx context.Context) (string, error) {
	if b.opts.Store != "" {
		for i, a := range b.arts {
			// A name taken by an earlier attempt's artifact gets a suffix.
			p, err := publish.Put(a.Path, b.opts.Store, a.Name)
			if err != nil {
				return "", fmt.Errorf("keep %s in the store: %w", a.Name, err)
			}
			b.arts[i].Path, b.arts[i].Name = p, filepath.Base(p)
		}
	}
	if !b.target.Staged() {
		return "kept in " + b.opts.Store, nil
	}
	files := make([]publish.File, len(b.arts))
	for i, a := range b.arts {
		files[i] = publish.File{Path: a.Path, Name: a.Name}
	}
	p, err := publish.Artifacts(ctx, b.target, files, b.logPath, b.log.Printf)
	if err != nil {
		return "", fmt.Errorf("%w (the artifacts stay in %s)", err, filepath.Dir(b.arts[0].Path))
	}
	b.logPublished = p.Log
	if b.opts.Store != "" {
		return b.target.String(), nil
	}
	// fbs build keeps no copies of its own.
	for i := range b.arts {
		os.Remove(b.arts[i].Path)
		if b.target.Remote != nil {
			b.arts[i].Remote = p.Artifacts[i]
		} else {
			b.arts[i].Path = p.Artifacts[i]
		}
	}
	if b.target.Dir != "" && b.opts.LogFile == "" {
		// The published log is the build's own file (a hard link), which
		// takes the build's last lines too.
		os.Remove(b.logPath)
	}
	return b.target.String(), nil
}

// nameTaken reports whether the target has this build's names already (a
// build of the same label in the same second).
func (b *build) nameTaken(ctx context.Context) bool {
	name := b.publishedName(".iso")
	switch {
	case b.target.Remote != nil:
		taken, _ := b.target.Remote.Exists(ctx, name)
		return taken
	case b.target.Dir != "":
		_, err := os.Stat(filepath.Join(b.target.Dir, name))
		return err == nil
	}
	return false
}
