-- Capability D: Flightdeck's own health, one sample a minute per replica, kept 30 days.
CREATE TABLE system_health (
    id             BIGSERIAL PRIMARY KEY,
    at             BIGINT  NOT NULL,
    replica        TEXT    NOT NULL,
    db_bytes       BIGINT  NOT NULL,
    pool_in_use    BIGINT  NOT NULL,
    pool_size      BIGINT  NOT NULL,
    requests       BIGINT  NOT NULL,
    requests_per_s DOUBLE PRECISION NOT NULL,
    errors_5xx     BIGINT  NOT NULL,
    p99_ms         DOUBLE PRECISION NOT NULL,
    ws_clients     BIGINT  NOT NULL,
    event_lag_ms   BIGINT  NOT NULL,
    rss_bytes      BIGINT  NOT NULL
);
CREATE INDEX system_health_by_time ON system_health (at);
