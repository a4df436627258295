// browser-demo: a real browser (Debian's chromium, driven by playwright-core) on the demo page of
// the local stack, for the live-update tests. It opens the page, waits until every video is
// live, then reports every change of the clip cards as one JSON line with the wall-clock time in
// milliseconds (t), so that the test can time them against its writes:
//   {"t":..,"type":"ready"}
//   {"t":..,"type":"clip","video":..,"clip":..,"status":..,"thumbnail":true|false}
// and takes a screenshot (--screenshot PATH) when it gets SIGUSR1 or after --seconds.
//
// node browser-demo.mjs URL [--screenshot PATH] [--seconds N]
import { chromium } from 'playwright-core';

const argv = process.argv.slice(2);
const url = argv.shift();
const opt = {};
while (argv.length) {
  const k = argv.shift();
  opt[k.replace(/^--/, '')] = argv.shift();
}
const say = (o) => process.stdout.write(JSON.stringify({ t: Date.now(), ...o }) + '\n');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // the local stack's certificate is self-signed; /dev/shm may be small in containers
  args: ['--ignore-certificate-errors', '--disable-dev-shm-usage', '--no-sandbox'],
});
let done = false;
async function finish(code) {
  if (done) return;
  done = true;
  try {
    if (opt.screenshot) await page.screenshot({ path: opt.screenshot, fullPage: true });
    say({ type: 'screenshot', path: opt.screenshot || null });
  } catch (e) {
    say({ type: 'error', message: `screenshot: ${e.message}` });
  }
  await browser.close();
  process.exit(code);
}
process.on('SIGUSR1', () => finish(0));
process.on('SIGTERM', () => finish(0));

const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
page.on('console', (m) => say({ type: 'console', level: m.type(), text: m.text() }));
page.on('pageerror', (e) => say({ type: 'error', message: e.message }));
await page.exposeFunction('clipCardChanged', (video, clip, status, thumbnail) =>
  say({ type: 'clip', video, clip, status, thumbnail }));
// Every clip card that appears or changes status is reported, from the page itself, as it happens.
await page.addInitScript(() => {
  const seen = new Map();
  const scan = () => {
    for (const box of document.querySelectorAll('.clip[data-clip]')) {
      const video = box.closest('[data-video]')?.dataset.video || '';
      const img = box.querySelector('img');
      const thumb = !!(img && img.complete && img.naturalWidth > 0);
      const key = `${video}/${box.dataset.clip}`;
      const state = `${box.dataset.status}/${thumb}`;
      if (seen.get(key) !== state) {
        seen.set(key, state);
        window.clipCardChanged(video, box.dataset.clip, box.dataset.status, thumb);
      }
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, attributes: true });
  // a thumbnail that finishes loading changes no attribute: catch its load events too
  document.addEventListener('load', scan, true);
});
await page.goto(url, { waitUntil: 'load' });
await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
await page.waitForFunction(
  () => [...document.querySelectorAll('.live')].every((e) => e.textContent === 'live'),
  null,
  { timeout: 20000 },
);
say({ type: 'ready', videos: await page.locator('[data-video]').count() });
setTimeout(() => finish(0), Number(opt.seconds || 60) * 1000);
