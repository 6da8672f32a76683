-- The live feed (EventFeed, GET /v1/stream): every tenant's incident, device, SLA and notification events in the order
-- (recorded_at, tenant_id, position). Partial on the types the feed carries, so appending signals (and the
-- correlator's SignalAttached, one per correlated signal) costs it nothing.
-- The list is EventFeed.types; a type added there is added here by a later migration.
CREATE INDEX events_feed ON events (recorded_at, tenant_id, position)
    WHERE type IN ('IncidentOpened', 'IncidentPriorityRaised', 'IncidentConfirmed', 'IncidentDismissed',
                   'IncidentResolved', 'IncidentAbsorbed', 'IncidentMerged', 'IncidentAssigned', 'DeviceIsolationRequested',
                   'DeviceIsolated', 'DeviceIsolationFailed', 'DeviceReleaseRequested', 'DeviceReleased', 'DeviceReleaseFailed',
                   'FileQuarantineRequested', 'FileQuarantined', 'FileQuarantineFailed', 'SlaBreached', 'NotificationFailed');
