// Shows every <time datetime> under `root` in the reader's own time zone.
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
// Text people typed (names, messages) in an element of its own direction:
// a right-to-left override inside it cannot reverse what follows it.
function isolated(text) {
  const bdi = document.createElement("bdi");
  bdi.textContent = text;
  return bdi;
}

function localTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime()) && !el.title) {
      el.title = el.textContent;
      el.textContent = timeFormat.format(when);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  const chatRoot = document.querySelector("[data-chat]");
  const chat = chatRoot ? new ChatPage(chatRoot) : null;
  if (document.querySelector("[data-live]")) {
    connectLive(0, chat);
  }
});

// The practice's live events (/ws/dashboard, frames in docs/chat-protocol.md):
// delivery statuses change in place, and the chat page hears its
// conversations. After a gap, a page without chat reloads what it shows.
function connectLive(failures, chat) {
  const status = document.querySelector("[data-live-status]");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/dashboard`);
  let opened = false;
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello") {
      opened = true;
      if (status) status.textContent = "Live updates: on";
      if (chat) {
        chat.attach(socket);
      } else {
        socket.send(JSON.stringify({ v: 1, type: "resume", conversations: [] }));
        if (failures > 0) location.reload();
      }
    } else if (event.type === "deliveries.updated") {
      for (const delivery of event.deliveries) {
        const row = document.querySelector(`[data-delivery-id="${delivery.delivery_id}"]`);
        if (!row) continue;
        const badge = row.querySelector("[data-role=status]");
        badge.textContent = delivery.status;
        badge.className = `badge ${delivery.status}`;
        row.querySelector("[data-role=attempts]").textContent = delivery.attempts;
      }
    } else if (chat) {
      chat.onFrame(event);
    } else if (event.type === "reset" || event.type === "lagged") {
      location.reload();
    }
  });
  socket.addEventListener("close", () => {
    if (status) status.textContent = "Live updates: reconnecting…";
    if (chat) chat.detach();
    const next = opened ? 1 : failures + 1;
    setTimeout(() => connectLive(next, chat), Math.min(30000, 500 * 2 ** Math.min(next, 6)));
  });
}

// The Chat page: the inbox on the left, one conversation on the right. Both
// load from the staff API and then follow the socket. Each conversation is
// kept in seq order with one copy per seq; a send carries its own id and is
// sent again after a reconnect until it is acknowledged (the server stores
// it once).
class ChatPage {
  constructor(root) {
    this.root = root;
    this.csrf = root.dataset.csrf;
    this.socket = null;
    this.items = new Map();
    this.pending = new Map();
    this.selected = null;
    this.names = new Map();
    if (root.dataset.selected) this.names.set(root.dataset.selected, root.dataset.selectedName || "");
    this.wantSelected = root.dataset.selected || null;
    this.el = (role) => root.querySelector(`[data-role=${role}]`);
    this.inbox = root.querySelector("[data-testid=inbox]");
    this.list = root.querySelector("[data-testid=messages]");
    this.pane = root.querySelector("[data-testid=conversation]");
    this.lastTypingSent = 0;
    this.typingTimer = null;
    this.el("filter").addEventListener("change", () => this.loadInbox());
    this.el("compose").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(null);
    });
    const textarea = this.el("compose").querySelector("textarea");
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.send(null);
      }
    });
    textarea.addEventListener("input", () => this.typing());
    this.el("picture").addEventListener("change", (event) => this.sendPicture(event.target));
    this.el("older").addEventListener("click", () => this.loadOlder());
    this.el("assignee").addEventListener("change", (event) =>
      this.update({ assigned_to: event.target.value || null }),
    );
    this.el("toggle-status").addEventListener("click", () =>
      this.update({ status: this.conversation.status === "open" ? "closed" : "open" }),
    );
    document.addEventListener("visibilitychange", () => this.markRead());
    // Show the inbox at once; the socket catches up when it opens.
    this.load();
  }

  async api(path, options = {}) {
    const response = await withApproval((approval) => {
      const headers = { "x-csrf-token": this.csrf, ...(options.headers || {}), ...approval };
      return fetch(`/api/dashboard/v1${path}`, { ...options, headers });
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || body.title || `request failed (${response.status})`);
    return body;
  }

  // What the page shows, from the staff API.
  async load() {
    try {
      await this.loadInbox();
      const open = this.selected || this.wantSelected;
      if (open) await this.open(open);
    } catch (err) {
      this.error(err.message);
    }
  }

  // The socket said hello: load again (the page shows nothing stale after a
  // reconnect), then resume from what is shown.
  async attach(socket) {
    this.socket = socket;
    await this.load();
    const positions = this.selected ? [{ conversation_id: this.selected, last_seq: this.lastSeq }] : [];
    this.frame({ type: "resume", conversations: positions });
    for (const [id, send] of this.pending) this.frame({ type: "send", client_message_id: id, ...send });
  }

  detach() {
    this.socket = null;
  }

  frame(value) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ v: 1, ...value }));
    }
  }

  async loadInbox() {
    const filter = this.el("filter").value;
    const page = await this.api(`/conversations?limit=100${filter ? "&" + filter : ""}`);
    this.items = new Map(page.items.map((item) => [item.conversation.id, item]));
    for (const item of page.items) this.names.set(item.conversation.id, item.client_name);
    this.renderInbox();
  }

  renderInbox() {
    const sorted = [...this.items.values()].sort((a, b) =>
      (b.last_message?.created_at || "").localeCompare(a.last_message?.created_at || ""),
    );
    this.inbox.replaceChildren(
      ...sorted.map((item) => {
        const c = item.conversation;
        const li = document.createElement("li");
        li.dataset.conversationId = c.id;
        li.setAttribute("aria-current", String(c.id === this.selected));
        const a = document.createElement("a");
        a.href = `/dashboard/chat?conversation=${c.id}`;
        a.addEventListener("click", (event) => {
          event.preventDefault();
          this.open(c.id).catch((err) => this.error(err.message));
        });
        const name = document.createElement("strong");
        name.append(isolated(item.client_name || "Client"));
        a.append(name);
        if (item.has_personal_note) {
          const note = document.createElement("span");
          note.title = "Personal note";
          note.dataset.role = "note-icon";
          note.textContent = " 📓";
          a.append(note);
        }
        if (c.unread > 0) {
          const unread = document.createElement("span");
          unread.className = "unread";
          unread.dataset.role = "unread";
          unread.textContent = c.unread;
          a.append(unread);
        }
        const preview = document.createElement("span");
        preview.className = "preview";
        const last = item.last_message;
        if (last) preview.append(last.author === "staff" ? "You: " : "", isolated(last.body || "📷 Picture"));
        a.append(preview);
        li.append(a);
        return li;
      }),
    );
    this.el("inbox-empty").hidden = sorted.length > 0;
  }

  async open(id) {
    const [conversation, page] = await Promise.all([
      this.api(`/conversations/${id}`),
      this.api(`/conversations/${id}/messages?limit=50`),
    ]);
    this.selected = id;
    this.wantSelected = null;
    this.lastSeq = 0;
    this.ownerReadSeq = 0;
    this.staffReadSeq = conversation.staff_read_seq;
    this.list.replaceChildren();
    for (const message of page.items.reverse()) this.append(message);
    this.firstSeq = page.items.length ? page.items[0].seq : null;
    this.el("older").hidden = page.next_seq == null;
    this.show(conversation);
    this.el("typing").textContent = "";
    history.replaceState(null, "", `/dashboard/chat?conversation=${id}`);
    this.renderInbox();
    this.markRead();
  }

  async loadOlder() {
    if (!this.selected || this.firstSeq == null) return;
    const page = await this.api(`/conversations/${this.selected}/messages?limit=50&before_seq=${this.firstSeq}`);
    const top = this.list.firstChild;
    for (const message of page.items) this.list.insertBefore(this.messageItem(message), top);
    if (page.items.length) this.firstSeq = page.items[page.items.length - 1].seq;
    this.el("older").hidden = page.next_seq == null;
  }

  // Header and read state from a conversation (REST view or socket state).
  show(conversation) {
    this.conversation = conversation;
    this.pane.hidden = false;
    const link = this.el("client-link");
    link.replaceChildren(isolated(this.names.get(this.selected) || "Client"));
    link.href = `/dashboard/clients/${conversation.client_id}`;
    const status = this.el("status");
    status.textContent = conversation.status;
    status.className = `badge ${conversation.status === "open" ? "green" : ""}`;
    this.el("toggle-status").textContent = conversation.status === "open" ? "Close" : "Reopen";
    this.el("assignee").value = conversation.assigned_to || "";
    this.ownerReadSeq = Math.max(this.ownerReadSeq || 0, conversation.owner_read_seq);
    this.renderSeen();
  }

  messageItem(message) {
    const li = document.createElement("li");
    li.className = message.author;
    li.dataset.seq = message.seq;
    if (message.body) li.append(isolated(message.body));
    if (message.attachment_id) {
      const img = document.createElement("img");
      img.src = `/api/dashboard/v1/conversations/${message.conversation_id}/attachments/${message.attachment_id}`;
      img.alt = "Picture";
      li.append(img);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    const time = document.createElement("time");
    time.setAttribute("datetime", message.created_at);
    time.textContent = message.created_at;
    meta.append(isolated(message.author_name), `${message.channel === "sms" ? " (text)" : ""} · `, time);
    li.append(meta);
    localTimes(li);
    return li;
  }

  // Adds a stored message of the open conversation in seq order; a gap is
  // fetched first.
  async append(message) {
    if (message.seq <= this.lastSeq) return;
    if (message.seq > this.lastSeq + 1 && this.lastSeq > 0) {
      const page = await this.api(`/conversations/${this.selected}/messages?limit=100&after_seq=${this.lastSeq}`);
      for (const missed of page.items) if (missed.seq < message.seq) this.append(missed);
    }
    if (message.seq <= this.lastSeq) return;
    if (message.client_message_id) {
      const waiting = this.list.querySelector(`li.pending[data-client-id="${CSS.escape(message.client_message_id)}"]`);
      if (waiting) waiting.remove();
    }
    const pendingFirst = this.list.querySelector("li.pending");
    this.list.insertBefore(this.messageItem(message), pendingFirst);
    this.lastSeq = message.seq;
    this.list.scrollTop = this.list.scrollHeight;
    this.renderSeen();
  }

  // "Seen" under the last practice message the owner has read.
  renderSeen() {
    for (const old of this.list.querySelectorAll("[data-testid=seen]")) old.remove();
    const read = [...this.list.querySelectorAll("li.staff[data-seq]")].filter(
      (li) => Number(li.dataset.seq) <= this.ownerReadSeq,
    );
    const last = read[read.length - 1];
    if (last) {
      const seen = document.createElement("span");
      seen.className = "meta";
      seen.dataset.testid = "seen";
      seen.textContent = "Seen";
      last.append(seen);
    }
  }

  markRead() {
    if (!this.selected || document.visibilityState !== "visible" || this.lastSeq <= this.staffReadSeq) return;
    this.staffReadSeq = this.lastSeq;
    const item = this.items.get(this.selected);
    if (item) {
      item.conversation.staff_read_seq = this.lastSeq;
      item.conversation.unread = Math.max(0, item.conversation.last_seq - this.lastSeq);
      this.renderInbox();
    }
    this.frame({ type: "read", conversation_id: this.selected, seq: this.lastSeq });
  }

  typing() {
    if (!this.selected || Date.now() - this.lastTypingSent < 2000) return;
    this.lastTypingSent = Date.now();
    this.frame({ type: "typing", conversation_id: this.selected });
  }

  send(attachmentId) {
    const textarea = this.el("compose").querySelector("textarea");
    const body = textarea.value.trim();
    if (!this.selected || (!body && !attachmentId)) return;
    const id = window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    const send = { conversation_id: this.selected, body, attachment_id: attachmentId };
    this.pending.set(id, send);
    const li = document.createElement("li");
    li.className = "staff pending";
    li.dataset.clientId = id;
    li.append(isolated(body || "📷 Picture"));
    this.list.append(li);
    this.list.scrollTop = this.list.scrollHeight;
    textarea.value = "";
    this.el("compose-error").textContent = "";
    this.frame({ type: "send", client_message_id: id, ...send });
  }

  async sendPicture(input) {
    const file = input.files[0];
    input.value = "";
    if (!file || !this.selected) return;
    try {
      const stored = await this.api(`/conversations/${this.selected}/attachments`, {
        method: "POST",
        headers: { "content-type": file.type || "application/octet-stream" },
        body: file,
      });
      this.send(stored.id);
    } catch (err) {
      this.error(err.message);
    }
  }

  async update(change) {
    if (!this.selected) return;
    try {
      const conversation = await this.api(`/conversations/${this.selected}`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(change),
      });
      this.show(conversation);
    } catch (err) {
      this.error(err.message);
    }
  }

  error(text) {
    this.el("compose-error").textContent = text;
  }

  onFrame(event) {
    switch (event.type) {
      case "message": {
        const m = event.message;
        const item = this.items.get(m.conversation_id);
        if (item) {
          // The message says where the conversation stands: its author's
          // side has read up to it, and a closed one is open again.
          const c = item.conversation;
          item.last_message = m;
          c.last_seq = Math.max(c.last_seq, m.seq);
          if (m.author === "staff") c.staff_read_seq = Math.max(c.staff_read_seq, m.seq);
          c.unread = Math.max(0, c.last_seq - c.staff_read_seq);
          this.renderInbox();
        } else {
          this.loadInbox().catch((err) => this.error(err.message));
        }
        if (m.conversation_id === this.selected) {
          if (m.author === "owner") this.el("typing").textContent = "";
          this.append(m).then(() => this.markRead());
        }
        break;
      }
      case "ack":
        this.pending.delete(event.client_message_id);
        if (event.message.conversation_id === this.selected) this.append(event.message);
        break;
      case "read":
        if (event.conversation_id === this.selected && event.by === "owner") {
          this.ownerReadSeq = Math.max(this.ownerReadSeq, event.seq);
          this.renderSeen();
        }
        break;
      case "typing":
        if (event.conversation_id === this.selected && event.by === "owner") {
          this.el("typing").replaceChildren(isolated(event.name), " is typing…");
          clearTimeout(this.typingTimer);
          this.typingTimer = setTimeout(() => (this.el("typing").textContent = ""), 5000);
        }
        break;
      case "conversation.updated": {
        const state = event.conversation;
        const item = this.items.get(state.conversation_id);
        if (item) {
          Object.assign(item.conversation, {
            status: state.status,
            assigned_to: state.assigned_to,
            last_seq: state.last_seq,
            owner_read_seq: state.owner_read_seq,
            staff_read_seq: state.staff_read_seq,
            unread: Math.max(0, state.last_seq - state.staff_read_seq),
          });
          this.renderInbox();
        }
        if (state.conversation_id === this.selected) {
          this.show({ ...this.conversation, ...state, id: state.conversation_id });
        }
        break;
      }
      case "reset":
        if (event.conversation_id === this.selected) this.open(this.selected).catch((err) => this.error(err.message));
        break;
      case "lagged":
        this.loadInbox().catch((err) => this.error(err.message));
        break;
      case "error":
        if (event.client_message_id) {
          this.pending.delete(event.client_message_id);
          const li = this.list.querySelector(`li.pending[data-client-id="${CSS.escape(event.client_message_id)}"]`);
          if (li) li.remove();
        }
        this.error(event.detail);
        break;
    }
  }
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

// An action above the signed-in level: a manager approves it in place with
// their own credentials (the staff member stays signed in). The API checks
// them as a login (wrong ones count against the manager's account) and logs
// both names. Resolves to the override headers, or null when cancelled.
function askApproval(refused) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "override";
    dialog.dataset.testid = "override";
    dialog.innerHTML = `<form method="dialog" class="stack">
        <h2>A manager's approval</h2>
        <p class="muted">This needs a higher security level. A manager or administrator can approve it here with their own user name and password; you stay signed in.</p>
        <p class="error-text" data-role="refused" hidden>Not approved: check the user name, password and code, or ask another manager.</p>
        <label>Their user name <input name="username" autocomplete="off" required></label>
        <label>Their password <input name="password" type="password" autocomplete="off" required></label>
        <label>Their authenticator code, if they use one <input name="code" inputmode="numeric" autocomplete="one-time-code"></label>
        <div class="toolbar"><button type="submit" class="primary" value="approve">Approve</button> <button type="button" data-role="cancel">Cancel</button></div>
      </form>`;
    dialog.querySelector("[data-role=refused]").hidden = !refused;
    const form = dialog.querySelector("form");
    const done = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.querySelector("[data-role=cancel]").addEventListener("click", () => done(null));
    dialog.addEventListener("cancel", () => done(null));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const headers = { "x-override-username": form.username.value, "x-override-password": form.password.value };
      if (form.code.value.trim()) headers["x-override-code"] = form.code.value.trim();
      done(headers);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.username.focus();
  });
}

// Sends a staff API request, asking for a manager's approval while the
// answer is that the signed-in level may not (403 forbidden, or a refused
// approval). `send` takes the extra headers.
async function withApproval(send) {
  let response = await send({});
  while (response.status === 403) {
    const problem = await response.clone().json().catch(() => ({}));
    if (problem.code !== "forbidden" && problem.code !== "override_refused") break;
    const approval = await askApproval(problem.code === "override_refused");
    if (!approval) break;
    response = await send(approval);
  }
  return response;
}

// The JSON body a data-api form's fields make, and its CSRF token. Fields
// inside a data-list="name" element go to that list instead: an object per
// data-row, whose empty fields are left out (an empty "per term" is unlimited);
// a form's data-nest="name" puts the whole body under that name.
function formBody(form, quoting = false) {
  const body = {};
  let csrf = "";
  const read = (field, into, skipEmpty) => {
    if (field.type === "checkbox" && field.dataset.type === "values") {
      // Checkboxes sharing a name make a list of the checked ones' values.
      into[field.name] = into[field.name] || [];
      if (field.checked) into[field.name].push(field.value);
    } else if (field.type === "checkbox") {
      into[field.name] = field.checked;
    } else if (field.value === "" && field.dataset.empty === "null") {
      // An emptied optional field says "none" (no age limit, no discount).
      if (!skipEmpty) into[field.name] = null;
    } else if (skipEmpty ? field.value.trim() !== "" : field.value !== "" || (field.defaultValue || "") !== "") {
      // Emptied fields are sent (to remove what they held); untouched empty ones are not.
      const kind = field.dataset.type || field.type;
      // data-scale turns what people type (dollars) into what the API takes (cents).
      const scale = Number(field.dataset.scale || 1);
      into[field.name] =
        kind === "number"
          ? Math.round(Number(field.value) * scale)
          : kind === "bool"
            ? field.value === "true"
            : kind === "words"
              ? field.value.split(/[\s,]+/).filter(Boolean)
              : kind === "lines"
                ? field.value.split("\n").map((line) => line.trim()).filter(Boolean)
                : field.value;
    }
  };
  for (const field of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (field.closest("[data-list]")) continue;
    if (field.dataset.quoteOnly !== undefined && !quoting) continue;
    if (field.name === "csrf") csrf = field.value;
    else read(field, body, false);
  }
  for (const list of form.querySelectorAll("[data-list]")) {
    body[list.dataset.list] = [...list.querySelectorAll("[data-row]")].map((row) => {
      const item = {};
      for (const field of row.querySelectorAll("input[name], select[name], textarea[name]")) read(field, item, true);
      return item;
    });
  }
  // data-nest="name" sends the fields as one object under that name (the plan points).
  return { body: form.dataset.nest ? { [form.dataset.nest]: body } : body, csrf };
}

// A form with data-quote="/path/{field}" prices itself as people choose:
// its fields (and the data-quote-only ones) go to that staff API path, and
// the answer shows in its data-role=quote element. Answers can arrive out
// of order (two quick ticks): only the latest asked is shown.
async function requote(form) {
  const asked = (form.quoteAsked = (form.quoteAsked || 0) + 1);
  const { body, csrf } = formBody(form, true);
  const url = form.dataset.quote.replace(/\{(\w+)\}/g, (_, name) => {
    const value = body[name];
    delete body[name];
    return encodeURIComponent(value ?? "");
  });
  delete body.pet_id;
  delete body.renewal;
  delete body.skip_payment_method;
  delete body.payment_profile_id;
  delete body.skip_initial_charge;
  const shown = form.querySelector("[data-role=quote]");
  const response = await fetch(`/api/dashboard/v1${url}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (asked !== form.quoteAsked) return;
  const money = (cents) => `$${(cents / 100).toFixed(2)}`;
  shown.textContent = response.ok
    ? `Initial charge ${money(answer.initial_charge_cents)}` +
      (answer.schedule.length > 1 ? `, then ${money(answer.schedule[1].amount_cents)} a month` : "") +
      `; ${money(answer.total_cents)} in all.`
    : answer.detail || "";
}
for (const form of document.querySelectorAll("form[data-quote]")) {
  form.addEventListener("change", () => requote(form));
  requote(form);
}

