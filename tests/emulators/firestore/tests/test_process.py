"""The serve entry point: `ready` on stdout, --port-file, --data persistence across a SIGTERM
restart, --no-index-check, refusal of a bad --indexes file."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from tests.client import Client, I, S

SERVE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'serve')


class ServeProcessTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(5)
            p.stdout.close()
            p.stderr.close()
        self.tmp.cleanup()

    def start(self, *args):
        port_file = os.path.join(self.tmp.name, 'port')
        if os.path.exists(port_file):
            os.unlink(port_file)
        p = subprocess.Popen([SERVE, '--host', '127.0.0.1', '--port', '0', '--port-file', port_file] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        self.assertEqual(line, 'ready\n', p.stderr.read() if p.poll() is not None else '')
        with open(port_file) as f:
            port = int(f.read())
        return p, '127.0.0.1:%d' % port

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        self.assertEqual(p.wait(10), 0, p.stderr.read())
        self.assertLess(time.monotonic() - t0, 5)

    def test_data_survives_a_sigterm_restart(self):
        data = os.path.join(self.tmp.name, 'data.json')
        p, host = self.start('--data', data)
        c = Client('demo-persist', host)
        c.set('videos/v1', {'n': I(1), 's': S('é')})
        t = c.get('videos/v1')[1]['updateTime']
        c.close()  # an idle keep-alive connection must not hold up the exit either
        c2 = Client('demo-persist', host)
        c2.get('videos/v1')
        self.stop(p)
        c2.close()
        with open(data) as f:
            self.assertEqual(json.load(f)['databases'][0]['project'], 'demo-persist')
        p, host = self.start('--data', data)
        c = Client('demo-persist', host)
        s, d = c.get('videos/v1')
        self.assertEqual((s, d['fields'], d['updateTime']), (200, {'n': I(1), 's': S('é')}, t))
        r = c.set('videos/v2', {})
        self.assertGreater(r['commitTime'], t, 'commit times keep increasing after a restart')
        c.close()
        self.stop(p)

    def test_no_index_check_flag(self):
        p, host = self.start('--no-index-check')
        c = Client('demo-flags', host)
        s, r = c.query({'from': [{'collectionId': 'x'}], 'where': {'fieldFilter': {
            'field': {'fieldPath': 'a'}, 'op': 'EQUAL', 'value': I(1)}}, 'orderBy': [{'field': {'fieldPath': 'b'}}]})
        self.assertEqual(s, 200, r)
        c.close()
        self.stop(p)

    def test_bad_indexes_file_is_refused(self):
        bad = os.path.join(self.tmp.name, 'bad.json')
        with open(bad, 'w') as f:
            f.write('{"indexes": [{"collectionGroup": "x", "fields": [{"fieldPath": "a"}]}]}')
        r = subprocess.run([SERVE, '--port', '0', '--indexes', bad], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertIn('indexes[0]', r.stderr)
        self.assertEqual(r.stdout, '')


if __name__ == '__main__':
    unittest.main()
