//! Identifiers, clocks and the small random generator the sandbox uses.
//!
//! Ids are deterministic per sandbox (a counter mixed into 128 bits) so that a
//! test run is reproducible; nonces and IVs take process entropy instead.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// SplitMix64: turns any 64-bit value (including 0) into a well-mixed one.
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A xorshift64* generator: small, seedable, not for cryptography.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed`; every seed (0 too) gives a usable state.
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(splitmix64(seed) | 1)
    }

    /// A generator seeded from process entropy and the clock.
    pub(crate) fn from_entropy() -> Self {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0),
        );
        XorShift::new(hasher.finish())
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A uniform float in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` random bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Hands out distinct, random-looking ids.
#[derive(Debug, Default)]
pub(crate) struct IdGen {
    counter: AtomicU64,
}

impl IdGen {
    /// 32 hex digits, different on every call.
    pub(crate) fn hex32(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let high = splitmix64(n ^ 0x5A5A_0000_0000_0000);
        let low = splitmix64(high ^ n);
        format!("{high:016x}{low:016x}")
    }

    /// `prefix` followed by 32 hex digits (`om_…`, `oc_…`).
    pub(crate) fn with_prefix(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.hex32())
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    now_millis() / 1000
}

/// A Feishu-looking log id: UTC date and time digits followed by hex.
pub(crate) fn log_id(ids: &IdGen) -> String {
    let secs = now_secs();
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    let hex = ids.hex32().to_ascii_uppercase();
    format!("{y:04}{mo:02}{d:02}{:02}{:02}{:02}{}", t / 3600, t / 60 % 60, t % 60, &hex[..20])
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn ids_are_distinct_and_shaped() {
        let ids = IdGen::default();
        let a = ids.with_prefix("om_");
        let b = ids.with_prefix("om_");
        assert_ne!(a, b);
        assert_eq!(a.len(), 35);
        assert!(a[3..].chars().all(|c| c.is_ascii_hexdigit()));
        let log = log_id(&ids);
        assert_eq!(log.len(), 34);
    }

    #[test]
    fn seeded_generators_repeat() {
        let mut a = XorShift::new(7);
        let mut b = XorShift::new(7);
        let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        let mut zero = XorShift::new(0);
        assert_ne!(zero.next_u64(), 0);
        let f = zero.next_f64();
        assert!((0.0..1.0).contains(&f));
    }
}
