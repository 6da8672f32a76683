-- The event log: one table for all tenants' events, keyed by tenant first (Citus-ready), with per-tenant
-- gap-free positions handed out in commit order and a per-tenant SHA-256 hash chain. See docs/event-log.md.

CREATE TABLE tenant_heads (
    tenant_id     text PRIMARY KEY,
    last_position bigint NOT NULL,
    last_hash     bytea  NOT NULL
);

CREATE TABLE events (
    tenant_id      text        NOT NULL,
    position       bigint      NOT NULL,
    stream         text        NOT NULL,
    version        bigint      NOT NULL,
    event_id       uuid        NOT NULL,
    type           text        NOT NULL,
    schema_version integer     NOT NULL,
    data           jsonb       NOT NULL,
    metadata       jsonb       NOT NULL,
    recorded_at    timestamptz NOT NULL,
    hash           bytea       NOT NULL,
    PRIMARY KEY (tenant_id, position),
    CONSTRAINT events_stream_version UNIQUE (tenant_id, stream, version),
    CONSTRAINT events_event_id UNIQUE (tenant_id, event_id)
);

-- Idempotency: a command id is recorded with its outcome in the transaction that appends its events.
CREATE TABLE commands (
    tenant_id      text        NOT NULL,
    command_id     text        NOT NULL,
    request_hash   bytea,
    result         jsonb       NOT NULL,
    first_position bigint,
    last_position  bigint,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, command_id)
);

-- The log is append-only. Retention (archive, then remove) will lift this under a session setting.
CREATE FUNCTION mdr_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on events is refused', TG_OP USING ERRCODE = 'MDR02';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION mdr_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION mdr_refuse_change();

