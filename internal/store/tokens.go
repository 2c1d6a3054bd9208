package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// hashToken is how a secret is kept: the secrets are 256 random bits,
// so a plain SHA-256 is as good as a slow password hash here.
func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s *DB) CreateToken(ctx context.Context, kind, name string) (string, *Token, error) {
	if kind != WorkerToken && kind != UserToken {
		return "", nil, fmt.Errorf("token kind %q: want %s or %s", kind, WorkerToken, UserToken)
	}
	if name == "" {
		return "", nil, errors.New("a token needs the name of its worker or user")
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := "fbs" + kind[:1] + "_" + base64.RawURLEncoding.EncodeToString(raw)
	id := make([]byte, 4)
	rand.Read(id)
	t := &Token{ID: hex.EncodeToString(id), Kind: kind, Name: name, Created: time.Now().UTC()}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO tokens (id, kind, name, hash, created) VALUES (?, ?, ?, ?, ?)`),
		t.ID, t.Kind, t.Name, hashToken(secret), t.Created.UnixNano())
	if err != nil {
		return "", nil, fmt.Errorf("store: create token: %w", err)
	}
	return secret, t, nil
}

func scanToken(r scanner) (*Token, error) {
	var t Token
	var created int64
	var revoked sql.NullInt64
	if err := r.Scan(&t.ID, &t.Kind, &t.Name, &created, &revoked); err != nil {
		return nil, err
	}
	t.Created = time.Unix(0, created).UTC()
	if revoked.Valid {
		r := time.Unix(0, revoked.Int64).UTC()
		t.Revoked = &r
	}
	return &t, nil
}

func (s *DB) Authenticate(ctx context.Context, secret string) (*Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT id, kind, name, created, revoked FROM tokens WHERE hash = ? AND revoked IS NULL`), hashToken(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBadToken
	}
	return t, err
}

func (s *DB) Tokens(ctx context.Context) ([]*Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, name, created, revoked FROM tokens ORDER BY created`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *DB) RevokeToken(ctx context.Context, idOrName string) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE tokens SET revoked = ? WHERE (id = ? OR name = ?) AND revoked IS NULL`),
		time.Now().UTC().UnixNano(), idOrName, idOrName)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (s *DB) RevokeOwnToken(ctx context.Context, id, kind, name string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE tokens SET revoked = COALESCE(revoked, ?) WHERE id = ? AND kind = ? AND name = ?`),
		time.Now().UTC().UnixNano(), id, kind, name)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
