-- Foundation: people, machine tokens, the audit trail and the event outbox.
-- Times are Unix milliseconds (BIGINT) so one SQL text works on SQLite and PostgreSQL.

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT   NOT NULL,
    password_hash   TEXT   NOT NULL,
    role            TEXT   NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at      BIGINT NOT NULL,
    last_sign_in_at BIGINT,
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT   NOT NULL,
    role         TEXT   NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash   TEXT   NOT NULL,
    prefix       TEXT   NOT NULL,
    created_by   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE audit (
    id     BIGSERIAL PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT   NOT NULL,
    action TEXT   NOT NULL,
    target TEXT   NOT NULL,
    reason TEXT,
    detail TEXT   NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_action_id ON audit (action, id);
CREATE INDEX audit_actor_id ON audit (actor, id);

CREATE TABLE event (
    seq   BIGSERIAL PRIMARY KEY,
    at    BIGINT NOT NULL,
    topic TEXT   NOT NULL,
    type  TEXT   NOT NULL,
    data  TEXT   NOT NULL
);
