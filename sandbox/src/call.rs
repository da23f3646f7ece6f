//! [`Call`]: a request that reached an endpoint's handler, with its path
//! parameters, query and JSON body decoded, and the tenant its token opens.

use feishu_spec::Endpoint;
use serde_json::Value;

/// A request that reached a handler: the endpoint, its decoded parameters and the parsed body.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub endpoint: &'a Endpoint,
    pub path_params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// The tenant whose data the call's token opens.
    pub tenant_key: String,
    /// The instant its rate limits count it at.
    pub at: std::time::Instant,
}

impl Call<'_> {
    /// A path parameter, or "".
    pub(crate) fn path_param(&self, name: &str) -> &str {
        self.path_params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The first value of a query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A body field.
    pub(crate) fn field(&self, name: &str) -> Option<&Value> {
        self.body.as_ref().and_then(|b| b.get(name)).filter(|v| !v.is_null())
    }

    /// A string body field.
    pub(crate) fn str_field(&self, name: &str) -> Option<&str> {
        self.field(name).and_then(Value::as_str)
    }
}

/// A query string as `(name, value)` pairs, decoded (`+` is a space), in order.
pub(crate) fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(
            parse_query(Some("a=1&b=x%20y+z&c&=&d=%zz&e=%E4%BD%A0")),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into()),
                ("".into(), "".into()),
                ("d".into(), "%zz".into()),
                ("e".into(), "你".into())
            ]
        );
        assert!(parse_query(None).is_empty());
    }
}
