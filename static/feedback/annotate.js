// The annotator workspace: takes the next task from the REST API, lets the annotator rank its
// responses by dragging (SortableJS), by tapping them in order of preference (phones) or by keyboard
// alone, and submits the ranking. A task of a contribution kind (write, reply, edit, translate, verify)
// is handed to static/feedback/contribute.js, which shares this loop: next task, lease, skip, status.
//
// State: `order` lists the cards top to bottom as {position, tied}; `tied` joins a card to the rank
// above it. `picked` lists the cards tapped so far, best first: always the top of `order`, so tapping
// the cards one after another builds the ranking from the top; a drag or a key starts the taps afresh. Positions are the task's stored order; the display order (shuffled, or the campaign's
// suggested starting order) is recorded.
// Texts arrive as safe HTML from the server (Markdown rendered, raw HTML escaped); every other
// string the script writes goes through textContent.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("workspace-config").textContent);
  const T = config.strings;
  const $ = (id) => document.getElementById(id);
  const list = $("ranking");
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  let task = null;
  let order = [];
  let displayOrder = [];
  let labels = {};
  let cards = {};
  let arranged = false; // ordered by drag, keys or a suggestion
  let picked = [];
  let busy = false;
  let startedAt = 0;
  let leaseTimer = null;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
  }

  function say(message) {
    $("announcer").textContent = "";
    window.setTimeout(() => { $("announcer").textContent = message; }, 30);
  }

  // A notice given with holdMs (e.g. "Submitted") stays that long although the next task appears at once;
  // any other status, or the annotator's next action, replaces it.
  let heldUntil = 0;
  let holdTimer = null;
  // Each section (ranking, contributing) has its status line; both say the same, the visible one shows it.
  function status(message, isError, holdMs) {
    window.clearTimeout(holdTimer);
    document.querySelectorAll("[data-status]").forEach((line) => {
      line.textContent = message || "";
      line.classList.toggle("error", Boolean(isError));
    });
    heldUntil = holdMs ? Date.now() + holdMs : 0;
    if (holdMs) holdTimer = window.setTimeout(() => status(""), holdMs);
  }

  async function api(method, url, body) {
    const options = { method, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const reply = await fetch(url, options); // throws on a network error
    const data = await reply.json().catch(() => ({}));
    return { ok: reply.ok, status: reply.status, data };
  }

  // --- ranking model ---------------------------------------------------------------------------
  function groups() {
    const result = [];
    order.forEach((item, index) => {
      if (item.tied && index > 0) result[result.length - 1].push(item.position);
      else result.push([item.position]);
    });
    return result;
  }

  function fromGroups(rankGroups) {
    order = [];
    rankGroups.forEach((group) => group.forEach((position, i) => order.push({ position, tied: i > 0 })));
  }

  function rankOf(position) {
    return groups().findIndex((group) => group.includes(position)) + 1;
  }

  function moveToRank(position, rank) {
    const rest = groups().map((g) => g.filter((p) => p !== position)).filter((g) => g.length);
    const index = Math.max(0, Math.min(rank - 1, rest.length));
    rest.splice(index, 0, [position]);
    fromGroups(rest);
    changed(position, fmt(T.moved, { label: labels[position], rank: rankOf(position) }));
  }

  function moveBy(position, delta) {
    const index = order.findIndex((item) => item.position === position);
    const target = index + delta;
    if (target < 0 || target >= order.length) return;
    const [item] = order.splice(index, 1);
    item.tied = false;
    order.splice(target, 0, item);
    if (order[0]) order[0].tied = false;
    changed(position, fmt(T.moved, { label: labels[position], rank: rankOf(position) }));
  }

  function toggleTie(position) {
    const index = order.findIndex((item) => item.position === position);
    if (index === 0) {
      say(T.cannotTie);
      return;
    }
    order[index].tied = !order[index].tied;
    const message = order[index].tied ? T.tiedWith : T.untied;
    changed(position, fmt(message, { label: labels[position], rank: rankOf(position) }), true);
  }

  // Tap-to-rank: a tap on a card's pick button puts it just below the cards picked before it; a tap on
  // a picked card takes it out again (the cards below move up). Once all cards but one are picked, the
  // order is complete: the last one is last.
  function togglePick(position) {
    const at = picked.indexOf(position);
    if (at >= 0) picked.splice(at, 1);
    else picked.push(position);
    const tiedBefore = {};
    order.forEach((item) => { tiedBefore[item.position] = item.tied; });
    const rest = order.map((item) => item.position).filter((p) => !picked.includes(p));
    order = [...picked, ...rest].map((p, i) => ({ position: p, tied: i > 0 && p !== position && tiedBefore[p] }));
    render();
    say(at >= 0 ? fmt(T.unpicked, { label: labels[position] })
      : fmt(T.moved, { label: labels[position], rank: rankOf(position) }));
    status("");
  }

  function ranked() {
    return arranged || picked.length >= order.length - 1;
  }

  // A tie keeps the cards where they are, and so the taps so far; any other move starts them afresh.
  function changed(position, message, keepPicks) {
    arranged = true;
    if (!keepPicks) picked = [];
    render(position);
    say(message);
    status("");
  }

  // --- rendering -------------------------------------------------------------------------------
  function makeCard(item, direction, language) {
    const li = document.createElement("li");
    li.className = "card";
    li.tabIndex = 0;
    li.dataset.position = item.position;
    const head = document.createElement("div");
    head.className = "card-head";
    const handle = document.createElement("span");
    handle.className = "handle";
    handle.setAttribute("aria-hidden", "true"); // a pointer's grip: keys and the pick button do the same
    handle.textContent = "⠿";
    const rank = document.createElement("span");
    rank.className = "rank";
    const name = document.createElement("span");
    name.className = "label";
    name.textContent = fmt(T.response, { label: labels[item.position] });
    const tie = document.createElement("button");
    tie.type = "button";
    tie.className = "tie";
    tie.tabIndex = -1; // the card's T key does the same; one tab stop per card
    tie.addEventListener("click", () => { toggleTie(item.position); li.focus(); });
    const pick = document.createElement("button");
    pick.type = "button";
    pick.className = "pick";
    pick.tabIndex = -1; // the card's number keys do the same
    pick.addEventListener("click", () => togglePick(item.position));
    head.append(handle, rank, name, pick, tie);
    const body = document.createElement("div");
    body.className = "text";
    body.dir = direction;
    body.lang = language;
    body.dataset.content = "";
    body.innerHTML = item.html; // safe: rendered by the server with raw HTML escaped
    autoDirection(body);
    li.append(head, body);
    return li;
  }

  // The container takes the task language's direction; each block follows its own text, so an
  // English answer in an Arabic task (a wrong-language answer) still reads left to right. Code blocks
  // and tables scroll sideways inside their card (a phone is narrower than they are): each takes
  // keyboard focus, so arrow keys can scroll it too.
  function autoDirection(container) {
    container.querySelectorAll("p, li, h1, h2, h3, h4, h5, h6, blockquote, td, th").forEach((node) => {
      node.dir = "auto";
    });
    container.querySelectorAll("pre, table").forEach((node) => { node.tabIndex = 0; });
  }

  function render(focusPosition) {
    let rankNumber = 0;
    order.forEach((item, index) => {
      const li = cards[item.position];
      const tied = item.tied && index > 0;
      if (!tied) rankNumber += 1;
      li.classList.toggle("tied", tied);
      const rankText = fmt(T.rank, { rank: rankNumber }) + (tied ? ` (${T.tied})` : "");
      li.querySelector(".rank").textContent = rankText;
      li.setAttribute("aria-label", fmt(tied ? T.cardLabelTied : T.cardLabel,
        { label: labels[item.position], rank: rankNumber }));
      li.querySelector(".tie").textContent = tied ? T.untieButton : T.tieButton;
      li.querySelector(".tie").disabled = index === 0;
      const pickedAt = picked.indexOf(item.position);
      const pick = li.querySelector(".pick");
      pick.textContent = pickedAt >= 0 ? fmt(T.unpickButton, { rank: pickedAt + 1 })
        : fmt(T.pickButton, { rank: picked.length + 1 });
      pick.setAttribute("aria-pressed", String(pickedAt >= 0));
      li.classList.toggle("picked", pickedAt >= 0);
      list.appendChild(li);
    });
    if (focusPosition !== undefined) cards[focusPosition].focus();
  }

  function shuffled(n) {
    const positions = [...Array(n).keys()];
    const random = new Uint32Array(n);
    window.crypto.getRandomValues(random);
    for (let i = n - 1; i > 0; i -= 1) {
      const j = random[i] % (i + 1);
      [positions[i], positions[j]] = [positions[j], positions[i]];
    }
    return positions;
  }

  function show(section) {
    ["loading", "task", "contribute", "empty"].forEach((id) => { $(id).hidden = id !== section; });
  }

  function showTask(next) {
    task = next;
    if (next.kind && next.kind !== "ranking") { // write, reply, edit, translate, verify: contribute.js
      busy = false;
      show("contribute");
      if (Date.now() >= heldUntil) status("");
      contribute.show(next);
      renewLeaseEvery(config.leaseSeconds);
      return;
    }
    const items = {};
    next.responses.forEach((r) => { items[r.position] = r; });
    // A campaign may suggest a starting order (a judge's ranking): the cards are shown in it, ties
    // included, and may be submitted as they are; otherwise they are shuffled and must be ordered.
    const suggestion = Array.isArray(next.suggestion) && next.suggestion.length ? next.suggestion : null;
    displayOrder = suggestion ? suggestion.flat() : shuffled(next.responses.length);
    labels = {};
    displayOrder.forEach((position, i) => { labels[position] = String.fromCharCode(65 + i); });
    if (suggestion) fromGroups(suggestion);
    else order = displayOrder.map((position) => ({ position, tied: false }));
    $("suggested").hidden = !suggestion;
    $("suggested").textContent = suggestion ? T.suggested : "";
    list.replaceChildren();
    cards = {};
    order.forEach((item) => {
      cards[item.position] = makeCard({ ...item, html: items[item.position].html }, next.direction, next.language);
    });
    const prompt = $("prompt");
    prompt.dir = next.direction;
    prompt.lang = next.language;
    prompt.innerHTML = next.prompt_html; // safe: rendered by the server with raw HTML escaped
    autoDirection(prompt);
    $("rationale").value = "";
    document.querySelectorAll("input[name=flag]").forEach((box) => { box.checked = false; });
    arranged = Boolean(suggestion);
    picked = [];
    busy = false;
    $("submit").disabled = false;
    startedAt = performance.now();
    render();
    show("task");
    if (Date.now() >= heldUntil) status("");
    renewLeaseEvery(config.leaseSeconds);
    showRelated($("related"), next.id, false);
    cards[order[0].position].focus();
  }

  // Related items in other languages (the retrieval index): for the current task without consensus
  // (it must not anchor the ranking), and for the task just submitted with it.
  function showRelated(root, taskId, submitted) {
    if (!window.PFRelated) return;
    const strings = submitted ? { ...T.related, title: T.relatedPrevious } : T.related;
    window.PFRelated.mount(root, taskId, { submitted, strings });
  }

  // --- server ----------------------------------------------------------------------------------
  async function refreshProgress() {
    const query = config.campaign ? `?campaign=${config.campaign}` : "";
    try {
      const reply = await api("GET", `/api/v1/me/progress/${query}`);
      if (reply.ok) {
        $("progress").textContent = fmt(T.progress,
          { today: reply.data.done_today, total: reply.data.done_total, remaining: reply.data.remaining });
      }
    } catch (error) { /* progress is a nicety; the next refresh tries again */ }
  }

  async function loadNext() {
    window.clearInterval(leaseTimer);
    show("loading");
    const progress = refreshProgress(); // in parallel with the next task: the counts do not depend on it
    let reply;
    try {
      reply = await api("POST", "/api/v1/tasks/next/", { campaign: config.campaign });
    } catch (error) {
      $("loading").textContent = T.networkError;
      window.setTimeout(loadNext, 5000);
      return;
    }
    if (reply.ok && reply.data.task) {
      showTask(reply.data.task);
    } else {
      task = null;
      await progress; // the empty state shows the final counts, never the ones before the last submit
      $("empty-detail").textContent = T.empty;
      show("empty");
    }
  }

  function renewLeaseEvery(seconds) {
    window.clearInterval(leaseTimer);
    const current = task;
    leaseTimer = window.setInterval(async () => {
      if (task !== current) return;
      try {
        const reply = await api("POST", `/api/v1/tasks/${current.id}/lease/`);
        if (reply.status === 409) {
          status(T.leaseLost, true);
          window.setTimeout(loadNext, 2500);
        }
      } catch (error) { /* offline for a moment: the next renewal tries again */ }
    }, Math.max(5, seconds / 3) * 1000);
  }

  async function submit() {
    if (!task || busy) return; // a double click or a held Enter submits once
    if (!ranked()) {
      status(T.needRanking, true);
      return;
    }
    busy = true;
    $("submit").disabled = true;
    status(T.submitting);
    const body = {
      ranking: groups().map((group) => [...group].sort((a, b) => a - b)), // a tie has no inner order
      display_order: displayOrder,
      flags: [...document.querySelectorAll("input[name=flag]:checked")].map((box) => box.value),
      rationale: $("rationale").value,
      seconds: Math.round((performance.now() - startedAt) / 100) / 10,
    };
    let reply;
    try {
      reply = await api("POST", `/api/v1/tasks/${task.id}/annotations/`, body);
    } catch (error) {
      busy = false;
      $("submit").disabled = false;
      status(T.networkError, true);
      return;
    }
    if (reply.ok) {
      status(T.submitted, false, 4000);
      showRelated($("related-previous"), task.id, true);
      loadNext();
    } else if (reply.status === 409) {
      status(/lease|filled/.test(reply.data.detail || "") ? T.leaseLost : T.conflict, true);
      window.setTimeout(loadNext, 2500);
    } else {
      busy = false;
      $("submit").disabled = false;
      status(reply.data.detail || JSON.stringify(reply.data), true);
    }
  }

  async function skip() {
    if (!task || busy || contribute.busy()) return;
    busy = true;
    try {
      const reply = await api("POST", `/api/v1/tasks/${task.id}/skip/`);
      if (!reply.ok && reply.status !== 409) {
        busy = false;
        status(reply.data.detail || JSON.stringify(reply.data), true);
        return;
      }
    } catch (error) {
      busy = false;
      status(T.networkError, true);
      return;
    }
    status(T.skipped);
    loadNext();
  }

  // --- input -----------------------------------------------------------------------------------
  // A radio button takes no letters: U, D and S still act while a vote's radio has focus.
  function typing(target) {
    return target.closest("textarea, input:not([type=radio]), select, [contenteditable]") !== null;
  }

  list.addEventListener("keydown", (event) => {
    const card = event.target.closest(".card");
    if (!card || event.target !== card || event.ctrlKey || event.metaKey) return;
    const position = Number(card.dataset.position);
    const index = order.findIndex((item) => item.position === position);
    if (/^[1-9]$/.test(event.key) && !event.altKey) {
      event.preventDefault();
      moveToRank(position, Number(event.key));
    } else if ((event.key === "t" || event.key === "T" || event.key === "=") && !event.altKey) {
      event.preventDefault();
      toggleTie(position);
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const delta = event.key === "ArrowUp" ? -1 : 1;
      if (event.altKey) moveBy(position, delta);
      else if (order[index + delta]) cards[order[index + delta].position].focus();
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || $("help").open) return;
    if (event.key === "?") {
      event.preventDefault();
      $("help").showModal();
    } else if (event.key === "Enter" && !$("task").hidden && !event.target.closest("button, a, summary")) {
      event.preventDefault();
      if (!event.repeat) submit();
    } else if ((event.key === "s" || event.key === "S") && (!$("task").hidden || !$("contribute").hidden)) {
      event.preventDefault();
      skip();
    }
  });

  $("submit").addEventListener("click", submit);
  $("skip").addEventListener("click", skip);
  $("c-skip").addEventListener("click", skip);
  $("help-button").addEventListener("click", () => $("help").showModal());

  // On a touch screen a card is dragged by its handle, so a swipe elsewhere scrolls the page; with a
  // mouse the whole card drags (a touch on such a screen must rest a moment first).
  const coarse = window.matchMedia("(pointer: coarse)").matches;
  window.Sortable.create(list, {
    animation: 150,
    ghostClass: "sortable-ghost",
    handle: coarse ? ".handle" : null,
    delay: coarse ? 0 : 150,
    delayOnTouchOnly: true,
    onEnd(event) {
      const moved = Number(event.item.dataset.position);
      const tiedBefore = {};
      order.forEach((item) => { tiedBefore[item.position] = item.tied; });
      const positions = [...list.querySelectorAll(".card")].map((li) => Number(li.dataset.position));
      // A dragged card takes a rank of its own; cards tied to a neighbour that moved away keep
      // their tie only while they still have a card above them.
      order = positions.map((position, i) => ({
        position, tied: i > 0 && position !== moved && event.oldIndex !== event.newIndex && tiedBefore[position],
      }));
      if (event.oldIndex === event.newIndex) {
        order = positions.map((position, i) => ({ position, tied: i > 0 && tiedBefore[position] }));
      }
      changed(moved, fmt(T.moved, { label: labels[moved], rank: rankOf(moved) }));
    },
  });

  const contribute = window.PFContribute({
    $, T, config, fmt, api, status, autoDirection, typing, loadNext, heldUntil: () => heldUntil,
  });
  loadNext();
})();
