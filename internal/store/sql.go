package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // the SQLite driver, pure Go
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the store on an SQL database: SQLite for local mode (one file,
// no server), PostgreSQL for the distributed mode. The queries are the
// same; PostgreSQL's take $n placeholders and claims skip locked rows.
type DB struct {
	db       *sql.DB
	postgres bool
	dsn      string // PostgreSQL's, for the LISTEN connection

	mu    sync.Mutex
	hooks []func() // SQLite's listeners
}

// OpenSQLite opens (creating and migrating) the database at path.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	// Writers queue behind each other for up to 10 s instead of failing
	// at once; claims take the write lock when they begin (immediate).
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	return migrate(ctx, &DB{db: db}, goose.DialectSQLite3, path)
}

// maxConns bounds a server's PostgreSQL connections.
const maxConns = 24

// OpenPostgres connects to PostgreSQL (a postgres:// URL or key=value
// string) and migrates its schema; servers starting at once are safe, as
// goose takes a session lock.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	// Connections are kept, not made anew per query (database/sql keeps 2
	// idle by default: under load each claim would fork a backend), and
	// bounded well below PostgreSQL's 100, which several servers share.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return migrate(ctx, &DB{db: db, postgres: true, dsn: dsn}, goose.DialectPostgres, "postgres")
}

func migrate(ctx context.Context, s *DB, dialect goose.Dialect, name string) (*DB, error) {
	var opts []goose.ProviderOption
	if s.postgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	provider, err := goose.NewProvider(dialect, s.db, mustSub(migrations, "migrations"), opts...)
	if err == nil {
		_, err = provider.Up(ctx)
	}
	if err != nil {
		s.db.Close()
		return nil, fmt.Errorf("store %s: migrate: %w", name, err)
	}
	return s, nil
}

func (s *DB) Close() error { return s.db.Close() }

// q rewrites a query's ? placeholders as $1, $2 … for PostgreSQL.
func (s *DB) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

const columns = `id, request, type, arch, release, requester, state, stage, worker, error, attempts, cancel, created, started, finished, artifacts, purged, boot_tests`

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

func (s *DB) Create(ctx context.Context, b *Build) error {
	if b.ID == "" {
		b.ID = newID()
	}
	b.State, b.Created = Queued, time.Now().UTC()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO builds (id, request, type, arch, release, requester, state, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), b.ID, string(b.Request), b.Type, b.Arch, b.Release, b.Requester, b.State, b.Created.UnixNano())
	if err != nil {
		return fmt.Errorf("store: create %s: %w", b.ID, err)
	}
	s.queued(ctx)
	return nil
}

type scanner interface{ Scan(...any) error }

func scanBuild(r scanner) (*Build, error) {
	var b Build
	var req, arts, boots string
	var cancel int
	var created int64
	var started, finished, purged sql.NullInt64
	err := r.Scan(&b.ID, &req, &b.Type, &b.Arch, &b.Release, &b.Requester, &b.State, &b.Stage, &b.Worker, &b.Error,
		&b.Attempts, &cancel, &created, &started, &finished, &arts, &purged, &boots)
	if err != nil {
		return nil, err
	}
	b.Request, b.Cancel, b.Created = json.RawMessage(req), cancel != 0, time.Unix(0, created).UTC()
	if arts != "" {
		b.Artifacts = json.RawMessage(arts)
	}
	if boots != "" {
		b.BootTests = json.RawMessage(boots)
	}
	for _, t := range []struct {
		n   sql.NullInt64
		dst **time.Time
	}{{started, &b.Started}, {finished, &b.Finished}, {purged, &b.Purged}} {
		if t.n.Valid {
			v := time.Unix(0, t.n.Int64).UTC()
			*t.dst = &v
		}
	}
	return &b, nil
}