// A data-add-row button adds a row to its form's list from the list's
// <template>; a data-remove-row button takes its row away.
document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-add-row]");
  if (add) {
    const list = add.closest("form").querySelector(`[data-list="${add.dataset.addRow}"]`);
    const row = list.querySelector("template").content.firstElementChild.cloneNode(true);
    (list.tBodies[0] || list).append(row);
    row.querySelector("input")?.focus();
  }
  const remove = event.target.closest("[data-remove-row]");
  if (remove) remove.closest("[data-row]").remove();
});

// Forms marked data-api="METHOD /path" go to the staff API as JSON (the
// session cookie plus the page's CSRF token); the page then reloads with the
// form's data-done notice, or says what the API refused.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  const target = form.getAttribute("data-api");
  if (!target || event.defaultPrevented) return;
  event.preventDefault();
  const [method, path] = target.split(" ");
  const { body, csrf } = formBody(form);
  // A {field} in the path takes that field's value (the goal form's staff member and period).
  const url = path.replace(/\{(\w+)\}/g, (_, name) => {
    const value = body[name];
    delete body[name];
    return encodeURIComponent(value ?? "");
  });
  for (const button of form.querySelectorAll("button")) button.disabled = true;
  const response = await withApproval((approval) =>
    fetch(`/api/dashboard/v1${url}`, {
      method,
      headers: { "content-type": "application/json", "x-csrf-token": csrf, ...approval },
      body: JSON.stringify(body),
    }),
  );
  if (response.ok && form.dataset.reveal) {
    // A secret shown once (a new sync key, recovery codes): shown in place of
    // the form, never put in a URL, and gone with the page.
    const answer = await response.json().catch(() => ({}));
    const value = answer[form.dataset.reveal];
    const shown = document.createElement("div");
    shown.className = "notice";
    shown.setAttribute("role", "status");
    shown.dataset.testid = form.dataset.revealTestid || "revealed";
    const intro = document.createElement("p");
    intro.textContent = form.dataset.done || "";
    const list = document.createElement("ul");
    list.className = "codes";
    for (const item of Array.isArray(value) ? value : [value ?? ""]) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = item;
      li.append(code);
      list.append(li);
    }
    shown.append(intro, list);
    form.previousElementSibling?.matches("[data-testid=form-error]") && form.previousElementSibling.remove();
    form.replaceWith(shown);
  } else if (response.ok && form.dataset.go) {
    // Go where the answer says (e.g. the conversation just started).
    const answer = await response.json().catch(() => ({}));
    location.href = form.dataset.go.replace("{id}", encodeURIComponent(answer.id || ""));
  } else if (response.ok) {
    // The notice may name what the answer holds ("Added {username}.").
    const answer = response.status === 204 ? {} : await response.json().catch(() => ({}));
    const done = (form.dataset.done || "Saved.").replace(/\{(\w+)\}/g, (_, key) => answer[key] ?? "");
    reloadWith(form, done);
  } else {
    for (const button of form.querySelectorAll("button")) button.disabled = false;
    await sayRefusal(form, response);
  }
});

