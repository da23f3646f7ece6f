#!/usr/bin/env python3
"""Receives events over the long connection with the official Python SDK's
client, lark-oapi's lark.ws.Client (pinned: 1.7.5).

The peer of e2e/tests/sandbox_ws_with_lark_oapi.rs: that test starts this script
against the sandbox, delivers events with "via": "ws" and checks that they
arrive here and that the SDK's acks reach the sandbox.

Usage:

    lark_ws_receive.py BASE_URL

BASE_URL is the server's origin (e.g. http://127.0.0.1:8090); the app is the
sandbox's default one (cli_sandbox / sandbox-secret). Every
im.message.receive_v1 received is printed on stdout as one JSON line:

    {"event_id": "...", "message_id": "...", "content": "..."}

It runs until killed. Exit status 3 when lark_oapi cannot be imported.
"""

import json
import sys

try:
    import lark_oapi as lark
except ImportError as error:  # the test says how to install it
    print(f"cannot import lark_oapi: {error}", file=sys.stderr)
    sys.exit(3)


def main() -> None:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    base_url = sys.argv[1]

    def on_message(data) -> None:
        line = {
            "event_id": data.header.event_id,
            "message_id": data.event.message.message_id,
            "content": data.event.message.content,
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)

    handler = lark.EventDispatcherHandler.builder("", "").register_p2_im_message_receive_v1(on_message).build()
    client = lark.ws.Client("cli_sandbox", "sandbox-secret", event_handler=handler, domain=base_url, log_level=lark.LogLevel.WARNING)
    client.start()


if __name__ == "__main__":
    main()
