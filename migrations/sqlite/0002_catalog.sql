-- Capability A, first part: what is deployed (services) and where (ordered environments).

CREATE TABLE services (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    description TEXT,
    owner       TEXT,
    repo_url    TEXT,
    created_at  INTEGER NOT NULL,
    CONSTRAINT services_name_key UNIQUE (name)
);

CREATE TABLE environments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    -- Pipeline order: promote moves a release to the next rank, so two may not share one.
    rank       INTEGER NOT NULL,
    protected  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CONSTRAINT environments_name_key UNIQUE (name),
    CONSTRAINT environments_rank_key UNIQUE (rank)
);
