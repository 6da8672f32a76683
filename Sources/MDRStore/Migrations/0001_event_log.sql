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

-- The canonical text an event's digest covers: PostgreSQL's own jsonb text form of its stored fields, so that
-- a verifier can recompute it from what is stored. `recorded_at` enters as microseconds since the Unix epoch.
CREATE FUNCTION mdr_event_canonical(
    p_tenant text, p_position bigint, p_stream text, p_version bigint, p_event_id uuid, p_type text,
    p_schema_version integer, p_recorded_at timestamptz, p_data jsonb, p_metadata jsonb
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_array(
        p_tenant, p_position, p_stream, p_version, p_event_id, p_type, p_schema_version,
        (extract(epoch FROM p_recorded_at) * 1000000)::bigint, p_data, p_metadata)::text
$$;

-- The hash chain: hash(n) = SHA-256(hash(n-1) || SHA-256(canonical(n))), with 32 zero bytes before the first
-- event. As an aggregate over [previous hash, digest 1, digest 2, …] run as a window, it chains a whole batch in
-- one set-based statement (no row-by-row loop).
CREATE FUNCTION mdr_chain_step(p_state bytea, p_digest bytea) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_state IS NULL THEN p_digest ELSE sha256(p_state || p_digest) END
$$;
CREATE AGGREGATE mdr_chain(bytea) (SFUNC = mdr_chain_step, STYPE = bytea);

-- Appends a batch of events of one tenant, possibly to several streams, in one round trip.
--
-- Every expectation (stream, version) must hold: version -1 = any, 0 = the stream must not exist, N = exactly N.
-- A stream may be expected without being appended to (a condition on another aggregate).
-- Positions are taken from the tenant's head row, locked until commit: appends of one tenant are serialised,
-- positions are handed out in commit order and a rolled-back append gives its numbers back.
-- All work that does not need the lock (deciding, encoding) is done by the caller before this call.
-- A stream appended to under an expectation is numbered from the expected version; if it has moved on, the
-- UNIQUE (tenant_id, stream, version) key refuses the insert (SQLSTATE 23505 on events_stream_version), which the
-- store reports as a version conflict. Streams whose version the key cannot vouch for are checked explicitly.
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

    -- Under the head lock the streams of this tenant cannot change: the check is exact. A stream expected not to
    -- exist that this batch appends to is left to the unique key (its version 1 cannot be inserted twice).
    SELECT x.stream, x.expected, x.actual INTO v_conflict
    FROM (
        SELECT u.stream, u.expected,
               coalesce((SELECT max(e.version) FROM events e WHERE e.tenant_id = p_tenant AND e.stream = u.stream), 0) AS actual
        FROM unnest(p_expect_streams, p_expect_versions) AS u(stream, expected)
        WHERE u.expected > 0 OR (u.expected = 0 AND NOT (u.stream = ANY (p_streams)))
    ) x
    WHERE x.expected <> x.actual
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'stream % is at version %, expected %', v_conflict.stream, v_conflict.actual, v_conflict.expected
            USING ERRCODE = 'MDR01',
                  DETAIL = jsonb_build_object('stream', v_conflict.stream, 'expected', v_conflict.expected, 'actual', v_conflict.actual)::text;
    END IF;

    IF n > 0 THEN
        WITH input AS (
            SELECT u.ord, u.stream, u.event_id, u.type, u.schema_version, u.data::jsonb AS data, u.metadata::jsonb AS metadata
            FROM unnest(p_streams, p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
                 WITH ORDINALITY AS u(stream, event_id, type, schema_version, data, metadata, ord)
        ), expected AS (
            SELECT x.stream, max(x.expected) AS version
            FROM unnest(p_expect_streams, p_expect_versions) AS x(stream, expected)
            WHERE x.expected >= 0 GROUP BY x.stream
        ), bases AS (
            SELECT s.stream,
                   coalesce(x.version,
                            (SELECT max(e.version) FROM events e WHERE e.tenant_id = p_tenant AND e.stream = s.stream),
                            0) AS base
            FROM (SELECT DISTINCT i.stream FROM input i) s LEFT JOIN expected x ON x.stream = s.stream
        ), numbered AS (
            SELECT i.*, v_last + i.ord AS position,
                   b.base + row_number() OVER (PARTITION BY i.stream ORDER BY i.ord) AS version
            FROM input i JOIN bases b ON b.stream = i.stream
        ), digested AS (
            SELECT 0::bigint AS ord, v_hash AS digest, NULL::bigint AS position, NULL::text AS stream, NULL::bigint AS version,
                   NULL::uuid AS event_id, NULL::text AS type, NULL::integer AS schema_version, NULL::jsonb AS data,
                   NULL::jsonb AS metadata
            UNION ALL
            SELECT nb.ord, sha256(convert_to(mdr_event_canonical(p_tenant, nb.position, nb.stream, nb.version, nb.event_id,
                       nb.type, nb.schema_version, v_now, nb.data, nb.metadata), 'UTF8')),
                   nb.position, nb.stream, nb.version, nb.event_id, nb.type, nb.schema_version, nb.data, nb.metadata
            FROM numbered nb
        ), chained AS (
            SELECT d.*, mdr_chain(d.digest) OVER (ORDER BY d.ord ROWS UNBOUNDED PRECEDING) AS hash FROM digested d
        ), inserted AS (
            INSERT INTO events (tenant_id, position, stream, version, event_id, type, schema_version, data, metadata, recorded_at, hash)
            SELECT p_tenant, c.position, c.stream, c.version, c.event_id, c.type, c.schema_version, c.data, c.metadata, v_now, c.hash
            FROM chained c WHERE c.ord > 0
            RETURNING hash, position
        )
        SELECT i.hash INTO v_hash FROM inserted i ORDER BY i.position DESC LIMIT 1;

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
