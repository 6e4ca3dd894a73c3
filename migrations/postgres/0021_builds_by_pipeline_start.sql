-- The build lists (a pipeline's page, GET /builds?pipeline=) are newest first by start.
CREATE INDEX builds_by_pipeline_start ON builds (pipeline, started_at);
