// Shared by the staff pages that start background jobs: POST with the CSRF token, and poll a job's
// row until it finishes.
window.PF = (function () {
  "use strict";
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  async function post(url, body, isJson) {
    const headers = { "X-CSRFToken": csrf() };
    if (isJson) headers["Content-Type"] = "application/json";
    const reply = await fetch(url, {
      method: "POST", body: isJson ? JSON.stringify(body) : body, headers, credentials: "same-origin",
    });
    const data = await reply.json().catch(() => ({}));
    if (!reply.ok) {
      const error = new Error(data.detail || JSON.stringify(data));
      error.data = data;
      throw error;
    }
    return data;
  }

  async function pollJob(url, onUpdate) {
    const reply = await fetch(url, { credentials: "same-origin" });
    if (!reply.ok) return;
    const job = await reply.json();
    onUpdate(job);
    if (job.status === "queued" || job.status === "running") setTimeout(() => pollJob(url, onUpdate), 1000);
  }

  function jobRow(tbody, job, columns) {
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
    tr.querySelector("progress").value = job.progress_total ? job.progress_done / job.progress_total
      : (job.status === "succeeded" ? 1 : 0);
    return tr;
  }

  // {"annotation": 21, "import": 5} → "annotation 21 · import 5" (the counts a job summary carries).
  function counts(map) {
    const entries = Object.entries(map || {});
    return entries.length ? entries.map(([name, n]) => `${name} ${n}`).join(" · ") : "—";
  }

  return { post, pollJob, jobRow, counts };
})();
