//! One connection's life: bootstrap and handshake, then the loop that pings,
//! watches liveness, joins fragments, runs handlers and sends their acks,
//! until the socket is lost or the client shuts down.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::clock::after;

use super::bootstrap::{
    self, HANDSHAKE_AUTH_ERRCODE, HANDSHAKE_MSG, HANDSHAKE_STATUS, ServerSettings, SocketUrl,
};
use super::error::WsError;
use super::fragments::Reassembly;
use super::frame::{
    AckPayload, Frame, HEADER_BIZ_RT, HEADER_MESSAGE_ID, HEADER_SEQ, HEADER_SUM, HEADER_TYPE,
    METHOD_CONTROL, METHOD_DATA, TYPE_CARD, TYPE_EVENT, TYPE_PONG,
};
use super::settings::{MAX_MESSAGE_BYTES, Settings};
use crate::client::Client;
use crate::events::{Channel, Dispatcher, Outcome, parse_event};

/// The socket: the WebSocket over the client's transport (its proxy and TLS).
pub(crate) type Socket = WebSocketStream<crate::transport::Stream>;

/// Why [`run`] returned.
pub(crate) enum End {
    /// The client is shutting down; the socket is closed.
    Shutdown,
    /// The socket is gone or dead; reconnect. The reason, and the socket's
    /// error when one ended it.
    Lost(String, Option<tokio_tungstenite::tungstenite::Error>),
}

/// The socket failed while `doing`.
fn failed(doing: &str, error: tokio_tungstenite::tungstenite::Error) -> End {
    End::Lost(format!("{doing} failed"), Some(error))
}

/// Bootstrap and handshake, both through `client`'s transport and within
/// its timeout each; `None` when stopped meanwhile.
pub(crate) async fn connect(
    client: &Client,
    stop: &mut watch::Receiver<bool>,
) -> Option<Result<(Socket, SocketUrl), WsError>> {
    let attempt = async {
        let endpoint = bootstrap::fetch(client).await?;
        let host = endpoint.host();
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| WsError::Connect {
            host: host.clone(),
            source,
        };
        let uri =
            endpoint.connect_uri().ok_or_else(|| failed("the socket URL has no host".into()))?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let timeout = client.config().timeout;
        let handshake = async {
            let stream = client.http().open_stream(uri).await.map_err(failed)?;
            tokio_tungstenite::client_async_with_config(endpoint.expose_url(), stream, Some(config))
                .await
                .map_err(|error| match error {
                    tokio_tungstenite::tungstenite::Error::Http(response) => {
                        let header = |name: &str| {
                            response
                                .headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        };
                        WsError::Handshake {
                            host: host.clone(),
                            http_status: response.status().as_u16(),
                            status: header(HANDSHAKE_STATUS).and_then(|s| s.trim().parse().ok()),
                            auth_code: header(HANDSHAKE_AUTH_ERRCODE)
                                .and_then(|s| s.trim().parse().ok()),
                            msg: header(HANDSHAKE_MSG).unwrap_or_default(),
                        }
                    }
                    // tungstenite's errors name no URL, so nothing secret leaks here.
                    error => failed(Box::new(error)),
                })
        };
        match tokio::time::timeout(timeout, handshake).await {
            Err(_) => Err(failed(format!("no handshake within {timeout:?}").into())),
            Ok(Err(error)) => Err(error),
            Ok(Ok((socket, _))) => Ok((socket, endpoint)),
        }
    };
    tokio::select! {
        result = attempt => Some(result),
        _ = stopped(stop) => None,
    }
}

/// A client's handler tasks, across its connections (their events must
/// not be half handled because a socket died), and the permits that cap
/// how many run at once.
pub(crate) struct Handlers {
    pub(crate) tasks: JoinSet<()>,
    pub(crate) permits: Arc<Semaphore>,
}

