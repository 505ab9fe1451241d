-- wrk: overload runs. Posts predict_mlp.lua's body (or BODY=file with CONTENT_TYPE), counts the
-- responses per status in each thread and prints, in done(), one line
--   status {"codes":{"200":N,"429":N},"requests":N,"p50_us":..,"p99_us":..,"p999_us":..,"max_us":..,"errors":{...}}
-- A response() hook slows wrk, so the throughput runs do not use this script.
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
wrk.body = '{"values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]}'
if os.getenv("BODY") then
  local f = assert(io.open(os.getenv("BODY"), "rb")); wrk.body = f:read("*a"); f:close()
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  codes = {}
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("codes")) do
      total[code] = (total[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(total) do
    table.insert(parts, string.format('"%d":%d', code, n))
  end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format('status {"codes":{%s},"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
                         '"p999_us":%d,"max_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}}\n',
                         table.concat(parts, ","), summary.requests, summary.duration,
                         latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
                         e.connect, e.read, e.write, e.timeout, e.status))
end
