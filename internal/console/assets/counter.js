// The reply box's character counter (Диалоги): a textarea with
// data-counter="<id of its output>" and data-max shows its length there as
// the manager types, and marks (in words, not colour alone) a text over
// the limit. The server checks the length again; without this script the
// counter shows the length the page was rendered with.
document.addEventListener('input', function (e) {
  var t = e.target;
  if (!t || !t.matches || !t.matches('textarea[data-counter]')) return;
  var out = document.getElementById(t.dataset.counter);
  if (!out) return;
  var n = Array.from(t.value).length;
  var over = n > Number(t.dataset.max);
  var count = out.querySelector('[data-count]');
  if (count) count.textContent = n.toLocaleString(document.documentElement.lang || 'ru');
  var mark = out.querySelector('[data-over]');
  if (mark) mark.hidden = !over;
  out.classList.toggle('over', over);
});
