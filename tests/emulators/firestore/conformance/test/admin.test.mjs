// @google-cloud/firestore 8.7.1 with preferRest (HTTP/1.1 + JSON) against the emulator.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { reset, served, expectError, admin, project, oursOnly, GOOGLE } from '../lib/helpers.mjs';

const require = createRequire(import.meta.url);
const { Firestore, FieldValue, FieldPath, Timestamp, GeoPoint, AggregateField } = require('@google-cloud/firestore');
const { OAuth2Client } = require('google-auth-library');

const PROJECT = project('demo-admin');
const auth = new OAuth2Client();
auth.setCredentials({ access_token: 'owner', expiry_date: Date.now() + 3600e3 });
const db = new Firestore({ projectId: PROJECT, preferRest: true, authClient: auth });

beforeEach(() => reset(PROJECT));

// The REST transport reports the HTTP status as err.code (gax fallback); gRPC would give the
// canonical code. Accept either so the test states the status, not the transport.
function code(e, http, grpc) {
  assert.ok(e.code === http || e.code === grpc, `error code ${e.code}, wanted ${http}/${grpc}: ${e.message}`);
}

test('set and get round-trip every value type', () => served([], async () => {
  const ref = db.doc('videos/v1');
  const other = db.doc('users/u1/videos/v9');
  const ts = new Timestamp(1714557600, 123456789);
  await ref.set({
    s: 'Clip A', i: 12, big: 9007199254740991, d: 4.5, neg: -0.5, nan: NaN, inf: Infinity, ninf: -Infinity,
    t: true, f: false, n: null, ts, bytes: Buffer.from([0, 1, 2, 255]), geo: new GeoPoint(52.5, 13.4),
    ref: other, arr: ['a', 1, { x: 'y' }], map: { w: 1920, h: 1080, deep: { deeper: { k: 'v' } } },
    unicode: 'é中🎬', empty: '', emptyArr: [], emptyMap: {}, vec: FieldValue.vector([1, 2.5, -3]),
  });
  const snap = await ref.get();
  assert.equal(snap.exists, true);
  const d = snap.data();
  assert.equal(d.s, 'Clip A');
  assert.equal(d.i, 12);
  assert.equal(d.big, 9007199254740991);
  assert.equal(d.d, 4.5);
  assert.equal(d.neg, -0.5);
  assert.ok(Number.isNaN(d.nan));
  assert.equal(d.inf, Infinity);
  assert.equal(d.ninf, -Infinity);
  assert.equal(d.t, true);
  assert.equal(d.f, false);
  assert.equal(d.n, null);
  assert.equal(d.ts.seconds, 1714557600);
  assert.equal(d.ts.nanoseconds, 123456000, 'Firestore keeps microseconds');
  assert.deepEqual([...d.bytes], [0, 1, 2, 255]);
  assert.equal(d.geo.latitude, 52.5);
  assert.equal(d.geo.longitude, 13.4);
  assert.equal(d.ref.path, 'users/u1/videos/v9');
  assert.deepEqual(d.arr, ['a', 1, { x: 'y' }]);
  assert.deepEqual(d.map, { w: 1920, h: 1080, deep: { deeper: { k: 'v' } } });
  assert.equal(d.unicode, 'é中🎬');
  assert.equal(d.empty, '');
  assert.deepEqual(d.emptyArr, []);
  assert.deepEqual(d.emptyMap, {});
  assert.deepEqual(d.vec.toArray(), [1, 2.5, -3]);
  assert.ok(snap.createTime.isEqual(snap.updateTime));
  const missing = await db.doc('videos/none').get();
  assert.equal(missing.exists, false);
}));

