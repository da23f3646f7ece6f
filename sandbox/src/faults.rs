//! Fault rules: answers the real service would give on a bad day.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::ids::XorShift;
use crate::reply::Reply;
use crate::{auth, limits};

/// What a fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Answers this HTTP status with a body that is not a Feishu envelope.
    Status(u16),
    /// Waits, then carries on.
    Delay(Duration),
    /// Closes the connection without an answer.
    Drop,
    /// Answers 230020 with the rate-limit headers.
    RateLimited,
    /// Answers 99991663.
    ExpireToken,
    /// Answers HTTP 429 with `Retry-After: <seconds>` and a non-Feishu body.
    TooManyRequests(u64),
    /// Answers HTTP 200 with a body that is not JSON (an HTML error page).
    NotJson,
}

/// A fault that fired for one request; `after` says it applies once the request took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fired {
    pub kind: Kind,
    pub after: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRequest {
    kind: String,
    count: Option<u64>,
    probability: Option<f64>,
    seed: Option<u64>,
    path_prefix: Option<String>,
    status: Option<u16>,
    millis: Option<u64>,
    retry_after: Option<u64>,
    #[serde(default)]
    after_processing: bool,
}

#[derive(Debug)]
struct Rule {
    id: u64,
    kind: Kind,
    remaining: Option<u64>,
    probability: f64,
    rng: XorShift,
    path_prefix: Option<String>,
    after: bool,
    fired: u64,
}

impl Rule {
    fn matches(&self, path: &str, is_token_request: bool) -> bool {
        match &self.path_prefix {
            Some(prefix) => {
                path.starts_with(prefix.as_str())
                    && (!is_token_request || prefix.starts_with("/open-apis/auth"))
            }
            None => !is_token_request,
        }
    }
}

/// The rules in force, in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<Rule>,
    next_id: u64,
}

impl Faults {
    /// Adds a rule from its JSON form; answers its id.
    pub(crate) fn add(&mut self, request: &Value) -> Result<u64, String> {
        let request: RuleRequest = serde_json::from_value(request.clone())
            .map_err(|e| format!("invalid fault rule: {e}"))?;
        let kind = match request.kind.as_str() {
            "status" => {
                let status = request.status.unwrap_or(503);
                if !(200..=599).contains(&status) {
                    return Err(format!(
                        "invalid fault rule: status {status} is not an HTTP status from 200 to 599"
                    ));
                }
                Kind::Status(status)
            }
            "delay" => Kind::Delay(Duration::from_millis(request.millis.unwrap_or(200))),
            "drop" => Kind::Drop,
            "rate_limited" => Kind::RateLimited,
            "expire_token" => Kind::ExpireToken,
            "too_many_requests" => Kind::TooManyRequests(request.retry_after.unwrap_or(1)),
            "not_json" => Kind::NotJson,
            other => {
                return Err(format!(
                    "invalid fault rule: unknown kind {other:?} (status, delay, drop, rate_limited, expire_token, too_many_requests, not_json)"
                ));
            }
        };
        let probability = request.probability.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&probability) {
            return Err(format!(
                "invalid fault rule: probability {probability} is not between 0 and 1"
            ));
        }
        self.next_id += 1;
        let id = self.next_id;
        self.rules.push(Rule {
            id,
            kind,
            remaining: request.count,
            probability,
            rng: XorShift::new(request.seed.unwrap_or(0)),
            path_prefix: request.path_prefix,
            after: request.after_processing,
            fired: 0,
        });
        Ok(id)
    }

    /// Removes every rule.
    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The faults that fire for a request to `path`: any number of delays, then at most one other fault.
    pub(crate) fn draw(&mut self, path: &str, is_token_request: bool) -> Vec<Fired> {
        self.draw_where(|rule| rule.matches(path, is_token_request))
    }

    /// The faults that fire for a request outside `/open-apis` (the doc
    /// portal): only rules whose `path_prefix` names it apply. `target` is the
    /// path with its raw query, so that a prefix can name one page.
    pub(crate) fn draw_named(&mut self, target: &str) -> Vec<Fired> {
        self.draw_where(|rule| {
            rule.path_prefix.as_deref().is_some_and(|prefix| target.starts_with(prefix))
        })
    }

    fn draw_where(&mut self, applies: impl Fn(&Rule) -> bool) -> Vec<Fired> {
        let mut fired = Vec::new();
        for rule in &mut self.rules {
            if rule.remaining == Some(0) || !applies(rule) {
                continue;
            }
            if rule.probability < 1.0 && rule.rng.next_f64() >= rule.probability {
                continue;
            }
            if let Some(remaining) = rule.remaining.as_mut() {
                *remaining -= 1;
            }
            rule.fired += 1;
            fired.push(Fired { kind: rule.kind, after: rule.after });
            if !matches!(rule.kind, Kind::Delay(_)) {
                break;
            }
        }
        fired
    }

    /// The rules as JSON, for `GET /_sandbox/faults`.
    pub(crate) fn to_json(&self) -> Value {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|rule| {
                let (kind, extra) = match rule.kind {
                    Kind::Status(status) => ("status", json!({ "status": status })),
                    Kind::Delay(d) => ("delay", json!({ "millis": d.as_millis() as u64 })),
                    Kind::Drop => ("drop", json!({})),
                    Kind::RateLimited => ("rate_limited", json!({})),
                    Kind::ExpireToken => ("expire_token", json!({})),
                    Kind::TooManyRequests(secs) => {
                        ("too_many_requests", json!({ "retry_after": secs }))
                    }
                    Kind::NotJson => ("not_json", json!({})),
                };
                let mut value = json!({
                    "id": rule.id,
                    "kind": kind,
                    "remaining": rule.remaining,
                    "probability": rule.probability,
                    "path_prefix": rule.path_prefix,
                    "after_processing": rule.after,
                    "fired": rule.fired,
                });
                if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), extra) {
                    target.extend(extra);
                }
                value
            })
            .collect();
        json!({ "faults": rules })
    }
}

