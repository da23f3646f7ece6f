//! Naming endpoints and events: their `service`, `version`, `resource`,
//! `name` and `id`, from the doc page's URL or else from the path.
//!
//! These names become spec ids (`im.v1.message.reply`), which are a contract.
//! [`snake`] converts case with heck, as the model's `names::snake` does, but
//! without the model's Rust rules (keyword suffix, digit prefix): the model
//! may rename Rust items freely, ids must not move (the tests below pin them).

use std::collections::BTreeMap;

use feishu_spec::{PathTemplate, Segment, Spec};
use heck::ToSnakeCase;

/// The names of an endpoint, e.g. `im`, `v1`, `message_reaction`, `create`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// The service, e.g. `im`.
    pub service: String,
    /// The API version, e.g. `v1`.
    pub version: String,
    /// The resource, snake_case, e.g. `message_reaction`.
    pub resource: String,
    /// The operation, snake_case, e.g. `create`.
    pub name: String,
}

/// Gives every endpoint its `service`, `version`, `resource`, `name` and a
/// unique `id`, and every event its `service` and `resource`.
pub(crate) fn name_all(spec: &mut Spec) {
    for ep in &mut spec.endpoints {
        let Names { service, version, resource, name } = ep
            .doc_url
            .as_deref()
            .and_then(names_from_doc_url)
            .filter(|n| !n.resource.is_empty() && !n.name.is_empty())
            .unwrap_or_else(|| names_from_path(ep.method, &ep.path));
        ep.service = service;
        ep.version = version;
        ep.resource = resource;
        ep.name = name;
        ep.id = format!("{}.{}.{}.{}", ep.service, ep.version, ep.resource, ep.name);
    }
    // Two endpoints can claim one name (doc pages named `get` and `get-2` for
    // two versions, or no page at all): later ones in path order get a suffix.
    spec.endpoints
        .sort_by(|a, b| a.id.cmp(&b.id).then(a.path.cmp(&b.path)).then(a.method.cmp(&b.method)));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for ep in &mut spec.endpoints {
        let n = seen.entry(ep.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            ep.name = format!("{}_{}", ep.name, n);
            ep.id = format!("{}.{}.{}.{}", ep.service, ep.version, ep.resource, ep.name);
        }
    }
    for event in &mut spec.events {
        let mut parts = event.event_type.split('.');
        event.service = parts.next().unwrap_or_default().to_string();
        let from_url = event.doc_url.as_deref().and_then(names_from_doc_url).map(|n| n.resource);
        event.resource = from_url
            .filter(|r| !r.is_empty() && r != "events")
            .unwrap_or_else(|| snake(parts.next().unwrap_or_default()));
    }
}

/// `…/im-v1/message-reaction/create` → (`im`, `v1`, `message_reaction`, `create`).
/// Event pages (`…/message/events/receive`) name the resource before `events`.
pub fn names_from_doc_url(url: &str) -> Option<Names> {
    let path = url.split(['?', '#']).next()?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let at = segments.iter().rposition(|s| service_version(s).is_some())?;
    let (service, version) = service_version(segments[at])?;
    let rest: Vec<&str> = segments[at + 1..].iter().copied().filter(|s| *s != "events").collect();
    let (name, resource) = match rest.split_last() {
        Some((name, resource)) => {
            (snake(name), resource.iter().map(|s| snake(s)).collect::<Vec<_>>().join("_"))
        }
        None => return None,
    };
    Some(Names {
        service,
        version,
        resource: if resource.is_empty() { name.clone() } else { resource },
        name,
    })
}

/// `im-v1` → (`im`, `v1`); `corehr-v2` → (`corehr`, `v2`).
fn service_version(segment: &str) -> Option<(String, String)> {
    let (service, version) = segment.rsplit_once("-v")?;
    (!service.is_empty()
        && !version.is_empty()
        && version.chars().all(|c| c.is_ascii_digit())
        && service.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then(|| (snake(service), format!("v{version}")))
}

/// Names from the path when no doc URL gives them:
/// `POST /open-apis/im/v1/messages/:message_id/reactions` → (`im`, `v1`, `messages`, `reactions`).
pub fn names_from_path(method: feishu_spec::Method, path: &str) -> Names {
    let template = PathTemplate::parse(path);
    // Parameters keep their place (for finding the version) but name nothing.
    let segments: Vec<&str> = template
        .segments()
        .iter()
        .map(|s| match s {
            Segment::Literal(text) => text.as_str(),
            Segment::Param(_) => ":",
        })
        .filter(|s| !s.is_empty() && *s != "open-apis")
        .collect();
    let version_at = segments.iter().position(|s| {
        s.len() >= 2 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit())
    });
    let (service, version, rest) = match version_at {
        Some(i) if i > 0 => {
            (snake(segments[..i].join("_").as_str()), segments[i].to_string(), &segments[i + 1..])
        }
        _ => (
            segments.first().map(|s| snake(s)).unwrap_or_else(|| "misc".into()),
            "v1".to_string(),
            segments.get(1..).unwrap_or(&[]),
        ),
    };
    let words: Vec<String> = rest.iter().filter(|s| **s != ":").map(|s| snake(s)).collect();
    // `/card/update` is resource `card`, operation `update`; a lone word
    // (`/ephemeral/v1/send`) is an operation on the service itself; a bare
    // collection is named by its method.
    let (resource, name) = match words.as_slice() {
        [] => (service.clone(), method.as_str().to_ascii_lowercase()),
        [one] => (service.clone(), one.clone()),
        [first, rest @ ..] => (first.clone(), rest.join("_")),
    };
    Names { service, version, resource, name }
}

/// Lowercase snake_case of a URL segment, by heck as the model's names are:
/// characters outside ASCII letters and digits separate words.
pub fn snake(segment: &str) -> String {
    let words: String =
        segment.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    words.to_snake_case()
}

#[cfg(test)]
mod tests {
    use feishu_spec::Method;

    use super::*;

    #[test]
    fn names_from_urls_and_paths() {
        assert_eq!(
            names_from_doc_url(
                "https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message-reaction/create"
            ),
            Some(Names {
                service: "im".into(),
                version: "v1".into(),
                resource: "message_reaction".into(),
                name: "create".into()
            })
        );
        assert_eq!(
            names_from_doc_url(
                "https://open.feishu.cn/document/server-docs/im-v1/message/events/receive"
            )
            .map(|n| n.resource),
            Some("message".into())
        );
        assert_eq!(
            names_from_doc_url("https://open.feishu.cn/document/ukTMukTMukTM/ucDO1EjL3gTNx4yN4UTM"),
            None
        );
        assert_eq!(
            names_from_path(Method::Post, "/open-apis/message/v4/batch_send/"),
            Names {
                service: "message".into(),
                version: "v4".into(),
                resource: "message".into(),
                name: "batch_send".into()
            }
        );
        assert_eq!(
            names_from_path(Method::Post, "/open-apis/interactive/v1/card/update").resource,
            "card"
        );
        assert_eq!(
            names_from_path(Method::Post, "/open-apis/im/v1/messages/:message_id/reactions").name,
            "reactions"
        );
        assert_eq!(names_from_path(Method::Get, "/open-apis/x/v1").name, "get");
        assert_eq!(snake("get-2"), "get_2");
        assert_eq!(snake("batchGet"), "batch_get");
        assert_eq!(snake("message-reaction"), "message_reaction");
        assert_eq!(snake("名称"), "");
    }
}
