-- +goose Up
-- whatsmeow's device store (connector/wastore). Key columns are VARBINARY so
-- that comparisons are byte-exact without trailing-space padding, like the
-- TEXT columns of whatsmeow's own SQLite schema. Columns holding private keys,
-- Signal sessions and decrypted plaintext contain values sealed with
-- internal/secrets (key version byte, nonce, AES-GCM ciphertext).
CREATE TABLE wa_device (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    jid                 VARBINARY(128) NOT NULL,
    lid                 VARBINARY(128) NOT NULL DEFAULT '',
    facebook_uuid       VARCHAR(36)    NOT NULL DEFAULT '',
    registration_id     BIGINT         NOT NULL,
    noise_key           VARBINARY(128) NOT NULL,
    identity_key        VARBINARY(128) NOT NULL,
    signed_pre_key      VARBINARY(128) NOT NULL,
    signed_pre_key_id   INT            NOT NULL,
    signed_pre_key_sig  VARBINARY(64)  NOT NULL,
    adv_key             VARBINARY(128) NOT NULL,
    adv_account         BLOB           NOT NULL,
    platform            TEXT           NOT NULL,
    business_name       TEXT           NOT NULL,
    push_name           TEXT           NOT NULL,
    lid_migration_ts    BIGINT         NOT NULL DEFAULT 0,
    created_at          DATETIME(6)    NOT NULL,
    updated_at          DATETIME(6)    NOT NULL,
    UNIQUE KEY wa_device_jid (jid),
    CONSTRAINT wa_device_registration_id CHECK (registration_id >= 0 AND registration_id < 4294967296),
    CONSTRAINT wa_device_signed_pre_key_id CHECK (signed_pre_key_id >= 0 AND signed_pre_key_id < 16777216),
    CONSTRAINT wa_device_signed_pre_key_sig CHECK (LENGTH(signed_pre_key_sig) = 64)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_identity_keys (
    our_jid   VARBINARY(128) NOT NULL,
    their_id  VARBINARY(128) NOT NULL,
    identity  VARBINARY(128) NOT NULL,
    PRIMARY KEY (our_jid, their_id),
    CONSTRAINT wa_identity_keys_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_pre_keys (
    our_jid   VARBINARY(128) NOT NULL,
    key_id    INT            NOT NULL,
    pre_key   VARBINARY(128) NOT NULL,
    uploaded  TINYINT(1)     NOT NULL,
    PRIMARY KEY (our_jid, key_id),
    CONSTRAINT wa_pre_keys_key_id CHECK (key_id >= 0 AND key_id < 16777216),
    CONSTRAINT wa_pre_keys_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_sessions (
    our_jid   VARBINARY(128) NOT NULL,
    their_id  VARBINARY(128) NOT NULL,
    session   MEDIUMBLOB     NULL,
    PRIMARY KEY (our_jid, their_id),
    CONSTRAINT wa_sessions_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_sender_keys (
    our_jid    VARBINARY(128) NOT NULL,
    chat_id    VARBINARY(128) NOT NULL,
    sender_id  VARBINARY(128) NOT NULL,
    sender_key MEDIUMBLOB     NOT NULL,
    PRIMARY KEY (our_jid, chat_id, sender_id),
    CONSTRAINT wa_sender_keys_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_app_state_sync_keys (
    our_jid       VARBINARY(128) NOT NULL,
    key_id        VARBINARY(191) NOT NULL,
    key_data      BLOB           NOT NULL,
    key_timestamp BIGINT         NOT NULL,
    fingerprint   BLOB           NOT NULL,
    PRIMARY KEY (our_jid, key_id),
    CONSTRAINT wa_app_state_sync_keys_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_app_state_versions (
    our_jid   VARBINARY(128) NOT NULL,
    name      VARBINARY(64)  NOT NULL,
    version   BIGINT UNSIGNED NOT NULL,
    hash      BLOB           NOT NULL,
    PRIMARY KEY (our_jid, name),
    CONSTRAINT wa_app_state_versions_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_app_state_mutation_macs (
    our_jid   VARBINARY(128) NOT NULL,
    name      VARBINARY(64)  NOT NULL,
    version   BIGINT UNSIGNED NOT NULL,
    index_mac VARBINARY(32)  NOT NULL,
    value_mac VARBINARY(32)  NOT NULL,
    PRIMARY KEY (our_jid, name, version, index_mac),
    KEY wa_app_state_mutation_macs_index (our_jid, name, index_mac),
    CONSTRAINT wa_app_state_mutation_macs_index_len CHECK (LENGTH(index_mac) = 32),
    CONSTRAINT wa_app_state_mutation_macs_value_len CHECK (LENGTH(value_mac) = 32),
    CONSTRAINT wa_app_state_mutation_macs_version_fk FOREIGN KEY (our_jid, name) REFERENCES wa_app_state_versions (our_jid, name) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_contacts (
    our_jid        VARBINARY(128) NOT NULL,
    their_jid      VARBINARY(128) NOT NULL,
    first_name     TEXT NULL,
    full_name      TEXT NULL,
    push_name      TEXT NULL,
    business_name  TEXT NULL,
    redacted_phone TEXT NULL,
    PRIMARY KEY (our_jid, their_jid),
    CONSTRAINT wa_contacts_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_chat_settings (
    our_jid     VARBINARY(128) NOT NULL,
    chat_jid    VARBINARY(128) NOT NULL,
    muted_until BIGINT     NOT NULL DEFAULT 0,
    pinned      TINYINT(1) NOT NULL DEFAULT 0,
    archived    TINYINT(1) NOT NULL DEFAULT 0,
    PRIMARY KEY (our_jid, chat_jid),
    CONSTRAINT wa_chat_settings_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_message_secrets (
    our_jid    VARBINARY(128) NOT NULL,
    chat_jid   VARBINARY(128) NOT NULL,
    sender_jid VARBINARY(128) NOT NULL,
    message_id VARBINARY(128) NOT NULL,
    secret     BLOB           NOT NULL,
    PRIMARY KEY (our_jid, chat_jid, sender_jid, message_id),
    CONSTRAINT wa_message_secrets_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_privacy_tokens (
    our_jid         VARBINARY(128) NOT NULL,
    their_jid       VARBINARY(128) NOT NULL,
    token           BLOB   NOT NULL,
    token_timestamp BIGINT NOT NULL,
    PRIMARY KEY (our_jid, their_jid),
    CONSTRAINT wa_privacy_tokens_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- LID to phone-number mappings are facts about other users, shared by every
-- device, so they have no device column and outlive device deletion.
CREATE TABLE wa_lid_map (
    lid VARBINARY(64) NOT NULL PRIMARY KEY,
    pn  VARBINARY(64) NOT NULL,
    UNIQUE KEY wa_lid_map_pn (pn)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_event_buffer (
    our_jid          VARBINARY(128) NOT NULL,
    ciphertext_hash  VARBINARY(32)  NOT NULL,
    plaintext        MEDIUMBLOB     NULL,
    server_timestamp BIGINT NOT NULL,
    insert_timestamp BIGINT NOT NULL,
    PRIMARY KEY (our_jid, ciphertext_hash),
    KEY wa_event_buffer_inserted (insert_timestamp),
    CONSTRAINT wa_event_buffer_hash_len CHECK (LENGTH(ciphertext_hash) = 32),
    CONSTRAINT wa_event_buffer_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wa_sent_messages (
    our_jid    VARBINARY(128) NOT NULL,
    chat_jid   VARBINARY(128) NOT NULL,
    message_id VARBINARY(128) NOT NULL,
    message    MEDIUMBLOB     NOT NULL,
    created_at DATETIME(6)    NOT NULL,
    PRIMARY KEY (our_jid, chat_jid, message_id),
    KEY wa_sent_messages_created (created_at),
    CONSTRAINT wa_sent_messages_device_fk FOREIGN KEY (our_jid) REFERENCES wa_device (jid) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

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