// Says above a form, where the person is looking, what went wrong, until
// they try again.
function sayAbove(form, text) {
  let said = form.previousElementSibling;
  if (!said || !said.matches("[data-testid=form-error]")) {
    said = document.createElement("p");
    said.className = "error";
    said.setAttribute("role", "alert");
    said.dataset.testid = "form-error";
    form.before(said);
  }
  said.textContent = text;
}

// Says what an API answer refused.
async function sayRefusal(form, response) {
  const problem = await response.json().catch(() => ({}));
  const code = problem.code ? problem.code.replaceAll("_", " ") : "";
  sayAbove(form, problem.detail || code || `That did not work (${response.status}).`);
}

// Reloads the page at the form's section with `done` as its notice.
function reloadWith(form, done) {
  const url = new URL(location.href);
  url.searchParams.set("done", done);
  const section = form.closest("section[id]");
  url.hash = section ? section.id : "";
  location.href = url.toString();
  if (url.pathname === location.pathname && url.search === location.search) location.reload();
}

// Cards are typed into the payment gateway's own fields (Stripe.js), never
// into this page: the server starts a setup, the gateway's script confirms
// it with the card, and the server reads back only the card's brand, last
// four and expiry. data-card-setup="/clients/ID" is where the cards go.
function loadScript(src) {
  return new Promise((resolve, reject) => {
    if (window.Stripe) return resolve();
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error("The payment gateway's card fields did not load."));
    document.head.append(script);
  });
}
// The owner's pay page (`data-pay-card`) posts to its own signed link, with
// no session; staff forms post to the staff API.
const postJson = (url, body, headers) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body || {}),
  });
