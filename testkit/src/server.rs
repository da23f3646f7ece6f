//! The scripted, recording HTTP/1.1 server on 127.0.0.1.
//!
//! Every request is recorded before it is answered, so a test that got its
//! answer can read the request. Answers come from a handler; [`Script`] is
//! the handler for tests that queue one reply per request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{APP_TOKEN_PATH, Recorded, Reply, TENANT_TOKEN_PATH, token_reply};

/// The largest request body recorded; larger ones get a 413 (uploads in
/// tests are far smaller).
const MAX_BODY: usize = 64 * 1024 * 1024;

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// Locks a mutex, carrying on after a panic in another test task.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Replies queued by the test, handed out one per request in order. A
/// request with none left gets an HTTP 599 that no test expects.
#[derive(Clone, Default)]
pub struct Script(Arc<Mutex<VecDeque<Reply>>>);

impl Script {
    /// Queues the answer to the next request.
    pub fn push(&self, reply: Reply) {
        lock(&self.0).push_back(reply);
    }

    /// The next queued reply, or the 599.
    pub fn next_reply(&self) -> Reply {
        lock(&self.0)
            .pop_front()
            .unwrap_or_else(|| Reply::raw(599, "text/plain", "no scripted reply left"))
    }
}

/// A running server; it stops when dropped.
pub struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    arrivals: tokio::sync::Mutex<mpsc::UnboundedReceiver<Recorded>>,
    /// The replies of a [`Server::scripted`] server.
    script: Option<Script>,
    accept: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Server {
    /// Starts a server answering every request with `handler`.
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self::serve(Arc::new(handler), None).await
    }

    /// A server that answers the tenant token endpoint with `token` (valid
    /// two hours) and every other request with `api`.
    pub async fn with_token(
        token: &str,
        api: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let token = token.to_owned();
        Self::start(
            move |r| if r.path == TENANT_TOKEN_PATH { token_reply(&token, 7200) } else { api(r) },
        )
        .await
    }

    /// A server that answers the tenant token endpoint with `token` (valid
    /// two hours) and every other request from its script ([`Server::push`]).
    pub async fn scripted(token: &str) -> Self {
        let script = Script::default();
        let (token, replies) = (token.to_owned(), script.clone());
        let handler = move |r: &Recorded| {
            if r.path == TENANT_TOKEN_PATH {
                token_reply(&token, 7200)
            } else {
                replies.next_reply()
            }
        };
        Self::serve(Arc::new(handler), Some(script)).await
    }

    async fn serve(handler: Arc<Handler>, script: Option<Script>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding 127.0.0.1:0");
        let url =
            format!("http://{}", listener.local_addr().expect("a bound listener has an address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (arrived, arrivals) = mpsc::unbounded_channel();
        let log = requests.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (handler, log, arrived) = (handler.clone(), log.clone(), arrived.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        answer(request, handler.clone(), log.clone(), arrived.clone())
                    });
                    // Keep-alive: clients reuse connections.
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, requests, arrivals: tokio::sync::Mutex::new(arrivals), script, accept }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Queues the answer to the next scripted request. Only a
    /// [`Server::scripted`] server has a script: on another, a pushed reply
    /// would never be sent, so this panics.
    pub fn push(&self, reply: Reply) {
        self.script
            .as_ref()
            .expect("push needs a Server::scripted server; this one answers from its handler")
            .push(reply);
    }

    /// Every request so far, token fetches included, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    /// The requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }

    /// The tenant token fetches.
    pub fn token_fetches(&self) -> Vec<Recorded> {
        self.requests_to(TENANT_TOKEN_PATH)
    }

    /// Requests other than token fetches (tenant or app).
    pub fn api_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path != TENANT_TOKEN_PATH && r.path != APP_TOKEN_PATH)
            .collect()
    }

    /// Waits for the next request not yet taken by this method, in arrival
    /// order (whatever [`Server::requests`] returned meanwhile).
    pub async fn next_request(&self) -> Recorded {
        self.arrivals.lock().await.recv().await.expect("the server records requests while it runs")
    }
}

/// Records one request, then answers it from the handler.
async fn answer(
    request: Request<Incoming>,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Recorded>>>,
    arrived: mpsc::UnboundedSender<Recorded>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let Ok(body) = Limited::new(body, MAX_BODY).collect().await else {
        return Ok(respond(Reply::raw(413, "text/plain", "body too large or unreadable")));
    };
    let recorded = Recorded {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())
            })
            .collect(),
        body: body.to_bytes().to_vec(),
    };
    lock(&log).push(recorded.clone());
    let _ = arrived.send(recorded.clone());
    let reply = handler(&recorded);
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    Ok(respond(reply))
}

fn respond(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = StatusCode::from_u16(reply.status)
        .unwrap_or_else(|_| panic!("{} is not an HTTP status", reply.status));
    for (name, value) in reply.headers {
        let name = hyper::header::HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|_| panic!("bad header name {name:?}"));
        let value = hyper::header::HeaderValue::from_str(&value)
            .unwrap_or_else(|_| panic!("bad header value {value:?}"));
        response.headers_mut().append(name, value);
    }
    response
}
