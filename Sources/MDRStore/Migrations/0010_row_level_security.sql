-- Row-level security (docs/decisions.md, "Row-level security"): a second wall behind the application's tenant checks.
--
-- A request of a tenant-scoped principal (a customer or a connector) runs on one connection switched to the role
-- mdr_tenant_scoped with the setting mdr.tenant = its tenant (Database.withTenantScope). For that role every table
-- with a tenant_id column shows and accepts only that tenant's rows, whatever the SQL asks for. The service's own role
-- (the tables' owner) is not subject to the policies: processors, projections and the SOC's and Dynamic's requests
-- work across tenants as before. Secrets (tokens, webhook and EDR credentials, syslog senders) and retention are not
-- granted to the role at all.
--
-- Creating a role needs CREATEROLE (the migrating user is normally the database owner or a superuser). The role is
-- cluster-wide and may exist already (another database of the cluster, or a concurrent migration): both are fine.
DO $$
BEGIN
    CREATE ROLE mdr_tenant_scoped NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

DO $$
BEGIN
    EXECUTE format('GRANT mdr_tenant_scoped TO %I', current_user);
EXCEPTION WHEN duplicate_object OR unique_violation OR invalid_grant_operation THEN
    NULL;
END $$;

GRANT USAGE ON SCHEMA public TO mdr_tenant_scoped;
GRANT SELECT ON schema_migrations, projection_versions TO mdr_tenant_scoped;

-- Every table with a tenant_id, except the secrets and retention: the policy, and what a request may do there. The
-- event log's tables keep their append-only triggers (no UPDATE or DELETE is granted on them).
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
        ORDER BY c.table_name
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO mdr_tenant_scoped '
            'USING (tenant_id = current_setting(''mdr.tenant'', true)) '
            'WITH CHECK (tenant_id = current_setting(''mdr.tenant'', true))', t);
        IF t IN ('events', 'event_tombstones', 'retention_cuts', 'retention_policies', 'api_tokens', 'edr_connections',
                 'syslog_senders') THEN
            NULL;
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO mdr_tenant_scoped', t);
        END IF;
    END LOOP;
END $$;

-- The log: read and appended to, never changed.
GRANT SELECT, INSERT ON events TO mdr_tenant_scoped;
