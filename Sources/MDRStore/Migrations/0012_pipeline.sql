-- One pipeline per tenant log (docs/architecture.md): the views and the process managers are consumers of one reader,
-- which reads each page once and moves every consumer's position in the transaction that writes what they derived.
-- Each consumer keeps its own position per tenant, so one that fails on an event is parked there while the others go
-- on. Replaces projection_checkpoints and processor_checkpoints (their positions are carried over).
CREATE TABLE consumer_checkpoints (
    tenant_id        text        NOT NULL,
    consumer         text        NOT NULL,
    position         bigint      NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- A consumer that fails on this tenant's log: failures in a row, the event it fails on, the error, and when it is
    -- tried again. All NULL/0 while it works.
    failures         integer     NOT NULL DEFAULT 0,
    failing_position bigint,
    last_error       text,
    retry_at         timestamptz,
    PRIMARY KEY (tenant_id, consumer)
);

INSERT INTO consumer_checkpoints (tenant_id, consumer, position, updated_at)
SELECT tenant_id, projection, position, updated_at FROM projection_checkpoints
UNION ALL
SELECT tenant_id, processor, position, updated_at FROM processor_checkpoints
ON CONFLICT DO NOTHING;

DROP TABLE projection_checkpoints;
DROP TABLE processor_checkpoints;

-- Like every table with a tenant_id (0010): confined for tenant-scoped sessions, which are granted nothing here.
ALTER TABLE consumer_checkpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON consumer_checkpoints TO mdr_tenant_scoped
    USING (tenant_id = current_setting('mdr.tenant', true))
    WITH CHECK (tenant_id = current_setting('mdr.tenant', true));
