#!/usr/bin/env python3
"""Makes Feishu API calls with the official Python SDK, lark-oapi (pinned: 1.7.5).

The peer of e2e/tests/differential.rs: that test has our Rust client and
this script make the same calls against the sandbox, then compares what the
sandbox recorded of each.

Usage:

    lark_oapi_calls.py BASE_URL CALLS.json   # or "-" to read the calls from stdin

BASE_URL is the server's origin (e.g. http://127.0.0.1:8090); lark-oapi accepts
http:// only for loopback hosts. The app is the sandbox's default one
(cli_sandbox / sandbox-secret) unless CALLS.json says otherwise. CALLS.json:

    {"app_id"?: "...", "app_secret"?: "...",
     "calls": [
       {"op": "reply", "message_id": "om_...",
        "body": {"content": "{\\"text\\":\\"hi\\"}", "msg_type": "text",
                 "uuid"?: "...", "reply_in_thread"?: false}},
       {"op": "reaction_create", "message_id": "om_...",
        "body": {"reaction_type": {"emoji_type": "SMILE"}}},
       {"op": "push_follow_up", "message_id": "om_...",
        "body": {"follow_ups": [{"content": "...",
                                 "i18n_contents"?: [{"content": "...", "language": "en_us"}]}]}}]}

Each body is built with the SDK's typed builders, field by field (an unknown
field is an error, never silently dropped), and sent with the SDK's typed
resource method (client.im.v1.message.reply, client.im.v1.message_reaction.create,
client.im.v1.message.push_follow_up), so token fetching, headers and JSON
encoding are all the SDK's own.

Prints one JSON object on stdout:

    {"sdk": "lark-oapi", "version": "1.7.5",
     "results": [{"op", "message_id", "success", "code", "msg", "data"}]}

Exit status: 0 when every call was made (whatever the API answered; read
"success"), 2 for bad usage or input, 3 when lark_oapi cannot be imported.
"""

import json
import sys

try:
    import lark_oapi as lark
    from lark_oapi.api.im.v1 import (
        CreateMessageReactionRequest,
        CreateMessageReactionRequestBody,
        Emoji,
        FollowUp,
        I18nContent,
        PushFollowUpMessageRequest,
        PushFollowUpMessageRequestBody,
        ReplyMessageRequest,
        ReplyMessageRequestBody,
    )
except ImportError as error:  # pragma: no cover - reported to the caller
    print(
        f"lark_oapi_calls.py: cannot import lark_oapi ({error}); "
        "install it with `pip install lark-oapi==1.7.5` (cargo xtask test does, into target/peers/venv)",
        file=sys.stderr,
    )
    sys.exit(3)


class InputError(Exception):
    """A call description this script does not understand."""


def take(obj, allowed, required, where):
    """Checks that `obj` is an object with only `allowed` keys and all `required` ones."""
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected an object, got {json.dumps(obj)}")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise InputError(f"{where}: unknown field(s) {unknown}")
    missing = sorted(set(required) - set(obj))
    if missing:
        raise InputError(f"{where}: missing field(s) {missing}")
    return obj


def reply(message_id, body):
    take(body, ["content", "msg_type", "uuid", "reply_in_thread"], ["content", "msg_type"], "reply.body")
    builder = ReplyMessageRequestBody.builder().content(body["content"]).msg_type(body["msg_type"])
    if "uuid" in body:
        builder = builder.uuid(body["uuid"])
    if "reply_in_thread" in body:
        builder = builder.reply_in_thread(body["reply_in_thread"])
    request = ReplyMessageRequest.builder().message_id(message_id).request_body(builder.build()).build()
    return lambda client: client.im.v1.message.reply(request)


