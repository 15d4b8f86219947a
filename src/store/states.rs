//! The states the store keeps as text columns, as enums: each maps to and from its SQL
//! spelling in one place, for both backends, and an unknown spelling in the database is a
//! typed read error, never a panic or a silent default.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

macro_rules! sql_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        sql_text!($name);
    };
}

/// SQL text for an enum defined in the core (which must not know rusqlite): the core gives
/// `as_str` and `parse`, this gives the mapping, with the same typed error for an unknown
/// spelling.
macro_rules! sql_text {
    ($($name:path),+ $(,)?) => {$(
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = value.as_str()?;
                <$name>::parse(s).ok_or_else(|| {
                    FromSqlError::Other(
                        format!("unknown {} `{s}` in the database", stringify!($name)).into(),
                    )
                })
            }
        }

        impl<'a> tokio_postgres::types::FromSql<'a> for $name {
            fn from_sql(
                ty: &tokio_postgres::types::Type,
                raw: &'a [u8],
            ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
                let s = <&str as tokio_postgres::types::FromSql>::from_sql(ty, raw)?;
                <$name>::parse(s).ok_or_else(|| {
                    format!("unknown {} `{s}` in the database", stringify!($name)).into()
                })
            }

            fn accepts(ty: &tokio_postgres::types::Type) -> bool {
                <&str as tokio_postgres::types::FromSql>::accepts(ty)
            }
        }
    )+};
}

// A practice review's grade and source, and a card's FSRS phase.
sql_text!(
    crate::practice::Grade,
    crate::practice::ReviewSource,
    crate::practice::Phase,
);

sql_enum! {
    /// Where a question message came from.
    Source { Ask => "ask", Daily => "daily" }
}

sql_enum! {
    /// The state of one daily post: `Pending` (intent recorded, outcome unknown), `Sent`, or
    /// `Failed` (a missing channel or permission; the date is settled).
    PostState { Pending => "pending", Sent => "sent", Failed => "failed" }
}

sql_enum! {
    /// A scheduled post (one per guild and local date) or an extra one from `/daily post`.
    PostKind { Scheduled => "scheduled", Manual => "manual" }
}

sql_enum! {
    /// The steps after a post's create: the reveal reaction, the thread and its opening
    /// message. `Pending` until all are done; `Failed` when Discord refused one for good
    /// (shown in `/daily show`, not retried in a loop).
    FinishState { Pending => "pending", Done => "done", Failed => "failed" }
}

sql_enum! {
    /// A member's practice reminder for one local date: `Pending` (intent recorded, outcome
    /// unknown), `Sent`, `Skipped` (nothing was due) or `Failed` (Discord refused for good,
    /// e.g. closed DMs; the date is settled).
    ReminderState {
        Pending => "pending",
        Sent => "sent",
        Skipped => "skipped",
        Failed => "failed",
    }
}

sql_enum! {
    /// A quiz round's status.
    RoundStatus {
        Running => "running",
        Finished => "finished",
        Stopped => "stopped",
        Interrupted => "interrupted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn every_state_round_trips_through_sql_and_unknown_text_is_an_error() {
        let c = Connection::open_in_memory().unwrap();
        for s in PostState::ALL {
            let back: PostState = c.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, *s);
        }
        for s in ReminderState::ALL {
            let back: ReminderState = c.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, *s);
        }
        for s in RoundStatus::ALL {
            let back: RoundStatus = c.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, *s);
        }
        let bad = c.query_row("SELECT 'sending'", [], |r| r.get::<_, PostState>(0));
        assert!(bad.is_err());
        let err = bad.unwrap_err().to_string();
        assert!(
            err.contains("PostState") && err.contains("sending"),
            "{err}"
        );
        assert_eq!(FinishState::parse("done"), Some(FinishState::Done));
        assert_eq!(PostKind::Manual.to_string(), "manual");
    }

    #[test]
    fn practice_enums_round_trip_through_sql() {
        use crate::practice::{Grade, Phase, ReviewSource};
        let c = Connection::open_in_memory().unwrap();
        for g in Grade::ALL {
            let back: Grade = c.query_row("SELECT ?1", [g], |r| r.get(0)).unwrap();
            assert_eq!(back, g);
        }
        for s in ReviewSource::ALL {
            let back: ReviewSource = c.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, s);
        }
        for p in Phase::ALL {
            let back: Phase = c.query_row("SELECT ?1", [p], |r| r.get(0)).unwrap();
            assert_eq!(back, p);
        }
        let none: Option<Grade> = c.query_row("SELECT NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(none, None);
        let bad = c
            .query_row("SELECT 'meh'", [], |r| r.get::<_, Grade>(0))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("Grade") && bad.contains("meh"), "{bad}");
    }
}
