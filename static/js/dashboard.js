// Dashboard: time left on active labs.
(function () {
  "use strict";
  const items = document.querySelectorAll(".countdown[data-expires]");
  if (!items.length) return;
  function draw() {
    items.forEach((el) => {
      const left = Math.max(0, Math.round((Date.parse(el.dataset.expires) - Date.now()) / 1000));
      el.textContent = `${Math.floor(left / 60)} min left`;
      el.classList.toggle("warn", left < 300);
    });
  }
  draw();
  setInterval(draw, 15000);
})();
