-- Signed-in GET requests for wrk, cycling through one or more paths.
--
--   wrk -t2 -c16 -d10s -s benchmarks/load.lua http://127.0.0.1:PORT -- COOKIE PATH [PATH...]
--
-- COOKIE is the session cookie ("session=...") or "-" for none. The User-Agent is the one
-- the benchmark signed in with: the portal's sessions are bound to it (Flask-Login's
-- "strong" protection). done() prints one line of JSON after "BENCH_JSON ".

local cookie = "-"
local paths = {}
local counter = 0

function init(args)
  cookie = args[1] or "-"
  for i = 2, #args do
    paths[#paths + 1] = args[i]
  end
  if #paths == 0 then
    paths[1] = "/"
  end
  -- Threads start at different places in the list.
  counter = math.random(#paths)
end

function request()
  counter = counter + 1
  local headers = { ["User-Agent"] = "portal-bench", ["Accept"] = "text/html,*/*" }
  if cookie ~= "-" then
    headers["Cookie"] = cookie
  end
  return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
