-- +goose Up
-- When the connector was disconnected from the open line in Contact Center.
-- The session manager leaves such a line inactive in Bitrix24 until it is
-- paired again or activated from the settings page.
ALTER TABLE lines ADD COLUMN b24_detached_at DATETIME NULL;

-- +goose Down
ALTER TABLE lines DROP COLUMN b24_detached_at;
