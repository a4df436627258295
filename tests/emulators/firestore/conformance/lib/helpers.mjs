// Shared set-up of the conformance tests: where the emulator is, resetting it between tests,
// and showing the requests the emulator refused when an official client call fails.
// The same tests run on Google's emulator (the second pass of tests/run, which sets
// CLIPAPI_GOOGLE_FIRESTORE_HOST): there only the documents reset exists, and the tests that need
// our emulator (fault rules, index enforcement) are skipped as "ours only".
import assert from 'node:assert/strict';

const hostport = process.env.FIRESTORE_EMULATOR_HOST;
if (!hostport) {
  throw new Error('FIRESTORE_EMULATOR_HOST is not set: run tests/checks/firestore-emulator-conformance.sh, ' +
    'or start tests/emulators/firestore/serve yourself and export FIRESTORE_EMULATOR_HOST=127.0.0.1:PORT');
}
export const HOST = hostport.split(':')[0];
export const PORT = Number(hostport.split(':')[1]);
const BASE = `http://${hostport}`;
export const GOOGLE = Boolean(process.env.CLIPAPI_GOOGLE_FIRESTORE_HOST);

// A project of this test file's own (Google's emulator is shared by the whole test run).
export function project(name) {
  return GOOGLE ? `${name}-${process.pid}` : name;
}

// Options of a test that needs our emulator: skipped on Google's, saying why.
export function oursOnly(why) {
  return GOOGLE ? { skip: `ours only: ${why}` } : {};
}

export async function admin(method, path, body) {
  const res = await fetch(BASE + path, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`emulator admin ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

export async function reset(projectId) {
  await admin('DELETE', `/emulator/v1/projects/${projectId}/databases/(default)/documents`);
  if (GOOGLE) return;
  await admin('DELETE', '/emulator/v1/faults');
  await admin('DELETE', '/emulator/v1/requests');
}

// Runs fn (a test body using an official client). Afterwards every request the emulator answered
// with an error must be one the test expected (by HTTP status); otherwise, or when fn throws, the
// test fails with the refused requests (method, path, body, response) in its message.
export async function served(expectedStatuses, fn) {
  if (GOOGLE) return fn(); // no request log: a refused request shows as the client's error
  await admin('DELETE', '/emulator/v1/requests');
  let failure = null;
  try {
    await fn();
  } catch (e) {
    failure = e;
  }
  const { requests } = await admin('GET', '/emulator/v1/requests?errors=1');
  const unexpected = requests.filter((r) => !expectedStatuses.includes(r.status));
  if (failure || unexpected.length) {
    const shown = (failure ? requests : unexpected).map((r) =>
      `  ${r.method} ${r.path} -> ${r.status}\n    request: ${r.body || ''}\n    response: ${r.response || ''}`).join('\n');
    const why = failure ? `client call failed: ${failure.stack || failure}` : 'the emulator refused requests the test did not expect';
    assert.fail(`${why}\nrequests the emulator answered with an error:\n${shown || '  (none)'}`);
  }
}

export async function expectError(promise, check) {
  try {
    await promise;
  } catch (e) {
    check(e);
    return e;
  }
  assert.fail('expected the call to fail');
}
