-- +goose Up
-- The results of a build's boot tests, as its worker reports them (JSON),
-- so pages and the API read them from the record, not from an artifact.
ALTER TABLE builds ADD COLUMN boot_tests TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE builds DROP COLUMN boot_tests;