/// How long a closing client keeps reading after its Close frame, waiting
/// for the peer to close too.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Receives on `socket` until it is lost or `stop` turns true.
///
/// **The handler cap.** A frame is read only while a permit of `permits`
/// (one per handler, [`LongConnectionBuilder::max_handlers`](super::LongConnectionBuilder::max_handlers))
/// is held; an event's handler takes the permit with it and gives it back
/// when its ack is queued. At the cap the loop stops reading the socket
/// altogether: frames come in order, so control frames behind a data frame
/// cannot be read without reading (and holding) that data frame, and the
/// platform slows down through TCP. Meanwhile pings still go out, acks are
/// still sent and handlers joined; the liveness clock is paused (unread
/// frames cannot be told from silence) and starts again when reading
/// resumes, so a long stall at the cap is not taken for a dead socket.
pub(crate) async fn run(
    socket: Socket,
    endpoint: &SocketUrl,
    settings: &Settings,
    dispatcher: &Dispatcher,
    server: &mut ServerSettings,
    running: &mut Handlers,
    stop: &mut watch::Receiver<bool>,
) -> End {
    let Handlers { tasks: handlers, .. } = running;
    let (mut sink, mut stream) = socket.split();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Frame>();
    let mut reassembly = Reassembly::new(settings.fragment_timeout);
    let mut ping_every = settings.ping_interval(server);
    let mut next_ping = Instant::now();
    let mut last_seen = Instant::now();
    let mut permit: Option<OwnedSemaphorePermit> = None;
    // The stop signal and both timers live across iterations: made anew in
    // every turn of the loop (one turn per frame read or batch of acks
    // sent), each timer was registered with the runtime's timer wheel and
    // cleared again per event. The liveness timer is lazy: reading a frame
    // only moves `last_seen`, and when the timer fires it checks the real
    // deadline and, if that is later, waits again.
    let stop_signal = stopped(stop);
    let ping = tokio::time::sleep_until(next_ping);
    let liveness_timer =
        tokio::time::sleep_until(after(last_seen, settings.liveness_timeout(ping_every)));
    tokio::pin!(stop_signal, ping, liveness_timer);
    loop {
        tokio::select! {
            () = &mut stop_signal => break,
            acquired = Arc::clone(&running.permits).acquire_owned(), if permit.is_none() => {
                // The semaphore is never closed.
                permit = acquired.ok();
                // A permit is wanted only after a data frame was read (then
                // `last_seen` was now): this adds the time at the cap.
                last_seen = Instant::now();
            }
            () = &mut ping => {
                next_ping = after(Instant::now(), ping_every);
                ping.as_mut().reset(next_ping);
                if let Err(error) = sink.send(Message::Binary(Frame::ping(endpoint.service_id).encode_to_vec().into())).await {
                    return failed("sending a ping", error);
                }
            }
            () = &mut liveness_timer, if permit.is_some() => {
                let liveness = settings.liveness_timeout(ping_every);
                let deadline = after(last_seen, liveness);
                if deadline > Instant::now() {
                    liveness_timer.as_mut().reset(deadline);
                } else {
                    return End::Lost(format!("no frame for {liveness:?}: the connection is dead"), None);
                }
            }
            Some(ack) = ack_rx.recv() => {
                // Every ack that is ready goes out with one flush: handlers
                // of a burst of events finish together, and a write per ack
                // was most of the client's CPU per event.
                let mut sent = sink.feed(Message::Binary(ack.encode_to_vec().into())).await;
                while sent.is_ok() && let Ok(ack) = ack_rx.try_recv() {
                    sent = sink.feed(Message::Binary(ack.encode_to_vec().into())).await;
                }
                let flushed = match sent {
                    Ok(()) => sink.flush().await,
                    Err(error) => Err(error),
                };
                if let Err(error) = flushed {
                    return failed("sending an ack", error);
                }
            }
            Some(_) = handlers.join_next(), if !handlers.is_empty() => {}
            message = stream.next(), if permit.is_some() => {
                last_seen = Instant::now();
                match message {
                    None => return End::Lost("the platform closed the connection".to_owned(), None),
                    Some(Err(error)) => return failed("reading", error),
                    Some(Ok(Message::Close(frame))) => return End::Lost(format!("the platform closed the connection: {frame:?}"), None),
                    Some(Ok(Message::Binary(bytes))) => {
                        let Ok(frame) = Frame::decode(&bytes[..]) else {
                            tracing::warn!(len = bytes.len(), "a binary message that is not a Frame was dropped");
                            continue;
                        };
                        if let Some(config) = on_frame(frame, &mut reassembly, dispatcher, &ack_tx, handlers, &mut permit) {
                            *server = config;
                            let previous = ping_every;
                            ping_every = settings.ping_interval(server);
                            if ping_every != previous {
                                // Applies at once: the next ping is due by the new interval,
                                // and the liveness deadline follows it.
                                next_ping = next_ping.min(after(Instant::now(), ping_every));
                                ping.as_mut().reset(next_ping);
                                liveness_timer.as_mut().reset(after(last_seen, settings.liveness_timeout(ping_every)));
                                tracing::debug!(?ping_every, "the platform changed the ping interval");
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                }
            }
        }
    }
    // Graceful: read no more, let handlers finish and send their acks, close.
    let deadline = after(Instant::now(), settings.shutdown_grace);
    while !handlers.is_empty() {
        tokio::select! {
            _ = handlers.join_next() => {}
            Some(ack) = ack_rx.recv() => {
                let _ = sink.send(Message::Binary(ack.encode_to_vec().into())).await;
            }
            _ = tokio::time::sleep_until(deadline) => {
                tracing::warn!(running = handlers.len(), "handlers still running after the shutdown grace were abandoned");
                handlers.abort_all();
                break;
            }
        }
    }
    while let Ok(ack) = ack_rx.try_recv() {
        let _ = sink.send(Message::Binary(ack.encode_to_vec().into())).await;
    }
    let _ = sink.send(Message::Close(None)).await;
    let _ = sink.close().await;
    // Read on until the peer closes too: a socket dropped with unread bytes
    // in its buffer is reset, not closed, and a reset makes the peer's
    // kernel discard what it has not read yet, our last acks included.
    // Frames read now are dropped unacked: the platform pushes them again.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
    End::Shutdown
}

/// Waits for handlers left from lost connections (their acks have nowhere
/// to go, but their work should not be cut short), for up to `grace`.
pub(crate) async fn drain(handlers: &mut JoinSet<()>, grace: Duration) {
    if handlers.is_empty() {
        return;
    }
    let all = async { while handlers.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!(
            running = handlers.len(),
            "handlers still running after the shutdown grace were abandoned"
        );
        handlers.abort_all();
    }
}

/// Handles one frame; returns a new ServerSettings when a pong carried one.
/// A whole event's handler takes `permit` (see [`run`]); without one the
/// event is dropped unacked, which [`run`] never lets happen.
fn on_frame(
    mut frame: Frame,
    reassembly: &mut Reassembly,
    dispatcher: &Dispatcher,
    acks: &mpsc::UnboundedSender<Frame>,
    handlers: &mut JoinSet<()>,
    permit: &mut Option<OwnedSemaphorePermit>,
) -> Option<ServerSettings> {
    let kind = frame.header(HEADER_TYPE).unwrap_or_default().to_owned();
    match (frame.method, kind.as_str()) {
        (METHOD_CONTROL, TYPE_PONG) => {
            let payload = frame.payload.as_deref().filter(|p| !p.is_empty())?;
            match serde_json::from_slice::<ServerSettings>(payload) {
                Ok(config) => Some(config),
                Err(error) => {
                    tracing::debug!(%error, "a pong whose payload is not a ServerSettings");
                    None
                }
            }
        }
        (METHOD_DATA, TYPE_EVENT | TYPE_CARD) => {
            let payload = frame.payload.take().unwrap_or_default();
            let message_id = frame.header(HEADER_MESSAGE_ID).unwrap_or_default().to_owned();
            let pushed = reassembly.push(
                &message_id,
                frame.header(HEADER_SUM),
                frame.header(HEADER_SEQ),
                payload,
                std::time::Instant::now(),
            );
            match pushed {
                Ok(Some(whole)) => match permit.take() {
                    Some(permit) => {
                        let dispatcher = dispatcher.clone();
                        let acks = acks.clone();
                        run_or_spawn(
                            Box::pin(handle(frame, whole, dispatcher, acks, permit)),
                            handlers,
                        );
                    }
                    None => {
                        tracing::error!(%message_id, "an event read without a handler permit was dropped")
                    }
                },
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, %message_id, "a malformed fragment was dropped")
                }
            }
            None
        }
        (method, kind) => {
            tracing::debug!(method, kind, "a frame of no known kind was ignored");
            None
        }
    }
}

/// Takes the handler's first step here, on the connection's task, and
/// spawns the rest only if it has to wait for something.
///
/// A handler that finishes at once (one that queues the event for later
/// work and returns, as a bot that must ack within 3 s often does) then
/// costs no task, and its ack no wake-up of another thread: spawning was
/// about an eighth of the client's CPU per event. The dispatcher turns a
/// handler's panic into a failure (ack 500); a panic here is then one of
/// this module's own, caught so that the connection lives on and the event
/// is left unacked (the platform pushes it again), as in a spawned task.
fn run_or_spawn(
    mut task: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    handlers: &mut JoinSet<()>,
) {
    // A handler still waiting is polled again once spawned, with the task's
    // waker: the no-op one used here is never the only one it was given.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.as_mut().poll(&mut cx))) {
        Ok(std::task::Poll::Ready(())) => {}
        Ok(std::task::Poll::Pending) => {
            handlers.spawn(task);
        }
        Err(_) => tracing::error!(
            "handling an event panicked; the event is not acked, so the platform pushes it again"
        ),
    }
}

