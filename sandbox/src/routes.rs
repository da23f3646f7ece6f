//! The route table: which endpoint of the spec serves a method and path, and
//! its path parameters, percent-decoded. It knows the spec only; the server
//! asks it, and it owns no state but the table.

use feishu_spec::{Endpoint, Method, PathTemplate, Spec};

/// The routes of a spec's endpoints (by index), most specific first.
#[derive(Debug)]
pub(crate) struct Routes {
    routes: Vec<Route>,
}

#[derive(Debug)]
struct Route {
    endpoint: usize,
    template: PathTemplate,
    params: usize,
}

impl Routes {
    /// The routes of `spec`'s endpoints.
    pub(crate) fn new(spec: &Spec) -> Self {
        let mut routes: Vec<Route> = spec
            .endpoints
            .iter()
            .enumerate()
            .map(|(endpoint, spec)| {
                let template = spec.template();
                let params = template.params().len();
                Route { endpoint, template, params }
            })
            .collect();
        // Most specific first: fewer parameters win, then the order of the spec.
        routes.sort_by_key(|r| r.params);
        Routes { routes }
    }

    /// The endpoint of `spec` (the one the table was made from) serving
    /// `method path`, with the path parameters.
    pub(crate) fn find<'s>(
        &self,
        spec: &'s Spec,
        method: Method,
        path: &str,
    ) -> Option<(&'s Endpoint, Vec<(String, String)>)> {
        self.routes.iter().find_map(|route| {
            let endpoint = &spec.endpoints[route.endpoint];
            if endpoint.method != method {
                return None;
            }
            let params = route.template.matches(path)?;
            let decoded = params
                .into_iter()
                .map(|(name, value)| {
                    let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                    (name.to_owned(), value.into_owned())
                })
                .collect();
            Some((endpoint, decoded))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_prefer_literal_segments() {
        let endpoint = |id: &str, method: Method, path: &str| Endpoint {
            id: id.into(),
            method,
            path: path.into(),
            ..Endpoint::default()
        };
        let spec = Spec {
            endpoints: vec![
                endpoint("get", Method::Get, "/open-apis/im/v1/messages/:message_id"),
                endpoint("merge", Method::Post, "/open-apis/im/v1/messages/merge_forward"),
                endpoint("reply", Method::Post, "/open-apis/im/v1/messages/:message_id/reply"),
                endpoint("forward", Method::Post, "/open-apis/im/v1/messages/:message_id"),
                endpoint("batch", Method::Post, "/open-apis/message/v4/batch_send/"),
            ],
            events: vec![],
        };
        let routes = Routes::new(&spec);
        let id = |m, p| routes.find(&spec, m, p).map(|(e, params)| (e.id.clone(), params));
        assert_eq!(id(Method::Post, "/open-apis/im/v1/messages/merge_forward").unwrap().0, "merge");
        assert_eq!(
            id(Method::Post, "/open-apis/im/v1/messages/om_1").unwrap(),
            ("forward".into(), vec![("message_id".into(), "om_1".into())])
        );
        assert_eq!(
            id(Method::Get, "/open-apis/im/v1/messages/om%5F1").unwrap().1,
            vec![("message_id".into(), "om_1".into())]
        );
        // A `+` in a path is a plus, not a space; a bad escape stays as it is.
        assert_eq!(
            id(Method::Get, "/open-apis/im/v1/messages/a+b%2").unwrap().1,
            vec![("message_id".into(), "a+b%2".into())]
        );
        assert_eq!(id(Method::Post, "/open-apis/im/v1/messages/om_1/reply").unwrap().0, "reply");
        assert_eq!(id(Method::Post, "/open-apis/message/v4/batch_send").unwrap().0, "batch");
        assert!(id(Method::Delete, "/open-apis/im/v1/messages/om_1").is_none());
        assert!(id(Method::Get, "/open-apis/im/v1/nothing").is_none());
    }
}
