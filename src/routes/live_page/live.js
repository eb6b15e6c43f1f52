// The live leaderboard page: the top 10 of one competition, updated in place as the competition's WebSocket reports
// changes. The token comes from the URL fragment (#token=…, never sent to the server), this tab's storage, or the
// form. Rows are rebuilt from the REST page (names, avatars) after each burst of update frames.
"use strict";

const competition = location.pathname.split("/").filter(Boolean).pop();
const statusEl = document.getElementById("status");
const rowsEl = document.getElementById("rows");
const totalEl = document.getElementById("total");
const form = document.getElementById("login");
let token = null;
let lastSeq = null;
let backoffMs = 500;
let refreshTimer = null;

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
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

function render(page) {
  const entries = page.entries || [];
  entries.forEach((entry, i) => {
    let row = rowsEl.children[i];
    if (!row) {
      row = document.createElement("tr");
      rowsEl.appendChild(row);
    }
    const changed = row.dataset.userId !== entry.user_id || row.dataset.score !== String(entry.score);
    row.dataset.userId = entry.user_id;
    row.dataset.score = String(entry.score);
    cell(row, "rank").textContent = String(entry.rank);
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
  });
  while (rowsEl.children.length > entries.length) {
    rowsEl.lastElementChild.remove();
  }
  totalEl.textContent = `${page.total ?? entries.length} players`;
}

async function refresh() {
  refreshTimer = null;
  const response = await fetch(`/api/v1/leaderboard/${competition}?limit=10`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (response.status === 401) {
    askForToken();
    return;
  }
  if (response.ok) {
    render(await response.json());
  }
}

function scheduleRefresh() {
  if (refreshTimer === null) {
    refreshTimer = setTimeout(() => refresh().catch(() => {}), 100);
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/v1/competitions/${competition}/live`, ["bearer", token]);
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
      setStatus("finished", "finished");
    }
    if (frame.type === "snapshot" || frame.type === "update" || frame.type === "finished") {
      scheduleRefresh();
    }
  };
  socket.onclose = () => {
    if (statusEl.dataset.state !== "finished") {
      setStatus("reconnecting", "reconnecting…");
    }
    setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 10000);
  };
}

function askForToken() {
  setStatus("connecting", "token needed");
  form.hidden = false;
}

function start(withToken) {
  token = withToken;
  sessionStorage.setItem("leaderboard-token", token);
  form.hidden = true;
  setStatus("connecting", "connecting…");
  refresh().catch(() => {});
  connect();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start(new FormData(form).get("token").trim());
});

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
