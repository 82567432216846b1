-- +goose Up
CREATE TABLE portals (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id             VARCHAR(64)  NOT NULL,
    domain                VARCHAR(255) NOT NULL,
    client_endpoint       VARCHAR(512) NOT NULL DEFAULT '',
    server_endpoint       VARCHAR(512) NOT NULL DEFAULT '',
    access_token          BLOB NULL,
    refresh_token         BLOB NULL,
    token_expires_at      DATETIME  NULL,
    application_token     BLOB NULL,
    scope                 VARCHAR(255) NOT NULL DEFAULT '',
    lang                  VARCHAR(8)   NOT NULL DEFAULT 'en',
    name                  VARCHAR(255) NOT NULL DEFAULT '',
    state                 VARCHAR(32)  NOT NULL DEFAULT 'active',
    attention_reason      VARCHAR(64)  NOT NULL DEFAULT '',
    attention_since       DATETIME  NULL,
    licence_status        VARCHAR(8)   NOT NULL DEFAULT '',
    licence_payment_expired INTEGER NOT NULL DEFAULT 0,
    licence_days          INT          NULL,
    licence_checked_at    DATETIME  NULL,
    installer_user_id     BIGINT       NOT NULL DEFAULT 0,
    installed_at          DATETIME  NULL,
    uninstalled_at        DATETIME  NULL,
    created_at            DATETIME  NOT NULL,
    updated_at            DATETIME  NOT NULL
);
CREATE UNIQUE INDEX portals_member_id ON portals (member_id);

