package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fbs/internal/store"
)

// Waiting says, for each queued build, why no worker takes it: none
// serves its type, arch and release, or those that do are lost. The text
// is the reason alone ("no worker serves aarch64 live builds for release
// 40"): the pages and the CLI put "waiting" before it.
func (s *Service) Waiting(ctx context.Context, builds ...*store.Build) {
	var queued []*store.Build
	for _, b := range builds {
		if b.State == store.Queued {
			queued = append(queued, b)
		}
	}
	if len(queued) == 0 {
		return
	}
	workers, err := s.Store.Workers(ctx)
	if err != nil {
		return // a status without the reason is better than none
	}
	now := time.Now()
	for _, b := range queued {
		var lost []string
		serving := false
		for _, w := range workers {
			if !w.Serves(b.Type, b.Arch, b.Release) {
				continue
			}
			switch w.Status(now, s.Lease) {
			case "lost":
				lost = append(lost, w.Name)
			case "draining":
			default:
				serving = true
			}
		}
		switch {
		case serving:
		case len(lost) > 0:
			b.Waiting = fmt.Sprintf("the workers that serve %s %s for release %s are lost (%s)", b.Arch, b.Type, b.Release, strings.Join(lost, ", "))
		default:
			b.Waiting = fmt.Sprintf("no worker serves %s %s builds for release %s", b.Arch, b.Type, b.Release)
		}
	}
}
