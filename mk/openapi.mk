# openapi: docs/openapi.yaml is checked by tests/checks/openapi-conformance.sh (structure against
# fcgi/router.c and core, real answers of tests/integration/test_openapi_responses.c against the
# schemas) with Debian's python3-yaml and python3-jsonschema (Draft 2020-12).
APT_PKGS += python3-yaml python3-jsonschema
