-- +goose Up
CREATE TABLE portals (
    id                    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    member_id             VARCHAR(64)  NOT NULL,
    domain                VARCHAR(255) NOT NULL,
    client_endpoint       VARCHAR(512) NOT NULL DEFAULT '',
    server_endpoint       VARCHAR(512) NOT NULL DEFAULT '',
    access_token          VARBINARY(2048) NULL,
    refresh_token         VARBINARY(2048) NULL,
    token_expires_at      DATETIME(6)  NULL,
    application_token     VARBINARY(1024) NULL,
    scope                 VARCHAR(255) NOT NULL DEFAULT '',
    lang                  VARCHAR(8)   NOT NULL DEFAULT 'en',
    name                  VARCHAR(255) NOT NULL DEFAULT '',
    state                 VARCHAR(32)  NOT NULL DEFAULT 'active',
    attention_reason      VARCHAR(64)  NOT NULL DEFAULT '',
    attention_since       DATETIME(6)  NULL,
    licence_status        VARCHAR(8)   NOT NULL DEFAULT '',
    licence_payment_expired TINYINT(1) NOT NULL DEFAULT 0,
    licence_days          INT          NULL,
    licence_checked_at    DATETIME(6)  NULL,
    installer_user_id     BIGINT       NOT NULL DEFAULT 0,
    installed_at          DATETIME(6)  NULL,
    uninstalled_at        DATETIME(6)  NULL,
    created_at            DATETIME(6)  NOT NULL,
    updated_at            DATETIME(6)  NOT NULL,
    UNIQUE KEY portals_member_id (member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `lines` (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    portal_id           BIGINT UNSIGNED NOT NULL,
    line_id             VARCHAR(32)  NOT NULL,
    connector_id        VARCHAR(64)  NOT NULL,
    name                VARCHAR(255) NOT NULL DEFAULT '',
    state               VARCHAR(32)  NOT NULL DEFAULT 'new',
    state_reason        VARCHAR(255) NOT NULL DEFAULT '',
    state_since         DATETIME(6)  NOT NULL,
    state_until         DATETIME(6)  NULL,
    wa_jid              VARCHAR(128) NOT NULL DEFAULT '',
    phone               VARCHAR(32)  NOT NULL DEFAULT '',
    push_name           VARCHAR(255) NOT NULL DEFAULT '',
    expected_phone      VARCHAR(32)  NOT NULL DEFAULT '',
    groups_enabled      TINYINT(1)   NOT NULL DEFAULT 0,
    b24_active          TINYINT(1)   NOT NULL DEFAULT 0,
    phone_seen_at       DATETIME(6)  NULL,
    billing_state       VARCHAR(32)  NOT NULL DEFAULT '',
    paid_until          DATETIME(6)  NULL,
    reminded_at         DATETIME(6)  NULL,
    suspended_at        DATETIME(6)  NULL,
    created_at          DATETIME(6)  NOT NULL,
    updated_at          DATETIME(6)  NOT NULL,
    UNIQUE KEY lines_portal_line (portal_id, line_id),
    KEY lines_wa_jid (wa_jid),
    CONSTRAINT lines_portal_fk FOREIGN KEY (portal_id) REFERENCES portals (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE device_sessions (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    line_id         BIGINT UNSIGNED NOT NULL,
    wa_jid          VARCHAR(128) NOT NULL,
    phone           VARCHAR(32)  NOT NULL DEFAULT '',
    push_name       VARCHAR(255) NOT NULL DEFAULT '',
    platform        VARCHAR(64)  NOT NULL DEFAULT '',
    business_name   VARCHAR(255) NOT NULL DEFAULT '',
    linked_via      VARCHAR(16)  NOT NULL DEFAULT '',
    linked_at       DATETIME(6)  NOT NULL,
    logged_out_at   DATETIME(6)  NULL,
    logout_reason   VARCHAR(64)  NOT NULL DEFAULT '',
    KEY device_sessions_line (line_id, linked_at),
    CONSTRAINT device_sessions_line_fk FOREIGN KEY (line_id) REFERENCES `lines` (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE scan_links (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    line_id         BIGINT UNSIGNED NOT NULL,
    token_hash      CHAR(64)     NOT NULL,
    created_by      BIGINT       NOT NULL DEFAULT 0,
    lang            VARCHAR(8)   NOT NULL DEFAULT 'en',
    created_at      DATETIME(6)  NOT NULL,
    expires_at      DATETIME(6)  NOT NULL,
    revoked_at      DATETIME(6)  NULL,
    used_at         DATETIME(6)  NULL,
    UNIQUE KEY scan_links_token_hash (token_hash),
    KEY scan_links_line (line_id),
    CONSTRAINT scan_links_line_fk FOREIGN KEY (line_id) REFERENCES `lines` (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chats (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    line_id         BIGINT UNSIGNED NOT NULL,
    person_id       VARCHAR(128) NOT NULL,
    wa_chat_jid     VARCHAR(128) NOT NULL,
    pn_jid          VARCHAR(128) NOT NULL DEFAULT '',
    lid_jid         VARCHAR(128) NOT NULL DEFAULT '',
    phone           VARCHAR(32)  NOT NULL DEFAULT '',
    push_name       VARCHAR(255) NOT NULL DEFAULT '',
    is_group        TINYINT(1)   NOT NULL DEFAULT 0,
    b24_chat_id     VARCHAR(32)  NOT NULL DEFAULT '',
    b24_session_id  VARCHAR(32)  NOT NULL DEFAULT '',
    b24_user_id     VARCHAR(32)  NOT NULL DEFAULT '',
    created_at      DATETIME(6)  NOT NULL,
    updated_at      DATETIME(6)  NOT NULL,
    UNIQUE KEY chats_line_person (line_id, person_id),
    KEY chats_line_pn (line_id, pn_jid),
    KEY chats_line_lid (line_id, lid_jid),
    CONSTRAINT chats_line_fk FOREIGN KEY (line_id) REFERENCES `lines` (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE message_links (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    line_id         BIGINT UNSIGNED NOT NULL,
    chat_id         BIGINT UNSIGNED NOT NULL,
    direction       VARCHAR(8)   NOT NULL,
    wa_message_id   VARCHAR(128) NOT NULL,
    b24_chat_id     VARCHAR(32)  NOT NULL DEFAULT '',
    b24_message_id  VARCHAR(32)  NOT NULL DEFAULT '',
    text_excerpt    VARCHAR(255) NOT NULL DEFAULT '',
    sent_at         DATETIME(6)  NOT NULL,
    UNIQUE KEY message_links_wa (line_id, wa_message_id),
    KEY message_links_b24 (line_id, b24_message_id),
    CONSTRAINT message_links_line_fk FOREIGN KEY (line_id) REFERENCES `lines` (id) ON DELETE CASCADE,
    CONSTRAINT message_links_chat_fk FOREIGN KEY (chat_id) REFERENCES chats (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE deliveries (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    portal_id       BIGINT UNSIGNED NOT NULL,
    line_id         BIGINT UNSIGNED NOT NULL,
    direction       VARCHAR(8)   NOT NULL,
    kind            VARCHAR(32)  NOT NULL,
    source_id       VARCHAR(191) NOT NULL,
    chat_key        VARCHAR(128) NOT NULL DEFAULT '',
    seq_at          DATETIME(6)  NOT NULL,
    payload         LONGTEXT     NOT NULL,
    state           VARCHAR(16)  NOT NULL DEFAULT 'pending',
    attempts        INT          NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)  NOT NULL,
    locked_by       VARCHAR(64)  NOT NULL DEFAULT '',
    locked_until    DATETIME(6)  NULL,
    last_error      TEXT         NULL,
    remote_id       VARCHAR(191) NOT NULL DEFAULT '',
    created_at      DATETIME(6)  NOT NULL,
    updated_at      DATETIME(6)  NOT NULL,
    done_at         DATETIME(6)  NULL,
    UNIQUE KEY deliveries_source (line_id, direction, kind, source_id),
    KEY deliveries_due (direction, state, next_attempt_at),
    KEY deliveries_chat (line_id, chat_key, state, seq_at),
    CONSTRAINT deliveries_line_fk FOREIGN KEY (line_id) REFERENCES `lines` (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE media_files (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    line_id         BIGINT UNSIGNED NOT NULL,
    token_hash      CHAR(64)     NOT NULL,
    name            VARCHAR(255) NOT NULL,
    mime_type       VARCHAR(128) NOT NULL,
    size            BIGINT       NOT NULL,
    storage_path    VARCHAR(512) NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    expires_at      DATETIME(6)  NOT NULL,
    UNIQUE KEY media_files_token (token_hash),
    KEY media_files_expiry (expires_at),
    CONSTRAINT media_files_line_fk FOREIGN KEY (line_id) REFERENCES `lines` (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE line_leases (
    line_id         BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    owner           VARCHAR(64)  NOT NULL,
    expires_at      DATETIME(6)  NOT NULL,
    CONSTRAINT line_leases_line_fk FOREIGN KEY (line_id) REFERENCES `lines` (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE line_leases;
DROP TABLE media_files;
DROP TABLE deliveries;
DROP TABLE message_links;
DROP TABLE chats;
DROP TABLE scan_links;
DROP TABLE device_sessions;
DROP TABLE `lines`;
DROP TABLE portals;
