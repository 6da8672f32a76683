-- Incident ownership (issue 17): the analyst an incident is assigned to, for the SOC's "mine" and "unassigned" lists.
ALTER TABLE incident_view ADD COLUMN assignee text;
CREATE INDEX incident_view_assignee ON incident_view (assignee, opened_at DESC) WHERE assignee IS NOT NULL;
