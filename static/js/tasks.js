// Lab tasks: Check, hints one at a time, the solution on request, results pushed by the server
// (continuous checks), and Submit.
(function () {
  "use strict";
  const root = document.getElementById("tasks");
  if (!root) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const ZERO = "00000000-0000-0000-0000-000000000000";
  let session = null;

  async function post(url) {
    const response = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "Accept": "application/json"}});
    const body = await response.json().catch(() => ({error: "The server did not answer."}));
    return body;
  }

  function item(slug) { return root.querySelector(`.task[data-task="${slug}"]`); }

  function showResult(result) {
    const li = item(result.task);
    if (!li) return;
    const fb = li.querySelector("[data-role=feedback]");
    fb.hidden = false;
    fb.textContent = result.feedback;
    fb.classList.toggle("fail", !result.passed);
    fb.classList.toggle("error", !!result.errored);
    if (result.passed && !li.classList.contains("passed")) {
      li.classList.add("passed", "just-passed");
      setTimeout(() => li.classList.remove("just-passed"), 1500);
      unlock();
    }
    const done = root.querySelectorAll(".task.passed").length;
    document.getElementById("tasks-done").textContent = done;
  }

  function unlock() {
    const passed = new Set([...root.querySelectorAll(".task.passed")].map((li) => li.dataset.task));
    root.querySelectorAll(".task.locked").forEach((li) => {
      const needs = (li.dataset.needs || "").split(",").filter(Boolean);
      if (needs.every((n) => passed.has(n))) {
        li.classList.remove("locked");
        const note = li.querySelector(".locked-note");
        if (note) note.remove();
      }
    });
  }

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const li = button.closest(".task");
    const slug = li.dataset.task;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      if (action === "check") {
        if (!session || session.state !== "running") {
          showResult({task: slug, passed: false, feedback: "Start the lab first: checks run inside your sandbox."});
          return;
        }
        button.textContent = "Checking…";
        const body = await post(root.dataset.checkUrl.replace(ZERO, session.id).replace("TASK", slug));
        if (body.result) showResult(body.result); else showResult({task: slug, passed: false, feedback: body.error});
      } else if (action === "hint") {
        const body = await post(root.dataset.hintUrl.replace("TASK", slug));
        const box = li.querySelector("[data-role=hints]");
        box.innerHTML = "";
        (body.hints || []).forEach((html, i) => {
          const div = document.createElement("div");
          div.className = "hint";
          div.innerHTML = `<strong>Hint ${i + 1}</strong> ` + html;  // sanitized server-side (nh3)
          box.append(div);
        });
        button.textContent = `Hint (${body.hints_left} left)`;
        button.hidden = !body.hints_left;
      } else if (action === "solution") {
        if (!confirm("Show the solution? Your instructor will see that you used it.")) return;
        const body = await post(root.dataset.solutionUrl.replace("TASK", slug));
        const box = li.querySelector("[data-role=solution]");
        box.innerHTML = "<strong>Solution</strong> " + body.solution;  // sanitized server-side (nh3)
        box.hidden = false;
        button.hidden = true;
      }
    } finally {
      button.disabled = false;
      if (action === "check") button.textContent = "Check";
    }
  });

  const submit = document.getElementById("btn-submit");
  submit.addEventListener("click", async () => {
    if (!session || session.state !== "running") {
      document.getElementById("submit-status").textContent = "Start the lab first: submitting checks your sandbox.";
      return;
    }
    if (!confirm("Submit this lab? You can submit again later; every version is kept.")) return;
    submit.disabled = true;
    document.getElementById("submit-status").textContent = "Running every check and collecting your files…";
    const body = await post(root.dataset.submitUrl.replace(ZERO, session.id));
    submit.disabled = false;
    if (body.submission) {
      const s = body.submission;
      document.getElementById("submit-status").textContent = `Submitted version ${s.version}: ${s.auto_points}/${s.total_points} points from the checks. Your instructor will grade it.`;
      s.results.forEach((r) => showResult({task: r.task, passed: r.passed, errored: r.errored, feedback: r.feedback}));
    } else {
      document.getElementById("submit-status").textContent = body.error || "Submitting failed.";
    }
  });

  const auto = document.getElementById("auto-check");
  auto.addEventListener("change", () => document.dispatchEvent(new CustomEvent("berth:auto-check", {detail: auto.checked})));
  document.addEventListener("berth:session", (event) => { session = event.detail; });
  document.addEventListener("berth:task", (event) => showResult(event.detail));
})();
