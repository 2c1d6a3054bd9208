-- +goose Up
CREATE TABLE workers (
    name       TEXT PRIMARY KEY,
    arches     TEXT NOT NULL DEFAULT '',
    releases   TEXT NOT NULL DEFAULT '',
    types      TEXT NOT NULL DEFAULT '',
    slots      INTEGER NOT NULL DEFAULT 1,
    version    TEXT NOT NULL DEFAULT '',
    draining   INTEGER NOT NULL DEFAULT 0,
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE TABLE tokens (
    id      TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL,
    hash    TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL,
    revoked BIGINT
);
CREATE INDEX builds_worker ON builds (worker, state);

-- +goose Down
DROP INDEX builds_worker;
DROP TABLE tokens;
DROP TABLE workers;
