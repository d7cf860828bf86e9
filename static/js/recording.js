// Replays an asciicast v2 recording with asciinema-player (served by Berth, no CDN).
(function () {
  "use strict";
  const el = document.getElementById("player");
  if (!el) return;
  window.BerthPlayer = window.AsciinemaPlayer.create(el.dataset.src, el, {fit: "width", idleTimeLimit: 2, theme: "asciinema"});
})();
