// Models page: install the base model, launch generation, enrol variants, watch jobs.
(function () {
  "use strict";
  const api = "/api/v1/model-jobs/";
  const errorBox = document.getElementById("form-error");
  const tbody = document.querySelector("#jobs tbody");

  function render(job) {
    const tr = PF.jobRow(tbody, job);
    const cell = tr.querySelector(".result");
    const r = job.result || {};
    if (job.error) cell.textContent = job.error;
    else if (job.kind === "install" && r.variant) cell.textContent = interpolate(r.installed ? gettext("%(variant)s installed") : gettext("%(variant)s already installed"), r, true);
    else if (job.kind === "generate" && r.tasks_created !== undefined) cell.textContent = interpolate(gettext("%(responses)s responses, %(tasks_created)s tasks"), r, true);
    else cell.textContent = job.progress_total ? `${job.progress_done} / ${job.progress_total}` : "";
    if (!tr.querySelector("button.cancel") && (job.status === "queued" || job.status === "running")) {
      const button = document.createElement("button");
      button.className = "cancel";
      button.textContent = gettext("Cancel");
      button.addEventListener("click", () => PF.post(`${api}${job.id}/cancel/`, {}, true).then(render));
      cell.after(button);
    }
    if (job.status !== "queued" && job.status !== "running") tr.querySelector("button.cancel")?.remove();
  }

  const watch = (id) => PF.pollJob(`${api}${id}/`, render);
  const start = async (url, body) => {
    errorBox.textContent = "";
    try { watch((await PF.post(url, body, true)).id); } catch (e) { errorBox.textContent = e.message; }
  };

  document.getElementById("install-form").addEventListener("submit", (event) => {
    event.preventDefault();
    start(`${api}install/`, { source: new FormData(event.target).get("source") });
  });

  document.getElementById("generate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    start(`${api}generate/`, {
      variants: form.getAll("variants").map(Number), languages: form.getAll("languages"),
      campaign: Number(form.get("campaign")), samples: Number(form.get("samples")),
      temperature: Number(form.get("temperature")), max_new_tokens: Number(form.get("max_new_tokens")),
      responses_per_task: Number(form.get("responses_per_task")),
    });
  });

  document.querySelectorAll("#variants input.enrol").forEach((box) => box.addEventListener("change", async () => {
    const id = box.closest("tr").dataset.variant;
    try { await PF.post(`/api/v1/variants/${id}/enrol/`, { enrolled: box.checked }, true); }
    catch (e) { errorBox.textContent = e.message; box.checked = !box.checked; }
  }));

  tbody.querySelectorAll("tr[data-job]").forEach((tr) => watch(tr.dataset.job));
})();
