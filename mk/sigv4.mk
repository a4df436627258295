# sigv4 / r2: the presign benchmark program (bench/presign.sh runs it against botocore).
BENCH_TARGETS += $(BUILD)/bench/presign_c

$(BUILD)/bench/presign_c: $(REL)/bench/presign_c.o $(REL)/libclipcore.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS_ALL) $(LDFLAGS)
