// Live labs panel: countdowns, confirmations, and CPU/memory refreshed every 10 s.
(function () {
  "use strict";
  const table = document.getElementById("live");
  if (!table) return;
  const started = Date.now();
  function tick() {
    table.querySelectorAll(".countdown[data-left]").forEach((el) => {
      const left = Math.max(0, Number(el.dataset.left) - Math.round((Date.now() - started) / 1000));
      el.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
      el.classList.toggle("warn", left < 300);
    });
  }
  const mb = (n) => `${(n / 1048576).toFixed(0)} MiB`;
  async function stats() {
    const response = await fetch(table.dataset.statsUrl, {credentials: "same-origin"});
    if (!response.ok) return;
    const body = await response.json();
    table.querySelectorAll("tr[data-session]").forEach((row) => {
      const s = body.stats[row.dataset.session];
      row.querySelector("[data-role=cpu]").textContent = s && s.cpu_percent !== null ? `${s.cpu_percent}%` : (s ? "…" : "–");
      row.querySelector("[data-role=mem]").textContent = s ? `${mb(s.memory_bytes)} / ${mb(s.memory_limit)}` : "–";
    });
  }
  table.querySelectorAll("form[data-confirm]").forEach((form) => form.addEventListener("submit", (e) => {
    if (!confirm(form.dataset.confirm)) e.preventDefault();
  }));
  tick();
  setInterval(tick, 1000);
  stats();
  setInterval(stats, 10000);
})();
