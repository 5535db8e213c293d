// pg-boss as the throughput benchmark drives it.
//
//   node pg_boss.mjs queue DATABASE_URL JOBS STORES ORDER_FILE
//   node pg_boss.mjs work DATABASE_URL RUN_LOG FETCHERS BATCH_SIZE POLL_SECONDS
//
// `queue` installs the schema, creates the queue with the `key_strict_fifo` policy (one job of a
// key active at a time, in creation order) and sends each job with its store as the key, one
// `send` per job: a job's place in its key's line is its created_on, which jobs sent together
// share. It writes [job id, store] in creation order. `work` runs FETCHERS fetch loops, each
// taking up to BATCH_SIZE jobs a fetch, until SIGTERM. By default a loop waits out its poll after
// every fetch, full or not; burst mode fetches again at once while batches come back full.
import { PgBoss } from "pg-boss";
import { noteRun, now, stopOnTerm, storeName, writeJson } from "./run_log.mjs";

const QUEUE = "noop";

async function queueJobs(connectionString, jobs, stores, orderFile) {
  const boss = new PgBoss({ connectionString, supervise: false, schedule: false });
  boss.on("error", (error) => console.error(error));
  await boss.start();
  await boss.createQueue(QUEUE, { policy: "key_strict_fifo" });
  const order = [];
  for (let n = 0; n < jobs; n++) {
    const store = storeName(n, stores);
    const id = await boss.send(QUEUE, { store }, { singletonKey: store });
    order.push([String(id), store]);
  }
  await boss.stop({ graceful: true });
  writeJson(orderFile, order);
}

async function work(connectionString, runLog, fetchers, batchSize, pollSeconds) {
  const boss = new PgBoss(connectionString);
  boss.on("error", (error) => console.error(error));
  const options = {
    localConcurrency: fetchers,
    batchSize,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: pollSeconds,
  };
  const started = (async () => {
    await boss.start();
    await boss.work(QUEUE, options, async (jobs) => {
      for (const job of jobs) noteRun(job.id, job.data.store, now());
    });
    return () => boss.stop({ graceful: true });
  })();
  stopOnTerm(runLog, started);
  await started;
}

const [mode, url, ...rest] = process.argv.slice(2);
if (mode === "queue") {
  await queueJobs(url, Number(rest[0]), Number(rest[1]), rest[2]);
} else if (mode === "work") {
  await work(url, rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]));
} else {
  console.error("usage: pg_boss.mjs queue|work DATABASE_URL ...");
  process.exit(2);
}
