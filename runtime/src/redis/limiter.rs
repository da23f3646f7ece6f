//! The documented rate limits held by a whole fleet: one Lua script keeps a
//! sliding-window log per API × app × tenant (and per receiver) in Redis and
//! hands each request the earliest start that fits, by Redis's clock, so
//! that every process counts the same requests.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::Script;

use super::shared::Shared;
use crate::auth::BoxFuture;
use crate::error::Error;
use crate::limit::{LimitKey, SharedLimiter};

/// Reserves a start. KEYS: the pause keys (ARGV[1] of them), then one log
/// per window; ARGV: the number of pause keys, a unique member, then limit
/// and period (ms) of each window. Returns the wait in milliseconds.
///
/// The same algorithm as the in-process limiter (`crate::limit`): a start
/// must be a period after the request `limit` places back in every window,
/// and after every pause; the log keeps the last `limit` starts.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pauses = tonumber(ARGV[1])
local member = ARGV[2]
local start = now
for i = 1, pauses do
  local till = tonumber(redis.call('GET', KEYS[i]) or '0')
  if till > start then start = till end
end
local windows = {}
for i = pauses + 1, #KEYS do
  local j = 3 + (i - pauses - 1) * 2
  local w = {KEYS[i], tonumber(ARGV[j]), tonumber(ARGV[j + 1])}
  redis.call('ZREMRANGEBYSCORE', w[1], '-inf', now - w[3])
  windows[#windows + 1] = w
end
for round = 1, 64 do
  local next = start
  for _, w in ipairs(windows) do
    local count = redis.call('ZCARD', w[1])
    if count >= w[2] then
      local blocking = redis.call('ZRANGE', w[1], count - w[2], count - w[2], 'WITHSCORES')
      local earliest = tonumber(blocking[2]) + w[3]
      if earliest > next then next = earliest end
    end
  end
  if next == start then break end
  start = next
end
for _, w in ipairs(windows) do
  redis.call('ZADD', w[1], start, member)
  local count = redis.call('ZCARD', w[1])
  if count > w[2] then redis.call('ZREMRANGEBYRANK', w[1], 0, count - w[2] - 1) end
  redis.call('PEXPIRE', w[1], start - now + w[3] + 1000)
end
return start - now
";

/// Pauses keys: ARGV[1] milliseconds from now by Redis's clock, unless a
/// longer pause holds already.
const PAUSE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = tonumber(ARGV[1])
for i = 1, #KEYS do
  local till = tonumber(redis.call('GET', KEYS[i]) or '0')
  if now + pause > till then
    redis.call('SET', KEYS[i], now + pause, 'PX', pause + 1000)
  end
end
return 0
";

/// A [`SharedLimiter`] on Redis, from
/// [`RedisStores::limiter`](super::RedisStores::limiter).
///
/// Counts per app, tenant and API the documented per-second and
/// per-minute limits, and per receiver the per-receiver limit, in sliding
/// windows widened by 100 ms for the spread of a fleet's requests; a
/// 429's `x-ogw-ratelimit-reset` pauses the API for every process. Costs
/// one round trip per call. While Redis cannot be reached, each client
/// waits for its in-process limiter.
pub struct RedisLimiter {
    shared: Arc<Shared>,
    reserve: Script,
    pause: Script,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter").field("prefix", &self.shared.prefix).finish()
    }
}

impl RedisLimiter {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        RedisLimiter { shared, reserve: Script::new(RESERVE), pause: Script::new(PAUSE) }
    }

    /// `PREFIX:APP:rate:TENANT:` for `key`.
    fn base(&self, key: &LimitKey<'_>) -> String {
        self.shared.key(key.app_id, &format!("rate:{}:", key.tenant_key.unwrap_or("-")))
    }

    /// The pause keys of `key`: its API's, and its receiver's.
    fn pause_keys(&self, key: &LimitKey<'_>) -> Vec<String> {
        let base = self.base(key);
        let mut keys = vec![format!("{base}api:{}:pause", key.endpoint)];
        if let Some(receiver) = key.receiver {
            keys.push(format!("{base}receiver:{receiver}:pause"));
        }
        keys
    }
}

/// How much wider than documented each window is. Wider than the
/// in-process limiter's 30 ms: the requests of a fleet leave from several
/// processes (or hosts), a Redis round trip after their slot was reserved,
/// and arrive with more spread.
const FLEET_MARGIN: Duration = Duration::from_millis(100);

fn period(span: Duration) -> u64 {
    (span + FLEET_MARGIN).as_millis() as u64
}

impl SharedLimiter for RedisLimiter {
    fn reserve<'a>(&'a self, key: &'a LimitKey<'a>) -> BoxFuture<'a, Result<Duration, Error>> {
        Box::pin(async move {
            let base = self.base(key);
            let pauses = self.pause_keys(key);
            let mut invocation = self.reserve.prepare_invoke();
            for pause in &pauses {
                invocation.key(pause);
            }
            invocation.arg(pauses.len()).arg(crate::retry::new_idempotency_key());
            let api = format!("{base}api:{}", key.endpoint);
            let mut window = |log: String, limit: u32, span: Duration| {
                invocation.key(log).arg(limit.max(1)).arg(period(span));
            };
            if let Some(n) = key.limit.per_second {
                window(format!("{api}:second"), n, Duration::from_secs(1));
            }
            if let Some(n) = key.limit.per_minute {
                window(format!("{api}:minute"), n, Duration::from_secs(60));
            }
            if let (Some(receiver), Some(n)) = (key.receiver, key.limit.per_receiver_per_second) {
                window(format!("{base}receiver:{receiver}:second"), n, Duration::from_secs(1));
            }
            let result: redis::RedisResult<i64> =
                invocation.invoke_async(&mut self.shared.conn()).await;
            self.shared.note(&result);
            let wait = result.map_err(|e| super::shared::store_error(&e))?;
            Ok(Duration::from_millis(wait.max(0) as u64))
        })
    }

    fn pause<'a>(
        &'a self,
        key: &'a LimitKey<'a>,
        pause: Duration,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut invocation = self.pause.prepare_invoke();
            for pause in self.pause_keys(key) {
                invocation.key(pause);
            }
            invocation.arg(pause.as_millis().clamp(1, 24 * 3600 * 1000) as u64);
            let result: redis::RedisResult<i64> =
                invocation.invoke_async(&mut self.shared.conn()).await;
            self.shared.note(&result);
            result.map(drop).map_err(|e| super::shared::store_error(&e))
        })
    }
}
