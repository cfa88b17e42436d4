//! Escalation policy: when a turn goes to a person. Pure functions over plain data.

use serde::{Deserialize, Serialize};

/// Escalation rules (`[escalation]` in bizbot.toml); each can be switched off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// Hand off at once when the customer complains.
    pub complaint: bool,
    /// Phrases that mark a complaint (matched after normalisation, as substrings).
    pub complaint_phrases: Vec<String>,
    /// Words of worry or asking just before a complaint phrase ("怕乱扣钱", "会不会
    /// 乱扣") that make it a question, not a complaint.
    pub complaint_hedges: Vec<String>,
    /// Modals before a complaint phrase ("要", "会", "能") that, with a particle of
    /// `complaint_question_tails` after it, make it a question ("解约要赔钱不？") …
    pub complaint_question_modals: Vec<String>,
    /// … those particles, right after the phrase and ending the clause.
    pub complaint_question_tails: Vec<String>,
    /// Example complaints the complaint model learns from, besides the shipped ones.
    pub complaint_examples: Vec<String>,
    /// Example ordinary texts (questions, thanks, praise): the other class.
    pub ordinary_examples: Vec<String>,
    /// Whether the complaint model also learns from the shipped examples
    /// (`config/complaint-examples.csv`, several trades).
    #[serde(default = "default_true")]
    pub builtin_complaint_examples: bool,
    /// Complaint probability (from the complaint model) at or above which a text
    /// is a complaint, 0..=1.
    pub complaint_threshold: f32,
    /// Shortest text (in characters) the model may call a complaint: a short
    /// follow-up ("还是不行") reads as negative without being a complaint; short
    /// complaints are caught by phrases.
    #[serde(alias = "complaint_similarity_min_chars")]
    pub complaint_model_min_chars: usize,
    /// Hand off when the customer asks for a person.
    pub human_request: bool,
    /// Phrases that ask for a person (matched without spaces, after normalisation).
    pub human_phrases: Vec<String>,
    /// Words for the bot itself ("机器人", "自动回复") …
    pub bot_words: Vec<String>,
    /// … and words rejecting it ("不", "别", "听不懂"): a text with one of each asks
    /// for a person ("我不想跟机器说话", "机器人根本听不懂").
    pub bot_rejections: Vec<String>,
    /// Verbs of asking for someone ("转", "找", "叫") …
    pub human_verbs: Vec<String>,
    /// … and the people asked for ("客服", "主管", "负责人"): a verb followed by a
    /// person asks for one ("给我转个客服", "找你们主管", "叫个管事的来"); see
    /// [`is_human_request`] for where a verb counts.
    pub human_nouns: Vec<String>,
    /// Words that may stand around a person when the text is nothing else ("客服呢",
    /// "有客服吗", "在线客服", "客服客服客服"): such a text asks for one.
    pub human_fillers: Vec<String>,
    /// Words that make a text mentioning a person a question about the service
    /// instead ("人工客服电话是多少", "人工几点上班"): no hand-off for it.
    pub human_question_words: Vec<String>,
    /// Hand off when the same problem stays unresolved.
    pub unresolved: bool,
    /// Unresolved turns on one problem before handing off.
    pub max_unresolved_turns: u32,
    /// Hand off entries flagged `handoff`.
    pub flagged_entries: bool,
}

/// Why a turn was handed to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer complained.
    Complaint,
    /// The customer asked for a person.
    HumanRequested,
    /// The same problem stayed unresolved for too many turns.
    Unresolved,
    /// The matched entry is marked to always hand off.
    EntryFlagged,
    /// A scenario's required back-end lookup failed.
    LookupFailed,
}

impl HandoffReason {
    /// Every reason, for metrics.
    pub const ALL: [HandoffReason; 5] =
        [Self::Complaint, Self::HumanRequested, Self::Unresolved, Self::EntryFlagged, Self::LookupFailed];

    /// The snake_case name used in the API and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complaint => "complaint",
            Self::HumanRequested => "human_requested",
            Self::Unresolved => "unresolved",
            Self::EntryFlagged => "entry_flagged",
            Self::LookupFailed => "lookup_failed",
        }
    }
}

