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
    if (f.get("kind") === "kto" && f.getAll("kto_sources").length) data.kto_sources = f.getAll("kto_sources");
    if (f.get("since")) data.since = f.get("since");
    if (f.get("until")) data.until = f.get("until");
    const hyperparameters = { loss_type: f.get("loss_type") };
    for (const key of HP_NUMBERS) hyperparameters[key] = Number(f.get(key));
    const launch = { kind: f.get("kind"), parent: f.get("parent"), data, hyperparameters };
    if (f.get("system_prompt")) launch.system_prompt = f.get("system_prompt");
    launch.eval_generation = f.get("eval_generation") === "on" ? {
      max_prompts_per_language: Number(f.get("max_prompts_per_language")),
      max_new_tokens: Number(f.get("max_new_tokens")),
      prompt_sources: names(f.get("prompt_sources")),
    } : "off";
    return launch;
  }

  // Which system prompt an empty field keeps: the chosen parent's.
  const parentSelect = form.elements.namedItem("parent");
  const parentHint = document.getElementById("parent-system-prompt");
  function showParentPrompt() {
    const option = parentSelect.selectedOptions[0];
    const text = option ? option.dataset.systemPrompt : "";
    parentHint.textContent = interpolate(gettext("The parent's system prompt: %(prompt)s"), { prompt: text || "—" }, true);
  }
  if (parentSelect && parentHint) {
    parentSelect.addEventListener("change", showParentPrompt);
    showParentPrompt();
  }

  // The server names a setting as the form labels it, in the interface language ("Learning rate: must be
  // in (0, 1] (got 2)"); a message that starts with the setting's path instead ("hyperparameters.warmup: ...")
  // gets the label put in. Either way the field is marked and focused.
  function fieldMessage(error) {
    form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
    const path = error.data && error.data.field;
    const input = path && form.elements.namedItem(path.split(".").pop());
    if (!input || !input.closest) return error.message;
    const label = input.closest("label");
    const name = label ? [...label.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join("").trim() : "";
    input.setAttribute("aria-invalid", "true");
    input.focus();
    const detail = error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message;
    return name && detail !== error.message ? `${name}: ${detail}` : error.message;
  }

  // KTO trains on labelled answers, not pairs: its sources are offered only for it.
  const kindSelect = form.elements.namedItem("kind");
  const ktoOnly = document.getElementById("kto-only");
  function showKtoSources() {
    if (ktoOnly) ktoOnly.hidden = kindSelect.value !== "kto";
  }
  kindSelect.addEventListener("change", showKtoSources);
  showKtoSources();

  // The counts the data settings select for the chosen kind (pairs; kto: labelled answers), asked for in the
  // background as they change; the launch carries the preview's token (when the kind and settings are still those
  // previewed), so the job page shows what was previewed.
  const previewBox = document.getElementById("data-preview");
  const previewed = (launch) => JSON.stringify({ kind: launch.kind, data: launch.data });
  function countsText(counts) {
    const byLanguage = PF.counts(counts.train) || "—";
    if (counts.rows === "kto") {
      return interpolate(gettext("Training answers: %(train)s (%(by_language)s), %(desirable)s desirable and %(undesirable)s undesirable; held out: %(eval)s."),
        { train: counts.train_pairs, by_language: byLanguage, desirable: counts.balance.desirable,
          undesirable: counts.balance.undesirable, eval: counts.eval_pairs }, true);
    }
    return interpolate(gettext("Training pairs: %(train)s (%(by_language)s); held out: %(eval)s."),
      { train: counts.train_pairs, by_language: byLanguage, eval: counts.eval_pairs }, true);
  }
  let preview = null;
  let previewTimer = null;
  async function refreshPreview() {
    const { kind, data } = body();
    const asked = previewed({ kind, data });
    previewBox.textContent = kind === "kto"
      ? gettext("Counting the labelled answers these settings select…")
      : gettext("Counting the pairs these settings select…");
    try {
      const counts = await PF.post(`${api}preview/`, { kind, data }, true);
      if (asked !== previewed(body())) return; // settings changed meanwhile: a newer preview is on its way
      preview = { asked, token: counts.token };
      const text = countsText(counts);
      previewBox.textContent = counts.approximate
        ? text + " " + gettext("Approximate: the preview stopped counting early on this large store, so these are lower bounds; the job counts everything.")
        : text;
    } catch (e) {
      preview = null;
      previewBox.textContent = e.message;
    }
  }
  function schedulePreview(event) {
    if (event && !event.target.closest("fieldset.data") && event.target !== kindSelect) return;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 400);
  }
  if (previewBox) {
    form.addEventListener("change", schedulePreview);
    form.addEventListener("input", schedulePreview);
    refreshPreview();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    try {
      const launch = body();
      if (preview && preview.asked === previewed(launch)) launch.preview = preview.token;
      const job = await PF.post(api, launch, true);
      window.location.href = `/jobs/${job.id}/`;
    } catch (e) {
      errorBox.textContent = fieldMessage(e);
      const counts = e.data && e.data.counts;
      if (counts) {
        errorBox.textContent += interpolate(
          gettext("\nPairs per language before the filters: %(before)s\nafter them, training: %(train)s; held out: %(eval)s"),
          { before: PF.counts(counts.before_filters), train: PF.counts(counts.train), eval: PF.counts(counts.eval) }, true);
      }
    }
  });

  document.querySelectorAll("#jobs tr[data-job]").forEach((tr) => PF.pollJob(`${api}${tr.dataset.job}/`, (job) => {
    tr.querySelector(".status").textContent = job.status;
    tr.querySelector("progress").value = job.progress_total ? job.progress_done / job.progress_total : 0;
    tr.querySelector(".steps").textContent = `${job.progress_done} / ${job.progress_total}`;
    if (job.variant && !tr.cells[5].querySelector("a")) {
      const link = document.createElement("a");
      link.href = `/models/${job.variant_id}/`;
      link.textContent = job.variant;
      tr.cells[5].replaceChildren(link);
    }
  }));
})();
