-- SLO counts stored in primary-key order (WITHOUT ROWID): an evaluation round reads every SLO's
-- counts as one ordered scan instead of an index walk plus a table lookup per row.
CREATE TABLE slo_minutes_clustered (
    slo_id INTEGER NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    minute INTEGER NOT NULL,
    good   INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (slo_id, minute)
) WITHOUT ROWID;
INSERT INTO slo_minutes_clustered (slo_id, minute, good, total)
    SELECT slo_id, minute, good, total FROM slo_minutes;
DROP TABLE slo_minutes;
ALTER TABLE slo_minutes_clustered RENAME TO slo_minutes;

CREATE TABLE slo_hours_clustered (
    slo_id INTEGER NOT NULL REFERENCES slos (id) ON DELETE CASCADE,
    hour   INTEGER NOT NULL,
    good   INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (slo_id, hour)
) WITHOUT ROWID;
INSERT INTO slo_hours_clustered (slo_id, hour, good, total)
    SELECT slo_id, hour, good, total FROM slo_hours;
DROP TABLE slo_hours;
ALTER TABLE slo_hours_clustered RENAME TO slo_hours;
