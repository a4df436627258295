# The live-updates bench (bench/events.sh, issue 17): its load client holds thousands of Server-Sent
# Event streams over TLS in one process (epoll, OpenSSL), makes the writes and publishes, and times
# every event.
EVENTS_BENCH_BINS := $(BUILD)/bench/events_load
BENCH_TARGETS += $(EVENTS_BENCH_BINS)

$(BUILD)/bench/events_load: bench/events_load.c
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -o $@ $< $(PKG_LIBS) -pthread $(LDFLAGS)
