// The contribute flows of the annotator workspace, one per campaign kind: write an answer, reply as the
// user, edit a shown answer (a live count of the characters changed), translate a prompt, verify someone's
// contribution (up or down, an optional reason). annotate.js takes the tasks and calls `show(task)` for
// any kind but ranking; this module sends the text (POST tasks/{id}/contributions/) or the vote (POST
// tasks/{id}/verdicts/) and shows a refusal (an edit too close to its original) as the server words it.
//
// Drafts: what is typed is kept in localStorage under the user and the task while it is unsent, so a
// network failure or a reload loses nothing; it is restored when the task comes back, and dropped once
// the server has it. Texts from the server are safe HTML (the prompt, the original answer) or plain text
// written through textContent (turns, contributions).
(function () {
  "use strict";

  // Character edit distance over Unicode code points, as the server counts it
  // (webapp/feedback/editdistance.py): shared prefix and suffix cut, then one row of the programme.
  // Past `limit` cells it answers a lower bound (the length difference) with exact false.
  function levenshtein(first, second, limit) {
    let a = Array.from(first);
    let b = Array.from(second);
    let start = 0;
    while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
    let endA = a.length;
    let endB = b.length;
    while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA -= 1; endB -= 1; }
    a = a.slice(start, endA);
    b = b.slice(start, endB);
    if (a.length < b.length) [a, b] = [b, a];
    if (!b.length) return { n: a.length, exact: true };
    if (a.length * b.length > limit) return { n: a.length - b.length, exact: false };
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i += 1) {
      const current = [i];
      for (let j = 1; j <= b.length; j += 1) {
        current.push(Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
      }
      previous = current;
    }
    return { n: previous[b.length], exact: true };
  }

  window.PFContribute = function (ws) {
    const { $, fmt, api, status, config } = ws;
    const T = ws.T.contribute;
    const EDIT_CELLS = 4e6; // about a frame's work per keystroke
    let task = null;
    let busy = false;
    let startedAt = 0;
    let original = "";

    const draftKey = (taskId) => `pf-draft:${config.user}:${taskId}`;

    function language(code) {
      return config.languages[code] || { name: code, direction: "auto" };
    }

    function setLanguage(node, code) {
      node.lang = code;
      node.dir = language(code).direction || "auto";
    }

    function plain(node, text, code) {
      node.textContent = text;
      setLanguage(node, code);
    }

    // A reply task shows the conversation turn by turn; other kinds the prompt as rendered by the server.
    function showSource(next) {
      const source = $("c-source");
      source.replaceChildren();
      setLanguage(source, next.prompt.language);
      if (next.kind === "reply" && Array.isArray(next.prompt.content)) {
        next.prompt.content.forEach((turn) => {
          const row = document.createElement("div");
          row.className = "turn";
          row.dir = "auto";
          const role = document.createElement("span");
          role.className = "turn-role";
          role.textContent = `${T.roles[turn.role] || turn.role}: `;
          const text = document.createElement("span");
          text.textContent = typeof turn.content === "string" ? turn.content : JSON.stringify(turn.content);
          row.append(role, text);
          source.append(row);
        });
      } else {
        source.innerHTML = next.prompt_html; // safe: rendered by the server with raw HTML escaped
        ws.autoDirection(source);
      }
    }

    function show(next) {
      task = next;
      busy = false;
      const kind = next.kind;
      const verify = kind === "verify";
      $("contribute-heading").textContent = T.titles[kind] || kind;
      $("contribute-hint").textContent = T.hints[kind] || "";
      $("c-source-heading").textContent = T.sourceHeading[kind] || "";
      showSource(next);
      const fromLine = $("c-source-language");
      fromLine.hidden = kind !== "translate";
      fromLine.textContent = fmt(T.from, { language: language(next.prompt.language).name });

      const edited = kind === "edit" ? next.responses[0] : null;
      const shown = verify ? next.contribution : null;
      original = edited ? edited.text : "";
      const shownOriginal = shown && typeof shown.original_text === "string"; // a verify task on an edit
      $("c-original").hidden = !(edited || shownOriginal);
      if (edited) {
        $("c-original-text").innerHTML = edited.html; // safe: rendered by the server
        setLanguage($("c-original-text"), next.language);
        ws.autoDirection($("c-original-text"));
      } else if (shownOriginal) {
        plain($("c-original-text"), shown.original_text, shown.language);
      }
      $("c-shown").hidden = !shown;
      if (shown) plain($("c-shown-text"), shown.text, shown.language);

      $("c-write").hidden = verify;
      $("c-verify").hidden = !verify;
      const box = $("c-text");
      const target = kind === "translate" && next.target_language ? next.target_language : null;
      $("c-target").hidden = !target;
      if (target) $("c-target").textContent = fmt(T.into, { language: target.name });
      setLanguage(box, target ? target.code : next.language);
      $("c-text-label").textContent = T.textLabel[kind] || "";
      box.value = original;
      $("c-reason").value = "";
      document.querySelectorAll("input[name=verdict]").forEach((radio) => { radio.checked = false; });
      if (restoreDraft()) status(T.draftRestored);
      $("c-count").hidden = kind !== "edit";
      countChanges();
      $("c-submit").disabled = false;
      startedAt = performance.now();
      showMine();
      window.setTimeout(() => (verify ? document.querySelector("input[name=verdict]") : box).focus(), 0);
    }

    // The contributor's own figures per language: counts and median edit (GET contributors/stats/: their rows;
    // a reviewer's answer holds everyone's, of which the page keeps theirs), with points and rank on each
    // language's board (GET contributors/leaderboard/: `me`). A nicety: a failure leaves the panel as it was.
    // The counts are the contributor's own rows (cheap) and are read for every task; the board ranks everyone, so
    // it is read at most once a minute (BOARD_SECONDS) and its last answer reused in between.
    const BOARD_SECONDS = 60;
    let lastBoard = null;
    let lastBoardAt = -Infinity;
    async function readBoard() {
      if (lastBoard && performance.now() - lastBoardAt < BOARD_SECONDS * 1000) return lastBoard;
      const board = await api("GET", "/api/v1/contributors/leaderboard/?limit=1");
      if (board.ok) [lastBoard, lastBoardAt] = [board, performance.now()];
      return board;
    }
    async function showMine() {
      let stats;
      let board;
      try {
        [stats, board] = await Promise.all([api("GET", "/api/v1/contributors/stats/"), readBoard()]);
      } catch (error) { return; }
      if (!stats.ok || !Array.isArray(stats.data)) return;
      const standing = {};
      const ranked = board.ok && board.data.ranked ? board.data.ranked : {};
      if (board.ok && Array.isArray(board.data.me)) board.data.me.forEach((row) => { standing[row.language] = row; });
      const mine = stats.data.filter((row) => row.contributor === config.username);
      $("c-mine").hidden = !mine.length;
      $("c-mine-rows").replaceChildren(...mine.map((row) => {
        const tr = document.createElement("tr");
        const median = row.median_edit_distance === null ? "—" : String(row.median_edit_distance);
        const place = standing[row.language] || { points: 0, rank: null };
        const rank = place.rank === null ? "—" : fmt(T.rankOf, { rank: place.rank, n: ranked[row.language] || place.rank });
        const values = [language(row.language).name, row.accepted, row.rejected, row.pending, median, place.points.toFixed(2), rank];
        values.forEach((value, i) => {
          const cell = document.createElement(i ? "td" : "th");
          if (!i) cell.scope = "row";
          cell.textContent = String(value);
          tr.append(cell);
        });
        return tr;
      }));
    }

    // --- drafts ---------------------------------------------------------------------------------
    function draft() {
      if (task.kind === "verify") {
        const choice = document.querySelector("input[name=verdict]:checked");
        return { vote: choice ? choice.value : null, reason: $("c-reason").value };
      }
      return { text: $("c-text").value };
    }

    function saveDraft() {
      if (!task) return;
      const value = draft();
      const empty = task.kind === "verify" ? !value.vote && !value.reason : value.text === original;
      try {
        if (empty) window.localStorage.removeItem(draftKey(task.id));
        else window.localStorage.setItem(draftKey(task.id), JSON.stringify(value));
      } catch (error) { /* storage full or off: the text is still in the page */ }
    }

    function dropDraft(taskId) {
      try { window.localStorage.removeItem(draftKey(taskId)); } catch (error) { /* nothing kept */ }
    }

    function restoreDraft() {
      let saved = null;
      try { saved = JSON.parse(window.localStorage.getItem(draftKey(task.id)) || "null"); } catch (error) { saved = null; }
      if (!saved || typeof saved !== "object") return false;
      if (task.kind === "verify") {
        document.querySelectorAll("input[name=verdict]").forEach((radio) => { radio.checked = radio.value === saved.vote; });
        $("c-reason").value = typeof saved.reason === "string" ? saved.reason : "";
        return true;
      }
      if (typeof saved.text !== "string") return false;
      $("c-text").value = saved.text;
      return true;
    }

    // --- the edit's live count --------------------------------------------------------------------
    let countFrame = 0;
    function countChanges() {
      window.cancelAnimationFrame(countFrame);
      if (!task || task.kind !== "edit") return;
      countFrame = window.requestAnimationFrame(() => {
        const { n, exact } = levenshtein(original, $("c-text").value, EDIT_CELLS);
        const m = config.minEditDistance;
        $("c-count").textContent = fmt(exact ? T.changed : T.changedAtLeast, { n, m });
        $("c-count").classList.toggle("short", n < m);
      });
    }

    // --- sending ----------------------------------------------------------------------------------
    async function submit() {
      if (!task || busy) return; // a double press sends once
      const sent = task;
      let url;
      let body;
      if (sent.kind === "verify") {
        const choice = document.querySelector("input[name=verdict]:checked");
        if (!choice) {
          status(T.needVerdict, true);
          return;
        }
        url = `/api/v1/tasks/${sent.id}/verdicts/`;
        body = { up: choice.value === "up", reason: $("c-reason").value };
      } else {
        if (!$("c-text").value.trim()) {
          status(T.needText, true);
          return;
        }
        url = `/api/v1/tasks/${sent.id}/contributions/`;
        body = { text: $("c-text").value, seconds: Math.round((performance.now() - startedAt) / 100) / 10 };
      }
      saveDraft();
      busy = true;
      $("c-submit").disabled = true;
      status(ws.T.submitting);
      let reply;
      try {
        reply = await api("POST", url, body);
      } catch (error) {
        busy = false;
        $("c-submit").disabled = false;
        status(T.networkError, true);
        return;
      }
      if (reply.ok) {
        dropDraft(sent.id);
        status(ws.T.submitted, false, 4000);
        ws.loadNext();
      } else if (reply.status === 409) { // sent before (another tab): nothing left to keep
        dropDraft(sent.id);
        status(reply.data.detail || ws.T.conflict, true);
        window.setTimeout(ws.loadNext, 2500);
      } else { // refused (an edit too close to its original, a lease that ended): the text stays
        busy = false;
        $("c-submit").disabled = false;
        status(reply.data.detail || JSON.stringify(reply.data), true);
      }
    }

    function vote(value) {
      const radio = document.querySelector(`input[name=verdict][value=${value}]`);
      radio.checked = true;
      radio.focus();
      edited();
    }

    // What the annotator does next replaces an earlier notice or refusal (the live count stays).
    function edited() {
      saveDraft();
      if (Date.now() >= ws.heldUntil()) status("");
    }
    $("c-text").addEventListener("input", () => { edited(); countChanges(); });
    $("c-reason").addEventListener("input", edited);
    document.querySelectorAll("input[name=verdict]").forEach((radio) => radio.addEventListener("change", edited));
    $("c-submit").addEventListener("click", submit);

    document.addEventListener("keydown", (event) => {
      if ($("contribute").hidden || $("help").open) return;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (!event.repeat) submit();
      } else if (task && task.kind === "verify" && !event.ctrlKey && !event.metaKey && !event.altKey
        && !ws.typing(event.target) && (event.key === "u" || event.key === "U" || event.key === "d" || event.key === "D")) {
        event.preventDefault();
        vote(event.key.toLowerCase() === "u" ? "up" : "down");
      }
    });

    return { show, busy: () => busy };
  };
})();
