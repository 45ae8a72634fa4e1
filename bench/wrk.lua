-- wrk script for the benchmark: authenticates every request and walks a list of paths.
-- Environment: BENCH_AUTH (a whole "Authorization" header value) or BENCH_COOKIE (a "Cookie" value);
-- BENCH_PATHS, a file with one request path per line (each thread starts at a different line).
-- done() prints one JSON line with the run's figures for bench/http.py to read.

local paths = {}
local index = 0

function setup(thread)
  thread:set("offset", math.random(1, 1000))
end

function init(args)
  local auth = os.getenv("BENCH_AUTH")
  local cookie = os.getenv("BENCH_COOKIE")
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
  if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
  for line in io.lines(os.getenv("BENCH_PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  index = (offset or 0) % #paths
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
