// Lab page: open the terminal tabs while the session runs, close them when it does not.
(function () {
  "use strict";
  const box = document.getElementById("terminal");
  const placeholder = document.getElementById("terminal-placeholder");
  const text = document.getElementById("terminal-placeholder-text");
  if (!box) return;
  let tabs = null;
  let sessionId = null;

  function onSession(session) {
    const running = session && session.state === "running";
    if (running && (!tabs || sessionId !== session.id)) {
      if (tabs) tabs.dispose();
      sessionId = session.id;
      box.hidden = false;
      placeholder.hidden = true;
      tabs = new window.BerthTerminalTabs(box, {sessionId});
      window.BerthLabTerminal = tabs;
      document.dispatchEvent(new CustomEvent("berth:terminal", {detail: tabs}));
    } else if (!running && tabs) {
      tabs.dispose();
      tabs = null;
      window.BerthLabTerminal = null;
      box.hidden = true;
      placeholder.hidden = false;
    }
    if (!running) {
      const state = session ? session.state : "none";
      text.textContent = {requested: "Waiting for a sandbox…", provisioning: "Preparing your sandbox…",
                          stopping: "Cleaning up…"}[state] || "Start the lab to get a shell in your own sandbox.";
    }
  }
  document.addEventListener("berth:session", (event) => onSession(event.detail));
})();
