-- Capability D: feature flags. The definition is app::flags::Flag as JSON (variants, rules,
-- rollout, environment settings, kill switch); every change keeps the whole definition in
-- flag_history, so the flag's page shows what changed and a change can be undone.
CREATE TABLE flags (
    key        TEXT    PRIMARY KEY,
    definition TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL
);

CREATE TABLE flag_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    flag_key   TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    reason     TEXT,
    definition TEXT    NOT NULL
);
CREATE INDEX flag_history_by_key ON flag_history (flag_key, id);

-- The environment a token evaluates flags for when the context names none; NULL: the flag's
-- base settings.
ALTER TABLE api_tokens ADD COLUMN environment TEXT;
