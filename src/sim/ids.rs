//! Seeded identifiers, so two runs of the same test see the same ids, tokens and keys.

use rand::distr::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded source of ids in the formats the real services use.
#[derive(Debug)]
pub(crate) struct IdGen {
    rng: StdRng,
}

impl IdGen {
    pub(crate) fn new(seed: u64) -> Self {
        IdGen {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// 32 lowercase hex characters (Willo's `key`, a UUID without dashes).
    pub(crate) fn hex32(&mut self) -> String {
        format!("{:032x}", self.rng.random::<u128>())
    }

    /// A version-4-looking UUID with dashes (Lever's ids).
    pub(crate) fn uuid(&mut self) -> String {
        let v =
            (self.rng.random::<u128>() & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
        let h = format!("{v:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// `len` random alphanumeric characters (webhook tokens, OAuth codes and tokens).
    pub(crate) fn alnum(&mut self, len: usize) -> String {
        (&mut self.rng)
            .sample_iter(Alphanumeric)
            .take(len)
            .map(char::from)
            .collect()
    }

    /// 32 random bytes (keys that never leave the process).
    pub(crate) fn key32(&mut self) -> [u8; 32] {
        self.rng.random()
    }
}

/// A stateless, well-mixed hash of `(seed, stream, n)` mapped to `[0, 1)`.
///
/// Fault and drop decisions use this rather than a shared RNG so that "the nth matching request"
/// gets the same answer whatever other requests interleave with it.
pub(crate) fn unit_draw(seed: u64, stream: u64, n: u64) -> f64 {
    let mut z =
        seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n.wrapping_mul(0xd1b5_4a32_d192_ed03);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_services() {
        let mut ids = IdGen::new(7);
        let k = ids.hex32();
        assert_eq!(k.len(), 32);
        assert!(
            k.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        let u = ids.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(ids.alnum(48).len(), 48);
        assert_eq!(IdGen::new(7).hex32(), k, "same seed, same ids");
    }

    #[test]
    fn unit_draw_is_deterministic_and_spread() {
        assert_eq!(unit_draw(1, 2, 3), unit_draw(1, 2, 3));
        let below = (0..10_000).filter(|n| unit_draw(42, 0, *n) < 0.3).count();
        assert!((2_700..3_300).contains(&below), "{below}");
    }
}
