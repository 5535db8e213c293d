// What both Node peers share with the Python workers: how a job notes its run, and when the
// notes are written. The clock is the machine's monotonic one, the clock Python's
// time.monotonic() reads, so the benchmark compares notes of every system and process alike.
import { writeFileSync } from "node:fs";

export function now() {
  return Number(process.hrtime.bigint() / 1000n) / 1e6;
}

// [job id, store, began, ended] for every run in this process, kept in memory while timed.
const runs = [];

export function noteRun(jobId, store, began) {
  runs.push([String(jobId), String(store), began, now()]);
}

export function writeJson(path, value) {
  writeFileSync(path, JSON.stringify(value));
}

// On SIGTERM: stop the peer's worker gracefully, then write the notes and exit. Set before the
// worker starts (`started` resolves to its stop function), so that a process stopped while it
// starts leaves either its notes or, killed before this is set, no job run.
export function stopOnTerm(runLog, started) {
  process.once("SIGTERM", async () => {
    const stop = await started;
    await stop();
    writeJson(runLog, runs);
    process.exit(0);
  });
}

export function storeName(n, stores) {
  return `store-${n % stores}`;
}
