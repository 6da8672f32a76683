-- Projections: read models derived from the event log, with a checkpoint per (projection, tenant). Every row here
-- can be dropped and rebuilt from the log (`mdr projections rebuild NAME`). See docs/projections.md.
-- Keyed by tenant first, like the log (Citus-ready).

-- How far each projection has applied each tenant's log. The runner claims a row with FOR UPDATE SKIP LOCKED and
-- moves it, in the transaction that writes the read-model rows, as a compare-and-set on the old position.
CREATE TABLE projection_checkpoints (
    tenant_id  text        NOT NULL,
    projection text        NOT NULL,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, projection)
);

-- The schema version each projection's rows were built with. A runner that starts with another version rebuilds.
CREATE TABLE projection_versions (
    projection text        PRIMARY KEY,
    version    integer     NOT NULL,
    rebuilt_at timestamptz
);

-- Device isolation: one row per device the tenant's log names (signals or isolation events).
CREATE TABLE device_isolation_view (
    tenant_id      text        NOT NULL,
    device_id      text        NOT NULL,
    state          text        NOT NULL DEFAULT 'none',
    incident_id    uuid,
    isolation_type text,
    changed_at     timestamptz,
    changed_by     text,
    first_seen_at  timestamptz NOT NULL,
    last_signal_at timestamptz,
    PRIMARY KEY (tenant_id, device_id)
);
CREATE INDEX device_isolation_view_state ON device_isolation_view (tenant_id, state);

-- Every isolation change of a device: who, when, why, for which incident.
CREATE TABLE device_isolation_history_view (
    tenant_id      text        NOT NULL,
    device_id      text        NOT NULL,
    position       bigint      NOT NULL,
    state          text        NOT NULL,
    at             timestamptz NOT NULL,
    actor          text        NOT NULL,
    actor_name     text        NOT NULL,
    incident_id    uuid,
    isolation_type text,
    note           text,
    edr_action_id  text,
    PRIMARY KEY (tenant_id, device_id, position)
);

-- Signals per tenant, day (Europe/Amsterdam, of the time the signal was received), source and outcome
-- (accepted, updated, suppressed). Duplicates are not events, so they are not counted here.
CREATE TABLE signal_statistics_view (
    tenant_id text   NOT NULL,
    day       date   NOT NULL,
    source    text   NOT NULL,
    outcome   text   NOT NULL,
    signals   bigint NOT NULL,
    PRIMARY KEY (tenant_id, day, source, outcome)
);

-- Incidents, per tenant and across tenants (the SOC's list).
CREATE TABLE incident_view (
    tenant_id      text        NOT NULL,
    incident_id    uuid        NOT NULL,
    status         text        NOT NULL,
    -- The analyst's priority once confirmed, else the correlator's candidate priority.
    priority       text,
    candidate_priority text,
    severity       text        NOT NULL,
    severity_rank  smallint    NOT NULL,
    summary        text,
    opened_at      timestamptz NOT NULL,
    confirmed_at   timestamptz,
    confirmed_by   text,
    closed_at      timestamptz,
    closed_by      text,
    closing_note   text,
    dismissal      text,
    devices        text[]      NOT NULL DEFAULT '{}',
    users          text[]      NOT NULL DEFAULT '{}',
    sources        text[]      NOT NULL DEFAULT '{}',
    signal_count   integer     NOT NULL DEFAULT 0,
    last_position  bigint      NOT NULL,
    PRIMARY KEY (tenant_id, incident_id)
);
CREATE INDEX incident_view_opened ON incident_view (opened_at DESC, tenant_id, incident_id);
CREATE INDEX incident_view_tenant_opened ON incident_view (tenant_id, opened_at DESC, incident_id);
CREATE INDEX incident_view_devices ON incident_view USING gin (devices);
CREATE INDEX incident_view_users ON incident_view USING gin (users);

-- The signals of each incident.
CREATE TABLE incident_signal_view (
    tenant_id   text   NOT NULL,
    incident_id uuid   NOT NULL,
    signal_id   uuid   NOT NULL,
    position    bigint NOT NULL,
    PRIMARY KEY (tenant_id, incident_id, signal_id)
);

-- Every stored signal (kept by the incidents projection, which needs their entities and titles).
CREATE TABLE signal_view (
    tenant_id       text        NOT NULL,
    signal_id       uuid        NOT NULL,
    source          text        NOT NULL,
    source_alert_id text        NOT NULL,
    severity        text        NOT NULL,
    status          text        NOT NULL,
    title           text        NOT NULL,
    observed_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    devices         text[]      NOT NULL,
    users           text[]      NOT NULL,
    suppressed      boolean     NOT NULL,
    PRIMARY KEY (tenant_id, signal_id)
);

-- What happened to each incident, in log order: the events of its stream and the isolations it justified.
CREATE TABLE incident_timeline_view (
    tenant_id   text        NOT NULL,
    incident_id uuid        NOT NULL,
    position    bigint      NOT NULL,
    type        text        NOT NULL,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    actor_name  text        NOT NULL,
    summary     text        NOT NULL,
    -- The device of an isolation event (a release names no incident: it is found through the device).
    device_id   text,
    PRIMARY KEY (tenant_id, incident_id, position)
);
CREATE INDEX incident_timeline_view_device ON incident_timeline_view (tenant_id, device_id, position) WHERE device_id IS NOT NULL;
