-- A disabled account: its sessions stop working at once and it cannot sign in until an admin
-- enables it again.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE users ADD COLUMN disabled_by TEXT;
