// One training job, live: progress and ETA, metric charts, data summary, evaluation, log.
(function () {
  "use strict";
  const root = document.getElementById("job");
  const url = `/api/v1/training-jobs/${root.dataset.job}/`;
  const $ = (selector) => root.querySelector(selector) || document.querySelector(selector);
  const charts = {};
  const series = { loss: "loss", margin: "rewards/margins", accuracy: "rewards/accuracies" };

  function chart(name) {
    if (!charts[name]) {
      charts[name] = new Chart(document.getElementById(`chart-${name}`), {
        type: "line", data: { labels: [], datasets: [{ label: series[name], data: [], borderColor: "#1f6feb", pointRadius: 0 }] },
        options: { animation: false, scales: { x: { title: { display: true, text: gettext("step") } } }, plugins: { legend: { display: false } } },
      });
    }
    return charts[name];
  }

  function drawCharts(metrics) {
    for (const name of Object.keys(series)) {
      const points = metrics.filter((m) => m[series[name]] !== undefined);
      const c = chart(name);
      c.data.labels = points.map((m) => m.step);
      c.data.datasets[0].data = points.map((m) => m[series[name]]);
      c.update();
    }
  }

  function eta(job) {
    if (job.status !== "running" || !job.progress_done || !job.started_at) return "—";
    const elapsed = (Date.now() - Date.parse(job.started_at)) / 1000;
    const left = elapsed / job.progress_done * (job.progress_total - job.progress_done);
    return interpolate(gettext("%(seconds)s s"), { seconds: Math.round(left) }, true);
  }

  function rows(tbody, list) {
    tbody.replaceChildren(...list.map((cells) => {
      const tr = document.createElement("tr");
      for (const value of cells) { const td = document.createElement("td"); td.textContent = value; tr.append(td); }
      return tr;
    }));
  }

  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  const ci = (pair) => pair ? ` [${pct(pair[0])}, ${pct(pair[1])}]` : "";

  // The new variant, as a link to its page, once the job has registered it.
  function showVariant(job) {
    const box = $(".variant");
    if (!job.variant) { box.replaceChildren(); return; }
    if (box.dataset.shown === job.variant) return;
    const link = document.createElement("a");
    link.textContent = job.variant;
    link.href = job.variant_id ? `/models/${job.variant_id}/` : "/models/";
    box.replaceChildren("→ ", link);
    box.dataset.shown = job.variant;
  }

  function render(job) {
    $(".status").textContent = job.status;
    $(".steps").textContent = `${job.progress_done} / ${job.progress_total}`;
    $(".eta").textContent = eta(job);
    $("progress").value = job.progress_total ? job.progress_done / job.progress_total : (job.status === "succeeded" ? 1 : 0);
    showVariant(job);
    $(".error").textContent = job.error || "";
    document.getElementById("cancel").hidden = !["queued", "running"].includes(job.status);
    document.getElementById("retry").hidden = !["failed", "cancelled"].includes(job.status);
    if (typeof Chart !== "undefined") drawCharts(job.metrics || []);
    const snapshot = (job.data_summary || {}).snapshot || {};
    const preview = (job.data_summary || {}).preview || {};
    // The snapshot's counts (taken by the worker, as of the launch) beside the form's preview, when it had one;
    // "…" until the snapshot is written; a preview that stopped early shows its counts as lower bounds ("≥").
    const taken = Boolean(snapshot.train_pairs_by_language);
    const train = snapshot.train_pairs_by_language || {};
    const held = snapshot.eval_pairs_by_language || {};
    const previewed = preview.train || {};
    const atLeast = preview.approximate ? "≥ " : "";
    const languages = [...new Set([...Object.keys(train), ...Object.keys(held), ...Object.keys(previewed)])].sort();
    rows(document.querySelector("#data tbody"), languages.map((l) => [
      l, taken ? train[l] || 0 : "…", taken ? held[l] || 0 : "…", preview.train ? atLeast + (previewed[l] || 0) : "—",
    ]));
    const bySource = snapshot.pairs_by_source || preview.by_source || {};
    document.getElementById("sources").textContent = interpolate(gettext("By source: %(sources)s"), { sources: PF.counts(bySource) }, true);
    const balance = snapshot.balance;
    const balanceBox = document.getElementById("balance"); // kto: the training answers' balance and loss weights
    if (balanceBox && balance) {
      balanceBox.textContent = interpolate(
        gettext("Desirable: %(desirable)s, undesirable: %(undesirable)s; loss weights %(dw)s and %(uw)s (weighted ratio %(ratio)s)."),
        { desirable: balance.desirable, undesirable: balance.undesirable, dw: balance.desirable_weight,
          uw: balance.undesirable_weight, ratio: balance.weighted_ratio }, true);
    }
    const evaluation = job.evaluation || {};
    // "generation" holds the evaluation by generation, rendered by the page (templates/training/generation_eval.html).
    rows(document.querySelector("#evaluation tbody"), Object.keys(evaluation).filter((l) => l !== "generation").map((l) => {
      const e = evaluation[l];
      return [l, e.n, pct(e.accuracy) + ci(e.accuracy_ci), pct(e.parent_accuracy) + ci(e.parent_accuracy_ci),
        pct(e.accuracy_per_token) + " / " + pct(e.parent_accuracy_per_token),
        pct(e.reward_accuracy) + ci(e.reward_accuracy_ci), e.reward_margin.toFixed(3)];
    }));
    document.getElementById("log").textContent = job.log || "";
  }

  document.getElementById("cancel").addEventListener("click", () => PF.post(`${url}cancel/`, {}, true).then(render));
  document.getElementById("retry").addEventListener("click", () => PF.post(`${url}retry/`, {}, true)
    .then(() => PF.pollJob(url, render)));
  PF.pollJob(url, render);
})();
