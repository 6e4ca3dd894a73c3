-- A removed notification channel is kept, renamed and marked, so the notifications it carried
-- still show on their alerts; lists and new escalation steps leave it out.
ALTER TABLE channels ADD COLUMN removed_at INTEGER;
ALTER TABLE channels ADD COLUMN removed_by TEXT;
