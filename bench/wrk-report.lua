-- wrk's end-of-run figures as `key value` lines (latencies in microseconds) for bench/video-info.sh.
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("wrk_requests %d\nwrk_duration_us %d\nwrk_p50_us %d\nwrk_p99_us %d\n" ..
        "wrk_max_us %d\nwrk_non2xx %d\nwrk_socket_errors %d\n", summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99), latency.max, e.status,
        e.connect + e.read + e.write + e.timeout))
end
