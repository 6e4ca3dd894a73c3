-- A failed deployment a person has dismissed: they saw it, the version before it still serves,
-- and the environment matrix shows that version again instead of the failure.
ALTER TABLE deployments ADD COLUMN dismissed_at INTEGER;
ALTER TABLE deployments ADD COLUMN dismissed_by TEXT;
