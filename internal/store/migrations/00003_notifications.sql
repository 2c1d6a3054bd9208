-- +goose Up
CREATE TABLE notifications (
    id       TEXT PRIMARY KEY,
    build_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    target   TEXT NOT NULL,
    event    TEXT NOT NULL,
    state    TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error    TEXT NOT NULL DEFAULT '',
    next_at  BIGINT NOT NULL,
    created  BIGINT NOT NULL,
    sent     BIGINT
);
CREATE INDEX notifications_due ON notifications (state, next_at);
CREATE INDEX notifications_build ON notifications (build_id);
ALTER TABLE builds ADD COLUMN purged BIGINT;

-- +goose Down
DROP TABLE notifications;
