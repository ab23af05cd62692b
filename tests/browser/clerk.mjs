// A clerk signs in, finds a SKU by typing, sees who has it nearest first, requests a transfer
// (double-clicking), ships an order to a customer, meets each error message once, visits a
// page on another site that tries to make a transfer with the clerk's session, and signs out.
import http from 'node:http';
import { run, check, screenshot } from './lib.mjs';

const PASSWORD = 'browser-password';

async function signIn(page) {
  await page.fill('#clerk', 'amy');
  await page.fill('#password', PASSWORD);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#lookup:not(.hidden)');
}

/// A page on another origin (another port) whose form and script post to Allot.
function crossSite(base) {
  const target = `${base}/v1/transfers`;
  const html = `<!doctype html><form id="f" method="POST" action="${target}" enctype="text/plain">
    <input name='{"sku":"TSHIRT-BLK-M","qty":7,"to":"TPE-A","from":"WH-1","x":"' value='"}'></form>
    <script>
      fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include', mode: 'no-cors',
        headers: { 'Content-Type': 'text/plain' },
        body: JSON.stringify({ sku: 'TSHIRT-BLK-M', qty: 7, to: 'TPE-A', from: 'WH-1' }) })
        .finally(() => document.getElementById('f').submit());
    </script>`;
  const server = http.createServer((_, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end(html);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

await run(async (chrome, base) => {
  const context = await chrome.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(base + '/');

  // A wrong password is refused; the right one signs in, and the session survives a reload.
  await page.fill('#clerk', 'amy');
  await page.fill('#password', 'not-the-password');
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('Wrong clerk id or password'));
  await signIn(page);
  await page.reload();
  await page.waitForSelector('#signed-in:not(.hidden)');
  check((await page.textContent('#who')).includes('TPE-A · amy'), 'the store and clerk are remembered');

  // Prefix search answers while typing, by code or name.
  await page.fill('#search', 'hood');
  await page.waitForSelector('#suggestions button[data-sku="HOODIE-NVY-L"]');
  await page.fill('#search', 'TSH');
  await page.click('#suggestions button[data-sku="TSHIRT-BLK-M"]');
  await page.waitForSelector('#stock:not(.hidden)');
  const rows = await page.$$eval('#stock-rows tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  check(rows.length === 3, `three locations stock it: ${JSON.stringify(rows)}`);
  check(rows[0][0].startsWith('TPE-A'), 'my store first (nearest)');
  check(rows[1][0].startsWith('TPE-B') && rows[2][0].startsWith('WH-1'), `then by distance: ${JSON.stringify(rows)}`);
  check(rows[1][2] === '5', `TPE-B has 5 available: ${JSON.stringify(rows[1])}`);
  await screenshot(page, 'clerk');

  // A transfer of 2, double-clicked: one request reaches the ledger.
  await page.fill('#transfer-qty', '2');
  await page.dblclick('#transfer-button');
  await page.waitForFunction(() => document.querySelector('#transfer-result').textContent.startsWith('Requested'));
  const transfer = await page.textContent('#transfer-result');
  check(/from (TPE-B|WH-1), arrives/.test(transfer) && /Cost \d/.test(transfer), `cost and arrival shown: ${transfer}`);
  await page.waitForFunction(() => [...document.querySelectorAll('#stock-rows tr.mine td')].some((td) => td.textContent.startsWith('2 ')));

  // A ship-to-home order for the customer at the counter.
  await page.fill('#order-qty', '1');
  await page.click('#order-button');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('placed'));
  check((await page.textContent('#message')).includes('Credited to TPE-A · amy'), 'credited to the store and clerk');

  // Errors a clerk meets: too many units, an unknown SKU, the service unreachable.
  await page.fill('#transfer-qty', '999');
  await page.click('#transfer-button');
  await page.waitForFunction(() => document.querySelector('#message').className.includes('error'));
  check((await page.textContent('#message')).startsWith('Not enough stock'), 'no stock is said plainly');
  await page.fill('#search', 'NOPE-404');
  await page.waitForFunction(() => document.querySelector('#suggestions').textContent.includes('No SKU starts with'));
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('Unknown SKU "NOPE-404"'));
  await page.route('**/v1/**', (route) => route.abort());
  await page.fill('#search', 'TSHIRT-BLK-M');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('unreachable'));
  await page.unroute('**/v1/**');

  // Another site, opened in the signed-in browser, posts to Allot: nothing changes (the test
  // counts the transfers afterwards).
  const evil = await crossSite(base);
  try {
    const other = await context.newPage();
    await other.goto(`http://127.0.0.1:${evil.address().port}/`);
    // The script's post goes first, then the form's navigates to Allot's refusal.
    await other.waitForURL(/\/v1\/transfers$/);
    const refusal = await other.textContent('body');
    check(/unauthenticated|unsupported_media_type|forbidden/.test(refusal), `refused: ${refusal}`);
    await other.close();
  } finally {
    evil.close();
  }

  // Signing out ends the session: a reload shows the sign-in form.
  await page.click('#sign-out');
  await page.waitForSelector('#sign-in:not(.hidden)');
  await page.reload();
  await page.waitForSelector('#sign-in:not(.hidden)');
  check(await page.isHidden('#lookup'), 'signed out, nothing to look up');

  // The same page on a phone.
  const phone = await chrome.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  await phone.goto(base + '/');
  await signIn(phone);
  await phone.fill('#search', 'TSHIRT-BLK');
  await phone.click('#suggestions button[data-sku="TSHIRT-BLK-M"]');
  await phone.waitForSelector('#stock:not(.hidden)');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (${overflow}px)`);
  await screenshot(phone, 'clerk-phone');
});
