// Progressive enhancement: every page works without JavaScript.
import { initAll } from "./build/govuk-frontend.min.js";

initAll();
