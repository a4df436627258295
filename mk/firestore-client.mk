# The Firestore client's bench program (bench/fs_bench.c, run by bench/firestore.sh): an optimised
# build linked with the release libclipcore, so the figures are what a worker does.
FS_BENCH := $(BUILD)/bench/fs_bench
BENCH_TARGETS += $(FS_BENCH)

$(FS_BENCH): bench/fs_bench.c $(REL)/libclipcore.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -o $@ $< $(REL)/libclipcore.a $(LDLIBS_ALL)
