// sse-client: one EventSource (npm eventsource, the WHATWG client) on a clipapi event stream, for
// the live-update tests. Prints one JSON line per thing that happens, with the wall-clock time in
// milliseconds (t), so that a test can read the log:
//   {"t":..,"type":"open"}
//   {"t":..,"type":"clip"|"video","id":"<Last-Event-ID>","data":"<the event's data>"}
//   {"t":..,"type":"error","code":<HTTP status or null>,"message":..,"closed":true|false}
// and exits 3 when the EventSource gives up (an answer that is not a stream), 0 after --events N.
//
// node sse-client.mjs URL [--token ID_TOKEN] [--last-event-id ID] [--events N]
//   --token          sends Authorization: Bearer ID_TOKEN (what a non-browser client does)
//   --last-event-id  sends Last-Event-ID on the first connect (EventSource itself sends it on its
//                    reconnects)
// TLS: the local stack's self-signed certificate is trusted through NODE_EXTRA_CA_CERTS.
import { EventSource } from 'eventsource';

const argv = process.argv.slice(2);
const url = argv.shift();
const opt = {};
while (argv.length) {
  const k = argv.shift();
  if (!k.startsWith('--') || !argv.length) {
    console.error(`sse-client: bad argument ${k}`);
    process.exit(2);
  }
  opt[k.slice(2)] = argv.shift();
}
const wanted = opt.events ? Number(opt.events) : Infinity;

function say(o) {
  process.stdout.write(JSON.stringify({ t: Date.now(), ...o }) + '\n');
}

let first = true;
const es = new EventSource(url, {
  fetch: (input, init) => {
    const headers = new Headers(init.headers);
    if (opt.token) headers.set('Authorization', `Bearer ${opt.token}`);
    if (first && opt['last-event-id']) headers.set('Last-Event-ID', opt['last-event-id']);
    first = false;
    return fetch(input, { ...init, headers });
  },
});

let got = 0;
es.onopen = () => say({ type: 'open' });
for (const type of ['clip', 'video']) {
  es.addEventListener(type, (e) => {
    say({ type, id: e.lastEventId, data: e.data });
    if (++got >= wanted) {
      es.close();
      process.exit(0);
    }
  });
}
// Anything nchan or clipapi might send without one of our names would show up here.
es.onmessage = (e) => say({ type: 'message', id: e.lastEventId, data: e.data });
es.onerror = (e) => {
  const closed = es.readyState === EventSource.CLOSED;
  say({ type: 'error', code: e.code ?? null, message: e.message ?? null, closed });
  if (closed) process.exit(3);
};
process.on('SIGTERM', () => {
  es.close();
  process.exit(0);
});