func (s *DB) Get(ctx context.Context, id string) (*Build, error) {
	b, err := scanBuild(s.db.QueryRowContext(ctx, s.q(`SELECT `+columns+` FROM builds WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("build %s: %w", id, ErrNotFound)
	}
	return b, err
}

func (s *DB) List(ctx context.Context, f Filter) ([]*Build, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, val string }{{"state", f.State}, {"type", f.Type}, {"arch", f.Arch}, {"release", f.Release}, {"requester", f.Requester}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	q := `SELECT ` + columns + ` FROM builds`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q += ` ORDER BY created DESC, id DESC LIMIT ? OFFSET ?`
	rows, err := s.db.QueryContext(ctx, s.q(q), append(args, limit, f.Offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Build
	for rows.Next() {
		b, err := scanBuild(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// in adds "col IN (?, …)" for a non-empty list.
func in(col string, vals []string, where *[]string, args *[]any) {
	if len(vals) == 0 {
		return
	}
	*where = append(*where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
	for _, v := range vals {
		*args = append(*args, v)
	}
}

func (s *DB) Claim(ctx context.Context, c Claim) (*Build, *Lease, error) {
	// SQLite: BEGIN IMMEDIATE, one claimer at a time; PostgreSQL: rows locked.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	where := []string{"state = ?"}
	args := []any{Queued}
	in("type", c.Types, &where, &args)
	in("arch", c.Arches, &where, &args)
	in("release", c.Releases, &where, &args)
	var id string
	query := `SELECT id FROM builds WHERE ` + strings.Join(where, " AND ") + ` ORDER BY created, id LIMIT 1`
	if s.postgres {
		query += ` FOR UPDATE SKIP LOCKED` // claimers pass each other by
	}
	err = tx.QueryRowContext(ctx, s.q(query), args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNoJob
	}
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	l := &Lease{BuildID: id, Worker: c.Worker, Token: newID(), Expires: now.Add(c.For)}
	_, err = tx.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, worker = ?, lease_token = ?, lease_expires = ?,
		attempts = attempts + 1, started = COALESCE(started, ?), stage = '' WHERE id = ?`),
		Running, c.Worker, l.Token, l.Expires.UnixNano(), now.UnixNano(), id)
	if err != nil {
		return nil, nil, err
	}
	b, err := scanBuild(tx.QueryRowContext(ctx, s.q(`SELECT `+columns+` FROM builds WHERE id = ?`), id))
	if err != nil {
		return nil, nil, err
	}
	return b, l, tx.Commit()
}

func (s *DB) Heartbeat(ctx context.Context, l *Lease, stage string, d time.Duration) (bool, error) {
	expires := time.Now().UTC().Add(d)
	var cancel int
	err := s.db.QueryRowContext(ctx, s.q(`UPDATE builds SET lease_expires = ?, stage = ? WHERE id = ? AND lease_token = ? AND state = ?
		RETURNING cancel`), expires.UnixNano(), stage, l.BuildID, l.Token, Running).Scan(&cancel)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("build %s: %w", l.BuildID, ErrLeaseLost)
	}
	if err != nil {
		return false, err
	}
	l.Expires = expires
	s.db.ExecContext(ctx, s.q(`UPDATE workers SET last_seen = ? WHERE name = ?`), time.Now().UTC().UnixNano(), l.Worker)
	return cancel != 0, nil
}

func (s *DB) Finish(ctx context.Context, l *Lease, r Result) error {
	if !r.State.Done() {
		return fmt.Errorf("store: finish %s in state %s, which is not final", l.BuildID, r.State)
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, error = ?, artifacts = ?, boot_tests = ?, finished = ?, lease_token = ''
		WHERE id = ? AND lease_token = ? AND state = ?`), r.State, r.Error, string(r.Artifacts), string(r.BootTests), time.Now().UTC().UnixNano(), l.BuildID, l.Token, Running)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("build %s: %w", l.BuildID, ErrLeaseLost)
	}
	return nil
}

func (s *DB) Release(ctx context.Context, l *Lease) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, worker = '', lease_token = '', stage = '', attempts = attempts - 1
		WHERE id = ? AND lease_token = ? AND state = ?`), Queued, l.BuildID, l.Token, Running)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("build %s: %w", l.BuildID, ErrLeaseLost)
	}
	s.queued(ctx)
	return nil
}

