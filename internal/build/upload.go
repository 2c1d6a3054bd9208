package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"fbs/internal/stage"
)

// nameTaken reports whether the staging target has this build's names
// already (a build of the same label in the same second).
func (b *build) nameTaken(ctx context.Context, target stage.Target) bool {
	name := b.stagedName(".iso")
	switch {
	case target.Remote != nil:
		taken, _ := target.Remote.Exists(ctx, name)
		return taken
	case target.Dir != "":
		_, err := os.Stat(filepath.Join(target.Dir, name))
		return err == nil
	}
	return false
}

// upload stages the artifacts on a remote target, all or nothing: a
// failure removes what this build put there, and every artifact stays in
// the work dir.
func (b *build) upload(ctx context.Context, r stage.Remote, arts []Artifact) (string, error) {
	var done []string
	for i, a := range arts {
		where, err := stage.Upload(ctx, r, stage.DefaultRetry, a.Path, a.Name, b.log.Printf)
		if err != nil {
			for _, name := range done {
				r.Remove(context.WithoutCancel(ctx), name)
			}
			return "", fmt.Errorf("staging to %s: %w (the artifacts stay in %s)", r, err, b.work)
		}
		done = append(done, a.Name)
		b.log.Printf("staged %s", where)
		arts[i].Remote = where
	}
	for _, a := range arts {
		os.Remove(a.Path)
	}
	return fmt.Sprint(r), nil
}
