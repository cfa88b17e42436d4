//! `bizbot report`: a summary of a turn log.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::TurnRecord;
use crate::knowledge::Problem;

/// What `bizbot report` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Turns read.
    pub turns: usize,
    /// Share of turns answered (from knowledge or a lookup).
    pub answer_rate: f32,
    /// Turns by action.
    pub actions: BTreeMap<String, usize>,
    /// Hand-offs by reason.
    pub handoffs: BTreeMap<String, usize>,
    /// The most frequent texts the bot could not answer (fallback, clarify, or
    /// handed off as unresolved), with their counts.
    pub unanswered: Vec<(String, usize)>,
    /// Turns and answer rate by channel (`(none)` when the request gave none).
    pub by_channel: BTreeMap<String, Share>,
    /// Turns and answer rate by the matched entry's category (`(no match)` when
    /// nothing was matched, `(unknown)` when the entry is not in the knowledge).
    pub by_category: BTreeMap<String, Share>,
    /// Per day (UTC, `YYYY-MM-DD`): turns, hand-offs and hand-offs by reason.
    pub by_day: BTreeMap<String, Day>,
    /// 👍 / 👎 on answers (`/v1/feedback`).
    pub ratings: Ratings,
    /// Conversation scores (`/v1/rating`).
    pub csat: Csat,
    /// Follow-ups: turns read with their context (`read_with` = `context`).
    pub follow_ups: Share,
    /// The most frequent follow-ups the bot still could not answer, with counts.
    pub unanswered_follow_ups: Vec<(String, usize)>,
    /// Conversations by who solved them, and the people's waiting and handling
    /// times.
    pub people: People,
}

/// Who solved conversations, and what the people's part of them took.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct People {
    /// Conversations (sessions) in the log.
    pub conversations: usize,
    /// Answered by the bot and never handed off.
    pub resolved_by_bot: usize,
    /// Handed to a person (a hand-off turn).
    pub handed_off: usize,
    /// Claimed by an agent in the window.
    pub claimed: usize,
    /// Closed by an agent as solved.
    pub resolved_by_person: usize,
    /// Closed by an agent as not solved.
    pub unresolved_by_person: usize,
    /// Waited longer than `desk.max_wait_secs` and went back to the bot.
    pub waits_run_out: usize,
    /// Time from hand-off to claim, ms.
    pub waiting_ms: Spread,
    /// Time from claim to close, ms.
    pub handling_ms: Spread,
}

/// Median and 90th percentile of some durations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spread {
    /// How many.
    pub count: usize,
    /// Median.
    pub median: u64,
    /// 90th percentile.
    pub p90: u64,
}

impl Spread {
    fn of(mut values: Vec<u64>) -> Self {
        values.sort_unstable();
        let at = |q: f64| values.get(((values.len() as f64 * q).ceil() as usize).saturating_sub(1)).copied();
        Self { count: values.len(), median: at(0.5).unwrap_or(0), p90: at(0.9).unwrap_or(0) }
    }
}

/// Whether a log line is a person's work (claim, message, transfer, close, a
/// wait run out) rather than a turn of the bot.
fn desk_action(action: &str) -> bool {
    action.starts_with("agent_")
}

/// Who solved what, from every line of the log.
fn people(records: &[TurnRecord]) -> People {
    #[derive(Default)]
    struct Seen {
        answered: bool,
        handed_off: bool,
    }
    let mut sessions: BTreeMap<&str, Seen> = BTreeMap::new();
    let mut out = People::default();
    let (mut waits, mut handling) = (Vec::new(), Vec::new());
    for r in records {
        let seen = sessions.entry(r.session.as_str()).or_default();
        match r.action.as_str() {
            "answer" => seen.answered = true,
            "handoff" => seen.handed_off = true,
            "agent_claim" => {
                out.claimed += 1;
                waits.extend(r.waited_ms);
            }
            "agent_close" => {
                match r.resolved {
                    Some(true) => out.resolved_by_person += 1,
                    Some(false) => out.unresolved_by_person += 1,
                    None => {}
                }
                handling.extend(r.handled_ms);
            }
            "agent_timeout" => out.waits_run_out += 1,
            _ => {}
        }
    }
    out.conversations = sessions.len();
    out.resolved_by_bot = sessions.values().filter(|s| s.answered && !s.handed_off).count();
    out.handed_off = sessions.values().filter(|s| s.handed_off).count();
    out.waiting_ms = Spread::of(waits);
    out.handling_ms = Spread::of(handling);
    out
}

