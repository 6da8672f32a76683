-- Syslog senders: which tenant a firewall sending syslog directly to the service belongs to, by its source address.
-- Managed with `mdr syslog sender add|list|remove`; the listener caches the table and reloads it periodically.
-- One address belongs to one tenant. Configuration, not evidence: it lives beside the event log, not in it.
CREATE TABLE syslog_senders (
    address    inet        PRIMARY KEY,
    tenant_id  text        NOT NULL,
    added_by   text        NOT NULL,
    added_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT syslog_senders_host CHECK (masklen(address) = CASE WHEN family(address) = 4 THEN 32 ELSE 128 END)
);

CREATE INDEX syslog_senders_tenant ON syslog_senders (tenant_id);
