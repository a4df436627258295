# ThreadSanitizer: the pool and the tests of what several threads share, in a build of their own
# (build/tsan: TSan and ASan do not mix). tests/checks/tsan.sh (part of `make test`) runs the
# threaded unit tests and the concurrency tests of the stack against the TSan pool, and fails on
# any report.
TSAN := $(BUILD)/tsan
TSAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=thread -fno-omit-frame-pointer $(CFLAGS)
TSAN_UNITS := test_idtoken test_http test_gauth test_sigv4
TSAN_INTEG := test_concurrency_under_latency test_write_answers test_pool_behind_nginx

$(TSAN)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(TSAN_CFLAGS) -c $< -o $@

$(TSAN)/libclipcore.a: $(CORE_SRC:%.c=$(TSAN)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(TSAN)/libfcgiparts.a: $(FCGI_SRC:%.c=$(TSAN)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(TSAN)/libcliparts.a: $(CLI_SRC:%.c=$(TSAN)/%.o)
	@rm -f $@
	ar rcs $@ $^
$(TSAN)/libsupport.a: $(SUPPORT_SRC:%.c=$(TSAN)/%.o) $(TSAN)/core/err.o
	@rm -f $@
	ar rcs $@ $^

TSAN_LIBS := $(TSAN)/libsupport.a $(TSAN)/libfcgiparts.a $(TSAN)/libcliparts.a \
	$(TSAN)/libclipcore.a $(TSAN)/libsupport.a

$(TSAN)/clipapi-fcgi: $(TSAN)/fcgi/main.o $(TSAN)/libfcgiparts.a $(TSAN)/libclipcore.a
	$(CC) $(TSAN_CFLAGS) -o $@ $^ $(LDLIBS_ALL) -lfcgi
$(TSAN)/tests/%: $(TSAN)/tests/%.o $(TSAN_LIBS)
	$(CC) $(TSAN_CFLAGS) -o $@ $< $(TSAN_LIBS) $(LDLIBS_ALL) -lfcgi -lcunit

tsan: $(TSAN)/clipapi-fcgi $(TSAN_UNITS:%=$(TSAN)/tests/unit/%) \
	$(TSAN_INTEG:%=$(TSAN)/tests/integration/%)
TEST_PREREQS += tsan
.PHONY: tsan
