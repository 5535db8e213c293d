// The SDK as a web page runs it. Its browser bundle is evaluated in a context that has what a
// browser gives (fetch, FormData, Blob, timers) and no `process`: under Node the SDK would
// send a FormData upload as JSON, so `ImportProductPrices(formData)` works only the browser's
// way, the way the SDK's users call it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));
// `make compat` installs the SDK into build/compat, outside the repository's own files.
const bundle = path.join(
  here, "..", "build", "compat", "node_modules", "@elasticpath", "js-sdk", "dist", "index.js",
);

export function loadBrowserSdk() {
  const page = {
    fetch, FormData, Blob, File, Headers, Request, Response, URL, URLSearchParams,
    AbortController, TextEncoder, TextDecoder, console, setTimeout, clearTimeout,
    setInterval, clearInterval,
  };
  page.window = page;
  page.self = page;
  page.globalThis = page;
  const context = vm.createContext(page);
  vm.runInContext(fs.readFileSync(bundle, "utf8"), context, { filename: bundle });
  return context.index;
}

// An admin client of the store whose keys the harness passes in the environment.
export function adminClient() {
  const sdk = loadBrowserSdk();
  const url = new URL(process.env.PXM_URL);
  return sdk.gateway({
    client_id: process.env.PXM_CLIENT_ID,
    client_secret: process.env.PXM_CLIENT_SECRET,
    host: url.host,
    protocol: url.protocol.replace(":", ""),
    storage: new sdk.MemoryStorageFactory(),
    // A refused request is the answer to check, not one to try again.
    fetchMaxAttempts: 1,
  });
}

export async function waitForJob(client, jobId) {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const job = await client.PCM.Jobs.Get(jobId);
    if (["success", "failed", "cancelled"].includes(job.data.attributes.status)) return job.data;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${jobId} did not finish`);
}
