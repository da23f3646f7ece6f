#!/usr/bin/env python3
"""Replies to messages with the official Python SDK, lark-oapi (pinned: 1.7.5), for `cargo xtask bench`.

Usage:

    lark_oapi_bench.py BASE_URL CALLS CONCURRENCY ROUNDS WARMUP

Builds one client (`lark.Client.builder()...domain(BASE_URL)`, the SDK's own
token cache on), makes WARMUP replies, then ROUNDS rounds of CALLS replies
with `client.im.v1.message.reply`, CONCURRENCY at a time (threads: the SDK is
synchronous). Prints one JSON object per round on stdout:

    {"client": "lark-oapi", "round", "calls", "concurrency", "seconds",
     "errors", "first_error", "p50_us", "p99_us"}

Message ids cycle through the same 1,000 as the Rust clients'. Exit status 3
when lark_oapi cannot be imported, 2 for bad usage.
"""

import json
import math
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import lark_oapi as lark
    from lark_oapi.api.im.v1 import ReplyMessageRequest, ReplyMessageRequestBody
except ImportError as error:  # pragma: no cover - reported to the caller
    print(f"lark_oapi_bench.py: cannot import lark_oapi ({error})", file=sys.stderr)
    sys.exit(3)

CONTENT = '{"text":"hello from the benchmark"}'
MESSAGES = 1000


def percentile(sorted_values, p):
    """Nearest-rank percentile, as the Rust runner computes it."""
    if not sorted_values:
        return 0
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def reply(client, i):
    request = (
        ReplyMessageRequest.builder()
        .message_id(f"om_bench_{i % MESSAGES:04d}")
        .request_body(ReplyMessageRequestBody.builder().content(CONTENT).msg_type("text").build())
        .build()
    )
    response = client.im.v1.message.reply(request)
    if not response.success() or response.data is None or response.data.message_id is None:
        raise RuntimeError(f"{response.code} {response.msg}")


def run_round(client, first, calls, concurrency):
    latencies = []
    errors = []
    lock = threading.Lock()

    def one(i):
        started = time.perf_counter()
        try:
            reply(client, first + i)
        except Exception as error:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(str(error))
            return
        elapsed = int((time.perf_counter() - started) * 1e6)
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    if concurrency <= 1:
        for i in range(calls):
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, range(calls)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return seconds, latencies, errors


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base = sys.argv[1]
    calls, concurrency, rounds, warmup = (int(a) for a in sys.argv[2:6])
    client = (
        lark.Client.builder()
        .app_id("cli_bench")
        .app_secret("bench-secret")
        .domain(base)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )
    _, _, errors = run_round(client, 0, warmup, concurrency)
    if errors:
        print(f"lark_oapi_bench.py: the warm-up calls fail: {errors[0]}", file=sys.stderr)
        sys.exit(1)
    for r in range(rounds):
        seconds, latencies, errors = run_round(client, warmup + r * calls, calls, concurrency)
        print(
            json.dumps(
                {
                    "client": "lark-oapi",
                    "round": r,
                    "calls": calls,
                    "concurrency": concurrency,
                    "seconds": seconds,
                    "errors": len(errors),
                    "first_error": errors[0] if errors else None,
                    "p50_us": percentile(latencies, 50),
                    "p99_us": percentile(latencies, 99),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
