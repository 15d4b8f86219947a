//! The question model: what one entry of a bank is, once it has been validated.
//!
//! Everything here is plain data. Parsing and validation live in `load`, selection in `pick`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How hard a question is. Optional in a bank; a question without one only matches
/// filters that do not ask for a difficulty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub const ALL: [Difficulty; 3] = [Difficulty::Easy, Difficulty::Medium, Difficulty::Hard];

    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        }
    }
}

impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Difficulty {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "easy" => Ok(Difficulty::Easy),
            "medium" => Ok(Difficulty::Medium),
            "hard" => Ok(Difficulty::Hard),
            other => Err(format!(
                "unknown difficulty `{other}`; use one of: easy, medium, hard"
            )),
        }
    }
}

/// One validated question of the bank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// Stable kebab-case identifier, unique across all bank files.
    pub id: String,
    /// Kebab-case category, e.g. `technical` or `behavioral`.
    pub category: String,
    /// The question text (shown as an embed description).
    pub question: String,
    /// The model answer (shown as an embed description when revealed).
    pub answer: String,
    /// Kebab-case tags, possibly empty.
    pub tags: Vec<String>,
    pub difficulty: Option<Difficulty>,
    /// Wrong options a quiz may offer next to the correct one (`quiz_answer` when there is
    /// one, else `answer`), possibly empty.
    pub distractors: Vec<String>,
    /// Shown after a quiz question is closed.
    pub explanation: Option<String>,
    /// What an interviewer ticks off while listening: 3–6 short claims, most important first;
    /// empty when the bank has none. Shown under the model answer.
    pub key_points: Vec<String>,
    /// Questions an interviewer asks next (1–3), possibly empty; discussion prompts for a
    /// daily post's thread.
    pub follow_ups: Vec<String>,
    /// The correct quiz option: a one-line statement, so it stands among one-line
    /// distractors without giving itself away by its length, as a paragraph `answer` would.
    pub quiz_answer: Option<String>,
}

impl Question {
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}
