-- Signals filtered at intake append nothing to the log: a duplicate (the same alert again, unchanged) and a malformed
-- signal (rejected). The report still counts them as noise (docs/reports.md), from these per-day counters, which the
-- ingest path adds to after each batch. They are statistics, not evidence: the log stays the record of what was kept.
CREATE TABLE signal_filter_counts (
    tenant_id text   NOT NULL,
    day       date   NOT NULL,
    -- The signal's source; `unknown` for a malformed native or Graph signal whose source could not be read.
    source    text   NOT NULL,
    outcome   text   NOT NULL CHECK (outcome IN ('duplicate', 'rejected')),
    signals   bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, source, outcome)
);

-- Connectors ingest under row-level security (0010): the same policy and grants as the other tenant tables.
ALTER TABLE signal_filter_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON signal_filter_counts TO mdr_tenant_scoped
    USING (tenant_id = current_setting('mdr.tenant', true)) WITH CHECK (tenant_id = current_setting('mdr.tenant', true));
GRANT SELECT, INSERT, UPDATE ON signal_filter_counts TO mdr_tenant_scoped;
