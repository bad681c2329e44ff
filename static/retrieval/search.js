// /search/: query GET /api/v1/search/ and render the hits. Data goes in through textContent only.
// The query is kept in the address (?q=…), so a search can be linked and reloaded. Strings come from
// the djangojs catalogue (gettext, interpolate: /jsi18n/).
(function () {
  "use strict";
  const form = document.getElementById("search-form");
  const results = document.getElementById("search-results");
  const warnings = document.getElementById("search-warnings");
  const errorBox = document.getElementById("search-error");
  const modelLine = document.getElementById("search-model");
  const status = document.getElementById("search-status");

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
    text.lang = hit.language;
    li.append(text);
    const group = hit.group ? ` · ${interpolate(gettext("group %(group)s"), { group: hit.group }, true)}` : "";
    const score = interpolate(gettext("score %(score)s"), { score: hit.score.toFixed(3) }, true);
    li.append(el("div", "hit-meta", `${hit.kind} ${hit.id} · ${hit.language}${group} · ${score}`));
    if (hit.warning) li.append(el("div", "hit-warning", hit.warning));
    return li;
  }

  function paramsOf(data) {
    const params = new URLSearchParams();
    params.set("q", data.get("q"));
    params.set("k", data.get("k") || "10");
    for (const code of data.getAll("language")) params.append("language", code);
    if (data.get("kind")) params.set("kind", data.get("kind"));
    return params;
  }

  async function search(event) {
    if (event) event.preventDefault();
    errorBox.textContent = "";
    const params = paramsOf(new FormData(form));
    if (!params.get("q").trim()) return;
    history.replaceState(null, "", `?${params}`);
    status.textContent = gettext("Searching…");
    results.setAttribute("aria-busy", "true");
    form.querySelector("button[type=submit]").disabled = true;
    try {
      const reply = await fetch(`/api/v1/search/?${params}`, { credentials: "same-origin" });
      const body = await reply.json().catch(() => ({}));
      results.replaceChildren();
      warnings.replaceChildren();
      if (!reply.ok) {
        errorBox.textContent = body.detail || interpolate(gettext("Search failed (%(status)s)."), { status: reply.status }, true);
        return;
      }
      for (const w of body.warnings || []) warnings.append(el("li", "", w));
      for (const hit of body.results) results.append(renderHit(hit));
      if (!body.results.length) results.append(el("li", "empty", gettext("No results.")));
      modelLine.textContent = body.model ? interpolate(gettext("Model: %(model)s"), { model: body.model }, true) : "";
    } catch (e) {
      errorBox.textContent = interpolate(gettext("Search failed (%(status)s)."), { status: e.message }, true);
    } finally {
      status.textContent = "";
      results.removeAttribute("aria-busy");
      form.querySelector("button[type=submit]").disabled = false;
    }
  }

  form.addEventListener("submit", search);
  if (new URLSearchParams(location.search).get("q")) search();
})();
