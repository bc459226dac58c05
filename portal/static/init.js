// Progressive enhancement: every page works without JavaScript.
import { initAll } from "./build/govuk-frontend.min.js";

initAll();

// A question shown only when an earlier answer on the same page has a value
// (templates/macros/questions.html): hidden until it does. Without JavaScript every such
// question is shown, with a hint naming its condition; the server ignores a hidden
// question's answer either way.
function conditionHolds(form, name, value) {
  const inputs = Array.from(form.elements).filter((input) => input.name === name);
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
  const update = () => {
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
