-- Capability D: runtime configuration. A value per key and scope, the scope being 'all' or an
-- environment's name; values are JSON text. Sensitive ones are kept here for the apps that read
-- them from the server and never leave through a read, the history, the audit trail or an event.
CREATE TABLE config_values (
    key         TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    sensitive   INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL,
    PRIMARY KEY (key, environment)
);

-- Every change with the value before and after it, so one can be undone from the page.
CREATE TABLE config_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    reason      TEXT,
    sensitive   INTEGER NOT NULL,
    old_value   TEXT,
    new_value   TEXT
);
CREATE INDEX config_history_by_key ON config_history (key, environment, id);
