//! Joining a message the platform split into fragments (`sum > 1`): kept by
//! `message_id`, each at its `seq`, joined once all arrived; bounded in
//! count, size and time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The most fragments one message may announce.
pub const MAX_FRAGMENTS: usize = 1024;
/// The most bytes held in incomplete messages at once.
pub const MAX_PENDING_BYTES: usize = 32 * 1024 * 1024;
/// The most incomplete messages held at once.
pub const MAX_PENDING_MESSAGES: usize = 1024;

/// Why a fragment was refused. Logged; never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    /// `sum` or `seq` is missing or not a number.
    #[error("fragment header {0:?} is missing or not a number")]
    BadHeader(&'static str),
    /// `sum` is 0 or above [`MAX_FRAGMENTS`].
    #[error("sum {0} is not between 1 and {MAX_FRAGMENTS}")]
    BadSum(u64),
    /// `seq` is not below `sum`.
    #[error("seq {seq} is not below sum {sum}")]
    SeqOutOfRange {
        /// The fragment's `seq`.
        seq: u64,
        /// The message's `sum`.
        sum: u64,
    },
    /// A fragment of the same message announced another `sum`; the message is dropped.
    #[error("sum {got} differs from the {expected} of earlier fragments; the message is dropped")]
    SumChanged {
        /// The `sum` of the earlier fragments.
        expected: u64,
        /// The `sum` of this one.
        got: u64,
    },
    /// Keeping the fragment would exceed [`MAX_PENDING_BYTES`] or [`MAX_PENDING_MESSAGES`].
    #[error("too many incomplete messages are held; the fragment is dropped")]
    Full,
}

struct Partial {
    parts: Vec<Option<Vec<u8>>>,
    missing: usize,
    bytes: usize,
    started: Instant,
}

/// The incomplete messages of one connection.
pub struct Reassembly {
    pending: HashMap<String, Partial>,
    bytes: usize,
    timeout: Duration,
}

