// Builds the section into dist/: one ES module and one stylesheet (what a host app
// embeds), plus the local Settings page that make dev serves. Type-checks first.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { build } from "esbuild";

execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], { stdio: "inherit" });
mkdirSync("dist", { recursive: true });
await build({ entryPoints: ["src/mcp-tokens.ts"], bundle: true, format: "esm", minify: true, target: "es2022", outfile: "dist/mcp-tokens.js" });
await build({ entryPoints: ["src/consent.ts"], bundle: true, format: "esm", minify: true, target: "es2022", outfile: "dist/consent.js" });
await build({ entryPoints: ["src/mcp-tokens.css"], bundle: true, minify: true, outfile: "dist/mcp-tokens.css" });
copyFileSync("src/index.html", "dist/index.html");
copyFileSync("src/consent.html", "dist/consent.html");
