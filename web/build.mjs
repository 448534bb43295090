// Bundles web/src into runtime/web/static/ (the files `pip install paymap` ships; no Node for users).
// `node build.mjs [OUTDIR]`; scripts/build_web.sh runs it. The first line of the bundle records a
// hash of every input (tests/playground/test_bundle.py recomputes it to catch a stale bundle).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] || join(here, "..", "runtime", "web", "static"));

// Keep in step with tests/playground/test_bundle.py::source_hash.
function sourceHash() {
  const files = ["build.mjs", "package.json", "package-lock.json",
    ...readdirSync(join(here, "src")).sort().map((f) => `src/${f}`)];
  const h = createHash("sha256");
  for (const f of files.sort()) {
    h.update(f + "\0");
    h.update(readFileSync(join(here, f)));
    h.update("\0");
  }
  return h.digest("hex");
}

const banner = `/* paymap web bundle: built from web/ by scripts/build_web.sh; sources sha256 ${sourceHash()} */`;
await build({
  // one build, two pages: the playground and the relay's operator console (runtime/relay/console.py)
  entryPoints: { playground: join(here, "src", "playground.js"), console: join(here, "src", "console.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir,
  banner: { js: banner, css: banner },
  legalComments: "none",
  logLevel: "warning",
});
console.log(`built ${outdir}/playground.{js,css} and console.{js,css}`);
