// Live meeting mode: the time left for the case on screen, kept across reloads of the same item.
(() => {
  const box = document.getElementById("timer"), out = document.getElementById("timer-left");
  if (!box || !out) return;
  const start = Number(sessionStorage.getItem(box.dataset.key)) || Date.now();
  sessionStorage.setItem(box.dataset.key, String(start));
  const tick = () => {
    const left = Math.round((start + Number(box.dataset.seconds) * 1000 - Date.now()) / 1000), abs = Math.abs(left);
    const text = `${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, "0")}`;
    out.textContent = left >= 0 ? `${text} left` : `${text} over time`;
    box.classList.toggle("over", left < 0);
  };
  tick();
  setInterval(tick, 1000);
})();
