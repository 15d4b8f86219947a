//! Question of the day: when each guild's post is due (pure, in `schedule`), and the driver
//! that posts exactly once per local date (in `discord::daily`).

pub mod schedule;
