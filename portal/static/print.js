// The "Print this list" button (templates/reports/plan_list.html): shown only where
// JavaScript runs; without it the page says to use the browser's Print command.
for (const button of document.querySelectorAll("[data-portal-print]")) {
  button.classList.remove("govuk-!-display-none");
  button.addEventListener("click", () => window.print());
}
