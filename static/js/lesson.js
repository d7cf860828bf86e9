// Lesson page: "Run" on a runnable code block types the command into the lesson's lab terminal,
// in a dock at the bottom of the page, starting the lab first when needed.
(function () {
  "use strict";
  const lesson = document.querySelector("article.lesson");
  const dock = document.getElementById("terminal-dock");
  const buttons = document.querySelectorAll(".code-block.runnable .run-btn");
  if (!lesson || !buttons.length) return;
  if (!dock) {
    buttons.forEach((b) => { b.disabled = true; b.title = "Join this course to run commands in a lab"; });
    return;
  }
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const statusText = dock.querySelector(".dock-status");
  const box = dock.querySelector(".terminal");
  let session = null;
  let tabs = null;
  let socket = null;
  let queue = [];
  let waiters = [];

  function say(text) { statusText.textContent = text; }

  function showDock() {
    dock.hidden = false;
    dock.dataset.collapsed = "false";
    document.body.classList.add("has-dock");
  }

  function onSession(next) {
    session = next;
    const state = session ? session.state : "none";
    if (state === "running") {
      say("Lab running");
      if (!tabs || tabs.sessionId !== session.id) {
        if (tabs) tabs.dispose();
        box.hidden = false;
        // Let the shell draw its first prompt before typing into it.
        tabs = new window.BerthTerminalTabs(box, {sessionId: session.id, onStatus: (s) => { if (s === "open") setTimeout(flush, 600); }});
      }
      waiters.splice(0).forEach((resolve) => resolve());
    } else {
      if (tabs) { tabs.dispose(); tabs = null; box.hidden = true; }
      say({requested: session && session.queue_position ? `Waiting for a sandbox (number ${session.queue_position} in the queue)…` : "Waiting for a sandbox…",
           provisioning: "Starting your lab…", stopping: "The lab is stopping…", failed: "The lab failed to start.",
           expired: "The lab has ended.", stopped: "The lab is stopped."}[state] || "");
    }
  }

  function connectStatus() {
    if (socket) return;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + dock.dataset.statusWs);
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "session") onSession(message.session);
    };
    socket.onclose = () => { socket = null; setTimeout(connectStatus, 2000); };
  }

  async function ensureRunning() {
    connectStatus();
    if (session && session.state === "running") return;
    showDock();
    say("Starting your lab…");
    const ready = new Promise((resolve) => waiters.push(resolve));
    if (!session || !["requested", "provisioning", "running"].includes(session.state)) {
      const response = await fetch(dock.dataset.startUrl, {method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": csrf, "Accept": "application/json"}});
      const body = await response.json().catch(() => ({}));
      if (body.error) { say(body.error); throw new Error(body.error); }
      if (body.session) onSession(body.session);
    }
    await ready;
  }

  function flush() {
    if (!tabs) return;
    const term = tabs.main;
    while (queue.length && term.sendCommand(queue[0])) queue.shift();
  }

  buttons.forEach((button) => {
    button.addEventListener("click", async () => {
      const code = button.closest(".code-block").querySelector("code").textContent;
      button.classList.add("sent");
      setTimeout(() => button.classList.remove("sent"), 1200);
      queue.push(code.trim());
      showDock();
      try { await ensureRunning(); } catch (err) { return; }
      flush();
    });
  });
  dock.querySelector(".dock-toggle").addEventListener("click", () => {
    dock.dataset.collapsed = dock.dataset.collapsed === "true" ? "false" : "true";
    if (tabs && dock.dataset.collapsed === "false") tabs.current.focus();
  });
  connectStatus();
})();
