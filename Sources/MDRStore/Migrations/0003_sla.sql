-- SLA timers: a read model of the `sla-timers` projection (SlaTimerProjection), derived from the log alone and
-- rebuilt with `mdr projections rebuild sla-timers`; the SLA clock (SlaClock) reads the due timers and appends
-- SlaBreached. See docs/sla.md.

-- Each tenant's SLA (A for Compliant, B for Veilig), from its onboarding.
CREATE TABLE sla_tenant_view (
    tenant_id     text    PRIMARY KEY,
    sla           text    NOT NULL,
    nis2_in_scope boolean NOT NULL
);

-- The fold state of each incident's timers beyond the timers themselves.
CREATE TABLE sla_incident_view (
    tenant_id    text        NOT NULL,
    incident_id  uuid        NOT NULL,
    -- The candidate priority until confirmed, then the analyst's.
    priority     text,
    confirmed    boolean     NOT NULL,
    PRIMARY KEY (tenant_id, incident_id)
);

-- One row per incident and target (triage, notify, contain).
CREATE TABLE sla_timer_view (
    tenant_id       text             NOT NULL,
    incident_id     uuid             NOT NULL,
    target          text             NOT NULL,
    priority        text             NOT NULL,
    sla             text             NOT NULL,
    policy_version  text             NOT NULL,
    -- The SlaDeadlineRule as JSON, e.g. {"within":{"minutes":15,"clock":"continuous"}}.
    rule            text             NOT NULL,
    clock           text             NOT NULL,
    started_at      timestamptz      NOT NULL,
    deadline        timestamptz      NOT NULL,
    stopped_at      timestamptz,
    stopped_by      text,
    elapsed_seconds double precision,
    -- The SlaBreached event of this timer, once in the log. Set by the SLA clock in the transaction that appends it,
    -- and by the projection when it reads the event (the same values), so a rebuild gives the same rows.
    breach_event_id uuid,
    breached_at     timestamptz,
    PRIMARY KEY (tenant_id, incident_id, target)
);
-- The SLA clock's work: timers whose breach is not yet recorded, by deadline.
CREATE INDEX sla_timer_view_due ON sla_timer_view (deadline) WHERE breach_event_id IS NULL;
-- The SOC's "about to breach" list: running timers by deadline.
CREATE INDEX sla_timer_view_running ON sla_timer_view (tenant_id, deadline) WHERE stopped_at IS NULL;
