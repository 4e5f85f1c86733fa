// The circulation desk in a real browser (issue 7): log in as the demo library's staff
// (credentials from DATA/demo-credentials.json, the TOTP code computed here), then on the
// desk screen scan a patron card and an item barcode (typed with Enter, as a scanner
// does), check the item out, switch to checkin and scan it back; the input keeps the
// focus throughout, each result appears in the live region, axe finds no serious
// violation, and a screenshot is saved beside the OPAC's.
//
//   SHIORI_URL=http://127.0.0.1:8080/demo/ SHIORI_CREDENTIALS=DATA/demo-credentials.json node desk.spec.mjs
//
// SHIORI_URL          the demo library's OPAC (required)
// SHIORI_CREDENTIALS  the demo credentials file (required)
// SHIORI_ARTIFACTS    a .png path or a folder: desk.png goes in that folder
//                     (default: <workspace>/target/artifacts/)
// SHIORI_DESK_CARD    the patron card to lend to (default 2000000012: no loans, nothing overdue)
// SHIORI_DESK_ITEM    the item to lend (default 1000000001: on the shelf in the demo)
// CHROMIUM            the browser (default /usr/bin/chromium)

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
  console.error("desk.spec: set SHIORI_URL (the demo library) and SHIORI_CREDENTIALS (demo-credentials.json)");
  process.exit(2);
}
const artifactsEnv = process.env.SHIORI_ARTIFACTS || resolve(here, "../../../target/artifacts");
const artifacts = artifactsEnv.endsWith(".png") ? dirname(resolve(artifactsEnv)) : resolve(artifactsEnv);
mkdirSync(artifacts, { recursive: true });
const screenshot = join(artifacts, "desk.png");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const credentials = JSON.parse(readFileSync(credentialsFile, "utf8"));
const CARD = process.env.SHIORI_DESK_CARD || "2000000012";
const ITEM = process.env.SHIORI_DESK_ITEM || "1000000001";

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

async function focusIsOnScan(page) {
  return page.evaluate(() => document.activeElement && document.activeElement.id === "scan");
}

/** Types a barcode and Enter into the focused element, as a scanner does, and waits for
 * a new line in the results whose text includes `expect`. */
async function scan(page, code, expect) {
  const before = await page.locator("#desk-log li").count();
  await page.keyboard.type(code, { delay: 10 });
  await page.keyboard.press("Enter");
  try {
    await page.locator("#desk-log li").first().filter({ hasText: expect }).waitFor({ timeout: 10000 });
  } catch {
    // Reported below.
  }
  const first = ((await page.locator("#desk-log li").first().textContent()) || "").trim();
  check(first.includes(expect), `scan ${code}: "${first}"`);
  check((await page.locator("#desk-log li").count()) >= Math.min(before + 1, 12), "a new line in the results");
  return first;
}

async function main() {
  const userDataDir = mkdtempSync(join(tmpdir(), "shiori-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
    locale: "ja-JP",
    timezoneId: "Asia/Tokyo",
  });
  const consoleErrors = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("console", (m) => {
      // The login form answers 401 until the right code is given: logged by the browser.
      const expected = m.text().includes("401") && /\/staff\/login$/.test(m.location().url || "");
      if (m.type() === "error" && !expected) consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));

    console.log(`staff login ${base}staff/login`);
    await page.goto(`${base}staff/login`);
    await page.fill("#username", credentials.username);
    await page.fill("#password", credentials.password);
    // A code is accepted once: if this step's code was used, the next step's is.
    let loggedIn = false;
    for (let attempt = 0; attempt < 2 && !loggedIn; attempt += 1) {
      const now = Date.now() / 1000 + attempt * 30;
      await page.fill("#totp", totp(credentials.totp_secret, now));
      await Promise.all([page.waitForLoadState("load"), page.locator("form.staff-form button[type=submit]").click()]);
      loggedIn = /\/staff\/$/.test(page.url());
      if (!loggedIn) {
        await page.fill("#password", credentials.password);
        await new Promise((r) => setTimeout(r, attempt === 0 ? 31000 : 0));
      }
    }
    check(loggedIn, `logged in as ${credentials.username} (${page.url()})`);

    console.log("desk");
    await Promise.all([page.waitForURL(/\/staff\/desk/), page.locator("a", { hasText: "貸出・返却カウンター" }).click()]);
    check(await focusIsOnScan(page), "the scan input has the focus");
    await accessibility(page, "desk screen");

    await scan(page, CARD, "利用者");
    check(await focusIsOnScan(page), "the focus stays in the input after a scan");
    check((await page.locator(".desk-patron h2").textContent() || "").includes(CARD), "the patron at the desk is shown");
    await scan(page, ITEM, `貸出: ${ITEM}`);
    check(await focusIsOnScan(page), "the focus stays in the input after a checkout");
    // The same item again: refused, told on the screen.
    await scan(page, ITEM, "貸出中");
    check(await page.locator("#desk-log li.desk-line--error").count() > 0, "a refusal is shown as an error line");

    console.log("checkin");
    await Promise.all([page.waitForURL(/mode=checkin/), page.locator(".desk-modes a", { hasText: "返却" }).click()]);
    check(await focusIsOnScan(page), "the scan input has the focus in checkin mode");
    await scan(page, ITEM, `返却: ${ITEM}`);
    check(await focusIsOnScan(page), "the focus stays in the input after a checkin");
    // A click on the page's background gives the focus back to the input.
    await page.mouse.click(5, 600);
    await page.waitForTimeout(50);
    check(await focusIsOnScan(page), "a click on the background keeps the scanner's input focused");
    await accessibility(page, "desk screen with results");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`       screenshot ${screenshot}`);

    console.log("lists");
    for (const [path, heading] of [["staff/hold-shelf", "予約取置棚"], ["staff/due", "本日返却予定"], [`staff/patron?card=${CARD}`, "利用者照会"]]) {
      const answer = await page.goto(`${base}${path}`);
      check(answer && answer.status() === 200 && ((await page.locator("h1").textContent()) || "").includes(heading), `${path}: ${heading}`);
      await accessibility(page, path);
    }

    check(consoleErrors.length === 0, `no console errors or CSP violations${consoleErrors.length ? ": " + consoleErrors.join(" | ") : ""}`);
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

main()
  .then(() => {
    if (failures > 0) {
      console.error(`desk.spec: ${failures} check(s) failed`);
      process.exit(1);
    }
    console.log("desk.spec: all checks passed");
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
