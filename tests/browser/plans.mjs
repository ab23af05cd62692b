// A planner dry-runs the nightly rebalance, reads its totals, transfers and chart, filters by
// store, and commits it after confirming; a second commit is refused by the page itself.
import { run, check, screenshot } from './lib.mjs';

await run(async (chrome, base) => {
  const page = await chrome.newPage({ viewport: { width: 1200, height: 1000 } });
  page.setDefaultTimeout(15_000);
  await page.goto(base + '/plans');
  await page.fill('#name', 'pat');
  await page.fill('#password', 'browser-password');
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('No rebalance plan yet'));

  await page.click('#dry-run');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('proposed'));
  await page.waitForSelector('#plan:not(.hidden)');
  check((await page.textContent('#plan-title')).includes('proposed'), 'the plan is a proposal');
  const lines = await page.$$eval('#lines tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  check(lines.length === 2 && lines.every((l) => l[1] === 'TPE-B' && l[2] === 'TPE-A'), `B sends to A: ${JSON.stringify(lines)}`);
  // The chart is drawn by the API as SVG and shown.
  await page.waitForFunction(() => { const img = document.querySelector('#chart'); return img.complete && img.naturalWidth > 0; });
  await page.fill('#filter-sku', 'TSHIRT-BLK-M');
  await page.click('#filter');
  await page.waitForFunction(() => document.querySelectorAll('#lines tr').length === 1);
  await screenshot(page, 'plans');

  page.once('dialog', (dialog) => dialog.accept());
  await page.click('#commit');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('committed'));
  // Every line now names its transfer, and the page refuses a second commit.
  await page.waitForFunction(() => [...document.querySelectorAll('#lines tr td:last-child')].every((td) => td.textContent.startsWith('#')));
  check(await page.isDisabled('#commit'), 'a committed plan cannot be committed again from the page');

  // The other kind of plan: none yet.
  await page.selectOption('#kind', 'replenishment');
  await page.waitForFunction(() => document.querySelector('#message').textContent.includes('No replenishment plan yet'));
});
