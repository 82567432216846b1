-- +goose Up
-- avatar_id is the WhatsApp id of the customer's profile picture last sent
-- to Bitrix24; avatar_checked_at limits lookups of it to one a day per chat.
ALTER TABLE chats ADD COLUMN avatar_id VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE chats ADD COLUMN avatar_checked_at DATETIME(6) NULL;

-- +goose Down
ALTER TABLE chats DROP COLUMN avatar_checked_at;
ALTER TABLE chats DROP COLUMN avatar_id;