test('update with every transform, nested fields and deletes', () => served([], async () => {
  const ref = db.doc('videos/v1');
  await ref.set({ views: 1, score: 1.5, tags: ['a', 'b', 'c'], meta: { w: 1920, h: 1080 }, gone: 'x', keep: 1, hi: 5, lo: 5 });
  const before = Date.now();
  const wr = await ref.update({
    views: FieldValue.increment(2), score: FieldValue.increment(1), 'meta.w': 1280,
    tags: FieldValue.arrayUnion('c', 'd'), updatedAt: FieldValue.serverTimestamp(),
    gone: FieldValue.delete(), counter: FieldValue.increment(5),
    hi: FieldValue.maximum(7.5), lo: FieldValue.minimum(2), first: FieldValue.maximum(3),
  });
  const d = (await ref.get()).data();
  assert.equal(d.views, 3);
  assert.equal(d.score, 2.5);
  assert.equal(d.counter, 5, 'increment of a missing field sets it');
  assert.deepEqual(d.tags, ['a', 'b', 'c', 'd']);
  assert.deepEqual(d.meta, { w: 1280, h: 1080 });
  assert.equal('gone' in d, false);
  assert.equal(d.keep, 1);
  assert.equal(d.hi, 7.5);
  assert.equal(d.lo, 2);
  assert.equal(d.first, 3, 'maximum of a missing field sets it');
  assert.ok(d.updatedAt.toMillis() >= before - 1000 && d.updatedAt.toMillis() <= Date.now() + 1000);
  // REQUEST_TIME: "the time at which the server processed the request, with millisecond precision"
  assert.equal(d.updatedAt.nanoseconds % 1e6, 0, 'REQUEST_TIME has millisecond precision');
  const lag = wr.writeTime.toMillis() - d.updatedAt.toMillis();
  assert.ok(lag >= 0 && lag < 5000, `REQUEST_TIME is at most the commit time (${lag} ms before it)`);
  await ref.update({ tags: FieldValue.arrayRemove('a', 'c', 'zzz') });
  assert.deepEqual((await ref.get()).data().tags, ['b', 'd']);
  await ref.set({ title: 'merged', meta: { depth: 2 } }, { merge: true });
  const m = (await ref.get()).data();
  assert.equal(m.title, 'merged');
  assert.deepEqual(m.meta, { w: 1280, h: 1080, depth: 2 });
  await ref.set({ only: true });
  assert.deepEqual((await ref.get()).data(), { only: true }, 'set without merge replaces the document');
}));

test('create, update and delete preconditions', () => served([404, 409, 400], async () => {
  const ref = db.doc('videos/v1');
  await ref.create({ x: 1 });
  // Firestore's words; Google's emulator has its own ("entity already exists: EntityRef{...}")
  await expectError(ref.create({ x: 2 }), (e) => {
    code(e, 409, 6);
    if (!GOOGLE) assert.match(e.message, /Document already exists/);
  });
  await expectError(db.doc('videos/none').update({ x: 1 }), (e) => {
    code(e, 404, 5);
    if (!GOOGLE) assert.match(e.message, /No document to update/);
  });
  const snap = await ref.get();
  await expectError(ref.delete({ lastUpdateTime: new Timestamp(1, 0) }), (e) => code(e, 400, 9));
  await expectError(ref.update({ x: 3 }, { lastUpdateTime: new Timestamp(1, 0) }), (e) => code(e, 400, 9));
  await ref.update({ x: 3 }, { lastUpdateTime: snap.updateTime });
  const snap2 = await ref.get();
  assert.equal(snap2.data().x, 3);
  await ref.delete({ lastUpdateTime: snap2.updateTime });
  assert.equal((await ref.get()).exists, false);
  await db.doc('videos/never').delete(); // deleting a missing document succeeds
}));

test('batch writes apply atomically', () => served([404], async () => {
  await db.doc('videos/v3').set({ doomed: true });
  const b = db.batch();
  b.set(db.doc('videos/v1/clips/c1'), { start: 1.5, end: 3 });
  b.create(db.doc('videos/v2'), { title: 'B', ownerUid: 'u2' });
  b.set(db.doc('videos/v1'), { tags: ['a'] });
  b.update(db.doc('videos/v1'), { tags: FieldValue.arrayUnion('c'), rating: FieldValue.delete() });
  b.delete(db.doc('videos/v3'));
  const results = await b.commit();
  assert.equal(results.length, 5);
  assert.deepEqual((await db.doc('videos/v1').get()).data(), { tags: ['a', 'c'] });
  assert.equal((await db.doc('videos/v2').get()).data().title, 'B');
  assert.equal((await db.doc('videos/v3').get()).exists, false);
  assert.deepEqual((await db.doc('videos/v1/clips/c1').get()).data(), { start: 1.5, end: 3 });

  const bad = db.batch();
  bad.set(db.doc('videos/v4'), { never: true });
  bad.update(db.doc('videos/missing'), { x: 1 });
  await expectError(bad.commit(), (e) => code(e, 404, 5));
  assert.equal((await db.doc('videos/v4').get()).exists, false, 'no write of a failed commit is applied');
}));

