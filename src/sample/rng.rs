//! A seeded PRNG (splitmix64), a Zipf-like picker and the unique-id formats.

use std::io::Write as _;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The splitmix64 finalizer: a bijection on `u64`, so distinct inputs give distinct outputs.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// splitmix64: fast, tiny state, good enough statistics for sample data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(mix64(seed ^ 0x6A09_E667_F3BC_C908))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is far below anything a sample can show).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Picks from a small `(item, weight)` table.
    pub(crate) fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= w;
        }
        &items[items.len() - 1].0
    }
}

/// Ranks `0..n` with weight `1 / (rank + 3)^s` (Zipf-Mandelbrot): a few very active
/// principals, a long tail of occasional ones.
pub(crate) struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub(crate) fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cdf = (0..n)
            .map(|k| {
                total += 1.0 / (k as f64 + 3.0).powf(s);
                total
            })
            .collect();
        Zipf { cdf }
    }

    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cdf.last().copied().unwrap_or(0.0);
        let u = rng.f64() * total;
        self.cdf
            .partition_point(|&c| c <= u)
            .min(self.cdf.len() - 1)
    }
}

/// A version-4 UUID holding all 64 bits of `unique` (so distinct `unique`s give distinct
/// UUIDs) and 58 random bits.
pub(crate) fn write_uuid(buf: &mut Vec<u8>, unique: u64, random: u64) {
    let hi = (unique >> 16) << 16 | 0x4000 | (unique >> 4 & 0x0fff);
    let lo = 0x8000_0000_0000_0000 | (unique & 0xf) << 58 | (random & ((1 << 58) - 1));
    let _ = write!(
        buf,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        hi >> 16 & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    );
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 22 characters of base64url over `unique` then `random` (GitHub `_document_id` style).
pub(crate) fn write_base64url(buf: &mut Vec<u8>, unique: u64, random: u64) {
    let bits = u128::from(unique) << 64 | u128::from(random);
    for i in 0..22 {
        let shift = 122_i32 - 6 * i;
        let v = if shift >= 0 {
            (bits >> shift) & 0x3f
        } else {
            (bits << -shift) & 0x3f
        };
        buf.push(BASE64URL[v as usize]);
    }
}

/// 13 characters of lower-case base 36 (GCP `insertId` style); injective on `u64`.
pub(crate) fn write_base36(buf: &mut Vec<u8>, mut v: u64) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 13];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v % 36) as usize];
        v /= 36;
    }
    buf.extend_from_slice(&out);
}

/// Random characters from `alphabet` (ids, tokens, hashes).
pub(crate) fn write_chars(buf: &mut Vec<u8>, rng: &mut Rng, alphabet: &[u8], len: usize) {
    for _ in 0..len {
        buf.push(alphabet[rng.index(alphabet.len())]);
    }
}

pub(crate) const HEX: &[u8] = b"0123456789abcdef";
pub(crate) const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_seeds_differ() {
        let a: Vec<u64> = (0..8)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..8)
            .scan(Rng::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..8)
            .scan(Rng::new(8), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn zipf_is_skewed_towards_low_ranks() {
        let zipf = Zipf::new(300, 1.0);
        let mut rng = Rng::new(1);
        let mut counts = vec![0u32; 300];
        for _ in 0..30_000 {
            counts[zipf.sample(&mut rng)] += 1;
        }
        assert!(
            counts[0] > 5 * counts[150],
            "{} vs {}",
            counts[0],
            counts[150]
        );
        assert!(counts.iter().filter(|&&c| c > 0).count() > 250);
    }

    #[test]
    fn ids_keep_the_unique_bits() {
        let mut uuids = std::collections::HashSet::new();
        for u in 0..5000u64 {
            let mut buf = Vec::new();
            write_uuid(&mut buf, mix64(u), 0);
            let s = String::from_utf8(buf).unwrap();
            assert_eq!(s.len(), 36);
            assert_eq!(&s[14..15], "4");
            assert!(uuids.insert(s));
        }
        let mut a = Vec::new();
        write_base64url(&mut a, 1, 0);
        let mut b = Vec::new();
        write_base64url(&mut b, 2, 0);
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        let mut c = Vec::new();
        write_base36(&mut c, u64::MAX);
        assert_eq!(c, b"3w5e11264sgsf");
    }
}
