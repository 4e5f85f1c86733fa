// マイページ, the staff patron page and the phone layouts in a real browser (issue #16):
// the demo patron (card and password from DATA/demo-credentials.json) logs in, sees 延長する
// on loans that may be renewed, renews one, places a hold from a record page; the staff
// patron page shows that hold with a cancel button whose visible text is in its name; the
// results page on a phone has 絞り込み as a closed toggle above the results. axe-core finds
// no serious or critical violation on any of them, and screenshots at desktop and phone
// sizes go to SHIORI_ARTIFACTS (docs/screenshots/ in the repository holds a copy).
//
//   SHIORI_URL=http://127.0.0.1:8080/demo/ SHIORI_CREDENTIALS=DATA/demo-credentials.json node patron.spec.mjs

import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

import { totp } from "./staff.mjs";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const here = dirname(fileURLToPath(import.meta.url));
const base = process.env.SHIORI_URL;
const credentialsFile = process.env.SHIORI_CREDENTIALS;
if (!base || !credentialsFile) {
  console.error("patron.spec: set SHIORI_URL (the demo library) and SHIORI_CREDENTIALS (demo-credentials.json)");
  process.exit(2);
}
const artifactsEnv = process.env.SHIORI_ARTIFACTS || resolve(here, "../../../target/artifacts");
const artifacts = artifactsEnv.endsWith(".png") ? dirname(resolve(artifactsEnv)) : resolve(artifactsEnv);
mkdirSync(artifacts, { recursive: true });
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const credentials = JSON.parse(readFileSync(credentialsFile, "utf8"));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let failures = 0;
function check(condition, message) {
  if (condition) {
    console.log(`  ok   ${message}`);
  } else {
    failures += 1;
    console.log(`  FAIL ${message}`);
  }
}


async function accessibility(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) {
    await page.evaluate(axeSource);
  }
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  for (const v of result) {
    console.log(`       axe ${v.impact}: ${v.id} (${v.help}) at ${v.nodes.join(", ")}`);
  }
  const serious = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(serious.length === 0, `${name}: axe finds no serious or critical violations (${result.length} minor)`);
}

async function shoot(page, name) {
  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    await page.setViewportSize(viewport);
    await page.reload();
    await accessibility(page, `${name} (${size})`);
    const path = join(artifacts, `${name}-${size}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`       screenshot ${path}`);
  }
  await page.setViewportSize(DESKTOP);
}

/** Whether no text of `selector` is broken into a column one character wide. */
async function noOneCharacterLines(page, selector) {
  return page.evaluate((sel) => {
    for (const el of document.querySelectorAll(sel)) {
      const chars = (el.textContent || "").trim().length;
      const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 20;
      if (chars >= 4 && el.getBoundingClientRect().height > lineHeight * 2.5) return false;
    }
    return true;
  }, selector);
}

async function main() {
  const userDataDir = mkdtempSync(join(tmpdir(), "shiori-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: DESKTOP,
    locale: "ja-JP",
    timezoneId: "Asia/Tokyo",
  });
  try {
    const page = context.pages()[0] || (await context.newPage());

    console.log("results on a phone");
    await page.setViewportSize(PHONE);
    await page.goto(`${base}?q=${encodeURIComponent("図書館")}`);
    const details = page.locator("details.facets__details");
    check((await details.count()) === 1, "the facets are a 絞り込み toggle");
    check(!(await details.evaluate((d) => d.open)), "closed on a phone");
    const facetsTop = (await page.locator("aside.facets").boundingBox())?.y ?? 1e9;
    const firstHit = (await page.locator("li.hit").first().boundingBox())?.y ?? 0;
    check(facetsTop < firstHit, "above the first result");
    await page.locator("details.facets__details > summary").click();
    check(await details.evaluate((d) => d.open), "it opens when tapped");
    await page.setViewportSize(DESKTOP);
    await page.goto(`${base}?q=${encodeURIComponent("図書館")}`);
    check(await details.evaluate((d) => d.open), "open on a wide screen");
    await shoot(page, "results");
    const record = await page.locator("li.hit a").first().getAttribute("href");
    await page.goto(new URL(record, page.url()).toString());
    await shoot(page, "record");

    console.log(`patron login ${credentials.patron_card}`);
    await page.goto(`${base}my/login`);
    await page.fill("#card", credentials.patron_card);
    await page.fill("#password", credentials.patron_password);
    await Promise.all([page.waitForURL(/\/my\/$/), page.locator('form[action$="/my/login"] button[type=submit]').click()]);
    const renewButtons = page.locator("button", { hasText: "延長する" });
    const loans = await page.locator("table.items tbody tr").count();
    check(loans === 3, `the demo patron has 3 loans (${loans})`);
    check((await renewButtons.count()) === loans, "every loan may be renewed at first");
    await Promise.all([page.waitForURL(/done=renewed/), renewButtons.first().click()]);
    check((await page.locator("text=延長しました").count()) > 0, "renewed");
    check((await renewButtons.count()) === loans - 1, "the renewed loan offers 延長する no more");
    check((await page.locator(".renew-refused").count()) === 1, "and says why");
    await page.setViewportSize(PHONE);
    check(await noOneCharacterLines(page, "table.items button, table.items time"), "buttons and dates do not wrap on a phone");
    await page.setViewportSize(DESKTOP);
    await shoot(page, "my-account");

    console.log("a hold, then the staff patron page");
    await page.goto(new URL(record, base).toString());
    await page.locator("form.hold button").click();
    await page.waitForURL(/\/my\/hold/);
    await Promise.all([page.waitForURL(/done=held/), page.locator('form[action$="/my/hold"] button[type=submit]').click()]);
    check((await page.locator("text=予約しました").count()) > 0, "hold placed");

    await page.goto(`${base}staff/login`);
    await page.fill("#username", credentials.username);
    await page.fill("#password", credentials.password);
    let loggedIn = false;
    for (let attempt = 0; attempt < 2 && !loggedIn; attempt += 1) {
      await page.fill("#totp", totp(credentials.totp_secret, Date.now() / 1000 + attempt * 30));
      await Promise.all([page.waitForLoadState("load"), page.locator("form.staff-form button[type=submit]").click()]);
      loggedIn = /\/staff\/$/.test(page.url());
      if (!loggedIn) {
        await page.fill("#password", credentials.password);
        await new Promise((r) => setTimeout(r, attempt === 0 ? 31000 : 0));
      }
    }
    check(loggedIn, "staff logged in");
    await page.goto(`${base}staff/patron?card=${credentials.patron_card}`);
    const cancel = page.locator("button", { hasText: "取り消す" });
    check((await cancel.count()) >= 1, "the patron's hold has a cancel button");
    check(!((await page.locator(".fields").textContent()) || "").includes("adult"), "the category by name, not code");
    check(await noOneCharacterLines(page, "table.items td:first-child"), "barcodes do not wrap");
    await shoot(page, "staff-patron");
    await page.goto(`${base}staff/desk`);
    await shoot(page, "desk");
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

main()
  .then(() => {
    if (failures > 0) {
      console.log(`patron.spec: ${failures} check(s) failed`);
      process.exit(1);
    }
    console.log("patron.spec: all checks passed");
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
