// graphile-worker as the throughput benchmark drives it.
//
//   node graphile_worker.mjs queue DATABASE_URL JOBS STORES ORDER_FILE
//   node graphile_worker.mjs work DATABASE_URL RUN_LOG CONCURRENCY POLL_SECONDS LOCAL_QUEUE_SIZE
//
// `queue` installs the schema and adds the jobs, each to the named queue of its store (jobs of
// one named queue run one at a time, in order), and writes [job id, store] in creation order.
// Each job is added in a statement of its own: the queue orders by run_at, which defaults to the
// statement's now(), with no tie-break on id. `work` runs a worker pool until SIGTERM.
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import { noteRun, now, stopOnTerm, storeName, writeJson } from "./run_log.mjs";

const quiet = new Logger(() => (level, message) => {
  if (level === "error") console.error(message);
});

async function queueJobs(connectionString, jobs, stores, orderFile) {
  const utils = await makeWorkerUtils({ connectionString, logger: quiet });
  await utils.migrate();
  const order = [];
  for (let n = 0; n < jobs; n++) {
    const store = storeName(n, stores);
    const job = await utils.addJob("noop", { store }, { queueName: store });
    order.push([String(job.id), store]);
  }
  await utils.release();
  writeJson(orderFile, order);
}

async function work(connectionString, runLog, concurrency, pollSeconds, localQueueSize) {
  const runner = run({
    connectionString,
    concurrency,
    pollInterval: pollSeconds * 1000,
    noHandleSignals: true,
    crontab: "",
    logger: quiet,
    preset: { worker: { localQueue: { size: localQueueSize } } },
    taskList: {
      noop: async (payload, helpers) => {
        noteRun(helpers.job.id, payload.store, now());
      },
    },
  });
  stopOnTerm(runLog, runner.then((running) => () => running.stop()));
  await (await runner).promise;
}

const [mode, url, ...rest] = process.argv.slice(2);
if (mode === "queue") {
  await queueJobs(url, Number(rest[0]), Number(rest[1]), rest[2]);
} else if (mode === "work") {
  await work(url, rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]));
} else {
  console.error("usage: graphile_worker.mjs queue|work DATABASE_URL ...");
  process.exit(2);
}
