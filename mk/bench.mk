# The video-info bench (bench/video-info.sh): clipapi against the Python reference (bench/reference/:
# FastAPI + uvicorn from Debian's packages) through the same nginx, both served by the replay backend
# (bench/replay.c) from answers recorded from the Firestore emulator at bench time
# (bench/video_seed.c writes the data set through the repository code); gnuplot draws its picture.
APT_PKGS += python3-fastapi python3-uvicorn python3-uvloop python3-httptools python3-httpx \
	python3-pydantic python3-jwt python3-cryptography python3-botocore wrk gnuplot-nox
VIDEO_BENCH_BINS := $(BUILD)/bench/replay $(BUILD)/bench/video_seed
BENCH_TARGETS += $(VIDEO_BENCH_BINS)

$(BUILD)/bench/replay: bench/replay.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -o $@ $< $(LDFLAGS)

$(BUILD)/bench/video_seed: $(REL)/bench/video_seed.o $(REL)/libclipcore.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS_ALL) $(LDFLAGS)
