//! Sliding-window rate limits, per endpoint and per receiving chat.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use feishu_spec::Endpoint;

/// Calls per second and minute for endpoints that document no limit.
pub(crate) const DEFAULT_PER_SECOND: u32 = 50;
/// See [`DEFAULT_PER_SECOND`].
pub(crate) const DEFAULT_PER_MINUTE: u32 = 1000;
/// Messages per second into one chat when the spec states no per-receiver
/// limit (the figure Feishu's message pages give).
pub(crate) const PER_CHAT_PER_SECOND: u32 = 5;

/// A rejected call: the limit that was hit and the whole seconds until a slot frees (≥ 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exceeded {
    pub limit: u32,
    pub reset_secs: u64,
}

/// The recent accepted calls of every key.
#[derive(Debug, Default)]
pub(crate) struct Limits {
    windows: HashMap<String, Vec<Window>>,
}

#[derive(Debug)]
struct Window {
    limit: u32,
    span: Duration,
    hits: VecDeque<Instant>,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while let Some(first) = self.hits.front() {
            if now.duration_since(*first) >= self.span {
                self.hits.pop_front();
            } else {
                break;
            }
        }
    }

    /// When full, the seconds until the oldest call leaves the window.
    fn full(&self, now: Instant) -> Option<u64> {
        if (self.hits.len() as u64) < u64::from(self.limit) {
            return None;
        }
        let oldest = self.hits.front().copied().unwrap_or(now);
        let wait = (oldest + self.span).saturating_duration_since(now);
        Some((wait.as_secs_f64().ceil() as u64).max(1))
    }
}

impl Limits {
    /// Counts a call under `key` if every one of `rules` (`(limit, span)`) has room; else says which is full.
    pub(crate) fn hit(
        &mut self,
        key: &str,
        rules: &[(u32, Duration)],
        now: Instant,
    ) -> Result<(), Exceeded> {
        let windows = self.windows.entry(key.to_string()).or_insert_with(|| {
            rules
                .iter()
                .map(|&(limit, span)| Window { limit, span, hits: VecDeque::new() })
                .collect()
        });
        let mut worst: Option<Exceeded> = None;
        for window in windows.iter_mut() {
            window.prune(now);
            if let Some(reset_secs) = window.full(now)
                && worst.is_none_or(|w| reset_secs > w.reset_secs)
            {
                worst = Some(Exceeded { limit: window.limit, reset_secs });
            }
        }
        if let Some(exceeded) = worst {
            return Err(exceeded);
        }
        for window in windows.iter_mut() {
            window.hits.push_back(now);
        }
        Ok(())
    }

    /// Forgets every window.
    pub(crate) fn clear(&mut self) {
        self.windows.clear();
    }
}

/// An endpoint's documented limits, or the defaults.
pub(crate) fn endpoint_rules(endpoint: &Endpoint) -> Vec<(u32, Duration)> {
    let documented = endpoint.rate_limit.as_ref();
    let per_second = documented.and_then(|r| r.per_second);
    let per_minute = documented.and_then(|r| r.per_minute);
    let (per_second, per_minute) = match (per_second, per_minute) {
        (None, None) => (Some(DEFAULT_PER_SECOND), Some(DEFAULT_PER_MINUTE)),
        other => other,
    };
    let mut rules = Vec::new();
    if let Some(n) = per_second {
        rules.push((n, Duration::from_secs(1)));
    }
    if let Some(n) = per_minute {
        rules.push((n, Duration::from_secs(60)));
    }
    rules
}

/// Messages per second into one chat: the strictest per-receiver limit the
/// spec documents (it is the chat's, shared by every way of sending), else
/// [`PER_CHAT_PER_SECOND`].
pub(crate) fn per_chat(spec: &feishu_spec::Spec) -> u32 {
    spec.endpoints
        .iter()
        .filter_map(|e| e.rate_limit.as_ref()?.per_receiver_per_second)
        .min()
        .unwrap_or(PER_CHAT_PER_SECOND)
}

/// The rules of one receiving chat.
pub(crate) fn chat_rules(spec: &feishu_spec::Spec) -> Vec<(u32, Duration)> {
    vec![(per_chat(spec), Duration::from_secs(1))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use feishu_spec::RateLimit;

    #[test]
    fn second_window_slides() {
        let mut limits = Limits::default();
        let start = Instant::now();
        let rules = chat_rules(&feishu_spec::Spec::default());
        for _ in 0..5 {
            assert_eq!(limits.hit("c", &rules, start), Ok(()));
        }
        assert_eq!(
            limits.hit("c", &rules, start + Duration::from_millis(300)),
            Err(Exceeded { limit: 5, reset_secs: 1 })
        );
        assert_eq!(limits.hit("other", &rules, start), Ok(()));
        assert_eq!(limits.hit("c", &rules, start + Duration::from_millis(1000)), Ok(()));
    }

    #[test]
    fn the_chat_limit_is_the_strictest_documented_per_receiver_limit() {
        let endpoint = |n: Option<u32>| feishu_spec::Endpoint {
            rate_limit: Some(RateLimit { per_receiver_per_second: n, ..RateLimit::default() }),
            ..feishu_spec::Endpoint::default()
        };
        let spec = |limits: &[Option<u32>]| feishu_spec::Spec {
            endpoints: limits.iter().map(|n| endpoint(*n)).collect(),
            ..feishu_spec::Spec::default()
        };
        assert_eq!(per_chat(&spec(&[])), PER_CHAT_PER_SECOND);
        assert_eq!(per_chat(&spec(&[None, Some(3), Some(7)])), 3);
    }

    #[test]
    fn minute_window_reports_its_reset() {
        let mut limits = Limits::default();
        let start = Instant::now();
        let rules = vec![(100, Duration::from_secs(1)), (2, Duration::from_secs(60))];
        assert!(limits.hit("e", &rules, start).is_ok());
        assert!(limits.hit("e", &rules, start + Duration::from_secs(10)).is_ok());
        assert_eq!(
            limits.hit("e", &rules, start + Duration::from_millis(20_500)),
            Err(Exceeded { limit: 2, reset_secs: 40 })
        );
    }

    #[test]
    fn endpoint_rules_fall_back_to_defaults() {
        let mut endpoint = Endpoint::default();
        assert_eq!(
            endpoint_rules(&endpoint),
            vec![(50, Duration::from_secs(1)), (1000, Duration::from_secs(60))]
        );
        endpoint.rate_limit =
            Some(RateLimit { per_second: Some(5), per_minute: None, ..RateLimit::default() });
        assert_eq!(endpoint_rules(&endpoint), vec![(5, Duration::from_secs(1))]);
    }
}
