// Staff: confirm or reject a suggested translation link in one click (POST /api/v1/search/translation-links/).
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("links-strings").textContent);
  document.querySelectorAll("#links tbody tr[data-a]").forEach((row) => {
    row.querySelectorAll("button[data-decision]").forEach((button) => {
      button.addEventListener("click", async () => {
        const result = row.querySelector(".result");
        try {
          const link = await window.PF.post("/api/v1/search/translation-links/", {
            prompt_a: Number(row.dataset.a), prompt_b: Number(row.dataset.b),
            decision: button.dataset.decision, score: Number(row.dataset.score),
          }, true);
          row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
          result.textContent = link.decision === "confirmed" ? `${T.confirmed} ${link.group}` : T.rejected;
        } catch (error) {
          result.textContent = error.message;
        }
      });
    });
  });
})();
