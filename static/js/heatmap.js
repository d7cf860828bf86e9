// The cohort heatmap: students × lessons and lab tasks, drawn from the JSON the page embeds.
// Sorting by student or progress; a click on a cell opens that student's detail.
(function () {
  "use strict";
  const table = document.getElementById("heatmap");
  if (!table) return;
  const data = JSON.parse(document.getElementById("heatmap-data").textContent);
  const studentUrl = table.dataset.studentUrl;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const legend = data.legend;

  function head() {
    const groups = [];
    for (const c of data.columns) {
      const last = groups[groups.length - 1];
      if (last && last.label === c.group && last.kind === c.kind) last.span++;
      else groups.push({label: c.group, span: 1, kind: c.kind});
    }
    let html = '<tr class="groups"><th></th><th></th>' +
      groups.map((g) => `<th colspan="${g.span}" class="g-${g.kind}" title="${esc(g.label)}">${esc(g.label)}</th>`).join("") + "</tr>";
    html += '<tr class="cols"><th class="name">Student</th><th class="done" title="items done">Done</th>' +
      data.columns.map((c, i) => `<th class="col k-${c.kind}" title="${esc(c.group)}: ${esc(c.label)} (${data.rates[i]}% done)">` +
        `<span class="rot">${esc(c.label)}</span><span class="rate" style="--rate:${data.rates[i]}%">${data.rates[i]}%</span></th>`).join("") + "</tr>";
    table.tHead.innerHTML = html;
  }

  function body(students) {
    const n = data.columns.length;
    const rows = students.map((s) => {
      const url = studentUrl.replace("USERNAME", encodeURIComponent(s.username));
      let cells = "";
      for (let i = 0; i < n; i++) {
        const code = s.cells[i];
        const kind = data.columns[i].kind;
        cells += `<td class="c-${code}" title="${esc(s.name)} · ${esc(data.columns[i].label)}: ${legend[kind][code]}"><a href="${url}"></a></td>`;
      }
      return `<tr><th class="name"><a href="${url}">${esc(s.name)}</a></th><td class="done">${s.done}/${n}</td>${cells}</tr>`;
    });
    table.tBodies[0].innerHTML = rows.join("");
  }

  function sort(by) {
    const students = data.students.slice();
    if (by === "progress") students.sort((a, b) => b.done - a.done || a.name.localeCompare(b.name));
    else students.sort((a, b) => a.name.localeCompare(b.name));
    body(students);
  }

  head();
  sort("name");
  document.getElementById("heatmap-sort").addEventListener("change", (e) => sort(e.target.value));
})();