test('transactions read and write through the transaction id', () => served([], async () => {
  const ref = db.doc('counters/c');
  await ref.set({ n: 0 });
  for (let i = 0; i < 3; i++) {
    await db.runTransaction(async (tx) => {
      const s = await tx.get(ref);
      tx.update(ref, { n: s.data().n + 1 });
    });
  }
  assert.equal((await ref.get()).data().n, 3);
  const out = await db.runTransaction(async (tx) => {
    const q = await tx.get(db.collection('counters').where('n', '>=', 1));
    const missing = await tx.get(db.doc('counters/none'));
    tx.set(db.doc('counters/copy'), { n: q.docs[0].data().n, missingExisted: missing.exists });
    return q.size;
  });
  assert.equal(out, 1);
  assert.deepEqual((await db.doc('counters/copy').get()).data(), { n: 3, missingExisted: false });
  const ro = await db.runTransaction((tx) => tx.get(ref), { readOnly: true });
  assert.equal(ro.data().n, 3);
}));

test('a transaction whose read was changed by another writer is aborted', () => served([409], async () => {
  const ref = db.doc('counters/c');
  await ref.set({ n: 0 });
  // maxAttempts 1: after a 409 ABORTED, 8.7.1's REST transport backs off to its maximum (~60 s)
  // before retrying, so the retry itself is not exercised here.
  // Ours is optimistic: the writer wins and the transaction's commit is ABORTED. Google's emulator
  // locks what the transaction read: the writer waits for the lock, then is ABORTED itself, which
  // ends the transaction's callback (docs/firestore.md, known difference transaction-locks).
  await expectError(db.runTransaction(async (tx) => {
    const s = await tx.get(ref);
    await ref.set({ n: 100 }); // a concurrent writer
    tx.update(ref, { n: s.data().n + 1 });
  }, { maxAttempts: 1 }), (e) => {
    code(e, 409, 10);
    assert.match(e.message, GOOGLE ? /lock timeout|ABORTED/ : /ABORTED/);
  });
  assert.equal((await ref.get()).data().n, GOOGLE ? 0 : 100, 'the aborted side wrote nothing');
}));

async function seedClips() {
  const clips = [
    ['c1', 1, 3, 'vertical', 'completed'], ['c2', 1, 3, 'square', 'completed'], ['c3', 2, 1, 'vertical', 'failed'],
    ['c4', 1, 1, 'vertical', 'completed'], ['c5', 3, 2, 'square', 'completed'], ['c6', 2, 2, 'vertical', 'pending'],
  ];
  const b = db.batch();
  for (const [id, priority, scene, style, status] of clips) {
    b.set(db.doc(`users/u1/videos/v1/clips/${id}`), { priority, scene_id: scene, style, status, size: priority * 10 });
  }
  b.set(db.doc('users/u2/videos/v7/clips/x1'), { priority: 1, scene_id: 9, style: 'vertical', status: 'completed', size: 5 });
  await b.commit();
  return db.collection('users/u1/videos/v1/clips');
}

test('where + orderBy + limit + cursors', () => served([], async () => {
  const clips = await seedClips();
  const ordered = clips.orderBy('priority').orderBy('scene_id').orderBy('style');
  const ids = (qs) => qs.docs.map((d) => d.id);
  assert.deepEqual(ids(await ordered.get()), ['c4', 'c2', 'c1', 'c3', 'c6', 'c5']);
  const done = clips.where('status', '==', 'completed').orderBy('priority').orderBy('scene_id').orderBy('style');
  assert.deepEqual(ids(await done.get()), ['c4', 'c2', 'c1', 'c5']);
  assert.deepEqual(ids(await done.limit(2).get()), ['c4', 'c2']);
  assert.deepEqual(ids(await done.startAfter(1, 3, 'square').get()), ['c1', 'c5']);
  assert.deepEqual(ids(await done.startAt(1, 3).get()), ['c2', 'c1', 'c5']);
  assert.deepEqual(ids(await done.endBefore(1, 3, 'vertical').get()), ['c4', 'c2']);
  assert.deepEqual(ids(await done.endAt(1, 3).get()), ['c4', 'c2', 'c1']);
  const page1 = await done.limit(2).get();
  assert.deepEqual(ids(await done.startAfter(page1.docs[1]).limit(2).get()), ['c1', 'c5'], 'cursor from a snapshot');
  assert.deepEqual(ids(await done.limitToLast(2).get()), ['c1', 'c5']);
  assert.deepEqual(ids(await done.offset(3).get()), ['c5']);
  assert.deepEqual(ids(await done.offset(10).get()), []);
  const desc = clips.orderBy('priority', 'desc').orderBy('scene_id', 'desc').orderBy('style', 'desc');
  assert.deepEqual(ids(await desc.get()), ['c5', 'c6', 'c3', 'c1', 'c2', 'c4']);
  // inequality: implicit order by the inequality field, then __name__
  assert.deepEqual(ids(await clips.where('priority', '>', 1).get()), ['c3', 'c6', 'c5']);
  assert.deepEqual(ids(await clips.where('priority', '>=', 2).where('priority', '<', 3).get()), ['c3', 'c6']);
  assert.deepEqual(ids(await clips.where('status', '!=', 'completed').get()), ['c3', 'c6']);
  assert.deepEqual(ids(await clips.where('status', 'in', ['failed', 'pending']).get()), ['c3', 'c6']);
  assert.deepEqual(ids(await clips.where('status', 'not-in', ['completed', 'failed']).get()), ['c6']);
  assert.deepEqual(ids(await clips.where(FieldPath.documentId(), '>=', 'c5').get()), ['c5', 'c6']);
  const sel = await clips.where('style', '==', 'square').select('priority').get();
  assert.deepEqual(sel.docs.map((d) => d.data()), [{ priority: 1 }, { priority: 3 }]);
  const none = await clips.where('status', '==', 'nope').get();
  assert.equal(none.empty, true);
}));

