# s3: the signature-checking local S3 server (@20minutes/s3rver, pinned by tests/emulators/s3's lock
# file) that tests/integration/test_r2_s3rver.c starts, and that `make run` can start through
# tests/emulators/s3/serve (prints "ready HOST:PORT"; credentials S3RVER / S3RVER).
NPM_RUN_DIRS += tests/emulators/s3
