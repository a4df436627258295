# Live updates (issue 17): nginx's nchan module holds the Server-Sent Event streams (the local
# template and the production site load it), redis-server lets the tests run two nginx as two VMs
# on one Redis (nchan's Redis mode, nginx/clipapi/events-redis.conf), chromium is the real browser
# of the demo page's test (driven by npm playwright-core), and tests/events holds the Node clients
# of the tests (npm eventsource and playwright-core, pinned by its lock file).
APT_PKGS += libnginx-mod-nchan redis-server chromium
NPM_DIRS += tests/events
