-- wrk: POST /api/v1/builds, every request a new finished build (its own source id), so every
-- answer is a 201 whose build was read a prior, predicted and inserted: the path the 5,000
-- builds/s target is about. 4 pipelines, 40 branches, 12 authors, one in five a failure.
-- Needs TOKEN (an operator's API token) in the environment.
-- Globals, not locals: wrk runs this file once per thread, and setup() sets each thread's `tid`.
counter = 0
tid = 0

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end

function init(args)
  math.randomseed(tid * 7919)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

request = function()
  counter = counter + 1
  local n = counter
  local failed = math.random() < 0.2
  local started = 1796000000000 + (n * 2 + tid) * 1000
  local body = string.format(
    '{"pipeline":"acme/p%d/ci","branch":"feature-%d","commit":"%08x","author":"dev%d","trigger":"push",' ..
    '"message":"change %d","files_changed":%d,"lines_added":%d,"lines_deleted":%d,"started_at":%d,' ..
    '"finished_at":%d,"status":"%s","tests_total":100,"tests_failed":%d,"source_id":"wrk-%d-%d"}',
    n % 4, n % 40, (n * 2654435761) % 4294967296, n % 12, n, n % 20, n % 500, n % 90, started,
    started + 60000, failed and "failure" or "success", failed and 3 or 0, tid, n)
  return wrk.format(nil, "/api/v1/builds", nil, body)
end
