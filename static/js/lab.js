// The lab page: session state pushed over a WebSocket (no polling), actions, countdown.
// Other scripts (terminal.js, tasks.js) listen for the "berth:session" event on document.
(function () {
  "use strict";
  const root = document.getElementById("lab");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const WARN_SECONDS = 5 * 60;
  let session = JSON.parse($("session-data").textContent);
  let socket = null;
  let retry = 0;
  let tick = null;

  function actionUrl(action) {
    return root.dataset.actionUrl.replace("00000000-0000-0000-0000-000000000000", session.id).replace("ACTION", action);
  }

  async function post(url) {
    setBusy(true);
    try {
      const response = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": csrf, "Accept": "application/json"},
      });
      const body = await response.json().catch(() => ({}));
      if (body.error) showError(body.error); else showError("");
      if (body.session) update(body.session);
    } catch (err) {
      showError("The server did not answer. Check your connection and try again.");
    } finally {
      setBusy(false);
    }
  }

  function setBusy(busy) {
    for (const id of ["btn-start", "btn-stop", "btn-reset", "btn-extend"]) $(id).disabled = busy;
  }

  function showError(text) {
    $("lab-error").textContent = text;
    $("lab-error").hidden = !text;
  }

  const LIVE = ["requested", "provisioning", "running", "stopping"];

  function update(next) {
    session = next;
    const state = session ? session.state : "none";
    const el = $("session-state");
    el.className = "state state-" + state;
    el.textContent = session ? session.state_label : "Not started";
    let detail = "";
    if (state === "requested") {
      detail = session.queue_position ? `Waiting for a free sandbox: you are number ${session.queue_position} in the queue.` : "Waiting for a sandbox…";
    } else if (state === "provisioning") {
      detail = "Preparing your sandbox…";
    } else if (state === "stopping") {
      detail = "Cleaning up…";
    } else if (state === "failed") {
      detail = session.error || "The lab failed to start.";
    } else if (state === "expired") {
      detail = "Your lab ended (" + (session.end_reason || "expired").replace("expired: ", "") + "). Start it again to continue.";
    } else if (state === "stopped") {
      detail = "Stopped.";
    }
    $("session-detail").textContent = detail;
    $("btn-start").hidden = LIVE.includes(state);
    $("btn-start").textContent = session && !LIVE.includes(state) ? "Start again" : "Start lab";
    $("btn-stop").hidden = !["requested", "provisioning", "running"].includes(state);
    $("btn-reset").hidden = state !== "running";
    $("btn-extend").hidden = state !== "running" || !session.extensions_left;
    if (session && session.extensions_left) $("btn-extend").title = `${session.extensions_left} extension(s) left`;
    countdown();
    document.dispatchEvent(new CustomEvent("berth:session", {detail: session}));
  }

  function countdown() {
    clearInterval(tick);
    const box = $("countdown");
    if (!session || session.state !== "running" || !session.expires_at) {
      box.hidden = true;
      $("expiry-warning").hidden = true;
      return;
    }
    const expires = Date.parse(session.expires_at);
    const draw = () => {
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      const m = Math.floor(left / 60), s = left % 60;
      box.textContent = `${m}:${String(s).padStart(2, "0")} left`;
      box.hidden = false;
      box.classList.toggle("warn", left <= WARN_SECONDS);
      $("expiry-warning").hidden = left > WARN_SECONDS;
    };
    draw();
    tick = setInterval(draw, 1000);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.statusWs);
    socket.onopen = () => {
      retry = 0;
      if (!autoCheck) socket.send(JSON.stringify({type: "auto", on: false}));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "session") update(message.session);
      else if (message.type === "task") document.dispatchEvent(new CustomEvent("berth:task", {detail: message.result}));
    };
    socket.onclose = (event) => {
      if (event.code === 4404) return;  // not ours: do not hammer the server
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * 2 ** retry);
    };
  }
  setInterval(() => { if (socket && socket.readyState === 1) socket.send('{"type":"ping"}'); }, 25000);
  let autoCheck = true;
  document.addEventListener("berth:auto-check", (event) => {
    autoCheck = event.detail;
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({type: "auto", on: autoCheck}));
  });

  $("btn-start").addEventListener("click", () => post(root.dataset.startUrl));
  $("btn-stop").addEventListener("click", () => { if (confirm("Stop the lab? Its sandbox and files are removed.")) post(actionUrl("stop")); });
  $("btn-reset").addEventListener("click", () => { if (confirm("Replace your sandbox with a fresh one? Files in it are lost.")) post(actionUrl("reset")); });
  $("btn-extend").addEventListener("click", () => post(actionUrl("extend")));

  window.BerthLab = {start: () => post(root.dataset.startUrl), get session() { return session; }};
  update(session);
  connect();
})();
