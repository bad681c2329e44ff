// Import/export page: start jobs through the API and poll their rows until they finish.
(function () {
  "use strict";
  const api = "/api/v1/transfers/";
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
  const errorBox = document.getElementById("form-error");
  const tbody = document.querySelector("#jobs tbody");

  async function send(url, body, isJson) {
    const headers = { "X-CSRFToken": csrf() };
    if (isJson) headers["Content-Type"] = "application/json";
    const reply = await fetch(url, { method: "POST", body: isJson ? JSON.stringify(body) : body, headers, credentials: "same-origin" });
    const data = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(data.detail || JSON.stringify(data));
    return data;
  }

  function row(job) {
    let tr = tbody.querySelector(`tr[data-job="${job.id}"]`);
    if (!tr) {
      tr = document.createElement("tr");
      tr.dataset.job = job.id;
      tr.innerHTML = '<td></td><td></td><td class="status"></td><td><progress max="1" value="0"></progress></td><td class="result"></td>';
      tbody.prepend(tr);
    }
    tr.cells[0].textContent = job.id;
    tr.cells[1].textContent = job.kind;
    tr.querySelector(".status").textContent = job.status;
    const bar = tr.querySelector("progress");
    bar.value = job.progress_total ? job.progress_done / job.progress_total : (job.status === "succeeded" ? 1 : 0);
    renderResult(tr.querySelector(".result"), job);
    return tr;
  }

  function renderResult(cell, job) {
    cell.textContent = "";
    const r = job.result || {};
    if (job.kind === "export" && job.status === "succeeded") {
      const a = document.createElement("a");
      a.href = `${api}${job.id}/download/`;
      a.textContent = `${r.rows} rows ⬇`;
      cell.append(a);
    } else if (job.kind === "import" && r.lines !== undefined) {
      cell.append(`${r.pairs_created} pairs, ${r.tasks_created} tasks imported; ${r.invalid} invalid`);
    }
    if (r.errors && r.errors.length) {
      const ul = document.createElement("ul");
      for (const e of r.errors.slice(0, 200)) {
        const li = document.createElement("li");
        li.textContent = `line ${e.line}: ${e.error}`;
        ul.append(li);
      }
      cell.append(ul);
    } else if (job.error) {
      cell.append(job.error);
    }
  }

  async function poll(id) {
    const reply = await fetch(`${api}${id}/`, { credentials: "same-origin" });
    if (!reply.ok) return;
    const job = await reply.json();
    row(job);
    if (job.status === "queued" || job.status === "running") setTimeout(() => poll(id), 1000);
  }

  document.getElementById("import-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    try { poll((await send(`${api}import/`, new FormData(event.target), false)).id); }
    catch (e) { errorBox.textContent = e.message; }
  });

  document.getElementById("export-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    const form = new FormData(event.target);
    const body = {
      format: form.get("format"), pairs: form.get("pairs"), languages: form.getAll("languages"),
      sources: form.getAll("sources"), min_agreement: Number(form.get("min_agreement")),
      min_annotators: Number(form.get("min_annotators")), include_flagged: form.get("include_flagged") === "true",
    };
    try { poll((await send(`${api}export/`, body, true)).id); }
    catch (e) { errorBox.textContent = e.message; }
  });

  tbody.querySelectorAll("tr[data-job]").forEach((tr) => poll(tr.dataset.job));
})();