fn default_true() -> bool {
    true
}

/// Whether the text is a complaint: a complaint phrase in the normalised text, or
/// a complaint probability (`None` without a complaint model) at or above
/// `complaint_threshold`. Ignores whether the rule is switched on.
pub fn is_complaint(normalized: &str, score: Option<f32>, config: &EscalationConfig) -> bool {
    let long_enough = normalized.chars().filter(|c| !c.is_whitespace()).count() >= config.complaint_model_min_chars;
    has_unhedged_phrase(normalized, config) || (long_enough && score.is_some_and(|p| p >= config.complaint_threshold))
}

/// Most characters between a hedge or a modal and the complaint phrase after it
/// ("怕乱扣" has none, "会不会又乱扣" one).
const HEDGE_REACH: usize = 3;

/// Words that contain a hedge but are not one: "太可怕了 乱扣我话费" complains.
const NOT_HEDGES: &[&str] = &["可怕", "恐怕", "哪怕", "不怕", "要不要脸"];

/// A text without its spaces, remembering where they were: a space ends a clause
/// like punctuation does, yet "态度 恶劣" still holds the phrase 态度恶劣.
struct Clauses {
    chars: Vec<char>,
    /// `breaks[i]`: spaces were removed right before `chars[i]`.
    breaks: Vec<bool>,
}

impl Clauses {
    fn new(text: &str) -> Self {
        let (mut chars, mut breaks, mut space) = (Vec::new(), Vec::new(), false);
        for c in text.chars() {
            if c.is_whitespace() {
                space = true;
            } else {
                chars.push(c);
                breaks.push(space);
                space = false;
            }
        }
        Self { chars, breaks }
    }

    /// Whether `word` starts at `i`.
    fn at(&self, i: usize, word: &[char]) -> bool {
        !word.is_empty() && self.chars.get(i..i + word.len()) == Some(word)
    }

    /// Where `word` starts without cutting a number in two: "12315" is in
    /// "打12315投诉" but not in the order number "123156789". (Latin words cannot be
    /// held to word boundaries: the text has lost its spaces.)
    fn occurrences<'a>(&'a self, word: &'a [char]) -> impl Iterator<Item = usize> + 'a {
        let digit = |i: Option<usize>| i.and_then(|i| self.chars.get(i)).is_some_and(char::is_ascii_digit);
        (0..self.chars.len()).filter(move |&i| {
            self.at(i, word)
                && !(word[0].is_ascii_digit() && digit(i.checked_sub(1)))
                && !(word[word.len() - 1].is_ascii_digit() && digit(Some(i + word.len())))
        })
    }

    /// Whether a clause starts at `i` (the text's start, a space or punctuation
    /// before it).
    fn starts_clause(&self, i: usize) -> bool {
        i == 0 || self.breaks.get(i).copied().unwrap_or(true) || !self.chars[i - 1].is_alphanumeric()
    }

    /// Whether a clause ends right before `k` (the text's end, a space or
    /// punctuation at `k`).
    fn ends_clause(&self, k: usize) -> bool {
        k >= self.chars.len() || self.breaks[k] || !self.chars[k].is_alphanumeric()
    }

    /// Whether `chars[from..=to]` lies within one clause.
    fn one_clause(&self, from: usize, to: usize) -> bool {
        (from + 1..=to.min(self.chars.len())).all(|k| !self.starts_clause(k))
    }

    /// Whether one of `words` ends at most [`HEDGE_REACH`] characters before `i`, in
    /// the same clause, and is not part of a word of `not`.
    fn before(&self, i: usize, words: &[Vec<char>], not: &[Vec<char>]) -> bool {
        words.iter().any(|w| {
            (0..=HEDGE_REACH).any(|gap| {
                i.checked_sub(gap + w.len()).is_some_and(|s| {
                    self.at(s, w)
                        && self.one_clause(s, i)
                        && !not.iter().any(|n| {
                            (s.saturating_sub(n.len())..=s).any(|t| t + n.len() >= s + w.len() && self.at(t, n))
                        })
                })
            })
        })
    }
}

