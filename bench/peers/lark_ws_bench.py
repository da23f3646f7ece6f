#!/usr/bin/env python3
"""The official Python SDK's long-connection client as `cargo xtask bench`
measures it (ws_events_time_vs_python_sdk): lark-oapi's lark.ws.Client
(pinned: 1.7.5) connected to a sandbox, with one handler for
im.message.receive_v1 that does nothing, so that what is timed is the
client: reading frames, decoding the event into the SDK's types, and the ack.

Usage:

    lark_ws_bench.py BASE_URL [APP_ID APP_SECRET]

The app defaults to the sandbox's (cli_sandbox / sandbox-secret). Prints
`connected` on stdout once the long connection is up, runs until its stdin
closes, then prints {"handled": N} (events the handler ran for) and exits.
Exit status 3 when lark_oapi cannot be imported, 1 when the client stops.

The SDK has no callback for "connected": it logs "connected to <url>" at
INFO once the WebSocket handshake is done, and that log record is the
signal. The SDK's own log handler writes to stdout; it is moved to stderr
so that stdout carries only this script's lines.
"""

import json
import logging
import os
import sys
import threading

try:
    import lark_oapi as lark
    from lark_oapi.core.log import logger as lark_logger
except ImportError as error:
    print(f"cannot import lark_oapi: {error}", file=sys.stderr)
    sys.exit(3)


class ConnectedSignal(logging.Handler):
    """Prints `connected` on the SDK's "connected to …" log record (once)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.seen and record.getMessage().startswith("connected to "):
            self.seen = True
            print("connected", flush=True)


def main() -> None:
    if len(sys.argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base_url = sys.argv[1]
    app_id, app_secret = (sys.argv[2], sys.argv[3]) if len(sys.argv) == 4 else ("cli_sandbox", "sandbox-secret")

    for handler in list(lark_logger.handlers):
        lark_logger.removeHandler(handler)
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    lark_logger.addHandler(to_stderr)
    lark_logger.addHandler(ConnectedSignal())

    handled = [0]

    def on_message(_data) -> None:
        handled[0] += 1

    def until_stdin_closes() -> None:
        sys.stdin.buffer.read()
        print(json.dumps({"handled": handled[0]}), flush=True)
        # The SDK's loop runs forever and has no stop: end the process.
        os._exit(0)

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    handler = lark.EventDispatcherHandler.builder("", "").register_p2_im_message_receive_v1(on_message).build()
    # INFO, for the "connected to" record; the SDK logs nothing per event at INFO.
    client = lark.ws.Client(app_id, app_secret, event_handler=handler, domain=base_url, log_level=lark.LogLevel.INFO)
    client.start()
    sys.exit(1)


if __name__ == "__main__":
    main()
