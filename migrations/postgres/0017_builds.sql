-- Capability C: CI builds, one row per run of a pipeline, keyed by its sender's own id so a
-- repeated delivery updates it. The prediction made when it arrived stays with it and is
-- scored when it finishes.
CREATE TABLE builds (
    id                BIGSERIAL PRIMARY KEY,
    source            TEXT    NOT NULL,
    source_id         TEXT    NOT NULL,
    pipeline          TEXT    NOT NULL,
    repo              TEXT    NOT NULL,
    workflow          TEXT    NOT NULL,
    branch            TEXT    NOT NULL,
    commit_sha        TEXT    NOT NULL,
    author            TEXT,
    trigger_kind      TEXT    NOT NULL,
    message           TEXT,
    files_changed     BIGINT ,
    lines_added       BIGINT ,
    lines_deleted     BIGINT ,
    started_at        BIGINT  NOT NULL,
    finished_at       BIGINT ,
    duration_s        DOUBLE PRECISION,
    status            TEXT    NOT NULL,
    tests_total       BIGINT ,
    tests_failed      BIGINT ,
    coverage          DOUBLE PRECISION,
    url               TEXT,
    predicted_failure DOUBLE PRECISION,
    predicted_outcome TEXT,
    baseline_outcome  TEXT,
    model_version     BIGINT ,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX builds_by_pipeline ON builds (pipeline, branch, started_at);
CREATE INDEX builds_by_author ON builds (author, started_at);
CREATE INDEX builds_by_start ON builds (started_at);

-- Trained failure predictors, newest last; the model is its parameters as JSON.
CREATE TABLE build_models (
    version    BIGSERIAL PRIMARY KEY,
    trained_at BIGINT  NOT NULL,
    samples    BIGINT  NOT NULL,
    evaluation TEXT    NOT NULL,
    model      TEXT    NOT NULL
);
