-- Each new build wrote nine b-trees: the table and eight indexes, three pairs of them the same
-- keys twice, once over every build and once (partial) over finished ones. With branches,
-- authors and source ids spread over the indexes, a commit of 64 builds dirtied about 320 pages,
-- 20 KB of WAL per build, and `POST /builds` waited on the disk (70 MB/s written at 3,700
-- builds/s, 12 % iowait). One index per key now serves both: the finished-only reads of a
-- prior filter on `status`, which the index holds, so they stay scans of the index alone, and
-- `id` follows `started_at` so ties still come newest id first. New builds/s went from 3,700 to
-- 4,400-4,900 on the same binary (SQLite); a prior read from SQL (`POST /builds/predict`, a new branch)
-- costs about 35 µs more (186 against 151 µs, Python's sqlite3 on the demo's builds).
-- The same on both databases, as every migration (PostgreSQL's index-only scans skip the rows
-- of running builds the same way).
DROP INDEX builds_by_pipeline;
DROP INDEX builds_finished_by_branch;
CREATE INDEX builds_by_branch ON builds (pipeline, branch, started_at, id, status);
DROP INDEX builds_by_author;
DROP INDEX builds_finished_by_author;
CREATE INDEX builds_by_author ON builds (author, started_at, id, status);
DROP INDEX builds_by_pipeline_start;
DROP INDEX builds_finished_by_pipeline;
CREATE INDEX builds_by_pipeline ON builds (pipeline, started_at, id, status);
