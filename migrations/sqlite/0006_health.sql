-- Capability B: components and their probe checks, SLOs with their event counts, alerts with
-- their history, silences, notification channels, escalation policies and notifications.

CREATE TABLE components (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    service_id      INTEGER REFERENCES services (id),
    environment_id  INTEGER REFERENCES environments (id),
    -- The probe spec as JSON (app::health::component::ProbeSpec).
    probe           TEXT    NOT NULL,
    interval_s      INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    status_reason   TEXT    NOT NULL,
    status_since    INTEGER NOT NULL,
    last_checked_at INTEGER,
    last_latency_ms INTEGER,
    -- The prober claims a due component by moving this forward in one conditional UPDATE, so two
    -- replicas never probe the same component twice in one interval.
    next_check_at   INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    CONSTRAINT components_name_key UNIQUE (name)
);
CREATE INDEX components_due ON components (next_check_at);

-- Raw checks, kept for a bounded time (the prober deletes old rows).
CREATE TABLE probe_results (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    component_id INTEGER NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    at           INTEGER NOT NULL,
    ok           INTEGER NOT NULL,
    latency_ms   INTEGER,
    detail       TEXT    NOT NULL
);
CREATE INDEX probe_results_component_at ON probe_results (component_id, at);

CREATE TABLE slos (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id           INTEGER NOT NULL REFERENCES services (id),
    name                 TEXT    NOT NULL,
    description          TEXT,
    sli                  TEXT    NOT NULL,
    component_id         INTEGER REFERENCES components (id),
    good_query           TEXT,
    total_query          TEXT,
    latency_threshold_ms INTEGER,
    objective            DOUBLE PRECISION NOT NULL,
    window_days          INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    -- The latest evaluation as JSON (app::health::slo::Evaluation), its time and any error.
    evaluation           TEXT,
    evaluated_at         INTEGER,
    evaluation_error     TEXT,
    -- The severity of the rules firing at the last evaluation: NULL, 'page' or 'ticket'.
    firing               TEXT,
    CONSTRAINT slos_service_name_key UNIQUE (service_id, name)
);

-- Good and total events per SLO (probe-based SLIs): per minute for the short burn windows (kept
-- a day), per hour for the long windows and the budget (kept for the longest SLO window).
CREATE TABLE slo_minutes (
    slo_id INTEGER NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    minute INTEGER NOT NULL,
    good   INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (slo_id, minute)
);
CREATE TABLE slo_hours (
    slo_id INTEGER NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    hour   INTEGER NOT NULL,
    good   INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (slo_id, hour)
);

CREATE TABLE channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    -- slack | webhook | email
    kind       TEXT    NOT NULL,
    -- The URL (slack, webhook) or the comma-separated addresses (email). A Slack URL holds a
    -- secret: it is never sent back whole.
    target     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT channels_name_key UNIQUE (name)
);

CREATE TABLE escalation_policies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    -- Which alerts it covers, as JSON label matchers; the first policy by rank that matches wins.
    matchers   TEXT    NOT NULL,
    rank       INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT escalation_policies_name_key UNIQUE (name)
);

CREATE TABLE escalation_steps (
    policy_id  INTEGER NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    -- Seconds after the previous step (the first: after the alert opened).
    delay_s    INTEGER NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels (id),
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE silences (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    matchers   TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    comment    TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at);

CREATE TABLE alerts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint        TEXT    NOT NULL,
    source             TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    severity           TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    summary            TEXT,
    labels             TEXT    NOT NULL,
    annotations        TEXT    NOT NULL,
    generator_url      TEXT,
    starts_at          INTEGER NOT NULL,
    -- When the source expects it to end unless it is sent again (Prometheus sets it): an alert
    -- past it that was not re-sent is resolved as expired, as Alertmanager does.
    ends_at            INTEGER,
    first_seen         INTEGER NOT NULL,
    last_seen          INTEGER NOT NULL,
    -- When it last became open (first firing or firing again after being resolved): the feed's order.
    opened_at          INTEGER NOT NULL,
    fire_count         INTEGER NOT NULL,
    silenced_by        INTEGER REFERENCES silences (id),
    acknowledged_by    TEXT,
    acknowledged_at    INTEGER,
    resolved_by        TEXT,
    resolved_at        INTEGER,
    policy_id          INTEGER REFERENCES escalation_policies (id),
    -- Steps of the policy notified so far, and when the next one is due (NULL: none left).
    escalation_level   INTEGER NOT NULL DEFAULT 0,
    next_escalation_at INTEGER,
    updated_at         INTEGER NOT NULL,
    CONSTRAINT alerts_fingerprint_key UNIQUE (fingerprint)
);
CREATE INDEX alerts_feed ON alerts (opened_at, id);
CREATE INDEX alerts_escalation_due ON alerts (next_escalation_at);

CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    note        TEXT
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

-- Outgoing notifications, retried with backoff; their outcome shows on the alert.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id        INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL REFERENCES channels (id),
    -- firing | escalated | resolved
    reason          TEXT    NOT NULL,
    -- pending | sent | failed (gave up)
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_alert ON notifications (alert_id, id);