test('array-contains, array-contains-any, IN and OR queries', () => served([], async () => {
  const videos = db.collection('videos');
  await videos.doc('v1').set({ ownerUid: 'u1', tags: ['a', 'b'], rating: 4.5, views: 3, createdAt: new Date('2024-05-01') });
  await videos.doc('v2').set({ ownerUid: 'u2', tags: ['b'], rating: 3, views: 0, createdAt: new Date('2024-05-02') });
  await videos.doc('v3').set({ ownerUid: 'u1', tags: ['c'], rating: 1, views: 7, createdAt: new Date('2024-05-03') });
  const ids = (qs) => qs.docs.map((d) => d.id);
  assert.deepEqual(ids(await videos.where('tags', 'array-contains', 'b').get()), ['v1', 'v2']);
  assert.deepEqual(ids(await videos.where('tags', 'array-contains-any', ['a', 'c']).get()), ['v1', 'v3']);
  assert.deepEqual(ids(await videos.where('ownerUid', '==', 'u1').orderBy('createdAt', 'desc').limit(10).get()), ['v3', 'v1']);
  assert.deepEqual(ids(await videos.where('tags', 'array-contains', 'b').where('ownerUid', 'in', ['u1', 'u2'])
    .orderBy('createdAt').startAt(new Date(0)).get()), ['v1', 'v2']);
  assert.deepEqual(ids(await videos.where(Firestore.Filter.or(Firestore.Filter.where('rating', '>=', 4),
    Firestore.Filter.where('views', '==', 0))).get()), ['v2', 'v1']);
}));

test('a query without its composite index fails with FAILED_PRECONDITION', oursOnly('index enforcement'), () => served([400], async () => {
  await db.doc('videos/v1').set({ ownerUid: 'u1', rating: 3 });
  await expectError(db.collection('videos').where('ownerUid', '==', 'u1').orderBy('rating').get(), (e) => {
    code(e, 400, 9);
    assert.match(e.message, /The query requires an index/);
  });
}));

test('collection-group queries', () => served([], async () => {
  await seedClips();
  const ids = (qs) => qs.docs.map((d) => d.ref.path);
  const all = await db.collectionGroup('clips').where('status', '==', 'completed').orderBy('priority').get();
  assert.equal(all.size, 5);
  assert.deepEqual(all.docs.map((d) => d.data().priority), [1, 1, 1, 1, 3]);
  assert.ok(ids(all).includes('users/u2/videos/v7/clips/x1'));
  const cg = await db.collectionGroup('clips').where('status', '==', 'failed').get();
  assert.deepEqual(ids(cg), ['users/u1/videos/v1/clips/c3']);
  const cnt = await db.collectionGroup('clips').where('status', '==', 'completed').count().get();
  assert.equal(cnt.data().count, 5);
}));

test('count, sum and avg aggregations', () => served([], async () => {
  const clips = await seedClips();
  assert.equal((await clips.count().get()).data().count, 6);
  const agg = await clips.where('status', '==', 'completed').aggregate({
    n: AggregateField.count(), total: AggregateField.sum('size'), mean: AggregateField.average('size'),
  }).get();
  assert.deepEqual(agg.data(), { n: 4, total: 60, mean: 15 });
  const empty = await clips.where('status', '==', 'nope').aggregate({
    n: AggregateField.count(), total: AggregateField.sum('size'), mean: AggregateField.average('size'),
  }).get();
  assert.deepEqual(empty.data(), { n: 0, total: 0, mean: null });
  assert.equal((await clips.limit(2).count().get()).data().count, 2);
}));

