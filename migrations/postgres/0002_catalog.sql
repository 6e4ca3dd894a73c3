-- Capability A, first part: what is deployed (services) and where (ordered environments).

CREATE TABLE services (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT,
    owner       TEXT,
    repo_url    TEXT,
    created_at  BIGINT NOT NULL,
    CONSTRAINT services_name_key UNIQUE (name)
);

CREATE TABLE environments (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- Pipeline order: promote moves a release to the next rank, so two may not share one.
    rank       BIGINT NOT NULL,
    protected  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    CONSTRAINT environments_name_key UNIQUE (name),
    CONSTRAINT environments_rank_key UNIQUE (rank)
);