def reaction_create(message_id, body):
    take(body, ["reaction_type"], ["reaction_type"], "reaction_create.body")
    emoji = take(body["reaction_type"], ["emoji_type"], ["emoji_type"], "reaction_create.body.reaction_type")
    request_body = (
        CreateMessageReactionRequestBody.builder()
        .reaction_type(Emoji.builder().emoji_type(emoji["emoji_type"]).build())
        .build()
    )
    request = CreateMessageReactionRequest.builder().message_id(message_id).request_body(request_body).build()
    return lambda client: client.im.v1.message_reaction.create(request)


def push_follow_up(message_id, body):
    take(body, ["follow_ups"], ["follow_ups"], "push_follow_up.body")
    if not isinstance(body["follow_ups"], list):
        raise InputError("push_follow_up.body.follow_ups: expected a list")
    follow_ups = []
    for i, item in enumerate(body["follow_ups"]):
        where = f"push_follow_up.body.follow_ups[{i}]"
        take(item, ["content", "i18n_contents"], ["content"], where)
        builder = FollowUp.builder().content(item["content"])
        if "i18n_contents" in item:
            contents = []
            for j, i18n in enumerate(item["i18n_contents"]):
                take(i18n, ["content", "language"], ["content", "language"], f"{where}.i18n_contents[{j}]")
                contents.append(I18nContent.builder().content(i18n["content"]).language(i18n["language"]).build())
            builder = builder.i18n_contents(contents)
        follow_ups.append(builder.build())
    request_body = PushFollowUpMessageRequestBody.builder().follow_ups(follow_ups).build()
    request = PushFollowUpMessageRequest.builder().message_id(message_id).request_body(request_body).build()
    return lambda client: client.im.v1.message.push_follow_up(request)


# Each builds the SDK request from a call's description (raising InputError for
# one it does not understand) and returns the function that sends it.
OPERATIONS = {"reply": reply, "reaction_create": reaction_create, "push_follow_up": push_follow_up}


def data_of(response):
    """The response's `data` as plain JSON (the SDK's models serialise with its own encoder).

    Responses without a typed `data` (push_follow_up's) have no such attribute."""
    data = getattr(response, "data", None)
    if data is None:
        return None
    return json.loads(lark.JSON.marshal(data))


def sdk_version():
    try:
        from importlib.metadata import version

        return version("lark-oapi")
    except Exception:  # pragma: no cover - metadata missing
        return None


def main(argv):
    if len(argv) != 3:
        print("usage: lark_oapi_calls.py BASE_URL CALLS.json|-", file=sys.stderr)
        return 2
    base_url, source = argv[1], argv[2]
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
        spec = take(json.loads(text), ["app_id", "app_secret", "calls"], ["calls"], "input")
        calls = spec["calls"]
        if not isinstance(calls, list):
            raise InputError("calls: expected a list")
        # Every request is built before the first is sent: bad input sends nothing.
        senders = []
        for i, call in enumerate(calls):
            take(call, ["op", "message_id", "body"], ["op", "message_id", "body"], f"calls[{i}]")
            if call["op"] not in OPERATIONS:
                raise InputError(f"calls[{i}].op: {call['op']!r} is not one of {sorted(OPERATIONS)}")
            senders.append(OPERATIONS[call["op"]](call["message_id"], call["body"]))
        client = (
            lark.Client.builder()
            .app_id(spec.get("app_id", "cli_sandbox"))
            .app_secret(spec.get("app_secret", "sandbox-secret"))
            .domain(base_url)
            .log_level(lark.LogLevel.WARNING)
            .build()
        )
    except (OSError, ValueError, InputError) as error:
        print(f"lark_oapi_calls.py: {error}", file=sys.stderr)
        return 2

    results = []
    for call, send in zip(calls, senders):
        response = send(client)
        results.append(
            {
                "op": call["op"],
                "message_id": call["message_id"],
                "success": response.success(),
                "code": response.code,
                "msg": response.msg,
                "data": data_of(response),
            }
        )
    print(json.dumps({"sdk": "lark-oapi", "version": sdk_version(), "results": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
