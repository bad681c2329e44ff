// A variant's page: enrol it in the arena or withdraw it (POST /api/v1/variants/{id}/enrol/).
(function () {
  "use strict";
  const button = document.getElementById("enrol");
  if (!button) return;
  button.addEventListener("click", async () => {
    const enrolled = button.dataset.enrolled !== "true";
    try {
      await window.PF.post(button.dataset.url, { enrolled }, true);
      window.location.reload();
    } catch (error) {
      document.getElementById("enrol-result").textContent = error.message;
    }
  });
})();
