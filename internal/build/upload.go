package build

import (
	"context"
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
