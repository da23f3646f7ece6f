#!/usr/bin/env python3
"""Uploads a file with the official Python SDK, lark-oapi (pinned: 1.7.5).

The peer of e2e/tests/differential_upload.rs, which uploads the same file
with our Rust client and compares what the sandbox stored of each upload.

Usage:

    lark_oapi_upload.py BASE_URL FILE FILE_TYPE

Sends im.v1.file.create (client.im.v1.file.create) with file_type FILE_TYPE,
file_name the base name of FILE and the file opened from FILE, as the SDK's
typed builders make it, for the sandbox's default app (cli_sandbox /
sandbox-secret). Prints {"success", "code", "msg", "file_key"} as JSON.

Exit status: 0 when the call was made (read "success"), 2 for bad usage,
3 when lark_oapi cannot be imported.
"""

import json
import os
import sys

try:
    import lark_oapi as lark
    from lark_oapi.api.im.v1 import CreateFileRequest, CreateFileRequestBody
except ImportError as error:  # pragma: no cover - reported to the caller
    print(f"lark_oapi_upload.py: cannot import lark_oapi ({error}); install it with `pip install lark-oapi==1.7.5`", file=sys.stderr)
    sys.exit(3)


def main(argv):
    if len(argv) != 4:
        print("usage: lark_oapi_upload.py BASE_URL FILE FILE_TYPE", file=sys.stderr)
        return 2
    base_url, path, file_type = argv[1], argv[2], argv[3]
    client = (
        lark.Client.builder()
        .app_id("cli_sandbox")
        .app_secret("sandbox-secret")
        .domain(base_url)
        .log_level(lark.LogLevel.WARNING)
        .build()
    )
    with open(path, "rb") as file:
        body = CreateFileRequestBody.builder().file_type(file_type).file_name(os.path.basename(path)).file(file).build()
        response = client.im.v1.file.create(CreateFileRequest.builder().request_body(body).build())
    key = response.data.file_key if response.success() and response.data is not None else None
    print(json.dumps({"success": response.success(), "code": response.code, "msg": response.msg, "file_key": key}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
