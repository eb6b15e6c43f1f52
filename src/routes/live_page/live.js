// The live leaderboard page: the competition's name and time left, its top 10 with names and avatars, and the
// viewer's own row (below the top 10 when they are further down), updated in place as the competition's WebSocket
// reports changes. The token comes from the URL fragment (#token=…, never sent to the server), this tab's storage, or
// the form. Rows are rebuilt from the REST page after each burst of frames. The socket reconnects with jittered
// backoff and resumes; it stops once the competition is finished, and asks for a new token when the old one expired.
"use strict";

const competition = location.pathname.split("/").filter(Boolean).pop();
const statusEl = document.getElementById("status");
const titleEl = document.getElementById("title");
const clockEl = document.getElementById("clock");
const rowsEl = document.getElementById("rows");
const meEl = document.getElementById("me");
const totalEl = document.getElementById("total");
const form = document.getElementById("login");
let token = null;
let viewer = null;
let socket = null;
let lastSeq = null;
let backoffMs = 500;
let refreshTimer = null;
let details = null;
let done = false;

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

// The viewer's user id, from the token's payload (only to find their own row; the server checks the token).
function subjectOf(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub || null;
  } catch {
    return null;
  }
}

function cell(row, className) {
  let td = row.querySelector("td." + className);
  if (!td) {
    td = document.createElement("td");
    td.className = className;
    row.appendChild(td);
  }
  return td;
}

function fill(row, entry) {
  const changed = row.dataset.userId !== entry.user_id || row.dataset.score !== String(entry.score)
    || row.dataset.name !== entry.display_name;
  row.dataset.userId = entry.user_id;
  row.dataset.score = String(entry.score);
  row.dataset.name = entry.display_name || "";
  row.classList.toggle("mine", entry.user_id === viewer);
  cell(row, "rank").textContent = String(entry.display_rank ?? entry.rank);
  const avatar = cell(row, "avatar");
  avatar.replaceChildren();
  if (entry.avatar_url) {
    const img = document.createElement("img");
    img.alt = "";
    img.src = entry.avatar_url;
    avatar.appendChild(img);
  } else {
    avatar.appendChild(document.createElement("span"));
  }
  cell(row, "name").textContent = entry.display_name || entry.user_id;
  cell(row, "score").textContent = String(entry.score);
  if (changed) {
    row.classList.remove("changed");
    void row.offsetWidth; // restart the highlight
    row.classList.add("changed");
  }
}

function renderInto(body, entries) {
  entries.forEach((entry, i) => {
    let row = body.children[i];
    if (!row) {
      row = document.createElement("tr");
      body.appendChild(row);
    }
    fill(row, entry);
  });
  while (body.children.length > entries.length) {
    body.lastElementChild.remove();
  }
}

async function get(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401) {
    askForToken();
    return null;
  }
  return response.ok ? response.json() : null;
}

async function refresh() {
  refreshTimer = null;
  const page = await get(`/api/v1/leaderboard/${competition}?limit=10`);
  if (!page) return;
  const entries = page.entries || [];
  renderInto(rowsEl, entries);
  totalEl.textContent = `${page.total ?? entries.length} players`;
  // The viewer's own row, when they have a score but are not in the top 10.
  let mine = [];
  if (viewer && !entries.some((e) => e.user_id === viewer)) {
    const me = await get(`/api/v1/leaderboard/${competition}/me?around=0`);
    mine = me ? (me.entries || []).filter((e) => e.user_id === viewer) : [];
  }
  renderInto(meEl, mine);
}

function scheduleRefresh() {
  if (refreshTimer === null) {
    refreshTimer = setTimeout(() => refresh().catch(() => {}), 100);
  }
}

function span(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor(minutes / 60) % 24, minutes % 60];
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(ms / 1000) % 60}s`;
}

function tick() {
  if (!details) return;
  const now = Date.now();
  const starts = Date.parse(details.starts_at);
  const ends = Date.parse(details.ends_at);
  const final = ends + (details.grace_hours || 0) * 3600000;
  if (done || details.status === "finished" || details.status === "cancelled") {
    clockEl.textContent = details.status === "cancelled" ? "cancelled" : "finished";
  } else if (now < starts) {
    clockEl.textContent = `starts in ${span(starts - now)}`;
  } else if (now < ends) {
    clockEl.textContent = `ends in ${span(ends - now)}`;
  } else if (now < final) {
    clockEl.textContent = "finalizing — late syncs still count";
  } else {
    clockEl.textContent = "finished";
  }
}

async function loadDetails() {
  const found = await get(`/api/v1/competitions/${competition}`);
  if (found) {
    details = found;
    titleEl.textContent = found.name;
    document.title = `${found.name} — live`;
    if (found.status === "finished" || found.status === "cancelled") finish();
    tick();
  }
}

function finish() {
  done = true;
  setStatus("finished", "finished");
  tick();
}

function connect() {
  if (done || token === null) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/competitions/${competition}/live`, ["bearer", token]);
  socket.onopen = () => {
    backoffMs = 500;
    setStatus("live", "live");
    if (lastSeq !== null) {
      socket.send(JSON.stringify({ type: "resume", since: lastSeq }));
    }
  };
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (typeof frame.seq === "number") {
      lastSeq = frame.seq;
    }
    if (frame.type === "finished") {
      finish();
    }
    if (frame.type === "changed" && frame.competition) {
      details = frame.competition;
      titleEl.textContent = details.name;
      tick();
    }
    if (["snapshot", "update", "updates", "removed", "finished"].includes(frame.type)) {
      scheduleRefresh();
    }
  };
  socket.onclose = (event) => {
    socket = null;
    if (done) return;
    if (event.code === 4001) {
      // The token expired: a new one is needed, retrying with the old one would only loop.
      askForToken();
      return;
    }
    setStatus("reconnecting", "reconnecting…");
    // Jitter spreads the reconnects of many viewers after a deploy closes every socket at once.
    setTimeout(connect, backoffMs * (0.5 + Math.random()));
    backoffMs = Math.min(backoffMs * 2, 10000);
  };
}

function askForToken() {
  token = null;
  sessionStorage.removeItem("leaderboard-token");
  setStatus("connecting", "token needed");
  form.hidden = false;
}

function start(withToken) {
  token = withToken;
  viewer = subjectOf(token);
  sessionStorage.setItem("leaderboard-token", token);
  form.hidden = true;
  setStatus("connecting", "connecting…");
  loadDetails().catch(() => {});
  refresh().catch(() => {});
  if (socket === null) connect();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start(new FormData(form).get("token").trim());
});
setInterval(tick, 1000);

const fromFragment = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromFragment) {
  history.replaceState(null, "", location.pathname); // keep the token out of history and screenshots
}
const known = fromFragment || sessionStorage.getItem("leaderboard-token");
if (known) {
  start(known);
} else {
  askForToken();
}
