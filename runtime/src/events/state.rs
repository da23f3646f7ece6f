//! Handlers that share state: [`DispatcherBuilder::with_state`] hands each
//! call its own clone of a value (the API client, a pool), so that a
//! handler needs no clone of its own.
//!
//! A handler's future must own what it uses, since it outlives the call
//! that made it; with a captured client that meant cloning it once into the
//! closure and again into each future. Here the dispatcher does the second
//! clone, and the value's type is checked at compile time, as axum's
//! `State` is.

use std::future::Future;

use serde::Serialize;
use serde_json::Value;

use super::body::EventBody;
use super::builder::DispatcherBuilder;
use super::dispatch::{EventContext, HandlerError, RegisterError};

/// Registers handlers that receive a clone of one shared value after the
/// event: made by [`DispatcherBuilder::with_state`].
///
/// ```
/// # use feishu_runtime::events::{Dispatcher, EventBody};
/// #[derive(serde::Deserialize)]
/// struct ChatDisbanded { chat_id: String }
/// impl EventBody for ChatDisbanded { const EVENT_TYPE: &'static str = "im.chat.disbanded_v1"; }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = feishu_runtime::Client::new("cli_xxx", "app-secret")?;
/// let mut builder = Dispatcher::builder();
/// builder.with_state(client).on(|_ctx, ev: ChatDisbanded, api| async move {
///     // `api` is this call's own clone of the client.
///     let _ = (api, ev.chat_id);
///     Ok(())
/// })?;
/// let dispatcher = builder.build();
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WithState<'a, S> {
    builder: &'a mut DispatcherBuilder,
    state: S,
}

impl DispatcherBuilder {
    /// Registers the handlers that follow with `state`: each call gets its
    /// own clone of it as the handler's last argument. Cloning should be
    /// cheap (`Client` is; wrap anything else in an `Arc`).
    pub fn with_state<S>(&mut self, state: S) -> WithState<'_, S>
    where
        S: Clone + Send + Sync + 'static,
    {
        WithState { builder: self, state }
    }
}

impl<S> WithState<'_, S>
where
    S: Clone + Send + Sync + 'static,
{
    /// [`DispatcherBuilder::on`], with the state.
    pub fn on<T, F, Fut>(&mut self, handler: F) -> Result<&mut Self, RegisterError>
    where
        T: EventBody,
        F: Fn(EventContext, T, S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let state = self.state.clone();
        self.builder.on(move |ctx, event: T| handler(ctx, event, state.clone()))?;
        Ok(self)
    }

    /// [`DispatcherBuilder::on_callback`], with the state.
    pub fn on_callback<T, R, F, Fut>(&mut self, handler: F) -> Result<&mut Self, RegisterError>
    where
        T: EventBody,
        R: Serialize + Send + 'static,
        F: Fn(EventContext, T, S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
    {
        let state = self.state.clone();
        self.builder.on_callback(move |ctx, event: T| handler(ctx, event, state.clone()))?;
        Ok(self)
    }

    /// [`DispatcherBuilder::fallback`], with the state.
    pub fn fallback<F, Fut>(&mut self, handler: F) -> Result<&mut Self, RegisterError>
    where
        F: Fn(EventContext, Value, S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let state = self.state.clone();
        self.builder.fallback(move |ctx, event| handler(ctx, event, state.clone()))?;
        Ok(self)
    }
}
