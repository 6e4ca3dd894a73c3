-- Capability C: CI builds, one row per run of a pipeline, keyed by its sender's own id so a
-- repeated delivery updates it. The prediction made when it arrived stays with it and is
-- scored when it finishes.
CREATE TABLE builds (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
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
    files_changed     INTEGER,
    lines_added       INTEGER,
    lines_deleted     INTEGER,
    started_at        INTEGER NOT NULL,
    finished_at       INTEGER,
    duration_s        REAL,
    status            TEXT    NOT NULL,
    tests_total       INTEGER,
    tests_failed      INTEGER,
    coverage          REAL,
    url               TEXT,
    predicted_failure REAL,
    predicted_outcome TEXT,
    baseline_outcome  TEXT,
    model_version     INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX builds_by_pipeline ON builds (pipeline, branch, started_at);
CREATE INDEX builds_by_author ON builds (author, started_at);
CREATE INDEX builds_by_start ON builds (started_at);

-- Trained failure predictors, newest last; the model is its parameters as JSON.
CREATE TABLE build_models (
    version    INTEGER PRIMARY KEY AUTOINCREMENT,
    trained_at INTEGER NOT NULL,
    samples    INTEGER NOT NULL,
    evaluation TEXT    NOT NULL,
    model      TEXT    NOT NULL
);
