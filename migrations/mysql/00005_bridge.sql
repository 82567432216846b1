-- +goose Up
-- read_at records when a customer's message was marked read on WhatsApp
-- because an operator answered in its dialog.
ALTER TABLE message_links
    ADD COLUMN read_at DATETIME(6) NULL,
    ADD KEY message_links_chat_unread (chat_id, direction, read_at);
-- The inbound workers look for due deliveries per portal.
ALTER TABLE deliveries ADD KEY deliveries_portal_due (portal_id, direction, state, next_attempt_at);

-- +goose Down
ALTER TABLE deliveries DROP KEY deliveries_portal_due;
ALTER TABLE message_links
    DROP KEY message_links_chat_unread,
    DROP COLUMN read_at;
