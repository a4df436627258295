// firebase 12.19.0 `firebase/firestore/lite` (REST only) against the emulator.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { initializeApp } from 'firebase/app';
import {
  getFirestore, connectFirestoreEmulator, doc, collection, collectionGroup, setDoc, getDoc, getDocs, updateDoc,
  deleteDoc, addDoc, writeBatch, runTransaction, query, where, orderBy, limit, limitToLast, startAt, startAfter,
  endAt, endBefore, or, and, documentId, increment, serverTimestamp, arrayUnion, arrayRemove, deleteField,
  getCount, getAggregate, count, sum, average, Timestamp, GeoPoint, Bytes, maximum, minimum, vector,
} from 'firebase/firestore/lite';
import { HOST, PORT, reset, served, expectError, admin, project, oursOnly } from '../lib/helpers.mjs';

const PROJECT = project('demo-lite');
const app = initializeApp({ projectId: PROJECT, apiKey: 'fake-api-key' });
const db = getFirestore(app);
connectFirestoreEmulator(db, HOST, PORT);

beforeEach(() => reset(PROJECT));

const ids = (qs) => qs.docs.map((d) => d.id);

test('set and get round-trip every value type', () => served([], async () => {
  const ref = doc(db, 'videos/v1');
  await setDoc(ref, {
    s: 'Clip A', i: 12, d: 4.5, nan: NaN, inf: Infinity, t: true, n: null,
    ts: new Timestamp(1714557600, 123456789), bytes: Bytes.fromUint8Array(new Uint8Array([0, 1, 255])),
    geo: new GeoPoint(-33.9, 151.2), ref: doc(db, 'users/u1'), arr: ['a', 2, { k: 'v' }],
    map: { w: 1920, h: 1080 }, unicode: 'é中🎬', vec: vector([0.5, 2]),
  });
  const snap = await getDoc(ref);
  const d = snap.data();
  assert.equal(d.s, 'Clip A');
  assert.equal(d.i, 12);
  assert.equal(d.d, 4.5);
  assert.ok(Number.isNaN(d.nan));
  assert.equal(d.inf, Infinity);
  assert.equal(d.t, true);
  assert.equal(d.n, null);
  assert.equal(d.ts.seconds, 1714557600);
  assert.equal(d.ts.nanoseconds, 123456000);
  assert.deepEqual([...d.bytes.toUint8Array()], [0, 1, 255]);
  assert.equal(d.geo.latitude, -33.9);
  assert.equal(d.ref.path, 'users/u1');
  assert.deepEqual(d.arr, ['a', 2, { k: 'v' }]);
  assert.deepEqual(d.map, { w: 1920, h: 1080 });
  assert.equal(d.unicode, 'é中🎬');
  assert.deepEqual(d.vec.toArray(), [0.5, 2]);
  assert.equal((await getDoc(doc(db, 'videos/none'))).exists(), false);
  const added = await addDoc(collection(db, 'videos'), { auto: true });
  assert.equal(added.id.length, 20);
  assert.equal((await getDoc(added)).data().auto, true);
}));

test('update with every transform', () => served([], async () => {
  const ref = doc(db, 'videos/v1');
  await setDoc(ref, { views: 1, score: 0.5, tags: ['a', 'b'], meta: { w: 1920, h: 1080 }, gone: 1, hi: 3, lo: 3 });
  await updateDoc(ref, {
    views: increment(1), score: increment(2), 'meta.w': 1280, tags: arrayUnion('b', 'c'),
    updatedAt: serverTimestamp(), gone: deleteField(), hi: maximum(2), lo: minimum(-1.5),
  });
  let d = (await getDoc(ref)).data();
  assert.equal(d.views, 2);
  assert.equal(d.score, 2.5);
  assert.deepEqual(d.meta, { w: 1280, h: 1080 });
  assert.deepEqual(d.tags, ['a', 'b', 'c']);
  assert.equal('gone' in d, false);
  assert.equal(d.hi, 3);
  assert.equal(d.lo, -1.5);
  assert.ok(Math.abs(d.updatedAt.toMillis() - Date.now()) < 5000);
  await updateDoc(ref, { tags: arrayRemove('a') });
  await setDoc(ref, { title: 'merged' }, { merge: true });
  d = (await getDoc(ref)).data();
  assert.deepEqual(d.tags, ['b', 'c']);
  assert.equal(d.title, 'merged');
  assert.equal(d.views, 2);
}));

test('errors map to Firestore codes', () => served([404], async () => {
  await expectError(updateDoc(doc(db, 'videos/none'), { x: 1 }), (e) => assert.equal(e.code, 'not-found'));
}));

