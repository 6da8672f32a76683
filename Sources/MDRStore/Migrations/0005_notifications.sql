-- Notifications: the outbox the notifier fills from the log and the delivery workers empty, and the webhook
-- endpoints' signing secrets. See docs/notifications.md.
--
-- The outbox is work state, not evidence: every delivery attempt, the final failure and each acknowledgement are
-- events in the tenant's log (stream `notification:<id>`). The notifier inserts entries in the transaction that
-- moves its checkpoint (processor_checkpoints, processor 'notifier'); ids are derived from the cause, so a replay
-- inserts nothing twice.

CREATE TABLE notification_outbox (
    notification_id  text        PRIMARY KEY,
    tenant_id        text        NOT NULL,
    -- The log position of the event the notification is about (or of the failure a fallback reports).
    cause_position   bigint      NOT NULL,
    -- The payload's type: incident.confirmed, isolation.succeeded, sla.breached, notification.failed, call.requested…
    subject          text        NOT NULL,
    incident_id      uuid,
    device_id        text,
    priority         text,
    recipient        text        NOT NULL CHECK (recipient IN ('dynamic', 'customer_primary', 'customer_after_hours')),
    channel          text        NOT NULL CHECK (channel IN ('webhook', 'email')),
    address          text        NOT NULL,
    -- The JSON body as sent (UTF-8; signed byte for byte for webhooks).
    payload          text        NOT NULL,
    occurred_at      timestamptz NOT NULL,
    -- Not before: at once, or the next office-hours start (P2 outside office hours).
    send_at          timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    -- A worker's claim: until this instant the entry is its own; a crashed worker's claim runs out and another
    -- worker tries again (with the same webhook-id: receivers de-duplicate on it).
    lease_token      uuid,
    lease_until      timestamptz,
    last_error       text,
    delivered_at     timestamptz,
    failed_at        timestamptz,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    -- A resend of an unacknowledged P1 names the notification it repeats; `resent_at` marks the original.
    resend_of        text,
    resend_number    integer     NOT NULL DEFAULT 0,
    resent_at        timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notification_outbox_tenant ON notification_outbox (tenant_id, occurred_at DESC);
CREATE INDEX notification_outbox_incident ON notification_outbox (tenant_id, incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX notification_outbox_unacknowledged ON notification_outbox (delivered_at)
    WHERE status = 'delivered' AND acknowledged_at IS NULL AND resent_at IS NULL AND subject = 'incident.confirmed' AND priority = 'P1';

-- Webhook endpoints: the Standard Webhooks secrets an endpoint's calls are signed with (several during rotation),
-- and whether it is disabled (it answered 410 Gone). Managed with `mdr webhook set|list|enable|remove`; Dynamic's
-- configured endpoint is registered at start-up. A webhook route without a secret here is not called: its
-- notification fails and Dynamic gets the fallback notice.
CREATE TABLE webhook_endpoints (
    url              text        PRIMARY KEY,
    secrets          text[]      NOT NULL CHECK (cardinality(secrets) BETWEEN 1 AND 5),
    disabled_at      timestamptz,
    disabled_reason  text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