/// Runs the event's handler and queues its ack: `frame` (the last fragment)
/// with `biz_rt` and the JSON ack payload.
/// `_permit` is given back when it returns.
async fn handle(
    mut frame: Frame,
    payload: Vec<u8>,
    dispatcher: Dispatcher,
    acks: mpsc::UnboundedSender<Frame>,
    _permit: OwnedSemaphorePermit,
) {
    let started = Instant::now();
    let outcome = match parse_event(&payload) {
        Ok(envelope) => dispatcher.dispatch(envelope, Channel::LongConnection).await,
        Err(error) => {
            tracing::error!(%error, "a frame whose payload is not an event was acknowledged and dropped");
            Outcome::Unhandled
        }
    };
    // The ack's code is 200 or 500, as the official SDKs send: an event in
    // progress elsewhere (503 on the webhook) is "not yet" here too.
    let code = if outcome.status() == 200 { 200 } else { 500 };
    let ack = AckPayload::new(code, outcome.response());
    frame.set_header(HEADER_BIZ_RT, started.elapsed().as_millis().to_string());
    frame.payload = Some(serde_json::to_vec(&ack).unwrap_or_default());
    if acks.send(frame).is_err() {
        tracing::debug!(
            "the connection the event came on is gone; its ack is dropped, and the platform's next push will be acked as a duplicate"
        );
    }
}

