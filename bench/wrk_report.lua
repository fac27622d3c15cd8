-- bench/wrk_report.lua — prints one machine-readable line when wrk finishes.
-- Only a done() hook: wrk keeps its fast path (no Lua per request or per response), unless
-- WRK_DELAY_MS (bench/run.sh --rate) asks each connection to wait that long after each response.
local pace = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pace and pace > 0 then
  delay = function() return pace end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKRESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
