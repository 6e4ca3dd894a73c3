-- Capability B: components and their probe checks, SLOs with their event counts, alerts with
-- their history, silences, notification channels, escalation policies and notifications.

CREATE TABLE components (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    service_id      BIGINT REFERENCES services (id),
    environment_id  BIGINT REFERENCES environments (id),
    -- The probe spec as JSON (app::health::component::ProbeSpec).
    probe           TEXT    NOT NULL,
    interval_s      BIGINT NOT NULL,
    status          TEXT    NOT NULL,
    status_reason   TEXT    NOT NULL,
    status_since    BIGINT NOT NULL,
    last_checked_at BIGINT,
    last_latency_ms BIGINT,
    -- The prober claims a due component by moving this forward in one conditional UPDATE, so two
    -- replicas never probe the same component twice in one interval.
    next_check_at   BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    CONSTRAINT components_name_key UNIQUE (name)
);
CREATE INDEX components_due ON components (next_check_at);

-- Raw checks, kept for a bounded time (the prober deletes old rows).
CREATE TABLE probe_results (
    id           BIGSERIAL PRIMARY KEY,
    component_id BIGINT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    at           BIGINT NOT NULL,
    ok           BIGINT NOT NULL,
    latency_ms   BIGINT,
    detail       TEXT    NOT NULL
);
CREATE INDEX probe_results_component_at ON probe_results (component_id, at);

CREATE TABLE slos (
    id                   BIGSERIAL PRIMARY KEY,
    service_id           BIGINT NOT NULL REFERENCES services (id),
    name                 TEXT    NOT NULL,
    description          TEXT,
    sli                  TEXT    NOT NULL,
    component_id         BIGINT REFERENCES components (id),
    good_query           TEXT,
    total_query          TEXT,
    latency_threshold_ms BIGINT,
    objective            DOUBLE PRECISION NOT NULL,
    window_days          BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    -- The latest evaluation as JSON (app::health::slo::Evaluation), its time and any error.
    evaluation           TEXT,
    evaluated_at         BIGINT,
    evaluation_error     TEXT,
    -- The severity of the rules firing at the last evaluation: NULL, 'page' or 'ticket'.
    firing               TEXT,
    CONSTRAINT slos_service_name_key UNIQUE (service_id, name)
);

-- Good and total events per SLO (probe-based SLIs): per minute for the short burn windows (kept
-- a day), per hour for the long windows and the budget (kept for the longest SLO window).
CREATE TABLE slo_minutes (
    slo_id BIGINT NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    minute BIGINT NOT NULL,
    good   BIGINT NOT NULL,
    total  BIGINT NOT NULL,
    PRIMARY KEY (slo_id, minute)
);
CREATE TABLE slo_hours (
    slo_id BIGINT NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    hour   BIGINT NOT NULL,
    good   BIGINT NOT NULL,
    total  BIGINT NOT NULL,
    PRIMARY KEY (slo_id, hour)
);

CREATE TABLE channels (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- slack | webhook | email
    kind       TEXT    NOT NULL,
    -- The URL (slack, webhook) or the comma-separated addresses (email). A Slack URL holds a
    -- secret: it is never sent back whole.
    target     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT channels_name_key UNIQUE (name)
);

CREATE TABLE escalation_policies (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- Which alerts it covers, as JSON label matchers; the first policy by rank that matches wins.
    matchers   TEXT    NOT NULL,
    rank       BIGINT NOT NULL,
    created_by TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT escalation_policies_name_key UNIQUE (name)
);

CREATE TABLE escalation_steps (
    policy_id  BIGINT NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    -- Seconds after the previous step (the first: after the alert opened).
    delay_s    BIGINT NOT NULL,
    channel_id BIGINT NOT NULL REFERENCES channels (id),
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE silences (
    id         BIGSERIAL PRIMARY KEY,
    matchers   TEXT    NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    comment    TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at);

CREATE TABLE alerts (
    id                 BIGSERIAL PRIMARY KEY,
    fingerprint        TEXT    NOT NULL,
    source             TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    severity           TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    summary            TEXT,
    labels             TEXT    NOT NULL,
    annotations        TEXT    NOT NULL,
    generator_url      TEXT,
    starts_at          BIGINT NOT NULL,
    -- When the source expects it to end unless it is sent again (Prometheus sets it): an alert
    -- past it that was not re-sent is resolved as expired, as Alertmanager does.
    ends_at            BIGINT,
    first_seen         BIGINT NOT NULL,
    last_seen          BIGINT NOT NULL,
    -- When it last became open (first firing or firing again after being resolved): the feed's order.
    opened_at          BIGINT NOT NULL,
    fire_count         BIGINT NOT NULL,
    silenced_by        BIGINT REFERENCES silences (id),
    acknowledged_by    TEXT,
    acknowledged_at    BIGINT,
    resolved_by        TEXT,
    resolved_at        BIGINT,
    policy_id          BIGINT REFERENCES escalation_policies (id),
    -- Steps of the policy notified so far, and when the next one is due (NULL: none left).
    escalation_level   BIGINT NOT NULL DEFAULT 0,
    next_escalation_at BIGINT,
    updated_at         BIGINT NOT NULL,
    CONSTRAINT alerts_fingerprint_key UNIQUE (fingerprint)
);
CREATE INDEX alerts_feed ON alerts (opened_at, id);
CREATE INDEX alerts_escalation_due ON alerts (next_escalation_at);

CREATE TABLE alert_events (
    id          BIGSERIAL PRIMARY KEY,
    alert_id    BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    note        TEXT
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

-- Outgoing notifications, retried with backoff; their outcome shows on the alert.
CREATE TABLE notifications (
    id              BIGSERIAL PRIMARY KEY,
    alert_id        BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    channel_id      BIGINT NOT NULL REFERENCES channels (id),
    -- firing | escalated | resolved
    reason          TEXT    NOT NULL,
    -- pending | sent | failed (gave up)
    status          TEXT    NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_alert ON notifications (alert_id, id);
