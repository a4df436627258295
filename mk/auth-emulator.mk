# The Firebase Auth emulator (npm firebase-tools, pinned in tests/emulators/auth with its lock file)
# for tests/integration/test_auth_emulator_interop.c: `make deps` installs it with `npm ci`.
NPM_DIRS += tests/emulators/auth
