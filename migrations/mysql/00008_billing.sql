-- +goose Up
-- last_paid_at separates a paid line from one still in its trial.
ALTER TABLE `lines` ADD COLUMN last_paid_at DATETIME(6) NULL;

-- One row per year holds the last invoice sequence number issued in it. The
-- upsert that bumps it locks the row until the invoice is committed, so two
-- issuers never get the same number and no number is skipped.
CREATE TABLE invoice_counters (
    counter_year    INT          NOT NULL PRIMARY KEY,
    last_seq        INT          NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Invoices keep a copy of the seller, buyer and prices at issue time and no
-- foreign key to portals, so an accounting document outlives a portal that
-- deleted its data on uninstall.
CREATE TABLE invoices (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    number          VARCHAR(32)  NOT NULL,
    number_year     INT          NOT NULL,
    number_seq      INT          NOT NULL,
    portal_id       BIGINT UNSIGNED NOT NULL,
    buyer_domain    VARCHAR(255) NOT NULL DEFAULT '',
    buyer_name      VARCHAR(255) NOT NULL DEFAULT '',
    issued_by       BIGINT       NOT NULL DEFAULT 0,
    lang            VARCHAR(8)   NOT NULL DEFAULT 'en',
    months          INT          NOT NULL,
    unit_price      BIGINT       NOT NULL,
    amount          BIGINT       NOT NULL,
    currency        VARCHAR(3)   NOT NULL,
    seller_details  TEXT         NOT NULL,
    status          VARCHAR(16)  NOT NULL DEFAULT 'issued',
    issued_at       DATETIME(6)  NOT NULL,
    paid_at         DATETIME(6)  NULL,
    cancelled_at    DATETIME(6)  NULL,
    created_at      DATETIME(6)  NOT NULL,
    updated_at      DATETIME(6)  NOT NULL,
    UNIQUE KEY invoices_number (number),
    UNIQUE KEY invoices_year_seq (number_year, number_seq),
    KEY invoices_portal (portal_id, issued_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invoice_lines (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    invoice_id      BIGINT UNSIGNED NOT NULL,
    line_id         BIGINT UNSIGNED NOT NULL,
    open_line_id    VARCHAR(32)  NOT NULL DEFAULT '',
    line_name       VARCHAR(255) NOT NULL DEFAULT '',
    phone           VARCHAR(32)  NOT NULL DEFAULT '',
    months          INT          NOT NULL,
    unit_price      BIGINT       NOT NULL,
    amount          BIGINT       NOT NULL,
    UNIQUE KEY invoice_lines_line (invoice_id, line_id),
    KEY invoice_lines_by_line (line_id),
    CONSTRAINT invoice_lines_invoice_fk FOREIGN KEY (invoice_id) REFERENCES invoices (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- line_extensions is the audit trail of every change to a line's paid_until
-- made by a paid invoice or by the operator.
CREATE TABLE line_extensions (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    line_id         BIGINT UNSIGNED NOT NULL,
    invoice_id      BIGINT UNSIGNED NULL,
    source          VARCHAR(16)  NOT NULL,
    months          INT          NOT NULL DEFAULT 0,
    paid_until_before DATETIME(6) NULL,
    paid_until_after  DATETIME(6) NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    KEY line_extensions_line (line_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE line_extensions;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE invoice_counters;
ALTER TABLE `lines` DROP COLUMN last_paid_at;
