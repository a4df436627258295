# make soak: the soak test for SOAK_MINUTES (default 10) instead of the short run of make test.
SOAK_MINUTES ?= 10
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory test-build
	@CLIPAPI_TOP=$(CURDIR) CLIPAPI_BUILD=$(CURDIR)/$(BUILD) SOAK_SECONDS=$$(( $(SOAK_MINUTES) * 60 )) \
		$(BUILD)/san/tests/integration/test_soak
