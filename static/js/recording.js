// Replays asciicast v2 recordings with asciinema-player (served by Berth, no CDN).
(function () {
  "use strict";
  document.querySelectorAll(".player[data-src]").forEach((el, i) => {
    const player = window.AsciinemaPlayer.create(el.dataset.src, el, {fit: "width", idleTimeLimit: 2, theme: "asciinema"});
    if (i === 0) window.BerthPlayer = player;
  });
})();
