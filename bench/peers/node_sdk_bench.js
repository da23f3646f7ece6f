#!/usr/bin/env node
// Replies to messages with the official Node SDK, @larksuiteoapi/node-sdk
// (pinned: 1.74.0), for `cargo xtask bench`.
//
// Usage:
//
//     node node_sdk_bench.js BASE_URL CALLS CONCURRENCY ROUNDS WARMUP
//
// Builds one client (`new lark.Client({ domain: BASE_URL, disableTokenCache:
// false })`: the SDK's own token cache on), makes WARMUP replies, then ROUNDS
// rounds of CALLS replies with `client.im.message.reply`, CONCURRENCY at a
// time. Prints one JSON object per round on stdout:
//
//     {"client": "node-sdk", "round", "calls", "concurrency", "seconds",
//      "errors", "first_error", "p50_us", "p99_us"}
//
// Message ids cycle through the same 1,000 as the Rust clients'. The SDK is
// found through NODE_PATH (`cargo xtask bench` installs it into
// target/peers/node). Exit status 3 when it cannot be loaded, 2 for bad usage.

'use strict';

let lark;
try {
  lark = require('@larksuiteoapi/node-sdk');
} catch (error) {
  console.error(`node_sdk_bench.js: cannot load @larksuiteoapi/node-sdk (${error.message})`);
  process.exit(3);
}

const CONTENT = '{"text":"hello from the benchmark"}';
const MESSAGES = 1000;

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

async function reply(client, i) {
  const id = `om_bench_${String(i % MESSAGES).padStart(4, '0')}`;
  const res = await client.im.message.reply({
    path: { message_id: id },
    data: { content: CONTENT, msg_type: 'text' },
  });
  if (!res || res.code !== 0 || !res.data || !res.data.message_id) {
    throw new Error(`${res && res.code} ${res && res.msg}`);
  }
}

async function runRound(client, first, calls, concurrency) {
  const latencies = [];
  const errors = [];
  let next = 0;
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= calls) return;
      const started = process.hrtime.bigint();
      try {
        await reply(client, first + i);
        latencies.push(Number((process.hrtime.bigint() - started) / 1000n));
      } catch (error) {
        errors.push(String(error && error.message ? error.message : error));
      }
    }
  }
  const started = process.hrtime.bigint();
  const workers = [];
  for (let w = 0; w < Math.max(1, Math.min(concurrency, calls)); w++) workers.push(worker());
  await Promise.all(workers);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { seconds, latencies, errors };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 5) {
    console.error('usage: node node_sdk_bench.js BASE_URL CALLS CONCURRENCY ROUNDS WARMUP');
    process.exit(2);
  }
  const base = args[0];
  const [calls, concurrency, rounds, warmup] = args.slice(1).map(Number);
  const client = new lark.Client({
    appId: 'cli_bench',
    appSecret: 'bench-secret',
    domain: base,
    disableTokenCache: false,
    loggerLevel: lark.LoggerLevel.error,
  });
  const warm = await runRound(client, 0, warmup, concurrency);
  if (warm.errors.length > 0) {
    console.error(`node_sdk_bench.js: the warm-up calls fail: ${warm.errors[0]}`);
    process.exit(1);
  }
  for (let r = 0; r < rounds; r++) {
    const { seconds, latencies, errors } = await runRound(client, warmup + r * calls, calls, concurrency);
    console.log(JSON.stringify({
      client: 'node-sdk',
      round: r,
      calls,
      concurrency,
      seconds,
      errors: errors.length,
      first_error: errors.length > 0 ? errors[0] : null,
      p50_us: percentile(latencies, 50),
      p99_us: percentile(latencies, 99),
    }));
  }
}

main().catch((error) => {
  console.error(`node_sdk_bench.js: ${error && error.stack ? error.stack : error}`);
  process.exit(1);
});
