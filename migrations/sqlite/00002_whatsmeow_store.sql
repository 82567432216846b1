-- +goose Up
-- whatsmeow's device store (connector/wastore). Columns holding private keys,
-- Signal sessions and decrypted plaintext contain values sealed with
-- internal/secrets (key version byte, nonce, AES-GCM ciphertext).
CREATE TABLE wa_device (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    jid                 TEXT    NOT NULL,
    lid                 TEXT    NOT NULL DEFAULT '',
    facebook_uuid       TEXT    NOT NULL DEFAULT '',
    registration_id     BIGINT  NOT NULL CHECK (registration_id >= 0 AND registration_id < 4294967296),
    noise_key           BLOB    NOT NULL,
    identity_key        BLOB    NOT NULL,
    signed_pre_key      BLOB    NOT NULL,
    signed_pre_key_id   INTEGER NOT NULL CHECK (signed_pre_key_id >= 0 AND signed_pre_key_id < 16777216),
    signed_pre_key_sig  BLOB    NOT NULL CHECK (length(signed_pre_key_sig) = 64),
    adv_key             BLOB    NOT NULL,
    adv_account         BLOB    NOT NULL,
    platform            TEXT    NOT NULL,
    business_name       TEXT    NOT NULL,
    push_name           TEXT    NOT NULL,
    lid_migration_ts    BIGINT  NOT NULL DEFAULT 0,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
CREATE UNIQUE INDEX wa_device_jid ON wa_device (jid);

CREATE TABLE wa_identity_keys (
    our_jid   TEXT NOT NULL,
    their_id  TEXT NOT NULL,
    identity  BLOB NOT NULL,
    PRIMARY KEY (our_jid, their_id),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_pre_keys (
    our_jid   TEXT    NOT NULL,
    key_id    INTEGER NOT NULL CHECK (key_id >= 0 AND key_id < 16777216),
    pre_key   BLOB    NOT NULL,
    uploaded  INTEGER NOT NULL,
    PRIMARY KEY (our_jid, key_id),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_sessions (
    our_jid   TEXT NOT NULL,
    their_id  TEXT NOT NULL,
    session   BLOB NULL,
    PRIMARY KEY (our_jid, their_id),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_sender_keys (
    our_jid    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    sender_id  TEXT NOT NULL,
    sender_key BLOB NOT NULL,
    PRIMARY KEY (our_jid, chat_id, sender_id),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_app_state_sync_keys (
    our_jid       TEXT   NOT NULL,
    key_id        BLOB   NOT NULL,
    key_data      BLOB   NOT NULL,
    key_timestamp BIGINT NOT NULL,
    fingerprint   BLOB   NOT NULL,
    PRIMARY KEY (our_jid, key_id),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_app_state_versions (
    our_jid   TEXT   NOT NULL,
    name      TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    hash      BLOB   NOT NULL,
    PRIMARY KEY (our_jid, name),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_app_state_mutation_macs (
    our_jid   TEXT   NOT NULL,
    name      TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    index_mac BLOB   NOT NULL CHECK (length(index_mac) = 32),
    value_mac BLOB   NOT NULL CHECK (length(value_mac) = 32),
    PRIMARY KEY (our_jid, name, version, index_mac),
    FOREIGN KEY (our_jid, name) REFERENCES wa_app_state_versions (our_jid, name) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX wa_app_state_mutation_macs_index ON wa_app_state_mutation_macs (our_jid, name, index_mac);

CREATE TABLE wa_contacts (
    our_jid        TEXT NOT NULL,
    their_jid      TEXT NOT NULL,
    first_name     TEXT NULL,
    full_name      TEXT NULL,
    push_name      TEXT NULL,
    business_name  TEXT NULL,
    redacted_phone TEXT NULL,
    PRIMARY KEY (our_jid, their_jid),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_chat_settings (
    our_jid     TEXT    NOT NULL,
    chat_jid    TEXT    NOT NULL,
    muted_until BIGINT  NOT NULL DEFAULT 0,
    pinned      INTEGER NOT NULL DEFAULT 0,
    archived    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (our_jid, chat_jid),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_message_secrets (
    our_jid    TEXT NOT NULL,
    chat_jid   TEXT NOT NULL,
    sender_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    secret     BLOB NOT NULL,
    PRIMARY KEY (our_jid, chat_jid, sender_jid, message_id),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE wa_privacy_tokens (
    our_jid         TEXT   NOT NULL,
    their_jid       TEXT   NOT NULL,
    token           BLOB   NOT NULL,
    token_timestamp BIGINT NOT NULL,
    PRIMARY KEY (our_jid, their_jid),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);

-- LID to phone-number mappings are facts about other users, shared by every
-- device, so they have no device column and outlive device deletion.
CREATE TABLE wa_lid_map (
    lid TEXT NOT NULL PRIMARY KEY,
    pn  TEXT NOT NULL
);
CREATE UNIQUE INDEX wa_lid_map_pn ON wa_lid_map (pn);

CREATE TABLE wa_event_buffer (
    our_jid          TEXT   NOT NULL,
    ciphertext_hash  BLOB   NOT NULL CHECK (length(ciphertext_hash) = 32),
    plaintext        BLOB   NULL,
    server_timestamp BIGINT NOT NULL,
    insert_timestamp BIGINT NOT NULL,
    PRIMARY KEY (our_jid, ciphertext_hash),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX wa_event_buffer_inserted ON wa_event_buffer (insert_timestamp);

CREATE TABLE wa_sent_messages (
    our_jid    TEXT NOT NULL,
    chat_jid   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    message    BLOB NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (our_jid, chat_jid, message_id),
    FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX wa_sent_messages_created ON wa_sent_messages (created_at);

-- +goose Down
DROP TABLE wa_sent_messages;
DROP TABLE wa_event_buffer;
DROP TABLE wa_lid_map;
DROP TABLE wa_privacy_tokens;
DROP TABLE wa_message_secrets;
DROP TABLE wa_chat_settings;
DROP TABLE wa_contacts;
DROP TABLE wa_app_state_mutation_macs;
DROP TABLE wa_app_state_versions;
DROP TABLE wa_app_state_sync_keys;
DROP TABLE wa_sender_keys;
DROP TABLE wa_sessions;
DROP TABLE wa_pre_keys;
DROP TABLE wa_identity_keys;
DROP TABLE wa_device;