/// Conversation scores: overall, by the session's last hand-off reason (`none`
/// when it was not handed off) and by the category of its last matched entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Csat {
    /// Overall.
    pub overall: Scores,
    /// By hand-off reason.
    pub by_handoff_reason: BTreeMap<String, Scores>,
    /// By category.
    pub by_category: BTreeMap<String, Scores>,
}

/// A set of 1–5 scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scores {
    /// How many.
    pub ratings: usize,
    /// Their mean.
    pub mean: f32,
    /// Share of 4 and 5 (CSAT).
    pub satisfied: f32,
    #[serde(skip)]
    sum: usize,
    #[serde(skip)]
    good: usize,
}

impl Scores {
    fn add(&mut self, score: u8) {
        self.ratings += 1;
        self.sum += usize::from(score);
        self.good += usize::from(score >= 4);
        self.mean = self.sum as f32 / self.ratings as f32;
        self.satisfied = self.good as f32 / self.ratings as f32;
    }
}

/// Feedback on answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ratings {
    /// Rated helpful.
    pub helpful: usize,
    /// Rated not helpful.
    pub not_helpful: usize,
}

/// A group of turns and the share answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Share {
    /// Turns.
    pub turns: usize,
    /// Of which answered.
    pub answered: usize,
    /// `answered / turns`.
    pub answer_rate: f32,
}

/// One day of turns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Day {
    /// Turns.
    pub turns: usize,
    /// Hand-offs.
    pub handoffs: usize,
    /// `handoffs / turns`.
    pub handoff_rate: f32,
    /// Hand-offs by reason.
    pub reasons: BTreeMap<String, usize>,
}

/// Summarise records; `top` unanswered texts are kept; categories unknown.
pub fn summarize(records: &[TurnRecord], top: usize) -> Report {
    summarize_with(records, top, |_| None)
}

