//! Reading the `{code, msg, data}` envelope that wraps every JSON response.

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::response::RawResponse;
use crate::error::{ApiError, Error};
use crate::outcome::Response;

/// A successful (`code` 0) JSON response.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ApiResponse {
    /// HTTP status.
    pub http_status: u16,
    /// The `X-Tt-Logid` response header.
    pub log_id: Option<String>,
    /// The envelope's `data`; `None` when absent or `null`.
    pub data: Option<Value>,
    /// Top-level fields other than `code`, `msg` and `data`: a few endpoints
    /// (the auth ones) answer there instead of in `data`.
    pub extra: Map<String, Value>,
}

impl ApiResponse {
    /// Decodes `data` into `T`. A missing, `null` or `{}` `data` decodes
    /// into `()`, [`Empty`] or any struct whose fields are all optional.
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, Error> {
        decode_data(self.data, self.log_id)
    }

    /// `data` as untyped JSON; `null` when absent.
    pub fn into_value(self) -> Value {
        self.data.unwrap_or(Value::Null)
    }
}

/// The `data` of endpoints that return nothing, usually `{}`.
///
/// Accepts any `data` (or none) when decoding, and serialises as `{}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Empty;

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Empty)
    }
}

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Map::new().serialize(s)
    }
}

fn decode_data<T: DeserializeOwned>(
    data: Option<Value>,
    log_id: Option<String>,
) -> Result<T, Error> {
    let decode_error = |e: serde_json::Error, log_id: Option<String>| Error::Decode {
        message: "`data` does not match the expected type".into(),
        log_id,
        source: Some(e),
    };
    match data {
        // Absent data has no shape: let `()` take it as null and structs
        // (all of whose fields must then be optional) as an empty object.
        None | Some(Value::Null) => T::deserialize(Value::Null)
            .or_else(|_| T::deserialize(Value::Object(Map::new())))
            .map_err(|e| decode_error(e, log_id)),
        // `{}` is how the platform says "nothing": `()` must accept it too.
        Some(Value::Object(map)) if map.is_empty() => T::deserialize(Value::Object(map))
            .or_else(|_| T::deserialize(Value::Null))
            .map_err(|e| decode_error(e, log_id)),
        Some(value) => T::deserialize(value).map_err(|e| decode_error(e, log_id)),
    }
}

/// Interprets a response as a JSON envelope.
pub(crate) fn parse_envelope(raw: RawResponse) -> Result<ApiResponse, Error> {
    let success = (200..300).contains(&raw.status);
    let Some((code, msg, mut map)) = split_envelope(&raw.body) else {
        if success {
            return Err(Error::Decode {
                message: format!(
                    "expected a JSON object with a `code` field, got: {}",
                    body_snippet(&raw.body)
                ),
                log_id: raw.log_id,
                source: None,
            });
        }
        return Err(http_error(&raw));
    };
    if code != 0 {
        return Err(Error::from(ApiError {
            http_status: raw.status,
            code,
            msg,
            log_id: raw.log_id,
            body: Some(Value::Object(map)),
        }));
    }
    if !success {
        // "code 0" on an error status is not a success; keep what we know.
        return Err(http_error(&raw));
    }
    map.remove("code");
    map.remove("msg");
    let data = map.remove("data").filter(|d| !d.is_null());
    Ok(ApiResponse { http_status: raw.status, log_id: raw.log_id, data, extra: map })
}

/// Decodes a successful envelope's `data` straight into `T`.
///
/// The common case (2xx, `code` 0, a `data` that fits `T`) is read in one
/// pass without building a `serde_json::Value` tree first, which cost about
/// a fifth of a call's CPU time. Everything else is read by
/// [`parse_envelope`], which is not generic, and answered as
/// [`ApiResponse::decode`] would. `T` is only ever decoded from bytes: a
/// second decoder (from a `Value`) for every response type made the crate
/// of all operations noticeably slower to build.
pub(crate) fn parse_data<T: DeserializeOwned>(raw: RawResponse) -> Result<Response<T>, Error> {
    #[derive(Deserialize)]
    struct Success<T> {
        code: i64,
        data: Option<T>,
    }
    let fast =
        (200..300).contains(&raw.status).then(|| serde_json::from_slice::<Success<T>>(&raw.body));
    let fast_error = match fast {
        Some(Ok(Success { code: 0, data: Some(data) })) => {
            return Ok(Response::new(data, raw.status, raw.log_id));
        }
        Some(Err(e)) => Some(e),
        _ => None,
    };
    // An error envelope, a non-2xx status or a body that is not an envelope
    // end here, exactly as for `send`.
    let response = parse_envelope(raw)?;
    let decode_error = |e: serde_json::Error| Error::Decode {
        message: "`data` does not match the expected type".into(),
        log_id: response.log_id.clone(),
        source: Some(e),
    };
    // Absent data has no shape: `()` takes it as null and structs (all of
    // whose fields must then be optional) as an empty object; `{}` is how
    // the platform says "nothing", which `()` must accept too.
    let nothing: Option<[&[u8]; 2]> = match &response.data {
        None => Some([b"null", b"{}"]),
        Some(Value::Object(map)) if map.is_empty() => Some([b"{}", b"null"]),
        _ => None,
    };
    match (nothing, fast_error) {
        (Some([first, second]), _) => serde_json::from_slice::<T>(first)
            .or_else(|_| serde_json::from_slice::<T>(second))
            .map_err(decode_error)
            .map(|data| Response::new(data, response.http_status, response.log_id.clone())),
        (None, Some(e)) => Err(decode_error(e)),
        // The fast path read this very body as code 0 with data.
        (None, None) => Err(Error::Decode {
            message: "`data` could not be read".into(),
            log_id: response.log_id.clone(),
            source: None,
        }),
    }
}

