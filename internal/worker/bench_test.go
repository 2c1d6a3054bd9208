package worker

import (
	"context"
	"slices"
	"testing"
	"time"

	"fbs/internal/farm"
	"fbs/internal/fbstest"
	"fbs/internal/store"
)

// BenchmarkClaimLatency: the time from a build's submission (the POST's
// answer) to a remote worker holding it, with 10 idle workers long-polling
// over HTTP; p50 and p99 are reported. On PostgreSQL the wake-up goes
// through LISTEN/NOTIFY.
func BenchmarkClaimLatency(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			var f *server
			if db == "sqlite" {
				f = newServer(b, time.Minute)
			} else {
				st, err := store.OpenPostgres(context.Background(), fbstest.Postgres(b).DSN)
				if err != nil {
					b.Fatal(err)
				}
				f = serverOn(b, st, time.Minute)
			}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			claimed := make(chan string, 16)
			for i := range 10 {
				w := f.worker(b, "idle"+string(rune('a'+i)), 1, 0)
				go func() {
					for ctx.Err() == nil {
						job, err := w.Queue.Claim(ctx, &w.Info, 20*time.Second)
						if err != nil {
							continue
						}
						claimed <- job.Build.ID
						w.Queue.Finish(ctx, job.Lease, farm.Outcome{State: farm.Succeeded})
					}
				}()
			}
			time.Sleep(200 * time.Millisecond) // all waiting
			var took []time.Duration
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				id := f.submit(b, "x86_64")
				if got := <-claimed; got != id {
					b.Fatalf("claimed %s, submitted %s", got, id)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