/// The UTC calendar date of a Unix time in milliseconds, `YYYY-MM-DD`.
pub fn utc_day(ts_ms: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = (ts_ms / 86_400_000) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Scores of conversations, grouped by what happened in them before the rating.
fn csat(records: &[TurnRecord], category_of: &impl Fn(&str) -> Option<String>) -> Csat {
    let mut out = Csat::default();
    let mut seen: std::collections::HashMap<&str, (Option<&str>, Option<&str>)> = Default::default();
    for r in records {
        let state = seen.entry(r.session.as_str()).or_default();
        if let Some(reason) = &r.handoff_reason {
            state.0 = Some(reason);
        }
        if let Some(id) = &r.match_id {
            state.1 = Some(id);
        }
        let Some(score) = r.score_given.filter(|_| r.action == "rating") else { continue };
        out.overall.add(score);
        out.by_handoff_reason.entry(state.0.unwrap_or("none").to_owned()).or_default().add(score);
        let category =
            state.1.map_or_else(|| "(no match)".to_owned(), |id| category_of(id).unwrap_or_else(|| "(unknown)".into()));
        out.by_category.entry(category).or_default().add(score);
    }
    out
}

/// As [`summarize`], with `category_of(entry id)` for the by-category figures.
pub fn summarize_with(records: &[TurnRecord], top: usize, category_of: impl Fn(&str) -> Option<String>) -> Report {
    let mut actions = BTreeMap::new();
    let mut handoffs = BTreeMap::new();
    let mut unanswered: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_channel: BTreeMap<String, Share> = BTreeMap::new();
    let mut by_category: BTreeMap<String, Share> = BTreeMap::new();
    let mut by_day: BTreeMap<String, Day> = BTreeMap::new();
    let mut follow_ups = Share::default();
    let mut unanswered_follow_ups: BTreeMap<String, usize> = BTreeMap::new();
    let csat = csat(records, &category_of);
    let people = people(records);
    let records: Vec<&TurnRecord> =
        records.iter().filter(|r| r.action != "rating" && !desk_action(&r.action)).collect();
    let (ratings, records): (Vec<&TurnRecord>, Vec<&TurnRecord>) = records.iter().partition(|r| r.action == "feedback");
    let helpful = ratings.iter().filter(|r| r.helpful == Some(true)).count();
    for r in &records {
        *actions.entry(r.action.clone()).or_insert(0) += 1;
        if let Some(reason) = &r.handoff_reason {
            *handoffs.entry(reason.clone()).or_insert(0) += 1;
        }
        let answered = usize::from(r.action == "answer");
        let channel = r.channel.clone().unwrap_or_else(|| "(none)".into());
        let category = match &r.match_id {
            Some(id) => category_of(id).unwrap_or_else(|| "(unknown)".into()),
            None => "(no match)".into(),
        };
        for share in [by_channel.entry(channel).or_default(), by_category.entry(category).or_default()] {
            share.turns += 1;
            share.answered += answered;
        }
        let day = by_day.entry(utc_day(r.ts_ms)).or_default();
        day.turns += 1;
        if let Some(reason) = &r.handoff_reason {
            day.handoffs += 1;
            *day.reasons.entry(reason.clone()).or_insert(0) += 1;
        }
        let not_answered =
            matches!(r.action.as_str(), "fallback" | "clarify") || r.handoff_reason.as_deref() == Some("unresolved");
        if not_answered {
            *unanswered.entry(r.text.trim().to_owned()).or_insert(0) += 1;
        }
        if r.read_with.is_some() {
            follow_ups.turns += 1;
            follow_ups.answered += answered;
            if not_answered {
                *unanswered_follow_ups.entry(r.text.trim().to_owned()).or_insert(0) += 1;
            }
        }
    }
    let most = |counts: BTreeMap<String, usize>| {
        let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts.truncate(top);
        counts
    };
    let unanswered = most(unanswered);
    let unanswered_follow_ups = most(unanswered_follow_ups);
    follow_ups.answer_rate = follow_ups.answered as f32 / follow_ups.turns.max(1) as f32;
    let answered = actions.get("answer").copied().unwrap_or(0);
    let answer_rate = if records.is_empty() { 0.0 } else { answered as f32 / records.len() as f32 };
    for share in by_channel.values_mut().chain(by_category.values_mut()) {
        share.answer_rate = share.answered as f32 / share.turns.max(1) as f32;
    }
    for day in by_day.values_mut() {
        day.handoff_rate = day.handoffs as f32 / day.turns.max(1) as f32;
    }
    Report {
        turns: records.len(),
        answer_rate,
        actions,
        handoffs,
        unanswered,
        by_channel,
        by_category,
        by_day,
        ratings: Ratings { helpful, not_helpful: ratings.len() - helpful },
        csat,
        follow_ups,
        unanswered_follow_ups,
        people,
    }
}

/// Read a turn log; malformed lines are returned as problems (the rest is read).
pub fn read_log(path: &Path) -> Result<(Vec<TurnRecord>, Vec<Problem>), Problem> {
    let file = std::fs::File::open(path).map_err(|e| Problem::new(path, 0, "file", format!("cannot read: {e}")))?;
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line.map_err(|e| Problem::new(path, i + 1, "file", format!("cannot read: {e}")))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<TurnRecord>(&line) {
            Ok(r) => records.push(r),
            Err(e) => problems.push(Problem::new(path, i + 1, "record", e.to_string())),
        }
    }
    Ok((records, problems))
}
