-- Capability D: maintenance mode, one row. environments is a JSON list (NULL: all of them);
-- silence_id is the silence that keeps probe alerts from notifying while it is on.
CREATE TABLE maintenance (
    id           INTEGER PRIMARY KEY,
    enabled      INTEGER NOT NULL,
    message      TEXT    NOT NULL,
    environments TEXT,
    until        INTEGER,
    silence_id   INTEGER,
    updated_by   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
);
