# The Firestore REST emulator (tests/emulators/firestore): its conformance suite needs Google's
# Node clients, installed by `make deps` with `npm ci` from the committed package-lock.json.
NPM_DIRS += tests/emulators/firestore/conformance
# `make firestore-corpus` re-records the corpora of the differential check of our emulator against
# Google's (tests/checks/firestore-differential/): clipapi's requests from its Firestore suites and
# our emulator's unit tests. Run it under the test lock; commit what changed.
.PHONY: firestore-corpus
firestore-corpus: deps
	@BUILD=$(BUILD) tests/checks/firestore-differential/record
