-- Loaded by bench/video-info.sh's wrk scripts: with BENCH_PACE_MS set, every connection waits a
-- random 0..2*BENCH_PACE_MS ms before each request (an offered load of about connections /
-- BENCH_PACE_MS per ms, below capacity: latency without the queueing of a saturated run); at the
-- end, wrk's figures as `key value` lines (latencies in microseconds).
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "")
if pace and pace > 0 then
    math.randomseed(tonumber(tostring({}):match("0x(%x+)") or "1", 16) % 2147483647)
    delay = function()
        return math.random(0, 2 * pace)
    end
end

done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("wrk_requests %d\nwrk_duration_us %d\nwrk_p50_us %d\nwrk_p99_us %d\n" ..
        "wrk_max_us %d\nwrk_non2xx %d\nwrk_socket_errors %d\n", summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99), latency.max, e.status,
        e.connect + e.read + e.write + e.timeout))
end
