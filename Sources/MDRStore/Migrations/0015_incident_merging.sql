-- Merging incidents (issue 15; docs/decisions.md, "Merging candidates").
--
-- The incidents view names the incident a merged one continues in.
ALTER TABLE incident_view ADD COLUMN merged_into uuid;
-- The signals a merge hands on join the remaining incident at one position: in the order the merged incident held them.
ALTER TABLE incident_signal_view ADD COLUMN ordinal integer NOT NULL DEFAULT 0;

-- The correlator derives its past decisions again when it folds a tenant's log (a new process, a takeover): a log must
-- be read under the rule it was decided by. Everything a tenant's log holds when this migration runs was decided (or
-- will be, by an instance still running the old version) without merging, by the span rule; merging applies to the
-- events after that position. Tenants onboarded later have no row: merging applies from their first event. A later
-- change of a rule adds a column here.
CREATE TABLE correlation_rule_cutovers (
    tenant_id     text   PRIMARY KEY,
    merging_after bigint NOT NULL
);
INSERT INTO correlation_rule_cutovers (tenant_id, merging_after) SELECT tenant_id, last_position FROM tenant_heads;

-- Like every table with a tenant_id (0010): confined for tenant-scoped sessions, which only read it.
ALTER TABLE correlation_rule_cutovers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON correlation_rule_cutovers TO mdr_tenant_scoped
    USING (tenant_id = current_setting('mdr.tenant', true)) WITH CHECK (tenant_id = current_setting('mdr.tenant', true));
GRANT SELECT ON correlation_rule_cutovers TO mdr_tenant_scoped;