/// If `body` is a JSON object with an integer `code`, returns the code, the
/// message and the whole object.
pub(crate) fn split_envelope(body: &[u8]) -> Option<(i64, String, Map<String, Value>)> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let code = map.get("code")?.as_i64()?;
    let msg = map.get("msg").and_then(Value::as_str).unwrap_or_default().to_owned();
    Some((code, msg, map))
}

pub(crate) fn http_error(raw: &RawResponse) -> Error {
    Error::Http { status: raw.status, log_id: raw.log_id.clone(), body: body_snippet(&raw.body) }
}

/// The start of a body as text, short enough for an error message.
fn body_snippet(body: &[u8]) -> String {
    const MAX: usize = 512;
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;
    use serde_json::json;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            log_id: Some("L".into()),
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
            stream: None,
        }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct AllOptional {
        page_token: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Required {
        message_id: String,
    }

    #[test]
    fn empty_and_missing_data_decode_into_unit_like_types() {
        for body in
            [r#"{"code":0,"msg":"ok"}"#, r#"{"code":0,"data":null}"#, r#"{"code":0,"data":{}}"#]
        {
            let resp = || parse_envelope(raw(200, body)).unwrap();
            resp().decode::<()>().unwrap();
            assert_eq!(resp().decode::<Empty>().unwrap(), Empty);
            assert_eq!(resp().decode::<AllOptional>().unwrap(), AllOptional { page_token: None });
            let err = resp().decode::<Required>().unwrap_err();
            assert!(matches!(&err, Error::Decode { log_id: Some(l), .. } if l == "L"), "{err:?}");
        }
    }

    /// The same value or error; decode errors may word the serde message
    /// differently (a position in the body rather than in `data`).
    fn same<T: std::fmt::Debug>(fast: Result<T, Error>, general: Result<T, Error>, body: &str) {
        match (&fast, &general) {
            (
                Err(Error::Decode { message: a, log_id: la, source: sa }),
                Err(Error::Decode { message: b, log_id: lb, source: sb }),
            ) => {
                assert_eq!(a, b);
                assert_eq!(la, lb);
                assert_eq!(sa.is_some(), sb.is_some(), "{body}");
            }
            _ => assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{body}"),
        }
    }

    fn data<T: DeserializeOwned>(raw: RawResponse) -> Result<T, Error> {
        parse_data(raw).map(Response::into_inner)
    }

    #[test]
    fn the_one_pass_decode_agrees_with_the_general_one() {
        let bodies = [
            (200, r#"{"code":0,"msg":"ok","data":{"message_id":"om_1"}}"#),
            (200, r#"{"data":{"message_id":"om_1"},"msg":"ok","code":0}"#),
            (200, r#"{"code":0,"msg":"ok","data":{}}"#),
            (200, r#"{"code":0,"msg":"ok","data":null}"#),
            (200, r#"{"code":0,"msg":"ok"}"#),
            (200, r#"{"code":0,"msg":"ok","data":{"message_id":7}}"#),
            (200, r#"{"code":0,"msg":"ok","data":[1]}"#),
            (200, r#"{"code":230011,"msg":"recalled","data":{"message_id":"om_1"}}"#),
            (400, r#"{"code":0,"msg":"ok","data":{"message_id":"om_1"}}"#),
            (502, "<html>bad gateway</html>"),
            (200, "not json"),
        ];
        for (status, body) in bodies {
            let general = || parse_envelope(raw(status, body));
            same(
                data(raw(status, body)),
                general().and_then(ApiResponse::decode::<Required>),
                body,
            );
            same(
                data(raw(status, body)),
                general().and_then(ApiResponse::decode::<AllOptional>),
                body,
            );
            same(data(raw(status, body)), general().and_then(ApiResponse::decode::<()>), body);
        }
        let ok =
            parse_data::<Required>(raw(200, r#"{"code":0,"data":{"message_id":"om_1"}}"#)).unwrap();
        assert_eq!((ok.log_id(), ok.http_status()), (Some("L"), 200));
        assert_eq!(ok.into_inner(), Required { message_id: "om_1".into() });
        let empty = parse_data::<AllOptional>(raw(200, r#"{"code":0,"data":{}}"#)).unwrap();
        assert_eq!(empty.log_id(), Some("L"));
        assert!(matches!(
            parse_data::<Required>(raw(200, r#"{"code":0,"data":{"message_id":7}}"#)),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn extra_top_level_fields_are_kept() {
        let r = parse_envelope(raw(200, r#"{"code":0,"msg":"ok","expire":7200}"#)).unwrap();
        assert_eq!(r.extra.get("expire"), Some(&json!(7200)));
        assert_eq!(r.data, None);
    }

    #[test]
    fn snippet_is_bounded() {
        let long = "é".repeat(2000);
        let s = body_snippet(long.as_bytes());
        assert_eq!(s.chars().count(), 513);
    }

    #[test]
    fn empty_serialises_as_object() {
        assert_eq!(serde_json::to_string(&Empty).unwrap(), "{}");
    }
}
