-- wrk script for the scoring measurement: POSTs BENCH_BODY_FILE's bytes with an optional
-- Authorization header, and prints one JSON line of results (requests, non-200 answers,
-- latency percentiles in ms) that bench/scoring.mjs reads.
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTHORIZATION")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests":%d,"errors":%d,"seconds":%.6f,"p50":%.4f,"p99":%.4f}\n',
    summary.requests, bad, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
