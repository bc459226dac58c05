// Progressive enhancement: every page works without JavaScript.
import { initAll } from "./build/govuk-frontend.min.js";

initAll();

// A question shown only when an earlier answer on the same page has a value
// (templates/macros/questions.html): hidden until it does. Without JavaScript every such
// question is shown, with a hint naming its condition; the server ignores a hidden
// question's answer either way.
function conditionHolds(form, name, value) {
  // An answer to a question that is itself hidden counts for nothing (a chain of conditions).
  const inputs = Array.from(form.elements).filter((input) => input.name === name
    && !input.closest("[hidden]"));
  return inputs.some((input) => {
    if (input.type === "radio" || input.type === "checkbox") {
      if (!input.checked) {
        return false;
      }
      // A single confirm box sends "y"; its condition's value is "yes".
      return input.value === value || (input.value === "y" && value === "yes");
    }
    return input.value === value;
  });
}

function showConditionalQuestions(form) {
  const blocks = form.querySelectorAll("[data-condition-question]");
  if (!blocks.length) {
    return;
  }
  // The answers that reveal a question control it, as GOV.UK's conditional reveal does
  // (aria-controls; a radio or box may not carry aria-expanded).
  blocks.forEach((block) => {
    Array.from(form.elements).filter((input) => input.name === block.dataset.conditionQuestion
      && (input.value === block.dataset.conditionValue
        || (input.value === "y" && block.dataset.conditionValue === "yes")))
      .forEach((input) => {
        const controlled = (input.getAttribute("aria-controls") || "").split(" ")
          .filter(Boolean);
        input.setAttribute("aria-controls", [...controlled, block.id].join(" "));
      });
  });
  const update = () => {
    // In page order, so a question hidden a moment ago hides those that depend on it.
    blocks.forEach((block) => {
      const shown = conditionHolds(form, block.dataset.conditionQuestion,
        block.dataset.conditionValue);
      block.hidden = !shown;
    });
  };
  form.addEventListener("change", update);
  update();
}

document.querySelectorAll("form").forEach(showConditionalQuestions);
