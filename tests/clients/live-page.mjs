// Drives the live leaderboard page in real headless Chromium (Debian's, through playwright-core): loads
// /live/{competition}#token=…, posts score updates through the API, and checks the table shows the new order each
// time, a rename live, the competition's name and time left, and the viewer's own row below the top 10, with no
// console error or CSP violation. Saves a screenshot to $SCREENSHOT.
// Env: BASE, COMPETITION, COMPETITION_NAME, VIEWER_TOKEN, VIEWER_ID (ranked outside the top 10),
// PLAYERS (JSON [{id, token}] × 3, above everyone else once they post), SCREENSHOT.
import { chromium } from "playwright-core";

const { BASE, COMPETITION, COMPETITION_NAME, VIEWER_TOKEN, VIEWER_ID, SCREENSHOT } = process.env;
const players = JSON.parse(process.env.PLAYERS);
const fail = (message) => {
  console.error(`FAIL: ${message}`);
  process.exit(1);
};

async function post(player, score) {
  const response = await fetch(`${BASE}/api/v1/leaderboard/update`, {
    method: "POST",
    headers: { Authorization: `Bearer ${player.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ competition_id: COMPETITION, score }),
  });
  if (response.status !== 200) fail(`update ${score}: ${response.status} ${await response.text()}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
const problems = [];
try {
  const page = await browser.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });

  await page.goto(`${BASE}/live/${COMPETITION}#token=${VIEWER_TOKEN}`);
  await page.waitForSelector('#status[data-state="live"]', { timeout: 15000 });
  if (page.url().includes("token=")) fail("the token stays in the address");

  const order = () => page.$$eval("#rows tr", (rows) => rows.map((row) => row.dataset.userId));
  async function expectOrder(expected, what) {
    try {
      await page.waitForFunction(
        (ids) =>
          JSON.stringify([...document.querySelectorAll("#rows tr")].slice(0, ids.length).map((r) => r.dataset.userId)) ===
          JSON.stringify(ids),
        expected,
        { timeout: 10000 },
      );
    } catch {
      fail(`${what}: expected ${JSON.stringify(expected)}, shown ${JSON.stringify(await order())}`);
    }
  }

  const [a, b, c] = players;
  await post(a, 100);
  await post(b, 300);
  await post(c, 200);
  await expectOrder([b.id, c.id, a.id], "after the first scores");
  await post(a, 500);
  await expectOrder([a.id, b.id, c.id], "after a overtakes");
  const cells = await page.$$eval("#rows tr", (rows) =>
    rows.slice(0, 3).map((row) => [row.querySelector(".rank").textContent, row.querySelector(".score").textContent]),
  );
  if (JSON.stringify(cells) !== JSON.stringify([["1", "500"], ["2", "300"], ["3", "200"]])) {
    fail(`ranks and scores shown: ${JSON.stringify(cells)}`);
  }
  // A rename shows up live.
  const renamed = await fetch(`${BASE}/api/v1/me`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${a.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ display_name: "Ana Live" }),
  });
  if (renamed.status !== 200) fail(`rename: ${renamed.status}`);
  try {
    await page.waitForFunction(
      (id) => document.querySelector(`#rows tr[data-user-id="${id}"] .name`)?.textContent === "Ana Live",
      a.id,
      { timeout: 10000 },
    );
  } catch {
    fail("the new name did not show");
  }
  const title = await page.textContent("#title");
  if (title !== COMPETITION_NAME) fail(`title ${JSON.stringify(title)}`);
  const clock = await page.textContent("#clock");
  if (!clock.startsWith("ends in")) fail(`time left ${JSON.stringify(clock)}`);
  const mine = await page.$$eval("#me tr", (rows) => rows.map((row) => [row.dataset.userId, row.className]));
  if (mine.length !== 1 || mine[0][0] !== VIEWER_ID || !mine[0][1].includes("mine")) {
    fail(`the viewer's own row below the top 10: ${JSON.stringify(mine)}`);
  }
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  if (problems.length) fail(problems.join("\n"));
  console.log("all checks passed");
} finally {
  await browser.close();
}