impl Reassembly {
    /// Drops incomplete messages older than `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self { pending: HashMap::new(), bytes: 0, timeout }
    }

    /// Takes a fragment; returns the whole payload when it completes one.
    /// `sum` and `seq` are the headers' text (absent `sum` means 1, and then
    /// `seq` is not needed).
    pub fn push(
        &mut self,
        message_id: &str,
        sum: Option<&str>,
        seq: Option<&str>,
        payload: Vec<u8>,
        now: Instant,
    ) -> Result<Option<Vec<u8>>, FragmentError> {
        self.expire(now);
        let sum: u64 = match sum {
            None => 1,
            Some(text) => text.trim().parse().map_err(|_| FragmentError::BadHeader("sum"))?,
        };
        if sum == 0 || sum > MAX_FRAGMENTS as u64 {
            return Err(FragmentError::BadSum(sum));
        }
        if sum == 1 {
            return Ok(Some(payload));
        }
        let seq: u64 =
            seq.and_then(|text| text.trim().parse().ok()).ok_or(FragmentError::BadHeader("seq"))?;
        if seq >= sum {
            return Err(FragmentError::SeqOutOfRange { seq, sum });
        }
        if let Some(partial) = self.pending.get(message_id)
            && partial.parts.len() as u64 != sum
        {
            let expected = partial.parts.len() as u64;
            self.remove(message_id);
            return Err(FragmentError::SumChanged { expected, got: sum });
        }
        if self.bytes + payload.len() > MAX_PENDING_BYTES
            || (!self.pending.contains_key(message_id)
                && self.pending.len() >= MAX_PENDING_MESSAGES)
        {
            return Err(FragmentError::Full);
        }
        let partial = self.pending.entry(message_id.to_owned()).or_insert_with(|| Partial {
            parts: vec![None; sum as usize],
            missing: sum as usize,
            bytes: 0,
            started: now,
        });
        let slot = &mut partial.parts[seq as usize];
        if slot.is_some() {
            // A repeated fragment: the first copy stays.
            return Ok(None);
        }
        self.bytes += payload.len();
        partial.bytes += payload.len();
        *slot = Some(payload);
        partial.missing -= 1;
        if partial.missing > 0 {
            return Ok(None);
        }
        Ok(self
            .remove(message_id)
            .map(|partial| partial.parts.into_iter().flatten().flatten().collect()))
    }

    /// How many incomplete messages are held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    fn remove(&mut self, message_id: &str) -> Option<Partial> {
        let partial = self.pending.remove(message_id)?;
        self.bytes -= partial.bytes;
        Some(partial)
    }

    fn expire(&mut self, now: Instant) {
        let timeout = self.timeout;
        let before = self.pending.len();
        let mut freed = 0;
        self.pending.retain(|_, p| {
            let keep = now.saturating_duration_since(p.started) < timeout;
            if !keep {
                freed += p.bytes;
            }
            keep
        });
        self.bytes -= freed;
        if self.pending.len() < before {
            tracing::warn!(
                dropped = before - self.pending.len(),
                "incomplete fragmented messages timed out and were dropped"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_out_of_order_fragments() {
        let mut r = Reassembly::new(Duration::from_secs(5));
        let t = Instant::now();
        assert_eq!(r.push("m", Some("3"), Some("2"), b"c".to_vec(), t), Ok(None));
        assert_eq!(r.push("m", Some("3"), Some("0"), b"a".to_vec(), t), Ok(None));
        assert_eq!(
            r.push("m", Some("3"), Some("0"), b"x".to_vec(), t),
            Ok(None),
            "a repeat is ignored"
        );
        assert_eq!(r.push("m", Some("3"), Some("1"), b"b".to_vec(), t), Ok(Some(b"abc".to_vec())));
        assert!(r.is_empty());
        assert_eq!(r.bytes, 0);
        assert_eq!(r.push("n", None, None, b"whole".to_vec(), t), Ok(Some(b"whole".to_vec())));
    }

    #[test]
    fn refuses_bad_headers() {
        let mut r = Reassembly::new(Duration::from_secs(5));
        let t = Instant::now();
        assert_eq!(
            r.push("m", Some("2"), Some("2"), vec![], t),
            Err(FragmentError::SeqOutOfRange { seq: 2, sum: 2 })
        );
        assert_eq!(r.push("m", Some("0"), Some("0"), vec![], t), Err(FragmentError::BadSum(0)));
        assert_eq!(
            r.push("m", Some("x"), Some("0"), vec![], t),
            Err(FragmentError::BadHeader("sum"))
        );
        assert_eq!(r.push("m", Some("2"), None, vec![], t), Err(FragmentError::BadHeader("seq")));
        assert_eq!(
            r.push("m", Some("99999"), Some("0"), vec![], t),
            Err(FragmentError::BadSum(99999))
        );
        assert_eq!(r.push("m", Some("2"), Some("0"), vec![1], t), Ok(None));
        assert_eq!(
            r.push("m", Some("3"), Some("1"), vec![2], t),
            Err(FragmentError::SumChanged { expected: 2, got: 3 })
        );
        assert!(r.is_empty());
        assert_eq!(r.bytes, 0);
    }

    #[test]
    fn incomplete_messages_time_out() {
        let mut r = Reassembly::new(Duration::from_secs(5));
        let t = Instant::now();
        assert_eq!(r.push("m", Some("2"), Some("0"), vec![1, 2], t), Ok(None));
        assert_eq!(r.len(), 1);
        assert_eq!(
            r.push("n", Some("2"), Some("0"), vec![3], t + Duration::from_secs(6)),
            Ok(None)
        );
        assert_eq!(r.len(), 1, "m expired");
        assert_eq!(r.bytes, 1);
        assert_eq!(
            r.push("m", Some("2"), Some("1"), vec![9], t + Duration::from_secs(6)),
            Ok(None),
            "m starts over"
        );
    }

    #[test]
    fn memory_is_bounded() {
        let mut r = Reassembly::new(Duration::from_secs(5));
        let t = Instant::now();
        for i in 0..MAX_PENDING_MESSAGES {
            assert_eq!(r.push(&i.to_string(), Some("2"), Some("0"), vec![0], t), Ok(None));
        }
        assert_eq!(r.push("one more", Some("2"), Some("0"), vec![0], t), Err(FragmentError::Full));
        assert_eq!(
            r.push("0", Some("2"), Some("1"), vec![0], t),
            Ok(Some(vec![0, 0])),
            "existing messages still complete"
        );
        let mut r = Reassembly::new(Duration::from_secs(5));
        assert_eq!(
            r.push("big", Some("2"), Some("0"), vec![0; MAX_PENDING_BYTES + 1], t),
            Err(FragmentError::Full)
        );
    }
}
