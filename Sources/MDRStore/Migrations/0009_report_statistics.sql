-- Reports count signals per source and severity (docs/reports.md), so the signal statistics gain the severity the
-- source gave the signal when it was received (for an update: the severity it was updated to). The view is rebuilt
-- from the log: the signal-statistics projection's version moves to 2, and the runner replays it on start; the rows
-- are emptied here, with their checkpoints (as a rebuild does), so that no row without a severity is ever read.
TRUNCATE signal_statistics_view;
DELETE FROM projection_checkpoints WHERE projection = 'signal-statistics';
ALTER TABLE signal_statistics_view DROP CONSTRAINT signal_statistics_view_pkey;
ALTER TABLE signal_statistics_view ADD COLUMN severity text NOT NULL;
ALTER TABLE signal_statistics_view ADD PRIMARY KEY (tenant_id, day, source, severity, outcome);
