// Cataloguing in a real browser (issue #17), on the demo library, as its staff (the login
// with a TOTP code): a book catalogued through the form with the readings filled from the
// dictionary, two copies added, the OPAC finding it by title and by its reading in
// hiragana; the MARC editor refusing a broken field with its line and keeping the input,
// a correct edit and its history; copy cataloguing from a real Zebra SRU server (the
// target set through the API with the page's CSRF token), the record taken and found in
// the OPAC by ISBN-13. axe-core on every page; screenshots of the form, the record, the
// editor's refusal and copy cataloguing.
//
//   SHIORI_URL=http://127.0.0.1:8080/demo/ SHIORI_CREDENTIALS=DATA/demo-credentials.json \
//   SHIORI_ZEBRA_SRU=http://127.0.0.1:PORT/biblios node cataloguing.spec.mjs
//
// SHIORI_ARTIFACTS  a .png path or a folder: the cataloguing-*.png go in that folder
// CHROMIUM          the browser (default /usr/bin/chromium)

import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

import { accessibility, staffLogin } from "./staff.mjs";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const here = dirname(fileURLToPath(import.meta.url));
const base = process.env.SHIORI_URL;
const credentialsFile = process.env.SHIORI_CREDENTIALS;
const zebra = process.env.SHIORI_ZEBRA_SRU;
if (!base || !credentialsFile || !zebra) {
  console.error("cataloguing.spec: set SHIORI_URL, SHIORI_CREDENTIALS and SHIORI_ZEBRA_SRU (run.sh starts Zebra)");
  process.exit(2);
}
const artifactsEnv = process.env.SHIORI_ARTIFACTS || resolve(here, "../../../target/artifacts");
const artifacts = artifactsEnv.endsWith(".png") ? dirname(resolve(artifactsEnv)) : resolve(artifactsEnv);
mkdirSync(artifacts, { recursive: true });
const credentials = JSON.parse(readFileSync(credentialsFile, "utf8"));

let failures = 0;
function check(condition, message) {
  if (condition) {
    console.log(`  ok   ${message}`);
  } else {
    failures += 1;
    console.log(`  FAIL ${message}`);
  }
}