func (s *DB) Restaged(ctx context.Context, id, prefix string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, error = '' WHERE id = ? AND state = ? AND error LIKE ?`),
		Succeeded, id, Failed, prefix+"%")
	return err
}

func (s *DB) Holds(ctx context.Context, l *Lease) error {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM builds WHERE id = ? AND lease_token = ? AND state = ?`), l.BuildID, l.Token, Running).Scan(&n)
	if err == nil && n == 0 {
		err = fmt.Errorf("build %s: %w", l.BuildID, ErrLeaseLost)
	}
	return err
}

func (s *DB) Cancel(ctx context.Context, id string) (*Build, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var state State
	err = tx.QueryRowContext(ctx, s.q(`SELECT state FROM builds WHERE id = ?`), id).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("build %s: %w", id, ErrNotFound)
	case err != nil:
		return nil, err
	case state.Done():
		b, _ := scanBuild(tx.QueryRowContext(ctx, s.q(`SELECT `+columns+` FROM builds WHERE id = ?`), id))
		return b, fmt.Errorf("build %s is %s: %w", id, state, ErrFinished)
	case state == Queued:
		_, err = tx.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, cancel = 1, finished = ? WHERE id = ?`), Cancelled, time.Now().UTC().UnixNano(), id)
	default: // running: its worker hears of it at its next heartbeat
		_, err = tx.ExecContext(ctx, s.q(`UPDATE builds SET cancel = 1 WHERE id = ?`), id)
	}
	if err != nil {
		return nil, err
	}
	b, err := scanBuild(tx.QueryRowContext(ctx, s.q(`SELECT `+columns+` FROM builds WHERE id = ?`), id))
	if err != nil {
		return nil, err
	}
	return b, tx.Commit()
}

func (s *DB) Expire(ctx context.Context, now time.Time, maxAttempts int) (Expired, error) {
	var ex Expired
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ex, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, attempts, cancel FROM builds WHERE state = ? AND lease_expires < ?`), Running, now.UnixNano())
	if err != nil {
		return ex, err
	}
	type lapsed struct {
		id       string
		attempts int
		cancel   bool
	}
	var all []lapsed
	for rows.Next() {
		var l lapsed
		if err := rows.Scan(&l.id, &l.attempts, &l.cancel); err != nil {
			rows.Close()
			return ex, err
		}
		all = append(all, l)
	}
	rows.Close()
	for _, l := range all {
		switch {
		case l.cancel:
			_, err = tx.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, finished = ?, lease_token = '', error = 'cancelled; its worker went silent' WHERE id = ?`),
				Cancelled, now.UnixNano(), l.id)
			ex.Cancelled = append(ex.Cancelled, l.id)
		case l.attempts >= maxAttempts:
			_, err = tx.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, finished = ?, lease_token = '', error = ? WHERE id = ?`),
				Failed, now.UnixNano(), fmt.Sprintf("its worker went silent %d times (lease expired); not retried", l.attempts), l.id)
			ex.Failed = append(ex.Failed, l.id)
		default:
			_, err = tx.ExecContext(ctx, s.q(`UPDATE builds SET state = ?, worker = '', lease_token = '', stage = '' WHERE id = ?`), Queued, l.id)
			ex.Requeued = append(ex.Requeued, l.id)
		}
		if err != nil {
			return Expired{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return Expired{}, err
	}
	if len(ex.Requeued) > 0 {
		s.queued(ctx)
	}
	return ex, nil
}

func (s *DB) Purgeable(ctx context.Context, keep int, before time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, finished FROM builds WHERE finished IS NOT NULL AND purged IS NULL
		ORDER BY finished DESC, id DESC`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for n := 0; rows.Next(); n++ {
		var id string
		var finished int64
		if err := rows.Scan(&id, &finished); err != nil {
			return nil, err
		}
		if keep > 0 && n >= keep || !before.IsZero() && finished < before.UnixNano() {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

func (s *DB) Purge(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE builds SET purged = ? WHERE id = ?`), time.Now().UTC().UnixNano(), id)
	return err
}
