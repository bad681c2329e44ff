// /search/: query GET /api/v1/search/ and render the hits. Data goes in through textContent only.
(function () {
  "use strict";
  const form = document.getElementById("search-form");
  const results = document.getElementById("search-results");
  const warnings = document.getElementById("search-warnings");
  const errorBox = document.getElementById("search-error");
  const modelLine = document.getElementById("search-model");

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderHit(hit) {
    const li = el("li", "hit");
    li.dataset.kind = hit.kind;
    li.dataset.id = hit.id;
    const text = el("div", "hit-text", hit.text);
    text.dir = "auto";
    li.append(text);
    const group = hit.group ? ` · group ${hit.group}` : "";
    li.append(el("div", "hit-meta", `${hit.kind} ${hit.id} · ${hit.language}${group} · score ${hit.score.toFixed(3)}`));
    if (hit.warning) li.append(el("div", "hit-warning", hit.warning));
    return li;
  }

  async function search(event) {
    event.preventDefault();
    errorBox.textContent = "";
    const data = new FormData(form);
    const params = new URLSearchParams();
    params.set("q", data.get("q"));
    params.set("k", data.get("k") || "10");
    for (const code of data.getAll("language")) params.append("language", code);
    if (data.get("kind")) params.set("kind", data.get("kind"));
    const reply = await fetch(`/api/v1/search/?${params}`, { credentials: "same-origin" });
    const body = await reply.json().catch(() => ({}));
    results.replaceChildren();
    warnings.replaceChildren();
    if (!reply.ok) {
      errorBox.textContent = body.detail || `Search failed (${reply.status}).`;
      return;
    }
    for (const w of body.warnings || []) warnings.append(el("li", "", w));
    for (const hit of body.results) results.append(renderHit(hit));
    if (!body.results.length) results.append(el("li", "empty", "No results."));
    modelLine.textContent = body.model ? `Model: ${body.model}` : "";
  }

  form.addEventListener("submit", search);
})();