test('a query without its composite index fails with failed-precondition', oursOnly('index enforcement'), () => served([400], async () => {
  await setDoc(doc(db, 'videos/v1'), { ownerUid: 'u1', rating: 1 });
  await expectError(getDocs(query(collection(db, 'videos'), where('ownerUid', '==', 'u1'), orderBy('rating'))),
    (e) => {
      assert.equal(e.code, 'failed-precondition');
      assert.match(e.message, /The query requires an index/);
    });
}));

test('batch writes apply atomically', () => served([404], async () => {
  await setDoc(doc(db, 'videos/v3'), { doomed: true });
  const b = writeBatch(db);
  b.set(doc(db, 'videos/v1/clips/c1'), { start: 1.5, end: 3 });
  b.set(doc(db, 'videos/v2'), { title: 'B' });
  b.set(doc(db, 'videos/v1'), { tags: ['a'], rating: 2 });
  b.update(doc(db, 'videos/v1'), { tags: arrayUnion('c'), rating: deleteField() });
  b.delete(doc(db, 'videos/v3'));
  await b.commit();
  assert.deepEqual((await getDoc(doc(db, 'videos/v1'))).data(), { tags: ['a', 'c'] });
  assert.equal((await getDoc(doc(db, 'videos/v3'))).exists(), false);
  const bad = writeBatch(db);
  bad.set(doc(db, 'videos/v4'), { never: true });
  bad.update(doc(db, 'videos/missing'), { x: 1 });
  await expectError(bad.commit(), (e) => assert.equal(e.code, 'not-found'));
  assert.equal((await getDoc(doc(db, 'videos/v4'))).exists(), false);
}));

test('transactions (updateTime preconditions) retry on contention', () => served([400, 409], async () => {
  const ref = doc(db, 'counters/c');
  await setDoc(ref, { n: 0 });
  await Promise.all([1, 2, 3].map(() => runTransaction(db, async (tx) => {
    const s = await tx.get(ref);
    tx.update(ref, { n: s.data().n + 1 });
  })));
  assert.equal((await getDoc(ref)).data().n, 3);
  await runTransaction(db, async (tx) => {
    const s = await tx.get(doc(db, 'counters/new'));
    assert.equal(s.exists(), false);
    tx.set(doc(db, 'counters/new'), { created: true });
  });
  assert.equal((await getDoc(doc(db, 'counters/new'))).data().created, true);
  await deleteDoc(doc(db, 'counters/new'));
  assert.equal((await getDoc(doc(db, 'counters/new'))).exists(), false);
}));

async function seedClips() {
  const rows = [
    ['c1', 1, 3, 'vertical', 'completed'], ['c2', 1, 3, 'square', 'completed'], ['c3', 2, 1, 'vertical', 'failed'],
    ['c4', 1, 1, 'vertical', 'completed'], ['c5', 3, 2, 'square', 'completed'], ['c6', 2, 2, 'vertical', 'pending'],
  ];
  const b = writeBatch(db);
  for (const [id, priority, scene, style, status] of rows) {
    b.set(doc(db, `users/u1/videos/v1/clips/${id}`), { priority, scene_id: scene, style, status, size: priority * 10 });
  }
  b.set(doc(db, 'users/u2/videos/v7/clips/x1'), { priority: 1, scene_id: 9, style: 'vertical', status: 'completed', size: 5 });
  await b.commit();
  return collection(db, 'users/u1/videos/v1/clips');
}

