// Builds portal/static/build: the portal's CSS (GOV.UK Frontend compiled with
// Arial instead of GDS Transport), GOV.UK Frontend's JavaScript and images.
import { mkdirSync, copyFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const out = join(root, "portal", "static", "build");
mkdirSync(out, { recursive: true });

const result = sass.compile(join(root, "assets", "scss", "portal.scss"), {
  style: "compressed",
  importers: [new sass.NodePackageImporter()],
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "portal.css"), result.css);
copyFileSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
console.log(`built ${out}`);