/// `list` as words of characters, spaces removed, empty words dropped.
fn char_words<S: AsRef<str>>(list: &[S]) -> Vec<Vec<char>> {
    list.iter()
        .map(|w| w.as_ref().chars().filter(|c| !c.is_whitespace()).collect::<Vec<char>>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether a complaint phrase occurs in `normalized` other than hedged: after a
/// word of worry (`complaint_hedges`: "怕乱扣钱"), or as a question — a modal before
/// it and a particle ending the clause after it ("解约要赔钱不"), unless 不是 makes
/// it rhetorical ("这不是要抢钱吗"). A hedge or modal counts only in the phrase's
/// own clause.
fn has_unhedged_phrase(normalized: &str, config: &EscalationConfig) -> bool {
    let text = Clauses::new(normalized);
    let (hedges, not_hedges) = (char_words(&config.complaint_hedges), char_words(NOT_HEDGES));
    let (modals, tails) = (char_words(&config.complaint_question_modals), char_words(&config.complaint_question_tails));
    let rhetorical = [vec!['不', '是']];
    char_words(&config.complaint_phrases).iter().any(|p| {
        text.occurrences(p).any(|i| {
            let end = i + p.len();
            let hedged = text.before(i, &hedges, &not_hedges);
            let asked = text.before(i, &modals, &[])
                && !text.before(i, &rhetorical, &[])
                && tails.iter().any(|t| text.at(end, t) && text.ends_clause(end + t.len()));
            !hedged && !asked
        })
    })
}

/// Whether one of `phrases` occurs in `normalized`, spaces aside, without cutting a
/// number in two.
fn contains_any(normalized: &str, phrases: &[String]) -> bool {
    let text = Clauses::new(normalized);
    char_words(phrases).iter().any(|p| text.occurrences(p).next().is_some())
}

/// What may come right before an asking verb besides the start of a clause: "给我转",
/// "请安排", "帮忙转" — never the first half of a word ("需要", "原来", "可以转账").
const ASKERS: &[char] = &['我', '你', '请', '帮', '忙', '给', '快', '烦', '就', '再', '先', '能', '去'];

/// Words that may stand between an asking verb and the person (at most two): "转个客服",
/// "找你们主管", "我要找客服", "我要跟客服说".
const GAP_WORDS: &[&str] =
    &["个", "一个", "一下", "下", "你们", "你们的", "位", "一位", "找", "转", "叫", "接", "跟", "和"];

/// Whether an asking verb of `verbs`, at the start of a clause or after one of
/// [`ASKERS`], is followed by a person of `nouns`, with at most two [`GAP_WORDS`]
/// between.
fn asks_for_someone(text: &str, verbs: &[String], nouns: &[String]) -> bool {
    let text = Clauses::new(text);
    let (verbs, nouns, gaps) = (char_words(verbs), char_words(nouns), char_words(GAP_WORDS));
    let person_after = |j: usize| -> bool {
        let person = |k: usize| nouns.iter().any(|n| text.at(k, n));
        person(j)
            || gaps.iter().filter(|g| text.at(j, g)).any(|g| {
                let k = j + g.len();
                person(k) || gaps.iter().any(|h| text.at(k, h) && person(k + h.len()))
            })
    };
    (0..text.chars.len()).any(|i| {
        let placed = text.starts_clause(i) || ASKERS.contains(&text.chars[i - 1]);
        placed && verbs.iter().any(|v| text.at(i, v) && person_after(i + v.len()))
    })
}

/// Whether `text` is nothing but persons of `nouns` (at least one) and words of
/// `fillers`, punctuation and spaces aside; longest words first.
fn only_someone(text: &str, nouns: &[String], fillers: &[String]) -> bool {
    let mut rest: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut words: Vec<(Vec<char>, bool)> = char_words(nouns)
        .into_iter()
        .map(|n| (n, true))
        .chain(char_words(fillers).into_iter().map(|f| (f, false)))
        .collect();
    words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    let mut person = false;
    'strip: while !rest.is_empty() {
        for (w, is_person) in &words {
            if rest.starts_with(w) {
                rest.drain(..w.len());
                person |= is_person;
                continue 'strip;
            }
        }
        return false;
    }
    person
}

/// How a clause asks for someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asking {
    /// A human phrase or an asking verb followed by a person: "转人工", "给我找客服".
    Explicitly,
    /// Nothing but a person and fillers: "客服呢", "人工".
    Barely,
}