test('where + orderBy + limit + cursors', () => served([], async () => {
  const clips = await seedClips();
  const order = [orderBy('priority'), orderBy('scene_id'), orderBy('style')];
  const done = (...more) => query(clips, where('status', '==', 'completed'), ...order, ...more);
  assert.deepEqual(ids(await getDocs(query(clips, ...order))), ['c4', 'c2', 'c1', 'c3', 'c6', 'c5']);
  assert.deepEqual(ids(await getDocs(done())), ['c4', 'c2', 'c1', 'c5']);
  assert.deepEqual(ids(await getDocs(done(limit(2)))), ['c4', 'c2']);
  assert.deepEqual(ids(await getDocs(done(startAfter(1, 3, 'square')))), ['c1', 'c5']);
  assert.deepEqual(ids(await getDocs(done(startAt(1, 3)))), ['c2', 'c1', 'c5']);
  assert.deepEqual(ids(await getDocs(done(endBefore(1, 3, 'vertical')))), ['c4', 'c2']);
  assert.deepEqual(ids(await getDocs(done(endAt(1, 3)))), ['c4', 'c2', 'c1']);
  const page1 = await getDocs(done(limit(2)));
  assert.deepEqual(ids(await getDocs(done(startAfter(page1.docs[1]), limit(2)))), ['c1', 'c5']);
  assert.deepEqual(ids(await getDocs(done(limitToLast(2)))), ['c1', 'c5']);
  assert.deepEqual(ids(await getDocs(query(clips, where('priority', '>', 1)))), ['c3', 'c6', 'c5']);
  assert.deepEqual(ids(await getDocs(query(clips, where('status', '!=', 'completed')))), ['c3', 'c6']);
  assert.deepEqual(ids(await getDocs(query(clips, where('status', 'in', ['failed', 'pending'])))), ['c3', 'c6']);
  assert.deepEqual(ids(await getDocs(query(clips, where('status', 'not-in', ['completed', 'failed'])))), ['c6']);
  assert.deepEqual(ids(await getDocs(query(clips, where(documentId(), '>=', 'c5')))), ['c5', 'c6']);
  assert.deepEqual(ids(await getDocs(query(clips, or(where('priority', '==', 3), where('status', '==', 'failed'))))),
    ['c3', 'c5']);
  assert.deepEqual(ids(await getDocs(query(clips, and(where('style', '==', 'vertical'), where('priority', '==', 1))))),
    ['c1', 'c4']);
  assert.equal((await getDocs(query(clips, where('status', '==', 'nope')))).empty, true);
}));

test('array-contains, IN and OR with an inequality', () => served([], async () => {
  const videos = collection(db, 'videos');
  await setDoc(doc(videos, 'v1'), { ownerUid: 'u1', tags: ['a', 'b'], rating: 4.5, views: 3, createdAt: new Date('2024-05-01') });
  await setDoc(doc(videos, 'v2'), { ownerUid: 'u2', tags: ['b'], rating: 3, views: 0, createdAt: new Date('2024-05-02') });
  await setDoc(doc(videos, 'v3'), { ownerUid: 'u1', tags: ['c'], rating: 1, views: 7, createdAt: new Date('2024-05-03') });
  assert.deepEqual(ids(await getDocs(query(videos, where('tags', 'array-contains', 'b')))), ['v1', 'v2']);
  assert.deepEqual(ids(await getDocs(query(videos, where('tags', 'array-contains-any', ['a', 'c'])))), ['v1', 'v3']);
  assert.deepEqual(ids(await getDocs(query(videos, where('ownerUid', '==', 'u1'), orderBy('createdAt', 'desc'), limit(10)))),
    ['v3', 'v1']);
  assert.deepEqual(ids(await getDocs(query(videos, where('tags', 'array-contains', 'b'), where('ownerUid', 'in', ['u1', 'u2']),
    orderBy('createdAt'), startAfter(new Date(0))))), ['v1', 'v2']);
  assert.deepEqual(ids(await getDocs(query(videos, or(where('rating', '>=', 4), where('views', '==', 0))))), ['v2', 'v1']);
}));

test('collection-group queries and aggregations', () => served([], async () => {
  const clips = await seedClips();
  const cg = await getDocs(query(collectionGroup(db, 'clips'), where('status', '==', 'completed'), orderBy('priority')));
  assert.equal(cg.size, 5);
  assert.ok(cg.docs.some((d) => d.ref.path === 'users/u2/videos/v7/clips/x1'));
  assert.equal((await getCount(clips)).data().count, 6);
  assert.equal((await getCount(query(collectionGroup(db, 'clips'), where('status', '==', 'completed')))).data().count, 5);
  const agg = await getAggregate(query(clips, where('status', '==', 'completed')),
    { n: count(), total: sum('size'), mean: average('size') });
  assert.deepEqual(agg.data(), { n: 4, total: 60, mean: 15 });
  const none = await getAggregate(query(clips, where('status', '==', 'x')), { total: sum('size'), mean: average('size') });
  assert.deepEqual(none.data(), { total: 0, mean: null });
}));

test('fault injection: 429 and dropped connections reach the client', oursOnly('fault rules'), () => served([429], async () => {
  await setDoc(doc(db, 'videos/v1'), { x: 1 });
  await admin('POST', '/emulator/v1/faults', { match: ':batchGet', times: 1, action: 'status', status: 429 });
  await expectError(getDoc(doc(db, 'videos/v1')), (e) => assert.equal(e.code, 'resource-exhausted'));
  await admin('POST', '/emulator/v1/faults', { match: ':commit', times: 1, action: 'drop' });
  await expectError(setDoc(doc(db, 'videos/v2'), { x: 1 }), (e) => assert.ok(e));
  assert.equal((await getDoc(doc(db, 'videos/v1'))).data().x, 1);
}));
