-- Resolved alerts older than the retention (FLIGHTDECK_ALERT_RETENTION_DAYS) are deleted with
-- their history and notifications; this finds them without reading every alert.
CREATE INDEX alerts_resolved ON alerts (resolved_at);
