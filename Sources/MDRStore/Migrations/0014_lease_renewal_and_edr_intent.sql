-- Short leases, renewed while the work is in progress (LeasedQueue.holding): a renewal finds a worker's rows by its
-- token, so the token is indexed where it is set.
CREATE INDEX notification_outbox_lease ON notification_outbox (lease_token) WHERE lease_token IS NOT NULL;
CREATE INDEX response_actions_lease ON response_actions (lease_token) WHERE lease_token IS NOT NULL;

-- When a worker was about to submit the request to the EDR (the intent). A worker that takes the request over and
-- finds it set looks for the action the first one may have created (Defender lists the machine's actions; the
-- request id rides in the action's comment) and adopts it instead of submitting a second one.
ALTER TABLE response_actions ADD COLUMN submitting_since timestamptz;
