package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"fbs/internal/fbstest"
	"fbs/internal/store"
	"fbs/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "fbs.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestSQLiteReopen: what was filed is there after a restart.
func TestSQLiteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fbs.db")
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	b := &store.Build{Request: []byte(`{}`), Type: "live", Arch: "x86_64", Release: "40"}
	s.Create(ctx, b)
	s.Close()
	s, err = store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Get(ctx, b.ID); err != nil || got.State != store.Queued {
		t.Errorf("after reopening: %+v %v", got, err)
	}
}

func TestPostgres(t *testing.T) {
	dsn := fbstest.Postgres(t).DSN
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	n := 0
	storetest.Run(t, func(t *testing.T) store.Store {
		// A database of its own for each subtest: the suite wants an empty store.
		n++
		name := fmt.Sprintf("fbs_%d", n)
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatal(err)
		}
		s, err := store.OpenPostgres(context.Background(), strings.Replace(dsn, "dbname=postgres", "dbname="+name, 1))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// BenchmarkClaimPostgres: claims per second with 100 claimers at once on
// PostgreSQL (SKIP LOCKED), each claim followed by its finish.
func BenchmarkClaimPostgres(b *testing.B) {
	ctx := context.Background()
	s, err := store.OpenPostgres(ctx, fbstest.Postgres(b).DSN)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for range b.N {
		if err := s.Create(ctx, &store.Build{Request: []byte(`{}`), Type: "live", Arch: "x86_64", Release: "40"}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(max(1, 100/runtime.GOMAXPROCS(0)))
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, l, err := s.Claim(ctx, store.Claim{Worker: "w", For: time.Minute})
			if err != nil {
				b.Error(err)
				return
			}
			s.Finish(ctx, l, store.Result{State: store.Succeeded})
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "claims/s")
}