-- The canonical text an event's hash covers: PostgreSQL's own jsonb text form of its stored fields, so that
-- a verifier can recompute it from what is stored. `recorded_at` enters as microseconds since the Unix epoch.
CREATE FUNCTION mdr_event_canonical(
    p_tenant text, p_position bigint, p_stream text, p_version bigint, p_event_id uuid, p_type text,
    p_schema_version integer, p_recorded_at timestamptz, p_data jsonb, p_metadata jsonb
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_array(
        p_tenant, p_position, p_stream, p_version, p_event_id, p_type, p_schema_version,
        (extract(epoch FROM p_recorded_at) * 1000000)::bigint, p_data, p_metadata)::text
$$;

-- Appends a batch of events of one tenant, possibly to several streams, in one round trip.
--
-- Every expectation (stream, version) must hold: version -1 = any, 0 = the stream must not exist, N = exactly N.
-- A stream may be expected without being appended to (a condition on another aggregate).
-- Positions are taken from the tenant's head row, locked until commit: appends of one tenant are serialised,
-- positions are handed out in commit order and a rolled-back append gives its numbers back.
-- All work that does not need the lock (deciding, encoding) is done by the caller before this call.
CREATE FUNCTION mdr_append(
    p_tenant text,
    p_expect_streams text[], p_expect_versions bigint[],
    p_streams text[], p_event_ids uuid[], p_types text[], p_schema_versions integer[],
    p_data text[], p_metadata text[],
    p_command_id text, p_request_hash bytea, p_result text
) RETURNS TABLE (first_position bigint, last_position bigint, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n          integer := coalesce(cardinality(p_event_ids), 0);
    v_last     bigint;
    v_hash     bytea;
    v_now      timestamptz := now();
    v_micros   bigint := (extract(epoch FROM now()) * 1000000)::bigint;
    v_versions bigint[];
    v_hashes   bytea[] := '{}';
    v_data     jsonb[] := p_data::jsonb[];
    v_meta     jsonb[] := p_metadata::jsonb[];
    v_conflict record;
BEGIN
    IF n = 0 AND p_command_id IS NULL THEN
        RAISE EXCEPTION 'nothing to append' USING ERRCODE = 'MDR03';
    END IF;

    SELECT h.last_position, h.last_hash INTO v_last, v_hash FROM tenant_heads h WHERE h.tenant_id = p_tenant FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO tenant_heads (tenant_id, last_position, last_hash)
        VALUES (p_tenant, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
        ON CONFLICT (tenant_id) DO NOTHING;
        SELECT h.last_position, h.last_hash INTO v_last, v_hash FROM tenant_heads h WHERE h.tenant_id = p_tenant FOR UPDATE;
    END IF;

    -- Under the head lock the streams of this tenant cannot change: the check is exact.
    SELECT x.stream, x.expected, x.actual INTO v_conflict
    FROM (
        SELECT u.stream, u.expected,
               coalesce((SELECT max(e.version) FROM events e WHERE e.tenant_id = p_tenant AND e.stream = u.stream), 0) AS actual
        FROM unnest(p_expect_streams, p_expect_versions) AS u(stream, expected)
        WHERE u.expected >= 0
    ) x
    WHERE x.expected <> x.actual
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'stream % is at version %, expected %', v_conflict.stream, v_conflict.actual, v_conflict.expected
            USING ERRCODE = 'MDR01',
                  DETAIL = jsonb_build_object('stream', v_conflict.stream, 'expected', v_conflict.expected, 'actual', v_conflict.actual)::text;
    END IF;

    IF n > 0 THEN
        SELECT array_agg(v.version ORDER BY v.ord) INTO v_versions
        FROM (
            SELECT u.ord,
                   coalesce((SELECT max(e.version) FROM events e WHERE e.tenant_id = p_tenant AND e.stream = u.stream), 0)
                     + row_number() OVER (PARTITION BY u.stream ORDER BY u.ord) AS version
            FROM unnest(p_streams) WITH ORDINALITY AS u(stream, ord)
        ) v;

        FOR i IN 1..n LOOP
            v_hash := sha256(v_hash || convert_to(
                mdr_event_canonical(p_tenant, v_last + i, p_streams[i], v_versions[i], p_event_ids[i], p_types[i],
                                    p_schema_versions[i], v_now, v_data[i], v_meta[i]), 'UTF8'));
            v_hashes := v_hashes || v_hash;
        END LOOP;

        INSERT INTO events (tenant_id, position, stream, version, event_id, type, schema_version, data, metadata, recorded_at, hash)
        SELECT p_tenant, v_last + u.ord, u.stream, u.version, u.event_id, u.type, u.schema_version, u.data, u.metadata, v_now, u.hash
        FROM unnest(p_streams, v_versions, p_event_ids, p_types, p_schema_versions, v_data, v_meta, v_hashes)
             WITH ORDINALITY AS u(stream, version, event_id, type, schema_version, data, metadata, hash, ord);

        UPDATE tenant_heads SET last_position = v_last + n, last_hash = v_hash WHERE tenant_id = p_tenant;
    END IF;

    IF p_command_id IS NOT NULL THEN
        INSERT INTO commands (tenant_id, command_id, request_hash, result, first_position, last_position)
        VALUES (p_tenant, p_command_id, p_request_hash, coalesce(p_result, '{}')::jsonb,
                CASE WHEN n > 0 THEN v_last + 1 END, CASE WHEN n > 0 THEN v_last + n END);
    END IF;

    RETURN QUERY SELECT v_last + 1, v_last + n, v_now;
END $$;

-- Checkpoints of process managers and projectors, per (processor, tenant). Claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE processor_checkpoints (
    tenant_id  text        NOT NULL,
    processor  text        NOT NULL,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, processor)
);

-- API bearer tokens, stored as SHA-256 of the secret. The secret is shown once, at creation.
CREATE TABLE api_tokens (
    token_id     uuid        PRIMARY KEY,
    token_hash   bytea       NOT NULL UNIQUE,
    name         text        NOT NULL,
    role         text        NOT NULL CHECK (role IN ('soc', 'dynamic', 'customer', 'connector')),
    tenant_id    text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CHECK ((role IN ('customer', 'connector')) = (tenant_id IS NOT NULL))
);
