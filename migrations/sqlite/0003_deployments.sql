-- Capability A: releases, how each service reaches each environment, deployments with their logs,
-- quarantined versions, and the job table background work is claimed from.

CREATE TABLE releases (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id INTEGER NOT NULL REFERENCES services (id),
    version    TEXT    NOT NULL,
    git_sha    TEXT,
    artifact   TEXT,
    created_at INTEGER NOT NULL,
    CONSTRAINT releases_service_version_key UNIQUE (service_id, version)
);

CREATE TABLE targets (
    service_id        INTEGER NOT NULL REFERENCES services (id),
    environment_id    INTEGER NOT NULL REFERENCES environments (id),
    deployer          TEXT    NOT NULL,
    command           TEXT,
    url               TEXT,
    timeout_s         INTEGER NOT NULL,
    health_url        TEXT,
    watch_s           INTEGER NOT NULL DEFAULT 0,
    failure_threshold INTEGER NOT NULL DEFAULT 3,
    updated_at        INTEGER NOT NULL,
    -- Bumped by every deploy request: the first write of the request's transaction, so two
    -- requests for one target take turns and both see each other's queued deployment.
    request_count     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, environment_id)
);

CREATE TABLE deployments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id     INTEGER NOT NULL REFERENCES services (id),
    environment_id INTEGER NOT NULL REFERENCES environments (id),
    release_id     INTEGER NOT NULL REFERENCES releases (id),
    kind           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    trigger_kind   TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    reason         TEXT,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    finished_at    INTEGER,
    replaced_id    INTEGER REFERENCES deployments (id),
    -- For a rollback: the deployment it rolls back, marked rolled_back when this one succeeds.
    rolls_back_id  INTEGER REFERENCES deployments (id),
    error          TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    log_lines      INTEGER NOT NULL DEFAULT 0
);
-- At most one deployment runs per service and environment, whatever the replicas do.
CREATE UNIQUE INDEX deployments_one_running ON deployments (service_id, environment_id) WHERE status = 'running';
CREATE INDEX deployments_target ON deployments (service_id, environment_id, id);
CREATE INDEX deployments_status ON deployments (status, id);

CREATE TABLE deployment_logs (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    n             INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    stream        TEXT    NOT NULL,
    line          TEXT    NOT NULL,
    PRIMARY KEY (deployment_id, n)
);

CREATE TABLE quarantines (
    service_id     INTEGER NOT NULL REFERENCES services (id),
    environment_id INTEGER NOT NULL REFERENCES environments (id),
    version        TEXT    NOT NULL,
    deployment_id  INTEGER REFERENCES deployments (id),
    reason         TEXT,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (service_id, environment_id, version)
);

-- Background work. A worker claims a due row by writing its lease; while working it renews the
-- lease; a row whose lease ran out belongs to a worker that died and may be claimed again.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    subject_id  INTEGER NOT NULL,
    run_after   INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (done_at, run_after);