/// Resolves once `stop` is true, holding no borrow of it afterwards (so
/// that the futures awaiting it stay `Send`).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

#[cfg(test)]
mod fuzz {
    //! Untrusted frames never panic the client: random bytes, truncated
    //! protobuf, and data frames with wrong `seq` / `sum` headers.

    use proptest::prelude::*;

    use super::*;
    use crate::ws::frame::Header;

    fn headers() -> impl Strategy<Value = Vec<Header>> {
        let key = prop_oneof![
            Just("type".to_owned()),
            Just("message_id".to_owned()),
            Just("sum".to_owned()),
            Just("seq".to_owned()),
            Just("trace_id".to_owned()),
            ".{0,4}"
        ];
        let value = prop_oneof![
            Just("event".to_owned()),
            Just("card".to_owned()),
            Just("pong".to_owned()),
            "-?[0-9]{1,25}",
            "m[0-3]",
            ".{0,8}"
        ];
        prop::collection::vec((key, value).prop_map(|(key, value)| Header { key, value }), 0..8)
    }

    fn frames() -> impl Strategy<Value = Frame> {
        (0..3i32, headers(), prop::option::of(prop::collection::vec(any::<u8>(), 0..64))).prop_map(
            |(method, headers, payload)| Frame { method, headers, payload, ..Frame::default() },
        )
    }

