// The site's frame (templates/base.html): choosing an interface language submits its form at once
// (the page's Content-Security-Policy allows no inline event handlers).
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("ui-language");
  if (select) select.addEventListener("change", () => select.form.submit());
});
