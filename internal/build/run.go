package build

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// runPlan runs the stages in order, each with those Along with it at once.
func (b *build) runPlan(ctx context.Context, plan []Stage) error {
	for i := 0; i < len(plan); {
		j := i + 1
		for j < len(plan) && plan[j].Along {
			j++
		}
		if j == i+1 {
			if err := b.runStage(ctx, plan[i]); err != nil {
				return err
			}
		} else {
			g, gctx := errgroup.WithContext(ctx)
			for _, s := range plan[i:j] {
				g.Go(func() error { return b.runStage(gctx, s) })
			}
			if err := g.Wait(); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

func (b *build) runStage(ctx context.Context, s Stage) error {
	if s.Quiet {
		_, err := s.do(b, ctx)
		return err
	}
	return b.stage(s.Name, func() (string, error) { return s.do(b, ctx) })
}

// stage runs one stage, timing, logging and reporting it. Stages may run
// concurrently.
func (b *build) stage(name string, f func() (string, error)) error {
	b.opts.Reporter.StageStart(name)
	b.log.Printf("=== stage %s", name)
	start := time.Now()
	note, err := f()
	took := time.Since(start)
	b.mu.Lock()
	b.stages = append(b.stages, StageTime{Name: name, Seconds: took.Round(time.Millisecond).Seconds()})
	b.mu.Unlock()
	b.opts.Reporter.StageDone(name, took, note, err)
	if err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	b.log.Printf("=== stage %s done in %s%s", name, took.Round(time.Millisecond), prefixed(": ", note))
	return nil
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
