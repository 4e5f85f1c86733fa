// What the staff-page specs share: the TOTP code an authenticator app computes, the login
// through the staff form, and axe-core's check (desk, patron and cataloguing specs).

import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** RFC 4648 base 32 to bytes. */
export function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, "").toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) continue;
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (HMAC-SHA1, 6 digits, 30 s) for a time in seconds. */
export function totp(secret, seconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, "0");
}

/** Logs in through `${base}staff/login` with the password and a TOTP code; a code is
 * accepted once, so when this window's code was used (by another spec) the next one is. */
export async function staffLogin(page, base, credentials) {
  await page.goto(`${base}staff/login`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    await page.fill("#username", credentials.username);
    await page.fill("#password", credentials.password);
    await page.fill("#totp", totp(credentials.totp_secret, Date.now() / 1000 + attempt * 30));
    await Promise.all([page.waitForLoadState("load"), page.locator("form.staff-form button[type=submit]").click()]);
    if (/\/staff\/$/.test(page.url())) return true;
    if (attempt === 0) await new Promise((r) => setTimeout(r, 31000));
  }
  return false;
}

/** Runs axe-core on the page; `check` is told whether anything serious or critical was found. */
export async function accessibility(page, name, check) {
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
