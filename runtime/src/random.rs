//! The runtime's one source of random numbers: jitter for retry waits,
//! multipart boundaries, reconnect spreads and idempotency keys. None of
//! them needs a cryptographic generator; all come from `fastrand`'s
//! per-thread generator, which is seeded differently in every thread and
//! process.

/// A random number in [0, 1), for jitter.
pub(crate) fn unit() -> f64 {
    fastrand::f64()
}

/// 64 random bits.
pub(crate) fn u64() -> u64 {
    fastrand::u64(..)
}

/// A fresh version-4 UUID in its usual text form, the shape Feishu's
/// examples give for `uuid` idempotency keys (36 characters; the fields
/// allow 50).
pub fn new_idempotency_key() -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&u64().to_be_bytes());
    b[8..].copy_from_slice(&u64().to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    // Written digit by digit: `format!` per byte cost a few percent of a
    // whole call.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn idempotency_keys_are_uuid_v4_and_distinct() {
        let keys: HashSet<String> = (0..10_000).map(|_| new_idempotency_key()).collect();
        assert_eq!(keys.len(), 10_000);
        for k in keys.iter().take(100) {
            assert_eq!(k.len(), 36);
            assert!(k.chars().all(|c| matches!(c, '-' | '0'..='9' | 'a'..='f')), "{k}");
            let parts: Vec<&str> = k.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
            assert!(parts[2].starts_with('4'), "{k}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{k}");
        }
    }

    #[test]
    fn threads_draw_distinct_keys() {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| (0..5_000).map(|_| new_idempotency_key()).collect::<Vec<_>>())
            })
            .collect();
        let keys: HashSet<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        assert_eq!(keys.len(), 20_000);
    }

    #[test]
    fn unit_is_in_range_and_spread() {
        let xs: Vec<f64> = (0..10_000).map(|_| unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let low = xs.iter().filter(|x| **x < 0.5).count();
        assert!((4_000..6_000).contains(&low), "{low}");
    }
}