    /// Feeds `frames` to [`on_frame`] as one connection would; returns the
    /// acks queued.
    fn feed(frames: Vec<Frame>) -> Vec<Frame> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async {
            let dispatcher = Dispatcher::builder().build();
            let (tx, mut rx) = mpsc::unbounded_channel();
            let mut handlers = JoinSet::new();
            let mut reassembly = Reassembly::new(Duration::from_secs(10));
            let permits = Arc::new(Semaphore::new(64));
            for frame in frames {
                let mut permit = Arc::clone(&permits).try_acquire_owned().ok();
                let _ =
                    on_frame(frame, &mut reassembly, &dispatcher, &tx, &mut handlers, &mut permit);
                assert!(reassembly.len() <= crate::ws::MAX_PENDING_MESSAGES);
            }
            while let Some(joined) = handlers.join_next().await {
                joined.expect("a handler task never panics");
            }
            drop(tx);
            let mut acks = Vec::new();
            while let Some(ack) = rx.recv().await {
                acks.push(ack);
            }
            acks
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(frame) = Frame::decode(&bytes[..]) {
                feed(vec![frame]);
            }
        }

        #[test]
        fn truncated_frames_never_panic(frame in frames(), cut in any::<prop::sample::Index>()) {
            let bytes = frame.encode_to_vec();
            let cut = cut.index(bytes.len() + 1);
            if let Ok(frame) = Frame::decode(&bytes[..cut]) {
                feed(vec![frame]);
            }
        }

        #[test]
        fn random_data_frames_never_panic_and_every_ack_is_well_formed(frames in prop::collection::vec(frames(), 0..24)) {
            for ack in feed(frames) {
                let biz_rt: i64 = ack.header(HEADER_BIZ_RT).unwrap().parse().unwrap();
                prop_assert!(biz_rt >= 0);
                let payload: AckPayload = serde_json::from_slice(ack.payload.as_deref().unwrap()).unwrap();
                // Random payloads are no events: acked 200 and dropped.
                prop_assert_eq!(payload.code, 200);
            }
        }
    }

    #[test]
    fn a_pong_hands_over_its_client_config() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let (tx, _rx) = mpsc::unbounded_channel();
            let mut handlers = JoinSet::new();
            let mut reassembly = Reassembly::new(Duration::from_secs(10));
            let dispatcher = Dispatcher::builder().build();
            let mut permit = Arc::new(Semaphore::new(1)).try_acquire_owned().ok();
            let pong = |payload: &[u8]| Frame {
                method: METHOD_CONTROL,
                headers: vec![Header { key: "type".to_owned(), value: "pong".to_owned() }],
                payload: Some(payload.to_vec()),
                ..Frame::default()
            };
            let config = on_frame(
                pong(br#"{"PingInterval":5,"ReconnectCount":3}"#),
                &mut reassembly,
                &dispatcher,
                &tx,
                &mut handlers,
                &mut permit,
            );
            assert_eq!(
                config,
                Some(ServerSettings {
                    ping_interval: 5,
                    reconnect_count: 3,
                    ..ServerSettings::default()
                })
            );
            assert_eq!(
                on_frame(pong(b""), &mut reassembly, &dispatcher, &tx, &mut handlers, &mut permit),
                None
            );
            assert_eq!(
                on_frame(
                    pong(b"not json"),
                    &mut reassembly,
                    &dispatcher,
                    &tx,
                    &mut handlers,
                    &mut permit
                ),
                None
            );
            assert!(handlers.is_empty());
            assert!(permit.is_some(), "a pong takes no handler permit");
        });
    }

    #[test]
    fn an_event_split_over_frames_is_acked_once_with_the_last_frame() {
        let body = br#"{"schema":"2.0","header":{"event_id":"e1","event_type":"x.y"},"event":{}}"#;
        let (a, b) = body.split_at(20);
        let fragment = |seq: &str, payload: &[u8]| Frame {
            method: METHOD_DATA,
            headers: [("type", "event"), ("message_id", "m1"), ("sum", "2"), ("seq", seq)]
                .iter()
                .map(|(k, v)| Header { key: (*k).to_owned(), value: (*v).to_owned() })
                .collect(),
            payload: Some(payload.to_vec()),
            ..Frame::default()
        };
        let acks = feed(vec![fragment("1", b), fragment("0", a)]);
        assert_eq!(acks.len(), 1);
        assert_eq!(acks[0].header(HEADER_SEQ), Some("0"));
        let payload: AckPayload =
            serde_json::from_slice(acks[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(payload, AckPayload::new(200, None));
    }
}
