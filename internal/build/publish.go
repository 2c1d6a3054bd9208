package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"fbs/internal/publish"
)

// publish stages the artifacts on the target: all or nothing, the work
// dir keeping every artifact until all are staged; a failure takes back
// what this build staged.
func (b *build) publish(ctx context.Context) (string, error) {
	files := make([]publish.File, len(b.arts))
	for i, a := range b.arts {
		files[i] = publish.File{Path: a.Path, Name: a.Name}
	}
	where, err := publish.All(ctx, b.target, files, publish.DefaultRetry, b.log.Printf)
	if err != nil {
		return "", fmt.Errorf("%w (the artifacts stay in %s)", err, b.work)
	}
	for i := range b.arts {
		os.Remove(b.arts[i].Path)
		if b.target.Remote != nil {
			b.arts[i].Remote = where[i]
		} else {
			b.arts[i].Path = where[i]
		}
	}
	return b.target.String(), nil
}

// nameTaken reports whether the staging target has this build's names
// already (a build of the same label in the same second).
func (b *build) nameTaken(ctx context.Context) bool {
	name := b.stagedName(".iso")
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
