-- +goose Up
-- last_paid_at separates a paid line from one still in its trial.
ALTER TABLE lines ADD COLUMN last_paid_at DATETIME NULL;

-- One row per year holds the last invoice sequence number issued in it. The
-- upsert that bumps it runs in the invoice's write transaction, so two
-- issuers never get the same number and no number is skipped.
CREATE TABLE invoice_counters (
    counter_year    INTEGER NOT NULL PRIMARY KEY,
    last_seq        INTEGER NOT NULL
);

-- Invoices keep a copy of the seller, buyer and prices at issue time and no
-- foreign key to portals, so an accounting document outlives a portal that
-- deleted its data on uninstall.
CREATE TABLE invoices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    number          VARCHAR(32)  NOT NULL,
    number_year     INTEGER      NOT NULL,
    number_seq      INTEGER      NOT NULL,
    portal_id       INTEGER      NOT NULL,
    buyer_domain    VARCHAR(255) NOT NULL DEFAULT '',
    buyer_name      VARCHAR(255) NOT NULL DEFAULT '',
    issued_by       INTEGER      NOT NULL DEFAULT 0,
    lang            VARCHAR(8)   NOT NULL DEFAULT 'en',
    months          INTEGER      NOT NULL,
    unit_price      INTEGER      NOT NULL,
    amount          INTEGER      NOT NULL,
    currency        VARCHAR(3)   NOT NULL,
    seller_details  TEXT         NOT NULL,
    status          VARCHAR(16)  NOT NULL DEFAULT 'issued',
    issued_at       DATETIME     NOT NULL,
    paid_at         DATETIME     NULL,
    cancelled_at    DATETIME     NULL,
    created_at      DATETIME     NOT NULL,
    updated_at      DATETIME     NOT NULL
);
CREATE UNIQUE INDEX invoices_number ON invoices (number);
CREATE UNIQUE INDEX invoices_year_seq ON invoices (number_year, number_seq);
CREATE INDEX invoices_portal ON invoices (portal_id, issued_at);

CREATE TABLE invoice_lines (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id      INTEGER      NOT NULL,
    line_id         INTEGER      NOT NULL,
    open_line_id    VARCHAR(32)  NOT NULL DEFAULT '',
    line_name       VARCHAR(255) NOT NULL DEFAULT '',
    phone           VARCHAR(32)  NOT NULL DEFAULT '',
    months          INTEGER      NOT NULL,
    unit_price      INTEGER      NOT NULL,
    amount          INTEGER      NOT NULL,
    FOREIGN KEY (invoice_id) REFERENCES invoices (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX invoice_lines_line ON invoice_lines (invoice_id, line_id);
CREATE INDEX invoice_lines_by_line ON invoice_lines (line_id);

-- line_extensions is the audit trail of every change to a line's paid_until
-- made by a paid invoice or by the operator.
CREATE TABLE line_extensions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id         INTEGER      NOT NULL,
    invoice_id      INTEGER      NULL,
    source          VARCHAR(16)  NOT NULL,
    months          INTEGER      NOT NULL DEFAULT 0,
    paid_until_before DATETIME   NULL,
    paid_until_after  DATETIME   NOT NULL,
    created_at      DATETIME     NOT NULL
);
CREATE INDEX line_extensions_line ON line_extensions (line_id, created_at);

-- +goose Down
DROP TABLE line_extensions;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE invoice_counters;
ALTER TABLE lines DROP COLUMN last_paid_at;
