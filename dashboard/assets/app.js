// Shows every <time datetime> in the reader's own time zone.
document.addEventListener("DOMContentLoaded", () => {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const el of document.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      el.title = el.textContent;
      el.textContent = format.format(when);
    }
  }
  if (document.querySelector("[data-live]")) {
    connectLive(0);
  }
});

// The practice's live events (/ws/dashboard): delivery statuses change in
// place; after a gap the page reloads what it shows.
function connectLive(failures) {
  const status = document.querySelector("[data-live-status]");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/dashboard`);
  let opened = false;
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello") {
      opened = true;
      if (status) status.textContent = "Live updates: on";
      if (failures > 0) location.reload();
    } else if (event.type === "deliveries.updated") {
      for (const delivery of event.deliveries) {
        const row = document.querySelector(`[data-delivery-id="${delivery.delivery_id}"]`);
        if (!row) continue;
        const badge = row.querySelector("[data-role=status]");
        badge.textContent = delivery.status;
        badge.className = `badge ${delivery.status}`;
        row.querySelector("[data-role=attempts]").textContent = delivery.attempts;
      }
    } else if (event.type === "reset") {
      location.reload();
    }
  });
  socket.addEventListener("close", () => {
    if (status) status.textContent = "Live updates: reconnecting…";
    const next = opened ? 1 : failures + 1;
    setTimeout(() => connectLive(next), Math.min(30000, 500 * 2 ** Math.min(next, 6)));
  });
}

// Forms that ask before they submit (deleting a user).
document.addEventListener("submit", (event) => {
  const question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// Profile pictures go straight to the API (the session cookie plus the
// page's CSRF token), then the page reloads to show the new one.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.hasAttribute("data-picture-upload")) return;
  event.preventDefault();
  const file = form.querySelector("input[type=file]").files[0];
  if (!file) return;
  const response = await fetch("/api/dashboard/v1/me/picture", {
    method: "PUT",
    headers: { "content-type": file.type || "application/octet-stream", "x-csrf-token": form.dataset.csrf },
    body: file,
  });
  if (response.ok) {
    location.href = "/dashboard/profile?done=" + encodeURIComponent("Picture saved.");
  } else {
    const problem = await response.json().catch(() => ({}));
    alert(problem.detail || "That file is not a picture we can use (JPEG, PNG or WebP).");
  }
});
