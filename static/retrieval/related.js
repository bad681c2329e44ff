// "Related items in other languages" for the annotator page. Self-contained:
//   <script src="/static/retrieval/related.js" defer></script>
//   PFRelated.mount(document.getElementById("related"), taskId, { submitted: false });
// mount() returns { refresh(options) } so the page can call refresh({ submitted: true }) after a
// submit. Consensus is requested from the server, which shows it only after this annotator
// submitted; nothing is shown for gold items. Data goes in through textContent only.
(function () {
  "use strict";
  // From the djangojs catalogue (/jsi18n/, loaded by base.html; English where a page has none); a page
  // may still pass its own strings as options.strings.
  const tr = (text) => (typeof gettext === "function" ? gettext(text) : text);
  const DEFAULT_STRINGS = {
    title: tr("Related items in other languages"),
    empty: tr("No related items yet."),
    similarity: tr("similarity"),
    consensus: tr("Consensus best answer: "),
    afterSubmit: tr("Consensus is shown after you submit."),
    unavailable: tr("Related items unavailable"),
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function renderItem(item, submitted, S) {
    const li = el("li", "pf-related-item");
    li.dataset.id = item.id;
    const text = el("div", "pf-related-text", item.text);
    text.dir = "auto";
    text.lang = item.language;
    li.append(text);
    li.append(el("div", "pf-related-meta", `${item.language} · ${S.similarity} ${item.score.toFixed(2)}`));
    if (item.warning) li.append(el("div", "pf-related-warning", item.warning));
    if (item.consensus) {
      const box = el("div", "pf-related-consensus");
      box.append(el("span", "pf-related-label", S.consensus));
      const answer = el("span", "pf-related-answer", item.consensus.text);
      answer.dir = "auto";
      box.append(answer);
      li.append(box);
    } else if (!submitted) {
      li.append(el("div", "pf-related-note", S.afterSubmit));
    }
    return li;
  }

  function render(root, body, S) {
    root.replaceChildren();
    if (body.hidden) {
      root.hidden = true;
      return;
    }
    root.hidden = false;
    root.append(el("h3", "pf-related-title", S.title));
    if (!body.results.length) {
      root.append(el("p", "pf-related-empty", S.empty));
      return;
    }
    const list = el("ul", "pf-related-list");
    for (const item of body.results) list.append(renderItem(item, body.submitted, S));
    root.append(list);
  }

  function mount(root, taskId, options) {
    let state = Object.assign({ submitted: false, k: 5 }, options || {});
    const S = Object.assign({}, DEFAULT_STRINGS, state.strings || {});
    async function refresh(more) {
      state = Object.assign(state, more || {});
      const reply = await fetch(`/api/v1/search/related/?task=${encodeURIComponent(taskId)}&k=${state.k}`, {
        credentials: "same-origin",
      });
      const body = await reply.json().catch(() => ({}));
      if (!reply.ok) {
        root.replaceChildren(el("p", "pf-related-error", body.detail || `${S.unavailable} (${reply.status}).`));
        return body;
      }
      render(root, body, S);
      root.dataset.submitted = String(body.submitted);
      return body;
    }
    const ready = refresh();
    return { refresh, ready };
  }

  window.PFRelated = { mount };
})();
