-- Capability D: Flightdeck's own health, one sample a minute per replica, kept 30 days.
CREATE TABLE system_health (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    replica        TEXT    NOT NULL,
    db_bytes       INTEGER NOT NULL,
    pool_in_use    INTEGER NOT NULL,
    pool_size      INTEGER NOT NULL,
    requests       INTEGER NOT NULL,
    requests_per_s REAL NOT NULL,
    errors_5xx     INTEGER NOT NULL,
    p99_ms         REAL NOT NULL,
    ws_clients     INTEGER NOT NULL,
    event_lag_ms   INTEGER NOT NULL,
    rss_bytes      INTEGER NOT NULL
);
CREATE INDEX system_health_by_time ON system_health (at);
