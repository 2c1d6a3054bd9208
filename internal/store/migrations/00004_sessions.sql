-- +goose Up
-- Logged-in web sessions, by the SHA-256 of their id (the cookie holds the
-- id): logout deletes the row, so every copy of the cookie stops working.
CREATE TABLE sessions (
    hash    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires);

-- +goose Down
DROP TABLE sessions;
