// Training jobs list: launch a job (errors name the field), and keep progress bars current.
(function () {
  "use strict";
  const api = "/api/v1/training-jobs/";
  const form = document.getElementById("launch-form");
  const errorBox = document.getElementById("form-error");
  // "rankings, pairs" -> ["rankings", "pairs"]
  const names = (raw) => (raw || "").split(",").map((s) => s.trim()).filter(Boolean);
  const HP_NUMBERS = ["beta", "learning_rate", "epochs", "max_steps", "batch_size", "max_length", "lora_r", "lora_alpha", "seed"];

  function body() {
    const f = new FormData(form);
    const data = {
      sources: f.getAll("sources"), origins: names(f.get("origins")),
      campaigns: f.getAll("campaigns"), languages: f.getAll("languages"),
      pairs: f.get("pairs"), min_agreement: Number(f.get("min_agreement")), min_annotators: Number(f.get("min_annotators")),
      eval_fraction: Number(f.get("eval_fraction")), trust_weighting: f.get("trust_weighting") === "true",
    };
    if (f.get("since")) data.since = f.get("since");
    if (f.get("until")) data.until = f.get("until");
    const hyperparameters = { loss_type: f.get("loss_type") };
    for (const key of HP_NUMBERS) hyperparameters[key] = Number(f.get(key));
    return { kind: f.get("kind"), parent: f.get("parent"), data, hyperparameters };
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    try {
      const job = await PF.post(api, body(), true);
      window.location.href = `/jobs/${job.id}/`;
    } catch (e) {
      errorBox.textContent = e.message;
      const counts = e.data && e.data.counts;
      if (counts) {
        errorBox.textContent += `\nPairs per language before the filters: ${JSON.stringify(counts.before_filters)}` +
          `\nafter them, training: ${JSON.stringify(counts.train)}; held out: ${JSON.stringify(counts.eval)}`;
      }
    }
  });

  document.querySelectorAll("#jobs tr[data-job]").forEach((tr) => PF.pollJob(`${api}${tr.dataset.job}/`, (job) => {
    tr.querySelector(".status").textContent = job.status;
    tr.querySelector("progress").value = job.progress_total ? job.progress_done / job.progress_total : 0;
    tr.querySelector(".steps").textContent = `${job.progress_done} / ${job.progress_total}`;
    if (job.variant) tr.cells[5].textContent = job.variant;
  }));
})();