/// Whether and how `text` asks for someone.
fn asks_for_person(text: &str, config: &EscalationConfig) -> Option<Asking> {
    if contains_any(text, &config.human_phrases) || asks_for_someone(text, &config.human_verbs, &config.human_nouns) {
        Some(Asking::Explicitly)
    } else if only_someone(text, &config.human_nouns, &config.human_fillers) {
        Some(Asking::Barely)
    } else {
        None
    }
}

/// The clauses of a normalised text: split at spaces and punctuation.
fn clauses(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || (!c.is_alphanumeric() && c != '_')).filter(|c| !c.is_empty())
}

/// Words that contain a rejection of the bot but are none: "充电也特别慢 感觉是机器
/// 本身有问题" speaks of a device, it does not reject the bot.
const NOT_REJECTIONS: &[&str] =
    &["特别", "区别", "分别", "类别", "级别", "差别", "个别", "识别", "别人", "别的", "告别", "性别", "辨别"];

/// Whether `clause` names the bot and rejects it ("不想跟机器说话", "别用机器人",
/// "机器人根本听不懂"), in the same clause.
fn rejects_bot(clause: &str, config: &EscalationConfig) -> bool {
    if !contains_any(clause, &config.bot_words) {
        return false;
    }
    let mut rest = clause.to_owned();
    for word in NOT_REJECTIONS {
        rest = rest.replace(word, " ");
    }
    contains_any(&rest, &config.bot_rejections)
}

/// Whether the text asks for a person: one of its clauses rejects the bot or
/// asks for someone and is not a question about the service that only mentions
/// one ("人工几点上班", "人工客服电话是多少"). A question in another clause does not
/// take an explicit request back: "打了好几次电话都没人接 给我转人工" asks for a
/// person; but a bare person next to a question is the question's subject ("客服
/// 电话多少"). A request that only the whole text makes (a phrase split by spaces,
/// "zhuan ren gong") is read on the whole text.
pub fn is_human_request(normalized: &str, config: &EscalationConfig) -> bool {
    if clauses(normalized).any(|c| rejects_bot(c, config)) {
        return true;
    }
    let question = |text: &str| contains_any(text, &config.human_question_words);
    let asking: Vec<(&str, Asking)> =
        clauses(normalized).filter_map(|c| asks_for_person(c, config).map(|how| (c, how))).collect();
    if asking.is_empty() {
        return asks_for_person(normalized, config).is_some() && !question(normalized);
    }
    asking.iter().any(|&(clause, how)| match how {
        Asking::Explicitly => !question(clause),
        Asking::Barely => !question(normalized),
    })
}

/// A request in the text itself: a complaint or a request for a person. A
/// complaint phrase wins over a request for a person (it is the more urgent
/// queue); a request for a person wins over the complaint model, which reads
/// impatience with the bot ("不要机器人 我要真人") as anger.
pub fn detect(normalized: &str, complaint_score: Option<f32>, config: &EscalationConfig) -> Option<HandoffReason> {
    if config.complaint && has_unhedged_phrase(normalized, config) {
        return Some(HandoffReason::Complaint);
    }
    if config.human_request && is_human_request(normalized, config) {
        return Some(HandoffReason::HumanRequested);
    }
    if config.complaint && is_complaint(normalized, complaint_score, config) {
        return Some(HandoffReason::Complaint);
    }
    None
}

/// How a turn bears on the customer's problem, for the unresolved streak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Answered, looked up, or moved on (a detail was asked for or given): the
    /// streak starts again.
    Moved,
    /// Not answered: a fallback, a clarification, the same question again, the
    /// same detail asked for again, a failed look-up, "not helpful" feedback.
    Stuck,
}

/// The unresolved streak after a turn: consecutive stuck turns count, whatever
/// candidate each one was about (a fallback followed by clarifications does not
/// restart the count); a turn that moves the problem on resets it.
pub fn next_streak(streak: u32, progress: Progress) -> u32 {
    match progress {
        Progress::Moved => 0,
        Progress::Stuck => streak.saturating_add(1),
    }
}

