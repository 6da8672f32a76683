-- Retention (docs/audit.md, "Retention"): old security events are archived, then their content is removed. Each
-- removed event leaves a tombstone with its digest (SHA-256 of its canonical form) and its hash, so that every
-- tenant's chain stays verifiable end to end without the content. Every cut is recorded with an Ed25519 signature.

-- The log stays append-only; only a retention cut (`SET LOCAL mdr.retention = 'on'` in its transaction) may delete.
CREATE OR REPLACE FUNCTION mdr_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'events' AND current_setting('mdr.retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'MDR02';
END $$;

-- Per-tenant retention in months; a tenant without a row keeps the default (24 months, `MDR_RETENTION_MONTHS`).
CREATE TABLE retention_policies (
    tenant_id text        PRIMARY KEY,
    months    integer     NOT NULL CHECK (months BETWEEN 1 AND 1200),
    set_by    text        NOT NULL,
    set_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per retention run of one tenant: what was removed, where it was archived, signed.
CREATE TABLE retention_cuts (
    cut_id          uuid        PRIMARY KEY,
    tenant_id       text        NOT NULL,
    cutoff          timestamptz NOT NULL,
    policy_months   integer     NOT NULL,
    removed_count   bigint      NOT NULL,
    first_position  bigint      NOT NULL,
    last_position   bigint      NOT NULL,
    -- SHA-256 of the tombstones' (position, digest) list, and of the archive file's bytes.
    tombstones_sha256 bytea     NOT NULL,
    archive_name    text        NOT NULL,
    archive_sha256  bytea       NOT NULL,
    cut_at          timestamptz NOT NULL,
    cut_by          text        NOT NULL,
    -- Ed25519 over the cut's canonical text (docs/audit.md); the public key it verifies with.
    public_key      bytea       NOT NULL,
    signature       bytea       NOT NULL
);
CREATE INDEX retention_cuts_tenant ON retention_cuts (tenant_id, cut_at);

-- What stays of a removed event: its position, its digest and its hash.
CREATE TABLE event_tombstones (
    tenant_id text   NOT NULL,
    position  bigint NOT NULL,
    digest    bytea  NOT NULL,
    hash      bytea  NOT NULL,
    cut_id    uuid   NOT NULL REFERENCES retention_cuts (cut_id),
    PRIMARY KEY (tenant_id, position)
);
CREATE TRIGGER event_tombstones_append_only BEFORE UPDATE OR DELETE ON event_tombstones FOR EACH ROW EXECUTE FUNCTION mdr_refuse_change();
CREATE TRIGGER retention_cuts_append_only BEFORE UPDATE OR DELETE ON retention_cuts FOR EACH ROW EXECUTE FUNCTION mdr_refuse_change();