/// The answer a fault of `kind` gives instead of the real one (a rate limit
/// names the spec's per-chat limit); `None` drops the connection or, for a
/// delay, lets the request carry on.
pub(crate) fn reply(kind: Kind, spec: &feishu_spec::Spec) -> Option<Reply> {
    match kind {
        Kind::Status(status) => Some(Reply::text(status, format!("sandbox fault: HTTP {status}"))),
        Kind::Drop => None,
        Kind::RateLimited => Some(Reply::rate_limited(230020, limits::per_chat(spec), 1)),
        Kind::ExpireToken => Some(Reply::error(
            auth::INVALID_TOKEN,
            "Invalid access token for authorization. Please make a request with token attached.",
        )),
        Kind::TooManyRequests(secs) => Some(
            Reply::text(429, "sandbox fault: too many requests")
                .with_header("retry-after", secs.to_string()),
        ),
        Kind::NotJson => Some(Reply {
            content_type: "text/html; charset=utf-8",
            ..Reply::text(200, "<html><body>sandbox fault: not JSON</body></html>")
        }),
        Kind::Delay(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_run_out() {
        let mut faults = Faults::default();
        faults.add(&json!({"kind": "status", "status": 502, "count": 2})).unwrap();
        let p = "/open-apis/im/v1/messages";
        assert_eq!(faults.draw(p, false), vec![Fired { kind: Kind::Status(502), after: false }]);
        assert_eq!(faults.draw(p, false).len(), 1);
        assert!(faults.draw(p, false).is_empty());
    }

    #[test]
    fn token_requests_need_a_naming_prefix() {
        let mut faults = Faults::default();
        faults.add(&json!({"kind": "drop"})).unwrap();
        assert!(faults.draw("/open-apis/auth/v3/tenant_access_token/internal", true).is_empty());
        faults.clear();
        faults.add(&json!({"kind": "drop", "path_prefix": "/open-apis/auth"})).unwrap();
        assert_eq!(faults.draw("/open-apis/auth/v3/tenant_access_token/internal", true).len(), 1);
        assert!(faults.draw("/open-apis/im/v1/messages", false).is_empty());
    }

    #[test]
    fn delays_stack_before_one_other_fault() {
        let mut faults = Faults::default();
        faults.add(&json!({"kind": "delay", "millis": 5})).unwrap();
        faults.add(&json!({"kind": "rate_limited", "after_processing": true})).unwrap();
        faults.add(&json!({"kind": "drop"})).unwrap();
        let fired = faults.draw("/open-apis/x", false);
        assert_eq!(
            fired,
            vec![
                Fired { kind: Kind::Delay(Duration::from_millis(5)), after: false },
                Fired { kind: Kind::RateLimited, after: true }
            ]
        );
    }

    #[test]
    fn probability_is_reproducible_by_seed() {
        let pattern = |seed: u64| {
            let mut faults = Faults::default();
            faults.add(&json!({"kind": "drop", "probability": 0.5, "seed": seed})).unwrap();
            (0..64).map(|_| faults.draw("/open-apis/x", false).len()).collect::<Vec<_>>()
        };
        assert_eq!(pattern(42), pattern(42));
        let hits: usize = pattern(42).iter().sum();
        assert!((16..48).contains(&hits), "{hits}");
    }

    #[test]
    fn named_draws_need_a_matching_prefix() {
        let mut faults = Faults::default();
        faults.add(&json!({"kind": "not_json"})).unwrap();
        faults.add(&json!({"kind": "too_many_requests", "retry_after": 3, "path_prefix": "/document_portal/v1/document/get_detail?fullPath=/a"})).unwrap();
        assert!(
            faults.draw_named("/api/tools/docment/directory_list").is_empty(),
            "a rule without a prefix stays on /open-apis"
        );
        assert!(
            faults.draw_named("/document_portal/v1/document/get_detail?fullPath=/b").is_empty()
        );
        assert_eq!(
            faults.draw_named("/document_portal/v1/document/get_detail?fullPath=/a/x"),
            vec![Fired { kind: Kind::TooManyRequests(3), after: false }]
        );
        assert_eq!(
            faults.draw("/open-apis/x", false),
            vec![Fired { kind: Kind::NotJson, after: false }]
        );
    }

    #[test]
    fn rejects_bad_rules() {
        let mut faults = Faults::default();
        assert!(faults.add(&json!({"kind": "explode"})).is_err());
        assert!(faults.add(&json!({"kind": "drop", "probability": 2.0})).is_err());
        assert!(faults.add(&json!({"kind": "status", "status": 42})).is_err());
        assert!(faults.add(&json!({"kind": "drop", "bogus": 1})).is_err());
    }
}
