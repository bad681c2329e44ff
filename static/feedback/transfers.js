// Import/export page: start jobs through the API and poll their rows until they finish.
(function () {
  "use strict";
  const api = "/api/v1/transfers/";
  const errorBox = document.getElementById("form-error");
  const tbody = document.querySelector("#jobs tbody");
  // "rankings, pairs" -> ["rankings", "pairs"]
  const names = (raw) => (raw || "").split(",").map((s) => s.trim()).filter(Boolean);

  function render(job) {
    const cell = PF.jobRow(tbody, job).querySelector(".result");
    cell.textContent = "";
    const r = job.result || {};
    if (job.kind === "export" && job.status === "succeeded") {
      const a = document.createElement("a");
      a.href = `${api}${job.id}/download/`;
      a.textContent = interpolate(ngettext("%(rows)s row ⬇", "%(rows)s rows ⬇", r.rows), r, true);
      cell.append(a);
    } else if (job.kind === "import" && r.lines !== undefined) {
      cell.append(interpolate(gettext("%(pairs_created)s pairs, %(tasks_created)s tasks imported; %(invalid)s invalid"), r, true));
      if (r.demonstrations_created) {
        cell.append(" " + interpolate(ngettext("%(demonstrations_created)s demonstration (SFT)", "%(demonstrations_created)s demonstrations (SFT)", r.demonstrations_created), r, true));
      }
      for (const [reason, count] of Object.entries(r.skipped || {})) {
        const line = document.createElement("div");
        line.textContent = interpolate(gettext("skipped: %(reason)s (%(count)s)"), {reason, count}, true);
        cell.append(line);
      }
      const dup = r.near_duplicates || {};
      if (dup.count) {
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = interpolate(ngettext("%(count)s near-duplicate prompt pair", "%(count)s near-duplicate prompt pairs", dup.count), dup, true);
        details.append(summary);
        const list = document.createElement("ul");
        for (const pair of dup.pairs || []) {
          const li = document.createElement("li");
          li.dir = "auto";
          li.textContent = `${pair.a.text} ≈ ${pair.b.text} (${pair.score})`;
          list.append(li);
        }
        details.append(list);
        cell.append(details);
      }
    }
    if (r.errors && r.errors.length) {
      const ul = document.createElement("ul");
      for (const e of r.errors.slice(0, 200)) {
        const li = document.createElement("li");
        li.textContent = interpolate(gettext("line %(line)s: %(error)s"), e, true);
        ul.append(li);
      }
      cell.append(ul);
    } else if (job.error) {
      cell.append(job.error);
    }
  }

  const watch = (id) => PF.pollJob(`${api}${id}/`, render);

  document.getElementById("import-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    try { watch((await PF.post(`${api}import/`, new FormData(event.target), false)).id); }
    catch (e) { errorBox.textContent = e.message; }
  });

  document.getElementById("export-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    const form = new FormData(event.target);
    const body = {
      format: form.get("format"), pairs: form.get("pairs"), languages: form.getAll("languages"),
      sources: form.getAll("sources"), origins: names(form.get("origins")),
      min_agreement: Number(form.get("min_agreement")),
      min_annotators: Number(form.get("min_annotators")), include_flagged: form.get("include_flagged") === "true",
      kto_sources: form.get("format") === "kto" ? form.getAll("kto_sources") : [],
    };
    try { watch((await PF.post(`${api}export/`, body, true)).id); }
    catch (e) { errorBox.textContent = e.message; }
  });

  tbody.querySelectorAll("tr[data-job]").forEach((tr) => watch(tr.dataset.job));
})();