/// Whether `streak` unresolved turns call for a person.
pub fn unresolved_limit_reached(streak: u32, config: &EscalationConfig) -> bool {
    config.unresolved && streak >= config.max_unresolved_turns.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EscalationConfig {
        EscalationConfig {
            complaint: true,
            complaint_phrases: vec!["投诉".into(), "举报".into(), "12315".into(), "乱扣".into(), "赔钱".into()],
            complaint_hedges: vec!["怕".into(), "会不会".into()],
            complaint_question_modals: vec!["要".into(), "会".into()],
            complaint_question_tails: vec!["不".into(), "吗".into()],
            complaint_examples: vec![],
            ordinary_examples: vec![],
            complaint_threshold: 0.9,
            builtin_complaint_examples: false,
            complaint_model_min_chars: 6,
            human_request: true,
            human_phrases: vec!["转人工".into(), "人工客服".into(), "real person".into()],
            human_question_words: vec!["电话".into()],
            human_verbs: vec!["转".into(), "找".into(), "叫".into()],
            human_nouns: vec!["客服".into(), "主管".into()],
            human_fillers: vec!["在线".into(), "有".into(), "吗".into(), "呢".into()],
            bot_words: vec!["机器".into()],
            bot_rejections: vec!["不".into()],
            unresolved: true,
            max_unresolved_turns: 3,
            flagged_entries: true,
        }
    }

    #[test]
    fn a_question_in_another_clause_does_not_take_a_request_back() {
        let c = config();
        assert!(is_human_request("打了好几次电话都没人接 给我转人工", &c));
        assert!(is_human_request("电话打不通，转人工客服", &c));
        assert!(!is_human_request("人工客服电话是多少", &c));
        assert!(!is_human_request("人工客服电话是多少 我记不住", &c));
        assert!(!is_human_request("客服 电话多少", &c));
        assert!(is_human_request(
            "客服呢 打电话没人接",
            &EscalationConfig { human_question_words: vec![], ..c.clone() }
        ));
        assert!(is_human_request(
            "zhuan ren gong",
            &EscalationConfig { human_phrases: vec!["zhuanrengong".into()], ..c }
        ));
    }

    #[test]
    fn phrases_are_detected() {
        assert_eq!(detect("我要投诉你们", None, &config()), Some(HandoffReason::Complaint));
        assert_eq!(detect("帮我转人工", None, &config()), Some(HandoffReason::HumanRequested));
        assert_eq!(detect("投诉 转人工", None, &config()), Some(HandoffReason::Complaint));
        assert_eq!(detect("怎么退货", None, &config()), None);
        assert_eq!(detect("i need a realperson", None, &config()), Some(HandoffReason::HumanRequested));
        assert_eq!(detect("人工客服电话是多少", None, &config()), None);
        assert_eq!(detect("我不想跟机器说话", None, &config()), Some(HandoffReason::HumanRequested));
        assert_eq!(detect("不跟机器聊 打电话都比这快", None, &config()), Some(HandoffReason::HumanRequested));
    }

    #[test]
    fn rejecting_the_bot_takes_both_words_in_one_clause_and_no_look_alikes() {
        let c = EscalationConfig { bot_rejections: vec!["不".into(), "别".into()], ..config() };
        assert_eq!(detect("别用机器人回我", None, &c), Some(HandoffReason::HumanRequested));
        assert_eq!(detect("充电也特别慢 感觉是机器本身有问题", None, &c), None, "特别 is no 别");
        assert_eq!(detect("机器本身有问题 不知道怎么办", None, &c), None, "another clause");
    }

    #[test]
    fn an_asking_verb_before_a_person_asks_for_one() {
        assert_eq!(detect("给我转个客服", None, &config()), Some(HandoffReason::HumanRequested));
        assert_eq!(detect("找你们 主管", None, &config()), Some(HandoffReason::HumanRequested));
        assert_eq!(detect("叫客服来", None, &config()), Some(HandoffReason::HumanRequested));
        assert_eq!(detect("找一下你们客服电话", None, &config()), None, "a question about the service");
        assert_eq!(detect("客服找不到我的订单", None, &config()), None, "the person comes first");
        assert_eq!(detect("转账到哪个账户 我问过客服", None, &config()), None, "too far apart");
        assert_eq!(detect("有人让我转账说是客服", None, &config()), None, "three characters apart");
        for alone in ["客服", "客服呢？", "有客服吗", "在线客服", "客服客服客服"] {
            assert_eq!(detect(alone, None, &config()), Some(HandoffReason::HumanRequested), "{alone}");
        }
        assert_eq!(detect("联系客服", None, &config()), None, "not only fillers");
        assert_eq!(detect("在线", None, &config()), None, "no person");
    }

    #[test]
    fn a_hedged_or_asked_phrase_is_a_question() {
        assert_eq!(detect("漫游怎么关 怕乱扣钱", None, &config()), None);
        assert_eq!(detect("会不会又乱扣费", None, &config()), None);
        assert_eq!(detect("合约没到期 解约要赔钱不", None, &config()), None);
        assert_eq!(detect("解约要赔钱吗？", None, &config()), None);
        assert_eq!(detect("你们这不是乱扣吗！！", None, &config()), Some(HandoffReason::Complaint), "rhetorical");
        assert_eq!(detect("乱扣我钱 必须赔钱", None, &config()), Some(HandoffReason::Complaint));
        assert_eq!(detect("赔钱不赔", None, &config()), Some(HandoffReason::Complaint), "不 does not end it");
        assert_eq!(detect("怕什么 我要投诉", None, &config()), Some(HandoffReason::Complaint), "one plain use");
        assert_eq!(detect("你们会不会做事，乱扣我钱", None, &config()), Some(HandoffReason::Complaint), "other clause");
        assert_eq!(detect("你们在乱扣吗", None, &config()), Some(HandoffReason::Complaint), "no modal: rhetorical");
        assert_eq!(detect("必须 赔 钱", None, &config()), Some(HandoffReason::Complaint), "spaces inside");
    }

    #[test]
    fn numbers_and_latin_words_match_whole() {
        assert_eq!(detect("再不处理我打12315", None, &config()), Some(HandoffReason::Complaint));
        assert_eq!(detect("12315！", None, &config()), Some(HandoffReason::Complaint));
        assert_eq!(detect("订单号1231567890到哪了", None, &config()), None);
        assert_eq!(detect("单号812315", None, &config()), None);
    }

    #[test]
    fn rules_can_be_switched_off() {
        let off = EscalationConfig { complaint: false, human_request: false, unresolved: false, ..config() };
        assert_eq!(detect("我要投诉 转人工", Some(0.99), &off), None);
        assert!(!unresolved_limit_reached(10, &off));
    }

    #[test]
    fn the_complaint_models_probability_counts() {
        assert_eq!(detect("等了两个小时", Some(0.97), &config()), Some(HandoffReason::Complaint));
        assert_eq!(detect("等了两个小时", Some(0.2), &config()), None);
        assert_eq!(detect("还是不行", Some(0.97), &config()), None, "short follow-ups need a phrase");
        assert_eq!(
            detect("不要机器人了 我要人工服务", Some(0.97), &config()),
            Some(HandoffReason::HumanRequested),
            "asking for a person is not a complaint for the model alone"
        );
        assert_eq!(detect("我要投诉 转人工", Some(0.2), &config()), Some(HandoffReason::Complaint), "a phrase wins");
    }

    #[test]
    fn stuck_turns_count_and_progress_resets() {
        let streak = [Progress::Stuck, Progress::Stuck].iter().fold(0, |s, p| next_streak(s, *p));
        assert_eq!(streak, 2);
        assert_eq!(next_streak(streak, Progress::Moved), 0);
        assert_eq!(next_streak(u32::MAX, Progress::Stuck), u32::MAX);
    }

    #[test]
    fn third_unresolved_turn_escalates() {
        assert!(!unresolved_limit_reached(2, &config()));
        assert!(unresolved_limit_reached(3, &config()));
    }
}
