-- Every stretch of maintenance, kept so that PromQL SLOs can leave what happened during it out
-- of their error budgets (probe SLOs never count checks made during maintenance). A change of
-- the covered environments ends one period and starts the next. environments is a JSON list
-- (NULL: all of them).
CREATE TABLE maintenance_periods (
    id           BIGSERIAL PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT,
    until        BIGINT,
    environments TEXT
);
CREATE INDEX maintenance_periods_by_end ON maintenance_periods (ended_at);
