"""Fault injection (POST/GET/DELETE /emulator/v1/faults) and the request log."""
import http.client
import socket
import time
import unittest

from tests.client import Client, I


class FaultTest(unittest.TestCase):
    project = 'unit-faults'

    def setUp(self):
        self.c = Client(self.project)
        self.c.reset()
        self.c.set('a/1', {'n': I(1)})

    def tearDown(self):
        self.c.req('DELETE', '/emulator/v1/faults')
        self.c.close()

    def fault(self, **spec):
        s, r = self.c.req('POST', '/emulator/v1/faults', spec)
        self.assertEqual(s, 200, r)
        return r

    def batch_get(self):
        return self.c.req('POST', self.c.base + ':batchGet', {'documents': [self.c.name('a/1')]})

    def test_status_faults_have_google_rpc_status_bodies(self):
        for code, status in ((503, 'UNAVAILABLE'), (429, 'RESOURCE_EXHAUSTED'), (409, 'ABORTED'),
                             (504, 'DEADLINE_EXCEEDED'), (500, 'INTERNAL')):
            self.fault(match=':batchGet', action='status', status=code)
            s, r = self.batch_get()
            self.assertEqual(s, code)
            self.assertEqual(r['error']['code'], code)
            self.assertEqual(r['error']['status'], status)
            self.assertIn('Injected fault', r['error']['message'])
            self.assertEqual(self.batch_get()[0], 200, 'times defaults to 1')

    def test_times_skip_method_and_custom_status(self):
        self.fault(match=r':commit$', times=2, skip=1, action='status', status=400, grpcStatus='FAILED_PRECONDITION',
                   message='custom')
        self.assertEqual(self.c.commit([])[0], 200, 'skip lets the first matching request through')
        s, r = self.c.commit([])
        self.assertEqual((s, r['error']['status'], r['error']['message']), (400, 'FAILED_PRECONDITION', 'custom'))
        self.assertEqual(self.c.commit([])[0], 400)
        self.assertEqual(self.c.commit([])[0], 200)
        self.fault(match='a/1', method='GET', times=-1, action='status', status=503, retryAfter=2)
        s, data, resp = self.c.raw('GET', self.c.base + '/a/1')
        self.assertEqual((s, resp.getheader('Retry-After')), (503, '2'))
        self.assertEqual(self.c.raw('GET', self.c.base + '/a/1')[0], 503, 'times -1 = until cleared')
        self.assertEqual(self.batch_get()[0], 200, 'other methods are not matched')
        s, r = self.c.req('GET', '/emulator/v1/faults')
        self.assertEqual([(f['hits'], f['times']) for f in r['faults']], [(2, 0), (2, -1)])
        self.assertEqual(self.c.req('DELETE', '/emulator/v1/faults'), (200, {}))
        self.assertEqual(self.c.raw('GET', self.c.base + '/a/1')[0], 200)

    def test_delay(self):
        self.fault(match=':batchGet', action='delay', ms=300)
        t0 = time.monotonic()
        s, r = self.batch_get()
        self.assertEqual(s, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        t0 = time.monotonic()
        self.batch_get()
        self.assertLess(time.monotonic() - t0, 0.25)
        self.fault(match=':batchGet', action='status', status=504, ms=200)
        t0 = time.monotonic()
        self.assertEqual(self.batch_get()[0], 504)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2, 'ms delays any action')

    def test_drop_and_reset_close_the_connection_without_an_answer(self):
        self.fault(match=':batchGet', action='drop')
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.batch_get()
        self.c.close()
        self.c = Client(self.project)
        self.assertEqual(self.batch_get()[0], 200)
        self.fault(match=':batchGet', action='reset')
        host, port = self.c.hostport.split(':')
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b'POST ' + self.c.base.encode() + b':batchGet HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}')
        with self.assertRaises(ConnectionResetError):
            while s.recv(4096):
                pass
            raise AssertionError('closed without a reset')
        s.close()

    def test_admin_paths_are_never_faulted_and_bad_specs_refused(self):
        self.fault(match='.', times=-1, action='status', status=503)
        self.assertEqual(self.c.req('GET', '/emulator/v1/faults')[0], 200)
        self.assertEqual(self.c.req('DELETE', '/emulator/v1/faults')[0], 200)
        for spec in ({'action': 'explode'}, {'match': '('}, {'status': 200}, {'times': 'x'}, {'bogus': 1}):
            s, r = self.c.req('POST', '/emulator/v1/faults', spec)
            self.assertEqual((s, r['error']['status']), (400, 'INVALID_ARGUMENT'), spec)

    def test_request_log_shows_refused_requests(self):
        self.c.req('DELETE', '/emulator/v1/requests')
        self.c.commit([], bogus=True)
        self.c.get('a/1')
        s, r = self.c.req('GET', '/emulator/v1/requests?errors=1')
        self.assertEqual(len(r['requests']), 1)
        e = r['requests'][0]
        self.assertEqual((e['method'], e['status']), ('POST', 400))
        self.assertIn('"bogus"', e['body'])
        self.assertIn('Unknown name', e['response'])
        s, r = self.c.req('GET', '/emulator/v1/requests')
        self.assertEqual([x['status'] for x in r['requests']], [400, 200])


if __name__ == '__main__':
    unittest.main()


class ClientGoneTest(unittest.TestCase):
    def test_client_leaving_during_a_delay_is_quiet_and_harmless(self):
        c = Client('unit-faults')
        c.reset()
        c.req('POST', '/emulator/v1/faults', {'match': ':commit', 'action': 'delay', 'ms': 300})
        host, port = c.hostport.split(':')
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b'POST ' + c.base.encode() + b':commit HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}')
        s.close()
        time.sleep(0.4)
        self.assertEqual(c.commit([])[0], 200)
        c.close()
