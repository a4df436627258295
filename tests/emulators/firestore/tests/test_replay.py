"""Replays, in order, every request the official clients sent in the reference capture
(tests/client-requests.jsonl, copied from the team's shared reference: @google-cloud/firestore
8.7.1 preferRest and firebase 12.19.0 lite) with their headers, and checks each answer."""
import json
import os
import unittest

from tests.client import Client

HERE = os.path.dirname(os.path.abspath(__file__))
# Steps whose captured request cannot succeed on a fresh database, and the answer Firestore gives.
EXPECTED = {
    'admin-create-existing': (409, 'ALREADY_EXISTS'),
    'admin-update-missing': (404, 'NOT_FOUND'),
    'lite-update-missing': (404, 'NOT_FOUND'),
}
# Requests that carry state of the capture session (a transaction id, an updateTime precondition).
SESSION_BOUND = {
    ('admin-delete-precondition', ':commit'): (400, 'FAILED_PRECONDITION'),
    ('admin-transaction', ':commit'): (400, 'INVALID_ARGUMENT'),
    ('lite-transaction', ':commit'): (400, 'FAILED_PRECONDITION'),
}


class ReplayTest(unittest.TestCase):
    def test_replay_reference_requests(self):
        c = Client('demo-clip')
        c.reset()
        # the capture's queries need composite indexes of their own; indexes are tested elsewhere
        self.assertEqual(c.req('PUT', '/emulator/v1/indexes?check=off')[0], 200)
        try:
            self.replay(c)
        finally:
            c.req('PUT', '/emulator/v1/indexes?check=on')
            c.reset()
            c.close()

    def replay(self, c):
        with open(os.path.join(HERE, 'client-requests.jsonl')) as f:
            reqs = [json.loads(line) for line in f if line.strip()]
        self.assertGreater(len(reqs), 30)
        for r in reqs:
            body = json.dumps(r['body']) if r.get('body') is not None else None
            headers = {k: v for k, v in r['headers'].items() if k.lower() != 'content-length'}
            if body is None:
                headers.pop('content-type', None)
            s, data, _ = c.raw(r['method'], r['path'], body, headers)
            answer = json.loads(data) if data else None
            want = EXPECTED.get(r['step'])
            for (step, verb), w in SESSION_BOUND.items():
                if r['step'] == step and verb in r['path']:
                    want = w
            where = '%s %s %s -> %d %s' % (r['step'], r['method'], r['path'], s, data[:300])
            if want is None:
                self.assertEqual(s, 200, where)
                if r['path'].split('?')[0].endswith((':batchGet', ':runQuery', ':runAggregationQuery')):
                    self.assertIsInstance(answer, list, where)
                    self.assertTrue(all('readTime' in e for e in answer if set(e) != {'transaction'}), where)
            else:
                self.assertEqual((s, answer['error']['status']), want, where)
        # end state: the lite session's final writes are visible
        s, d = c.get('r/x')
        self.assertEqual((s, d['fields']), (200, {'a': {'integerValue': '1'}}))


if __name__ == '__main__':
    unittest.main()
