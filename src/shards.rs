//! Which gateway shards this process runs, and so which guilds it serves (pure).
//!
//! Discord sends a guild's events on shard `(guild_id >> 22) % total` only. A process that
//! runs shards `first..=last` of `total` therefore answers the interactions of those guilds
//! alone, and its background work follows the same line: the daily scheduler posts for its
//! own guilds, the quiz recovery closes rounds of its own guilds. Work that belongs to no
//! guild (command registration, reminders by DM, the retention purge) is done by the process
//! that runs shard 0, exactly as Discord sends DMs to shard 0.

use std::fmt;

/// The shards a process runs: `first..=last` of `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shards {
    total: u32,
    first: u32,
    last: u32,
}

/// Why a shard range is not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardsError {
    ZeroTotal,
    /// `first > last`.
    Reversed {
        first: u32,
        last: u32,
    },
    /// `last >= total`.
    BeyondTotal {
        last: u32,
        total: u32,
    },
}

impl fmt::Display for ShardsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardsError::ZeroTotal => f.write_str("a bot has at least one shard: total ≥ 1"),
            ShardsError::Reversed { first, last } => {
                write!(
                    f,
                    "the range {first}-{last} runs backwards; write the lower shard first"
                )
            }
            ShardsError::BeyondTotal { last, total } => write!(
                f,
                "shard {last} does not exist with total = {total} (shards are numbered 0–{})",
                total - 1
            ),
        }
    }
}

impl std::error::Error for ShardsError {}

/// The shard that carries a guild's events: `(guild_id >> 22) % total` (Discord's rule; the
/// top 42 bits of a snowflake are its creation time).
pub fn shard_of(guild_id: u64, total: u32) -> u32 {
    ((guild_id >> 22) % u64::from(total.max(1))) as u32
}

impl Shards {
    /// Shards `first..=last` of `total`.
    pub fn new(total: u32, first: u32, last: u32) -> Result<Shards, ShardsError> {
        if total == 0 {
            return Err(ShardsError::ZeroTotal);
        }
        if first > last {
            return Err(ShardsError::Reversed { first, last });
        }
        if last >= total {
            return Err(ShardsError::BeyondTotal { last, total });
        }
        Ok(Shards { total, first, last })
    }

    /// Every shard of `total` (≥ 1): one process for the whole bot.
    pub fn all(total: u32) -> Shards {
        let total = total.max(1);
        Shards {
            total,
            first: 0,
            last: total - 1,
        }
    }

    pub fn total(&self) -> u32 {
        self.total
    }

    pub fn first(&self) -> u32 {
        self.first
    }

    /// The last shard run (inclusive).
    pub fn last(&self) -> u32 {
        self.last
    }

    pub fn owns_shard(&self, shard: u32) -> bool {
        (self.first..=self.last).contains(&shard)
    }

    /// Whether this process gets the guild's events, so serves it.
    pub fn owns_guild(&self, guild_id: u64) -> bool {
        self.owns_shard(shard_of(guild_id, self.total))
    }

    /// Whether this process runs every shard: the whole bot, no other process to hear from.
    pub fn is_whole(&self) -> bool {
        self.first == 0 && self.last + 1 == self.total
    }

    /// Whether this process does the work of no guild in particular (command registration,
    /// reminders, the purge): the one that runs shard 0, where Discord sends DMs.
    pub fn is_coordinator(&self) -> bool {
        self.owns_shard(0)
    }
}

impl Default for Shards {
    /// One shard, this process: every guild.
    fn default() -> Self {
        Shards::all(1)
    }
}

impl fmt::Display for Shards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "shard {} of {}", self.first, self.total)
        } else {
            write!(f, "shards {}-{} of {}", self.first, self.last, self.total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guild id whose creation-time part is `t` (the low 22 bits are worker, process and
    /// increment, which do not choose the shard).
    fn guild(t: u64) -> u64 {
        (t << 22) | 0x3F_FFFF
    }

    #[test]
    fn shard_of_uses_the_timestamp_bits() {
        assert_eq!(shard_of(guild(0), 2), 0);
        assert_eq!(shard_of(guild(1), 2), 1);
        assert_eq!(shard_of(guild(7), 4), 3);
        assert_eq!(shard_of(guild(7), 1), 0);
        // The low 22 bits never move a guild.
        assert_eq!(shard_of(1 << 22, 2), shard_of((1 << 22) | 0x3F_FFFF, 2));
        // A real-looking snowflake: 1_300_000_000_000_000_010 >> 22 = 309_944_152_832.
        assert_eq!(1_300_000_000_000_000_010u64 >> 22, 309_944_152_832);
        assert_eq!(shard_of(1_300_000_000_000_000_010, 1000), 832);
        // The test world's guilds (tests/support/payloads.rs).
        assert_eq!(shard_of(1_300_000_000_000_000_010, 2), 0);
    }

    #[test]
    fn a_range_owns_its_guilds_only() {
        let low = Shards::new(4, 0, 1).unwrap();
        let high = Shards::new(4, 2, 3).unwrap();
        for t in 0..64 {
            let g = guild(t);
            assert_ne!(low.owns_guild(g), high.owns_guild(g), "guild {t}");
            assert_eq!(low.owns_guild(g), t % 4 < 2, "guild {t}");
        }
        assert!(low.is_coordinator());
        assert!(!high.is_coordinator());
        assert!(!low.is_whole() && !high.is_whole());
        assert!(Shards::new(4, 0, 3).unwrap().is_whole());
        let one = Shards::new(4, 3, 3).unwrap();
        assert!(one.owns_guild(guild(3)) && one.owns_guild(guild(7)));
        assert!(!one.owns_guild(guild(2)));
        assert_eq!(one.to_string(), "shard 3 of 4");
        assert_eq!(low.to_string(), "shards 0-1 of 4");
    }

    #[test]
    fn all_and_default_own_everything() {
        for s in [Shards::default(), Shards::all(3), Shards::all(0)] {
            assert!(s.is_coordinator() && s.is_whole());
            assert!((0..32).all(|t| s.owns_guild(guild(t))), "{s}");
        }
        assert_eq!(Shards::all(0), Shards::default());
        assert_eq!(Shards::all(3).last(), 2);
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert_eq!(Shards::new(0, 0, 0), Err(ShardsError::ZeroTotal));
        assert_eq!(
            Shards::new(4, 2, 1),
            Err(ShardsError::Reversed { first: 2, last: 1 })
        );
        assert_eq!(
            Shards::new(2, 1, 2),
            Err(ShardsError::BeyondTotal { last: 2, total: 2 })
        );
        assert!(Shards::new(2, 1, 2)
            .unwrap_err()
            .to_string()
            .contains("0–1"));
    }
}
