-- Least privilege (docs/operations.md, "Database roles"): the migrating role owns the schema; the service runs as a
-- login that owns nothing; a tenant's own requests can append to the log and read, and change nothing else.
--
-- mdr_service (no login): what `mdr serve` needs, granted to its login role (e.g. mdr_app): rows of every table, no
-- DDL, no ownership. Row-level security applies to a role that is not the tables' owner, so it gets a policy that
-- shows every tenant (the service works across tenants); the append-only triggers still hold for it. It may switch
-- to mdr_tenant_scoped (Database.withTenantScope on the service's own pool).
--
-- Roles are the cluster's: made unless they exist (another database of the cluster, a concurrent migration, or a DBA
-- who made them beforehand because the migrating user may not; docs/operations.md, "Database roles").
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mdr_service') THEN
        CREATE ROLE mdr_service NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

DO $$
BEGIN
    IF NOT pg_has_role('mdr_service', 'mdr_tenant_scoped', 'MEMBER') THEN
        GRANT mdr_tenant_scoped TO mdr_service;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation OR invalid_grant_operation THEN
    NULL;
END $$;

GRANT USAGE ON SCHEMA public TO mdr_service;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO mdr_service;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO mdr_service;
-- The log is appended to and read; only a retention cut deletes (its trigger checks `mdr.retention`); no one updates.
REVOKE UPDATE, TRUNCATE ON events, event_tombstones, retention_cuts FROM mdr_service;
-- Tables and sequences that later migrations create (as the role that runs them) are the service's too.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES TO mdr_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO mdr_service;

DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP POLICY IF EXISTS service_all ON %I', t);
        EXECUTE format('CREATE POLICY service_all ON %I TO mdr_service USING (true) WITH CHECK (true)', t);
    END LOOP;
END $$;

-- mdr_tenant_scoped: a customer's or connector's request. It reads its tenant's rows (policies of migration 0010 on)
-- and writes only what such a request writes: the log's append (events, the tenant's head, the command's idempotency
-- record), the day's filtered-signal counts of an ingest, and a customer's acknowledgement of a notification. The
-- views, the outbox's delivery state, response actions and checkpoints are the service's own work.
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY c.relname
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %I FROM mdr_tenant_scoped', t);
    END LOOP;
END $$;

GRANT INSERT ON events, commands TO mdr_tenant_scoped;
GRANT INSERT, UPDATE ON tenant_heads, signal_filter_counts TO mdr_tenant_scoped;
GRANT UPDATE (acknowledged_at, acknowledged_by) ON notification_outbox TO mdr_tenant_scoped;