CREATE TABLE lines (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id           INTEGER NOT NULL,
    line_id             VARCHAR(32)  NOT NULL,
    connector_id        VARCHAR(64)  NOT NULL,
    name                VARCHAR(255) NOT NULL DEFAULT '',
    state               VARCHAR(32)  NOT NULL DEFAULT 'new',
    state_reason        VARCHAR(255) NOT NULL DEFAULT '',
    state_since         DATETIME  NOT NULL,
    state_until         DATETIME  NULL,
    wa_jid              VARCHAR(128) NOT NULL DEFAULT '',
    phone               VARCHAR(32)  NOT NULL DEFAULT '',
    push_name           VARCHAR(255) NOT NULL DEFAULT '',
    expected_phone      VARCHAR(32)  NOT NULL DEFAULT '',
    groups_enabled      INTEGER   NOT NULL DEFAULT 0,
    b24_active          INTEGER   NOT NULL DEFAULT 0,
    phone_seen_at       DATETIME  NULL,
    billing_state       VARCHAR(32)  NOT NULL DEFAULT '',
    paid_until          DATETIME  NULL,
    reminded_at         DATETIME  NULL,
    suspended_at        DATETIME  NULL,
    created_at          DATETIME  NOT NULL,
    updated_at          DATETIME  NOT NULL,
    FOREIGN KEY (portal_id) REFERENCES portals (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX lines_portal_line ON lines (portal_id, line_id);
CREATE INDEX lines_wa_jid ON lines (wa_jid);

CREATE TABLE device_sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id         INTEGER NOT NULL,
    wa_jid          VARCHAR(128) NOT NULL,
    phone           VARCHAR(32)  NOT NULL DEFAULT '',
    push_name       VARCHAR(255) NOT NULL DEFAULT '',
    platform        VARCHAR(64)  NOT NULL DEFAULT '',
    business_name   VARCHAR(255) NOT NULL DEFAULT '',
    linked_via      VARCHAR(16)  NOT NULL DEFAULT '',
    linked_at       DATETIME  NOT NULL,
    logged_out_at   DATETIME  NULL,
    logout_reason   VARCHAR(64)  NOT NULL DEFAULT '',
    FOREIGN KEY (line_id) REFERENCES lines (id) ON DELETE CASCADE
);
CREATE INDEX device_sessions_line ON device_sessions (line_id, linked_at);

CREATE TABLE scan_links (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id         INTEGER NOT NULL,
    token_hash      CHAR(64)     NOT NULL,
    created_by      BIGINT       NOT NULL DEFAULT 0,
    lang            VARCHAR(8)   NOT NULL DEFAULT 'en',
    created_at      DATETIME  NOT NULL,
    expires_at      DATETIME  NOT NULL,
    revoked_at      DATETIME  NULL,
    used_at         DATETIME  NULL,
    FOREIGN KEY (line_id) REFERENCES lines (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scan_links_token_hash ON scan_links (token_hash);
CREATE INDEX scan_links_line ON scan_links (line_id);

CREATE TABLE chats (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id         INTEGER NOT NULL,
    person_id       VARCHAR(128) NOT NULL,
    wa_chat_jid     VARCHAR(128) NOT NULL,
    pn_jid          VARCHAR(128) NOT NULL DEFAULT '',
    lid_jid         VARCHAR(128) NOT NULL DEFAULT '',
    phone           VARCHAR(32)  NOT NULL DEFAULT '',
    push_name       VARCHAR(255) NOT NULL DEFAULT '',
    is_group        INTEGER   NOT NULL DEFAULT 0,
    b24_chat_id     VARCHAR(32)  NOT NULL DEFAULT '',
    b24_session_id  VARCHAR(32)  NOT NULL DEFAULT '',
    b24_user_id     VARCHAR(32)  NOT NULL DEFAULT '',
    created_at      DATETIME  NOT NULL,
    updated_at      DATETIME  NOT NULL,
    FOREIGN KEY (line_id) REFERENCES lines (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX chats_line_person ON chats (line_id, person_id);
CREATE INDEX chats_line_pn ON chats (line_id, pn_jid);
CREATE INDEX chats_line_lid ON chats (line_id, lid_jid);

CREATE TABLE message_links (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id         INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    direction       VARCHAR(8)   NOT NULL,
    wa_message_id   VARCHAR(128) NOT NULL,
    b24_chat_id     VARCHAR(32)  NOT NULL DEFAULT '',
    b24_message_id  VARCHAR(32)  NOT NULL DEFAULT '',
    text_excerpt    VARCHAR(255) NOT NULL DEFAULT '',
    sent_at         DATETIME  NOT NULL,
    FOREIGN KEY (line_id) REFERENCES lines (id) ON DELETE CASCADE,
    FOREIGN KEY (chat_id) REFERENCES chats (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX message_links_wa ON message_links (line_id, wa_message_id);
CREATE INDEX message_links_b24 ON message_links (line_id, b24_message_id);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id       INTEGER NOT NULL,
    line_id         INTEGER NOT NULL,
    direction       VARCHAR(8)   NOT NULL,
    kind            VARCHAR(32)  NOT NULL,
    source_id       VARCHAR(191) NOT NULL,
    chat_key        VARCHAR(128) NOT NULL DEFAULT '',
    seq_at          DATETIME  NOT NULL,
    payload         TEXT     NOT NULL,
    state           VARCHAR(16)  NOT NULL DEFAULT 'pending',
    attempts        INT          NOT NULL DEFAULT 0,
    next_attempt_at DATETIME  NOT NULL,
    locked_by       VARCHAR(64)  NOT NULL DEFAULT '',
    locked_until    DATETIME  NULL,
    last_error      TEXT         NULL,
    remote_id       VARCHAR(191) NOT NULL DEFAULT '',
    created_at      DATETIME  NOT NULL,
    updated_at      DATETIME  NOT NULL,
    done_at         DATETIME  NULL,
    FOREIGN KEY (line_id) REFERENCES lines (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX deliveries_source ON deliveries (line_id, direction, kind, source_id);
CREATE INDEX deliveries_due ON deliveries (direction, state, next_attempt_at);
CREATE INDEX deliveries_chat ON deliveries (line_id, chat_key, state, seq_at);

CREATE TABLE media_files (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id         INTEGER NOT NULL,
    token_hash      CHAR(64)     NOT NULL,
    name            VARCHAR(255) NOT NULL,
    mime_type       VARCHAR(128) NOT NULL,
    size            BIGINT       NOT NULL,
    storage_path    VARCHAR(512) NOT NULL,
    created_at      DATETIME  NOT NULL,
    expires_at      DATETIME  NOT NULL,
    FOREIGN KEY (line_id) REFERENCES lines (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX media_files_token ON media_files (token_hash);
CREATE INDEX media_files_expiry ON media_files (expires_at);

CREATE TABLE line_leases (
    line_id         INTEGER NOT NULL PRIMARY KEY,
    owner           VARCHAR(64)  NOT NULL,
    expires_at      DATETIME  NOT NULL,
    FOREIGN KEY (line_id) REFERENCES lines (id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE line_leases;
DROP TABLE media_files;
DROP TABLE deliveries;
DROP TABLE message_links;
DROP TABLE chats;
DROP TABLE scan_links;
DROP TABLE device_sessions;
DROP TABLE lines;
DROP TABLE portals;
