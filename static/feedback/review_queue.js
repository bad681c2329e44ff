// Reviewers on /review/contributions/: decide a flagged or disputed contribution with a reason, through
// POST /api/v1/contributions/{id}/override/. A decided item leaves the page; the focus moves to the next
// item's heading (or the page's), and a live region says what was done. A refusal is shown as the server
// words it, and the form keeps what was typed.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("queue-strings").textContent);
  const announcer = document.getElementById("queue-announcer");

  function say(form, text, error) {
    const line = form.querySelector(".q-status");
    line.textContent = text;
    line.classList.toggle("error", Boolean(error));
  }

  function leave(item, text) {
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    announcer.textContent = text;
    if (!document.querySelector(".q-item")) {
      const empty = document.createElement("p");
      empty.id = "queue-empty";
      empty.textContent = T.empty;
      document.getElementById("queue").append(empty);
    }
    const heading = next && next.querySelector("h2");
    (heading || document.getElementById("queue-heading")).focus();
  }

  document.querySelectorAll("form.q-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const choice = form.querySelector("input[name=status]:checked");
      const reason = form.elements.reason.value;
      if (!choice) {
        say(form, T.needStatus, true);
        form.querySelector("input[name=status]").focus();
        return;
      }
      if (!reason.trim()) {
        say(form, T.needReason, true);
        form.elements.reason.focus();
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await window.PF.post(`/api/v1/contributions/${form.dataset.id}/override/`, { status: choice.value, reason }, true);
      } catch (error) {
        button.disabled = false;
        say(form, error.message, true);
        return;
      }
      leave(form.closest(".q-item"), T[choice.value]);
    });
  });
})();
