// Shared by the page scripts: Debian's chromium, headless, and a failure that names the step.
import { chromium } from 'playwright-core';

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

export function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

export async function screenshot(page, name) {
  if (process.env.ALLOT_SCREENSHOTS) {
    await page.screenshot({ path: new URL(`../../docs/screenshots/${name}.png`, import.meta.url).pathname, fullPage: true });
  }
}

export async function run(main) {
  const base = process.argv[2];
  if (!base) throw new Error('usage: node script.mjs BASE_URL');
  const chrome = await browser();
  try {
    await main(chrome, base);
  } finally {
    await chrome.close();
  }
}
