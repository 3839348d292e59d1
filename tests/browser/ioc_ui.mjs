// Drives the IOC web UI in Debian's headless Chromium, as an operator would, for
// tests/tests/web_ui.rs. The Rust test owns the bridge and the MQTT side; this script talks to it
// over stdout, one line per step:
//   READY                  the operator is logged in and the live wall is connected
//   LIVE {json}            a watch-list hit appeared on the wall (event id, text, snapshot size)
//   ALERT {json}           the alert's history after Take and Close, as the page shows it
//   COUNTS {json}          the hourly count chart's bars, as drawn
//   GATE {json}            the gate view of the hit's site: watch-list hits, recognised, entries
//   ENROL {json}           a person enrolled from the People page with a photo file
// Any failure prints FAIL and exits non-zero; a screenshot of the page is left in GW_SHOTS.
//
// Environment: GW_URL, GW_USER, GW_PASS, GW_SHOTS (a directory), CHROMIUM (default
// /usr/bin/chromium), GW_CLOSE_NOTE (the note typed when closing the alert), GW_SITE (the site
// of the gate view), GW_ENROL_PHOTO (a photo file to enrol).
import { chromium } from "playwright-core";

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`environment variable ${k} is not set`);
  return v;
};
const url = env("GW_URL");
const shots = env("GW_SHOTS");
const closeNote = env("GW_CLOSE_NOTE", "checked at the gate");
const say = (tag, obj) => console.log(obj === undefined ? tag : `${tag} ${JSON.stringify(obj)}`);

