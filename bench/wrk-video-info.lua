-- GET /api/videos/{id} with the bench user's ID token (BENCH_TOKEN) for bench/video-info.sh.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
dofile(os.getenv("BENCH_WRK_REPORT"))