for (const form of document.querySelectorAll("form[data-card-setup], form[data-pay-card]")) {
  const owner = form.dataset.payCard;
  const call = owner
    ? (path, body) => postJson(`${owner}${path}`, body, {})
    : (path, body) => {
        const csrf = form.querySelector("[name=csrf]").value;
        return withApproval((approval) =>
          postJson(`/api/dashboard/v1${form.dataset.cardSetup}${path}`, body, { "x-csrf-token": csrf, ...approval }),
        );
      };
  let setup = null;
  let stripe = null;
  let card = null;
  const start = form.querySelector("[data-role=start]");
  const save = form.querySelector("button[type=submit]");
  start.addEventListener("click", async () => {
    start.disabled = true;
    const response = await call("/setup");
    if (!response.ok) {
      start.disabled = false;
      return sayRefusal(form, response);
    }
    setup = await response.json();
    try {
      await loadScript(setup.script_url);
    } catch (error) {
      start.disabled = false;
      return sayAbove(form, error.message);
    }
    stripe = window.Stripe(setup.publishable_key);
    card = stripe.elements().create("card");
    card.mount(form.querySelector("[data-role=card-fields]"));
    start.hidden = true;
    save.hidden = false;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!setup) return;
    save.disabled = true;
    const confirmed = await stripe.confirmCardSetup(setup.client_secret, { payment_method: { card } });
    if (confirmed.error) {
      save.disabled = false;
      return sayAbove(form, confirmed.error.message);
    }
    const response = await call("", { setup_intent: confirmed.setupIntent.id });
    if (!response.ok) {
      save.disabled = false;
      return sayRefusal(form, response);
    }
    const answer = await response.json();
    reloadWith(form, owner ? answer.said : `${form.dataset.done} ${answer.card.brand} ending ${answer.card.last4}.`);
  });
}

// A charge the owner's bank wants confirmed: the gateway's script asks the
// bank, then the page has the server read the charge back.
for (const button of document.querySelectorAll("button[data-pay-confirm]")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await loadScript(button.dataset.script);
    } catch (error) {
      button.disabled = false;
      return sayAbove(button, error.message);
    }
    const confirmed = await window.Stripe(button.dataset.key).confirmCardPayment(button.dataset.secret);
    if (confirmed.error) {
      button.disabled = false;
      return sayAbove(button, confirmed.error.message);
    }
    const response = await postJson(`${button.dataset.payConfirm}/confirmed`, {}, {});
    if (!response.ok) {
      button.disabled = false;
      return sayRefusal(button, response);
    }
    reloadWith(button, (await response.json()).said);
  });
}

// A select that shows its choice at once (the pet filter of orders).
document.addEventListener("change", (event) => {
  if (event.target.hasAttribute("data-autosubmit")) event.target.form.submit();
});

// Pet cards flip to show the owner's notes.
document.addEventListener("click", (event) => {
  const flip = event.target.closest("[data-flip]");
  if (flip) flip.closest(".pet").classList.toggle("flipped");
});
