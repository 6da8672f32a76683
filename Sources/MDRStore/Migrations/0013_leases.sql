-- One lease mechanism for the work queues (LeasedQueue, docs/architecture.md): response_actions takes the outbox's
-- columns. A lease is a token and an end; a worker settles a row only while its token is the row's.
ALTER TABLE response_actions RENAME COLUMN leased_until TO lease_until;
ALTER TABLE response_actions DROP COLUMN leased_by;
ALTER TABLE response_actions ADD COLUMN lease_token uuid;
