//! The long connection's protobuf `Frame` (proto2, as the official SDKs'
//! `pbbp2.proto`), defined here again on purpose: the sandbox is an
//! independent oracle and must not share the runtime's definition, or a
//! mistake in it would go unnoticed on both sides.

/// A frame header.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub(crate) struct Header {
    #[prost(string, required, tag = "1")]
    pub key: String,
    #[prost(string, required, tag = "2")]
    pub value: String,
}

/// One binary WebSocket message.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub(crate) struct Frame {
    #[prost(uint64, required, tag = "1")]
    pub seq_id: u64,
    #[prost(uint64, required, tag = "2")]
    pub log_id: u64,
    #[prost(int32, required, tag = "3")]
    pub service: i32,
    #[prost(int32, required, tag = "4")]
    pub method: i32,
    #[prost(message, repeated, tag = "5")]
    pub headers: Vec<Header>,
    #[prost(string, optional, tag = "6")]
    pub payload_encoding: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub payload_type: Option<String>,
    #[prost(bytes = "vec", optional, tag = "8")]
    pub payload: Option<Vec<u8>>,
    #[prost(string, optional, tag = "9")]
    pub log_id_new: Option<String>,
}

/// Control frames: ping, pong.
pub(crate) const METHOD_CONTROL: i32 = 0;
/// Data frames: events, card callbacks, acks.
pub(crate) const METHOD_DATA: i32 = 1;

impl Frame {
    pub(crate) fn header(&self, key: &str) -> Option<&str> {
        self.headers.iter().find(|h| h.key == key).map(|h| h.value.as_str())
    }

    pub(crate) fn with_header(mut self, key: &str, value: impl Into<String>) -> Self {
        self.headers.push(Header { key: key.to_string(), value: value.into() });
        self
    }
}
