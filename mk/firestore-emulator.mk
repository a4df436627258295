# The Firestore REST emulator (tests/emulators/firestore): its conformance suite needs Google's
# Node clients, installed by `make deps` with `npm ci` from the committed package-lock.json.
NPM_DIRS += tests/emulators/firestore/conformance
