// Staff on the review page: mark a task's gold response (or clear it) through the REST API.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("review-strings").textContent);
  document.querySelectorAll("form.gold").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const raw = form.elements.position.value;
      const result = form.querySelector(".result");
      try {
        await window.PF.post(`/api/v1/tasks/${form.dataset.task}/gold/`, { position: raw === "" ? null : Number(raw) }, true);
        result.textContent = T.saved;
      } catch (error) {
        result.textContent = error.message;
      }
    });
  });
})();
