-- +goose Up
-- read_at records when a customer's message was marked read on WhatsApp
-- because an operator answered in its dialog.
ALTER TABLE message_links ADD COLUMN read_at DATETIME NULL;
CREATE INDEX message_links_chat_unread ON message_links (chat_id, direction, read_at);
-- The inbound workers look for due deliveries per portal.
CREATE INDEX deliveries_portal_due ON deliveries (portal_id, direction, state, next_attempt_at);

-- +goose Down
DROP INDEX deliveries_portal_due;
DROP INDEX message_links_chat_unread;
ALTER TABLE message_links DROP COLUMN read_at;
