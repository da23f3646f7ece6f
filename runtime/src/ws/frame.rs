//! The long connection's wire format: the protobuf `Frame` (proto2, as the
//! official SDKs' `pbbp2.proto`), its header keys, and the ack payload.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

/// `method` of control frames (ping, pong).
pub const METHOD_CONTROL: i32 = 0;
/// `method` of data frames (events, card callbacks, their acks).
pub const METHOD_DATA: i32 = 1;

/// Header key: the frame's kind, one of the `TYPE_*` values.
pub const HEADER_TYPE: &str = "type";
/// Header key: the id shared by the fragments of one message.
pub const HEADER_MESSAGE_ID: &str = "message_id";
/// Header key: how many fragments the message has.
pub const HEADER_SUM: &str = "sum";
/// Header key: this fragment's index, from 0.
pub const HEADER_SEQ: &str = "seq";
/// Header key: the platform's trace id.
pub const HEADER_TRACE_ID: &str = "trace_id";
/// Header key: when the platform sent the frame.
pub const HEADER_TIMESTAMP: &str = "timestamp";
/// Header key of acks: how long the handler took, in milliseconds.
pub const HEADER_BIZ_RT: &str = "biz_rt";

/// `type` of an event frame.
pub const TYPE_EVENT: &str = "event";
/// `type` of a card callback frame.
pub const TYPE_CARD: &str = "card";
/// `type` of the client's keep-alive.
pub const TYPE_PING: &str = "ping";
/// `type` of the platform's answer to a ping.
pub const TYPE_PONG: &str = "pong";

/// A frame header.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Header {
    /// The key.
    #[prost(string, required, tag = "1")]
    pub key: String,
    /// The value.
    #[prost(string, required, tag = "2")]
    pub value: String,
}

/// One binary WebSocket message.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Frame {
    /// `SeqID`.
    #[prost(uint64, required, tag = "1")]
    pub seq_id: u64,
    /// `LogID`.
    #[prost(uint64, required, tag = "2")]
    pub log_id: u64,
    /// The `service_id` from the connection URL.
    #[prost(int32, required, tag = "3")]
    pub service: i32,
    /// [`METHOD_CONTROL`] or [`METHOD_DATA`].
    #[prost(int32, required, tag = "4")]
    pub method: i32,
    /// The headers, in order.
    #[prost(message, repeated, tag = "5")]
    pub headers: Vec<Header>,
    /// Unused by the platform so far.
    #[prost(string, optional, tag = "6")]
    pub payload_encoding: Option<String>,
    /// Unused by the platform so far.
    #[prost(string, optional, tag = "7")]
    pub payload_type: Option<String>,
    /// The body: event JSON (or a fragment of it), a ClientConfig, an ack.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub payload: Option<Vec<u8>>,
    /// `LogIDNew`.
    #[prost(string, optional, tag = "9")]
    pub log_id_new: Option<String>,
}

impl Frame {
    /// The first header named `key`.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.key == key).map(|h| h.value.as_str())
    }

    /// Sets header `key`, replacing an existing one.
    pub fn set_header(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.headers.iter_mut().find(|h| h.key == key) {
            Some(header) => header.value = value,
            None => self.headers.push(Header { key: key.to_owned(), value }),
        }
    }

    /// A ping for `service`.
    pub fn ping(service: i32) -> Self {
        Frame {
            method: METHOD_CONTROL,
            service,
            headers: vec![Header { key: HEADER_TYPE.to_owned(), value: TYPE_PING.to_owned() }],
            ..Frame::default()
        }
    }
}

/// The JSON payload of an ack: `{"code": 200|500, "headers": {}, "data": base64?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckPayload {
    /// 200 when handled (or nothing to do), 500 when the handler failed.
    pub code: u16,
    /// Unused so far; always sent, as the SDKs do.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The base64 of a callback's JSON answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl AckPayload {
    /// An ack with `code`, carrying `response` (a callback's answer) if any.
    pub fn new(code: u16, response: Option<&serde_json::Value>) -> Self {
        Self {
            code,
            headers: BTreeMap::new(),
            data: response.map(|r| BASE64.encode(r.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn required_fields_are_always_encoded() {
        // proto2 peers refuse a frame lacking a required field, even a zero one.
        let bytes = Frame::default().encode_to_vec();
        assert_eq!(bytes, [0x08, 0, 0x10, 0, 0x18, 0, 0x20, 0]);
        assert_eq!(Frame::decode(&bytes[..]).unwrap(), Frame::default());
    }

    #[test]
    fn headers_are_set_and_read() {
        let mut frame = Frame::ping(7);
        assert_eq!(frame.header(HEADER_TYPE), Some(TYPE_PING));
        frame.set_header(HEADER_BIZ_RT, "3");
        frame.set_header(HEADER_BIZ_RT, "4");
        assert_eq!(frame.header(HEADER_BIZ_RT), Some("4"));
        assert_eq!(frame.headers.len(), 2);
        let round = Frame::decode(&frame.encode_to_vec()[..]).unwrap();
        assert_eq!(round, frame);
    }

    #[test]
    fn ack_payload_shape() {
        let ack = AckPayload::new(200, Some(&serde_json::json!({"toast": {"type": "info"}})));
        let text = serde_json::to_string(&ack).unwrap();
        assert_eq!(
            text,
            r#"{"code":200,"headers":{},"data":"eyJ0b2FzdCI6eyJ0eXBlIjoiaW5mbyJ9fQ=="}"#
        );
        assert_eq!(
            serde_json::to_string(&AckPayload::new(500, None)).unwrap(),
            r#"{"code":500,"headers":{}}"#
        );
    }
}
