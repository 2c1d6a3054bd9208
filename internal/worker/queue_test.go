package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fbs/internal/api"
	"fbs/internal/farm"
	"fbs/internal/queue"
	"fbs/internal/store"
	"fbs/internal/worker"
	"fbs/internal/worker/queuetest"
)

// TestRemote: a remote worker's calls over the worker API do what the
// server's own slots' calls do.
func TestRemote(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	queuetest.Run(t, func(t *testing.T) queuetest.Farm {
		ctx := context.Background()
		st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "fbs.db"))
		if err != nil {
			t.Fatal(err)
		}
		q := &queue.Service{Store: st, Data: t.TempDir(), Lease: time.Minute, Log: quiet}
		h := httptest.NewServer((&api.Server{Store: st, Queue: q, Data: q.Data, Log: quiet}).Handler())
		t.Cleanup(func() { h.Close(); st.Close() })
		secret, _, err := st.CreateToken(ctx, store.WorkerToken, "b1")
		if err != nil {
			t.Fatal(err)
		}
		r := &worker.Remote{Servers: []string{h.URL}, Token: secret, Client: &http.Client{}, Log: quiet}
		return queuetest.Farm{Queue: r, Server: q, Worker: farm.Worker{Name: "b1", Arches: []string{"x86_64"}, Slots: 1}}
	})
}

// TestNoDatabase: a worker links no database driver: it holds no
// database credentials and speaks only the farm protocol.
func TestNoDatabase(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "fbs/internal/worker").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	// Packages, and modules (ending in /). database/sql/driver, which
	// other libraries use for its interfaces, is no driver.
	banned := []string{"database/sql", "modernc.org/sqlite", "modernc.org/sqlite/", "github.com/jackc/pgx/", "github.com/pressly/goose/",
		"fbs/internal/store", "fbs/internal/queue", "fbs/internal/api"}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if pkg == b || strings.HasSuffix(b, "/") && strings.HasPrefix(pkg, b) {
				t.Errorf("internal/worker depends on %s", pkg)
			}
		}
	}
}