async function shot(page, name) {
  const path = join(artifacts, `cataloguing-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`       screenshot ${path}`);
}

/** Searches the OPAC JSON until `q` finds a record whose title includes `title` (the
 * index follows the catalogue's change feed within a second or so). */
async function opacFinds(page, q, title) {
  for (let i = 0; i < 100; i += 1) {
    const answer = await page.request.get(`${base.replace(/\/[^/]+\/$/, "")}/api/v1/${tenant()}/search?q=${encodeURIComponent(q)}`);
    const json = await answer.json();
    if ((json.hits || []).some((h) => (h.title || "").includes(title))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function tenant() {
  return new URL(base).pathname.split("/").filter(Boolean)[0];
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
      // Refusals (401 at login, 409/422 of a refused save) are logged by the browser.
      const expected = /\b(401|409|422|504)\b/.test(m.text());
      if (m.type() === "error" && !expected) consoleErrors.push(`${m.text()} (${m.location().url})`);
    });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));

    console.log(`staff login ${base}staff/login`);
    check(await staffLogin(page, base, credentials), `logged in as ${credentials.username}`);

    console.log("the cataloguing form");
    await Promise.all([page.waitForURL(/\/staff\/records\/new/), page.locator("a", { hasText: "新規書誌登録" }).first().click()]);
    await accessibility(page, "empty form", check);
    await page.fill("#title", "走れメロス");
    await page.fill("#responsibility", "太宰治 著");
    await page.fill("#author_name_0", "太宰, 治");
    await page.fill("#author_dates_0", "1909-1948");
    await page.fill("#place", "東京");
    await page.fill("#publisher", "新潮社");
    await page.fill("#year", "1967");
    await page.fill("#series", "新潮文庫");
    await page.fill("#ndc", "913.6");
    await page.selectOption("#ndc_edition", "9");
    // Saved with the readings empty: they are filled from the dictionary, to be checked.
    await Promise.all([page.waitForLoadState("load"), page.locator("button[value=save]").click()]);
    const titleReading = await page.inputValue("#title_reading");
    const authorReading = await page.inputValue("#author_reading_0");
    check(/^ハシレ ?メロス$/.test(titleReading), `the title's reading is filled in katakana ("${titleReading}")`);
    check(authorReading === "ダザイ, オサム", `the author's reading is filled per part ("${authorReading}")`);
    check(((await page.locator(".notice").textContent()) || "").includes("ヨミ"), "the page says the readings were filled");
    await accessibility(page, "form with readings filled", check);
    await shot(page, "form");
    // A wrong year is refused beside its input, the rest kept.
    await page.fill("#year", "昭和42年");
    await Promise.all([page.waitForLoadState("load"), page.locator("button[value=save]").click()]);
    check(await page.locator("#year-error").isVisible(), "the year's problem is shown beside it");
    check((await page.inputValue("#title")) === "走れメロス", "the input is kept");
    check((await page.getAttribute("#year", "aria-invalid")) === "true", "the year input is marked invalid");
    await accessibility(page, "form with a problem", check);
    await page.fill("#year", "1967");
    await Promise.all([page.waitForURL(/\/staff\/records\/\d+\?saved=1/), page.locator("button[value=save]").click()]);
    const recordUrl = page.url().split("?")[0];
    check(((await page.locator(".notice").textContent()) || "").includes("保存しました"), `saved as ${recordUrl}`);

    console.log("copies");
    await page.fill("#count", "2");
    await page.fill("#barcodes", "9100000001\n9100000002");
    await page.fill("#location", "文庫");
    check((await page.inputValue("#call_number")) === "913.6/ダ", `the call number is suggested (${await page.inputValue("#call_number")})`);
    await Promise.all([page.waitForURL(/done=copies/), page.locator("button", { hasText: "所蔵を追加" }).click()]);
    const rows = await page.locator("table.items tbody tr").count();
    check(rows === 2, `two copies listed (${rows})`);
    await accessibility(page, "record with copies", check);
    await shot(page, "record");

    console.log("the OPAC finds it");
    check(await opacFinds(page, "走れメロス", "走れメロス"), "by title");
    check(await opacFinds(page, "はしれめろす", "走れメロス"), "by its reading in hiragana");
    const opac = await page.goto(`${base}?q=${encodeURIComponent("走れメロス")}`);
    check(opac && opac.status() === 200 && (await page.locator(".hit").count()) >= 1, "the OPAC page lists it");

    console.log("the MARC editor");
    await page.goto(`${recordUrl}/marc`);
    await accessibility(page, "MARC editor", check);
    const original = await page.inputValue("#marc");
    const broken = original.split("\n").map((l) => (l.startsWith("=245") ? "=245  10$a" : l)).join("\n");
    const line = original.split("\n").findIndex((l) => l.startsWith("=245")) + 1;
    await page.fill("#marc", broken);
    await Promise.all([page.waitForLoadState("load"), page.locator("button", { hasText: "保存" }).click()]);
    const problems = (await page.locator("#marc-problems").textContent()) || "";
    check(problems.includes(`${line} 行目`) && problems.includes("245"), `the broken field is reported at line ${line}`);
    check((await page.inputValue("#marc")) === broken, "the typed record is kept");
    await accessibility(page, "MARC editor with a problem", check);
    await shot(page, "editor");
    await page.fill("#marc", `${original.trimEnd()}\n=500  \\\\$a新潮文庫版.`);
    await Promise.all([page.waitForURL(/saved=1/), page.locator("button", { hasText: "保存" }).click()]);
    await page.goto(`${recordUrl}/history`);
    const changes = (await page.locator("table.cat-diff").textContent()) || "";
    check(changes.includes("新潮文庫版"), "the history shows the note added in version 2");
    await accessibility(page, "history", check);

    console.log(`copy cataloguing from Zebra at ${zebra}`);
    const csrf = await page.getAttribute("input[name=csrf]", "value");
    const targets = { targets: [
      { name: "zebra", label: "Zebra (JAPAN/MARC)", base_url: zebra, schema: "marcxml", version: "1.2",
        isbn_index: "bath.isbn", title_index: "dc.title", author_index: "dc.creator", timeout_ms: 5000 },
    ] };
    const put = await page.request.put(`${base.replace(/\/[^/]+\/$/, "")}/api/v1/${tenant()}/cataloguing/targets`, {
      headers: { "content-type": "application/json", "x-csrf-token": csrf || "" },
      data: JSON.stringify(targets),
    });
    check(put.status() === 200, `targets set through the API (${put.status()})`);
    await page.goto(`${base}staff/copy-cataloguing`);
    await page.fill("#isbn", "978-4-591-13742-0");
    await Promise.all([page.waitForLoadState("load"), page.locator("button", { hasText: "検索" }).click()]);
    const found = (await page.locator("section.cat-found h3").first().textContent()) || "";
    check(found.includes("紙の本は、滅びない"), `Zebra found 「${found.trim()}」`);
    await accessibility(page, "copy cataloguing results", check);
    await shot(page, "copy");
    await Promise.all([page.waitForURL(/\/staff\/records\/\d+\?saved=1/), page.locator("section.cat-found button").first().click()]);
    check(((await page.locator("h1").textContent()) || "").includes("紙の本は、滅びない"), "the record is this library's now");
    check(await opacFinds(page, "9784591137420", "紙の本は、滅びない"), "the OPAC finds the copied record by ISBN-13");

    check(consoleErrors.length === 0, `no console errors or CSP violations${consoleErrors.length ? ": " + consoleErrors.join(" | ") : ""}`);
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

main()
  .then(() => {
    if (failures > 0) {
      console.log(`cataloguing.spec: ${failures} check(s) failed`);
      process.exit(1);
    }
    console.log("cataloguing.spec: all checks passed");
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
