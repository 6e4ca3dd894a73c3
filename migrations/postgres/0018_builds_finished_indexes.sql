-- Every new build's prediction reads what came before it: the latest finished builds of its
-- branch, of its author and of its pipeline. These indexes hold finished builds only, so each
-- read is a short ordered scan of the index alone, however many builds are queued or running, and however many a
-- pipeline has on other branches.
CREATE INDEX builds_finished_by_branch ON builds (pipeline, branch, started_at, status) WHERE status IN ('success', 'failure');
CREATE INDEX builds_finished_by_author ON builds (author, started_at, status) WHERE status IN ('success', 'failure');
CREATE INDEX builds_finished_by_pipeline ON builds (pipeline, started_at, status) WHERE status IN ('success', 'failure');
