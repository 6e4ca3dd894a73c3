-- Capability A: releases, how each service reaches each environment, deployments with their logs,
-- quarantined versions, and the job table background work is claimed from.

CREATE TABLE releases (
    id         BIGSERIAL PRIMARY KEY,
    service_id BIGINT NOT NULL REFERENCES services (id),
    version    TEXT    NOT NULL,
    git_sha    TEXT,
    artifact   TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT releases_service_version_key UNIQUE (service_id, version)
);

CREATE TABLE targets (
    service_id        BIGINT NOT NULL REFERENCES services (id),
    environment_id    BIGINT NOT NULL REFERENCES environments (id),
    deployer          TEXT    NOT NULL,
    command           TEXT,
    url               TEXT,
    timeout_s         BIGINT NOT NULL,
    health_url        TEXT,
    watch_s           BIGINT NOT NULL DEFAULT 0,
    failure_threshold BIGINT NOT NULL DEFAULT 3,
    updated_at        BIGINT NOT NULL,
    -- Bumped by every deploy request: the first write of the request's transaction, so two
    -- requests for one target take turns and both see each other's queued deployment.
    request_count     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, environment_id)
);

CREATE TABLE deployments (
    id             BIGSERIAL PRIMARY KEY,
    service_id     BIGINT NOT NULL REFERENCES services (id),
    environment_id BIGINT NOT NULL REFERENCES environments (id),
    release_id     BIGINT NOT NULL REFERENCES releases (id),
    kind           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    trigger_kind   TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    reason         TEXT,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    replaced_id    BIGINT REFERENCES deployments (id),
    -- For a rollback: the deployment it rolls back, marked rolled_back when this one succeeds.
    rolls_back_id  BIGINT REFERENCES deployments (id),
    error          TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    log_lines      BIGINT NOT NULL DEFAULT 0
);
-- At most one deployment runs per service and environment, whatever the replicas do.
CREATE UNIQUE INDEX deployments_one_running ON deployments (service_id, environment_id) WHERE status = 'running';
CREATE INDEX deployments_target ON deployments (service_id, environment_id, id);
CREATE INDEX deployments_status ON deployments (status, id);

CREATE TABLE deployment_logs (
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    n             BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    stream        TEXT    NOT NULL,
    line          TEXT    NOT NULL,
    PRIMARY KEY (deployment_id, n)
);

CREATE TABLE quarantines (
    service_id     BIGINT NOT NULL REFERENCES services (id),
    environment_id BIGINT NOT NULL REFERENCES environments (id),
    version        TEXT    NOT NULL,
    deployment_id  BIGINT REFERENCES deployments (id),
    reason         TEXT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (service_id, environment_id, version)
);

-- Background work. A worker claims a due row by writing its lease; while working it renews the
-- lease; a row whose lease ran out belongs to a worker that died and may be claimed again.
CREATE TABLE jobs (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    subject_id  BIGINT NOT NULL,
    run_after   BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    attempts    BIGINT NOT NULL DEFAULT 0,
    done_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (done_at, run_after);