test('getAll with a field mask, listDocuments and listCollections', () => served([], async () => {
  await db.doc('videos/v1').set({ title: 'A', secret: 1 });
  await db.doc('videos/v2/clips/c1').set({ x: 1 }); // v2 itself is missing
  await db.doc('videos/v1/clips/c1').set({ x: 1 });
  await db.doc('videos/v1/stats/s').set({ x: 1 });
  const [a, b] = await db.getAll(db.doc('videos/v1'), db.doc('videos/none'), { fieldMask: ['title'] });
  assert.deepEqual(a.data(), { title: 'A' });
  assert.equal(b.exists, false);
  const refs = await db.collection('videos').listDocuments();
  assert.deepEqual(refs.map((r) => r.id).sort(), ['v1', 'v2']);
  const cols = await db.doc('videos/v1').listCollections();
  assert.deepEqual(cols.map((c) => c.id).sort(), ['clips', 'stats']);
  const root = await db.listCollections();
  assert.deepEqual(root.map((c) => c.id), ['videos']);
}));

test('values order across types as Firestore orders them', () => served([], async () => {
  const col = db.collection('mixed');
  const vals = [
    ['a_null', null], ['b_false', false], ['c_true', true], ['d_nan', NaN], ['e_neg', -Infinity], ['f_int', 1],
    ['g_dbl', 1.5], ['h_ts', new Timestamp(10, 0)], ['i_str', 'a'], ['j_str', 'b'], ['k_bytes', Buffer.from('a')],
    ['l_ref', db.doc('a/b')], ['m_geo', new GeoPoint(1, 1)], ['n_arr', [1]], ['o_arr', [1, 2]], ['p_map', { a: 1 }],
  ];
  const shuffled = [...vals].sort(() => Math.random() - 0.5);
  for (const [id, v] of shuffled) await col.doc(id).set({ v });
  await col.doc('q_nofield').set({ other: 1 });
  const got = (await col.orderBy('v').get()).docs.map((d) => d.id);
  assert.deepEqual(got, vals.map(([id]) => id));
  const rev = (await col.orderBy('v', 'desc').get()).docs.map((d) => d.id);
  assert.deepEqual(rev, vals.map(([id]) => id).reverse());
  // range filters only match values of the same type (numbers mix ints and doubles)
  const nums = (await col.where('v', '>', 0).get()).docs.map((d) => d.id);
  assert.deepEqual(nums, ['f_int', 'g_dbl']);
}));

test('fault injection reaches the client as the configured status', oursOnly('fault rules'), () => served([503], async () => {
  await db.doc('videos/v1').set({ x: 1 });
  await admin('POST', '/emulator/v1/faults', { match: ':batchGet', times: 1, action: 'status', status: 503 });
  await expectError(db.doc('videos/v1').get(), (e) => code(e, 503, 14));
  assert.equal((await db.doc('videos/v1').get()).data().x, 1, 'only the next matching request fails');
}));

test('BulkWriter (batchWrite), recursiveDelete and read-only transactions at a readTime', () => served([], async () => {
  const bw = db.bulkWriter();
  for (let i = 0; i < 30; i++) bw.set(db.doc(`bulk/d${i}`), { i });
  bw.set(db.doc('bulk/d0/sub/s1'), { deep: true });
  // BulkWriter does not order writes to one document (they go in separate batches that may run
  // at once): the sets must have landed before the update of d1 is sent
  await bw.flush();
  bw.update(db.doc('bulk/d1'), { i: FieldValue.increment(100) });
  await bw.close();
  assert.equal((await db.collection('bulk').count().get()).data().count, 30);
  assert.equal((await db.doc('bulk/d1').get()).data().i, 101);
  const before = (await db.doc('bulk/d2').get()).readTime;
  await db.doc('bulk/d2').set({ i: -2 });
  const old = await db.runTransaction((tx) => tx.get(db.doc('bulk/d2')), { readOnly: true, readTime: before });
  assert.equal(old.data().i, 2, 'a read-only transaction at readTime sees the old version');
  await db.recursiveDelete(db.collection('bulk'));
  assert.equal((await db.collection('bulk').get()).size, 0);
  assert.equal((await db.doc('bulk/d0/sub/s1').get()).exists, false, 'subcollections are deleted too');
}));
