-- Foundation: people, machine tokens, the audit trail and the event outbox.
-- Times are Unix milliseconds (INTEGER) so one SQL text works on SQLite and PostgreSQL.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at      INTEGER NOT NULL,
    last_sign_in_at INTEGER,
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash   TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
);
-- A name identifies one live token; revoked ones keep their name for the record.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- Append-only: nothing updates or deletes audit rows.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    reason TEXT,
    detail TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_action_id ON audit (action, id);
CREATE INDEX audit_actor_id ON audit (actor, id);

-- Transactional outbox: written in the same transaction as the change it announces.
CREATE TABLE event (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    at    INTEGER NOT NULL,
    topic TEXT    NOT NULL,
    type  TEXT    NOT NULL,
    data  TEXT    NOT NULL
);
