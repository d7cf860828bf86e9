// Instructor view: a read-only terminal on one of the student's shells.
(function () {
  "use strict";
  const box = document.getElementById("observe-terminal");
  if (!box) return;
  let term = null;
  function watch(tab) {
    if (term) term.dispose();
    box.innerHTML = "";
    const pane = document.createElement("div");
    pane.className = "term-pane";
    const body = document.createElement("div");
    body.className = "term-body";
    const status = document.createElement("div");
    status.className = "term-status";
    body.append(pane);
    box.append(body, status);
    term = new window.BerthTerminal(pane, {sessionId: box.dataset.session, tab, readOnly: true,
      onStatus: (state, text) => { status.textContent = text; status.dataset.state = state; }});
    window.BerthObserver = term;
  }
  document.getElementById("observe-tab").addEventListener("change", (e) => watch(e.target.value));
  watch("main");
})();
