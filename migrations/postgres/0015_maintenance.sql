-- Capability D: maintenance mode, one row. environments is a JSON list (NULL: all of them);
-- silence_id is the silence that keeps probe alerts from notifying while it is on.
CREATE TABLE maintenance (
    id           BIGINT  PRIMARY KEY,
    enabled      BOOLEAN NOT NULL,
    message      TEXT    NOT NULL,
    environments TEXT,
    until        BIGINT ,
    silence_id   BIGINT ,
    updated_by   TEXT    NOT NULL,
    updated_at   BIGINT  NOT NULL
);
