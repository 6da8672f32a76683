-- EDR connections and the responder's work (docs/response.md).
--
-- edr_connections: how to reach each tenant's Microsoft Defender for Endpoint (an Entra app registration in the
-- customer's tenant). Managed with `mdr edr set|list|remove`. Configuration, not evidence: beside the log, not in it.
-- The client secret is stored here in plain text, readable by whoever can read this table; a vault or KMS
-- (envelope encryption, or a secret reference instead of the secret) is the production improvement.
CREATE TABLE edr_connections (
    tenant_id        text        PRIMARY KEY,
    kind             text        NOT NULL DEFAULT 'defender' CHECK (kind IN ('defender')),
    base_url         text        NOT NULL,
    authority        text        NOT NULL,
    entra_tenant_id  text        NOT NULL,
    client_id        text        NOT NULL,
    client_secret    text        NOT NULL,
    scope            text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per request event (DeviceIsolationRequested, DeviceReleaseRequested, FileQuarantineRequested) the
-- responder has seen. Rows are claimed with FOR UPDATE SKIP LOCKED and leased (leased_until) while the EDR is called
-- outside any transaction; the outcome is appended to the log in the transaction that marks the row done.
-- Disposable like a read model: the events EDRActionSubmitted and the outcomes in the log are the truth.
CREATE TABLE response_actions (
    tenant_id         text        NOT NULL,
    request_event_id  uuid        NOT NULL,
    position          bigint      NOT NULL,
    action            text        NOT NULL CHECK (action IN ('isolate', 'release', 'stopAndQuarantineFile')),
    device_id         text        NOT NULL,
    incident_id       uuid,
    isolation_type    text,
    sha1              text,
    comment           text        NOT NULL,
    requested_at      timestamptz NOT NULL,
    -- new: not yet submitted; submitted: EDRActionSubmitted is in the log, polling; done: outcome in the log.
    status            text        NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'submitted', 'done')),
    machine_id        text,
    edr_action_id     text,
    edr_status        text,
    attempts          integer     NOT NULL DEFAULT 0,
    last_error        text,
    next_attempt_at   timestamptz NOT NULL,
    deadline          timestamptz NOT NULL,
    leased_until      timestamptz,
    leased_by         text,
    outcome_event_id  uuid,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, request_event_id)
);
CREATE INDEX response_actions_due ON response_actions (next_attempt_at) WHERE status <> 'done';
CREATE INDEX response_actions_device ON response_actions (tenant_id, device_id, position) WHERE status <> 'done';
