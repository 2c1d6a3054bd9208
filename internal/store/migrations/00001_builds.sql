-- +goose Up
CREATE TABLE builds (
    id            TEXT PRIMARY KEY,
    request       TEXT NOT NULL,
    type          TEXT NOT NULL,
    arch          TEXT NOT NULL,
    release       TEXT NOT NULL,
    requester     TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL,
    stage         TEXT NOT NULL DEFAULT '',
    worker        TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    cancel        INTEGER NOT NULL DEFAULT 0,
    lease_token   TEXT NOT NULL DEFAULT '',
    lease_expires BIGINT NOT NULL DEFAULT 0,
    created       BIGINT NOT NULL,
    started       BIGINT,
    finished      BIGINT,
    artifacts     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX builds_queue ON builds (state, created);

-- +goose Down
DROP TABLE builds;
