-- The Microsoft Graph alerts connector (docs/detection.md, "Pulling alerts from Microsoft Graph").
--
-- graph_connections: per tenant, how to reach its Graph security API (an Entra app registration in the customer's
-- tenant with SecurityAlert.Read.All), where the pull stands, and how it went. Managed with `mdr graph set|list|remove`;
-- configuration and the connector's own progress, not evidence: beside the log, not in it (the alerts it pulls are
-- ingested into the log like pushed ones). The client secret is stored as `edr_connections` stores Defender's (0006).
--
-- The pull is a leased queue (LeasedQueue): a due row (next_poll_at) is leased to one worker of one instance, which
-- calls Graph outside any transaction and then settles the row under its lease.
--   checkpoint: alerts updated at or after it (less an overlap) are asked for; it moves to the newest
--     lastUpdateDateTime seen only when a sweep has ingested every page.
--   resume_link, sweep_newest: a sweep cut short (a page limit, a throttle, an error) goes on from its @odata.nextLink
--     next time, with the newest update time seen so far.
CREATE TABLE graph_connections (
    tenant_id         text        PRIMARY KEY,
    base_url          text        NOT NULL,
    authority         text        NOT NULL,
    entra_tenant_id   text        NOT NULL,
    client_id         text        NOT NULL,
    client_secret     text        NOT NULL,
    scope             text        NOT NULL,
    checkpoint        timestamptz,
    resume_link       text,
    sweep_newest      timestamptz,
    next_poll_at      timestamptz NOT NULL DEFAULT now(),
    failures          integer     NOT NULL DEFAULT 0,
    last_success_at   timestamptz,
    last_error        text,
    last_error_at     timestamptz,
    alerts_ingested   bigint      NOT NULL DEFAULT 0,
    lease_token       uuid,
    lease_until       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX graph_connections_due ON graph_connections (next_poll_at);

-- A secret: not granted to tenant-scoped requests; the service sees every tenant's row.
ALTER TABLE graph_connections ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON graph_connections TO mdr_tenant_scoped
    USING (tenant_id = current_setting('mdr.tenant', true)) WITH CHECK (tenant_id = current_setting('mdr.tenant', true));
CREATE POLICY service_all ON graph_connections TO mdr_service USING (true) WITH CHECK (true);