const browser = await chromium.launch({
  executablePath: env("CHROMIUM", "/usr/bin/chromium"),
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--no-first-run", "--disable-extensions"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, locale: "vi-VN", timezoneId: "Asia/Ho_Chi_Minh" });
page.setDefaultTimeout(20000);
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("dialog", (d) => d.accept(d.type() === "prompt" ? closeNote : undefined));

try {
  // Log in: a wrong password is refused on the page, the right one opens the app.
  await page.goto(url);
  await page.waitForSelector("#login-form", { state: "visible" });
  await page.fill("#login-user", env("GW_USER"));
  await page.fill("#login-pass", "not-the-password");
  await page.click("#login-submit");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.trim() !== "");
  const refused = await page.textContent("#login-error");
  await page.fill("#login-pass", env("GW_PASS"));
  await page.click("#login-submit");
  await page.waitForSelector("#app", { state: "visible" });
  await page.waitForFunction(() => document.querySelector("#live-state").textContent === "live");
  say("READY", { refused, who: await page.textContent("#who") });

  // The live wall: the hit the test publishes now must appear without a reload.
  const cardSel = ".wall .ev.watchlist_hit.fresh";
  await page.waitForSelector(cardSel, { timeout: 30000 });
  await page.waitForFunction((sel) => {
    const img = document.querySelector(`${sel} img`);
    return img && img.complete && img.naturalWidth > 0;
  }, cardSel);
  const live = await page.$eval(cardSel, (el) => ({
    event_id: el.dataset.eventId,
    text: el.querySelector(".what").textContent,
    where: el.querySelector(".muted").textContent,
    snapshot_width: el.querySelector("img").naturalWidth,
    snapshot_height: el.querySelector("img").naturalHeight,
  }));
  const badge = await page.textContent("#open-alerts");
  await page.screenshot({ path: `${shots}/live-wall.png` });
  say("LIVE", { ...live, open_alerts_badge: badge });

  // The alert: New -> Take (in progress) -> Close (closed) with a note, then its history.
  await page.click('#tabs button[data-tab="alerts"]');
  const row = `#alerts tr[data-alert-id="${live.event_id}"]`;
  await page.waitForSelector(row);
  await page.click(`${row} button[data-to="in_progress"]`);
  await page.waitForSelector("#alert-detail .history li:nth-child(2)");
  await page.selectOption("#alert-state", "in_progress");
  await page.click('#alert-filter button[type="submit"]');
  await page.waitForSelector(`${row} td.state-in_progress`);
  await page.click(`${row} button[data-to="closed"]`);
  await page.waitForSelector("#alert-detail .history li:nth-child(3)");
  await page.selectOption("#alert-state", "closed");
  await page.click('#alert-filter button[type="submit"]');
  await page.waitForSelector(`${row} td.state-closed`);
  const history = await page.$$eval("#alert-detail .history li", (lis) => lis.map((li) => li.textContent.trim()));
  const lastChange = await page.textContent(`${row} td:nth-child(5)`);
  await page.screenshot({ path: `${shots}/alert-closed.png` });
  say("ALERT", { history, last_change: lastChange.trim() });

  // Counts per hour as a chart: read back every bar.
  await page.click('#tabs button[data-tab="counts"]');
  await page.selectOption("#count-period", "hour");
  await page.click('#count-filter button[type="submit"]');
  await page.waitForSelector("#count-svg g[data-start]");
  const bars = await page.$$eval("#count-svg g[data-start]", (gs) => gs.map((g) => ({
    start: g.dataset.start,
    entries: Number(g.querySelector('rect[data-kind="in"]').dataset.value),
    exits: Number(g.querySelector('rect[data-kind="out"]').dataset.value),
    entries_height: Number(g.querySelector('rect[data-kind="in"]').getAttribute("height")),
    exits_height: Number(g.querySelector('rect[data-kind="out"]').getAttribute("height")),
  })));
  const rows = await page.$$eval("#count-table tbody tr", (trs) => trs.length);
  await page.screenshot({ path: `${shots}/counts.png` });
  say("COUNTS", { bars, table_rows: rows });
  // The gate view of the site: the hit is listed under watch-list hits.
  await page.click('#tabs button[data-tab="gate"]');
  await page.fill("#gate-site", env("GW_SITE"));
  await page.click('#gate-filter button[type="submit"]');
  await page.waitForSelector(`#gate-hits li[data-event-id="${live.event_id}"]`);
  const gate = {
    hits: await page.$$eval("#gate-hits li[data-event-id]", (lis) => lis.map((li) => li.dataset.eventId)),
    known: await page.$$eval("#gate-known li[data-event-id]", (lis) => lis.length),
    entries: await page.$$eval("#gate-entries li[data-event-id]", (lis) => lis.length),
  };
  say("GATE", gate);

  // Enrol a visitor from the People page with a photo file.
  await page.click('#tabs button[data-tab="people"]');
  await page.fill("#enrol-id", "tran_thi_mai");
  await page.fill("#enrol-name", "Trần Thị Mai");
  await page.selectOption("#enrol-list", "visitor");
  await page.setInputFiles("#enrol-photos", env("GW_ENROL_PHOTO"));
  await page.click('#enrol-form button[type="submit"]');
  await page.waitForFunction(() => /enrolled|error|face|photo/i.test(document.querySelector("#enrol-result").textContent)
    && !/enrolling/.test(document.querySelector("#enrol-result").textContent));
  const result = await page.textContent("#enrol-result");
  await page.waitForSelector('#people tr[data-person-id="tran_thi_mai"]', { timeout: 5000 }).catch(() => {});
  const person = await page.$$eval('#people tr[data-person-id="tran_thi_mai"] td', (tds) => tds.map((td) => td.textContent.trim()));
  await page.screenshot({ path: `${shots}/people.png` });
  say("ENROL", { result, row: person });
  if (pageErrors.length) throw new Error(`errors on the page: ${pageErrors.join("; ")}`);
  say("DONE");
} catch (e) {
  await page.screenshot({ path: `${shots}/failure.png` }).catch(() => {});
  say("FAIL", { error: String(e && e.stack || e), page_errors: pageErrors });
  process.exitCode = 1;
} finally {
  await browser.close();
}
