//! `ws_events_time_vs_python_sdk`: 5,000 events delivered by the sandbox over
//! the long connection and acked, our client (feishu-runtime's feature `ws`)
//! against lark-oapi's `lark.ws.Client`. How it is to be measured is written
//! in `bench/README.md`; until the capability has landed (checked at run time,
//! [`landed`]) the key is `null` with what is missing.

use std::path::Path;

use serde_json::json;

use super::report::{Ratio, Report};
use super::{Server, probe, progress};

const KEY: &str = "ws_events_time_vs_python_sdk";

/// Adds the long-connection figure to `report` (for now, why there is none).
pub fn measure(root: &Path, sandbox: Result<&Server, &str>, report: &mut Report) {
    let why = match landed(root, sandbox) {
        Err(why) => why,
        Ok(()) => "the long-connection capability has landed, but its measurement is not written yet (see bench/README.md, \"Still to measure\")".into(),
    };
    progress(&format!("ws: not measured: {why}"));
    report.ratios.push(Ratio { key: KEY, value: Err(why), detail: String::new() });
}

/// `Ok` when the runtime has the feature `ws` and the sandbox delivers with `"via":"ws"`.
fn landed(root: &Path, sandbox: Result<&Server, &str>) -> Result<(), String> {
    let mut missing = Vec::new();
    match probe::runtime_feature(root, "ws") {
        Ok(true) => {}
        Ok(false) => missing.push("feishu-runtime has no cargo feature `ws` (runtime/Cargo.toml)".to_string()),
        Err(e) => missing.push(e),
    }
    match sandbox {
        Err(e) => missing.push(format!("the sandbox did not start: {e}")),
        Ok(sandbox) => {
            let request =
                reqwest::Client::new().post(format!("{}/_sandbox/events", sandbox.base)).json(&json!({ "via": "ws", "event_type": "im.message.receive_v1" }));
            match probe::send(request) {
                Err(e) => missing.push(format!("POST /_sandbox/events failed: {e}")),
                Ok(answer) if answer.status == 404 || (answer.status == 400 && answer.body.contains("unknown field `via`")) => missing
                    .push(format!("the sandbox does not deliver over the long connection (POST /_sandbox/events with \"via\":\"ws\": {})", answer.describe())),
                Ok(_) => {}
            }
        }
    }
    if missing.is_empty() { Ok(()) } else { Err(format!("the long-connection capability has not landed: {}", missing.join("; "))) }
}
