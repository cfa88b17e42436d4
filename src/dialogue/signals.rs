//! Signals: everything the model and the indexes say about one customer text,
//! computed once per turn and handed to the decision as plain data.
//!
//! This is the only place in `dialogue` that runs the model or the indexes; the
//! decision (`decide`) reads the signals and nothing else, so it can be tested with
//! hand-built signals and no model.

use crate::engine::Engine;
pub use crate::engine::SlotValue;
use crate::index::IndexError;
use crate::knowledge::{FaqId, ScenarioId};

/// Ranked FAQ candidates kept per turn: enough to clarify, suggest related
/// questions and give the agent suggested answers.
pub const FAQ_CANDIDATES: usize = 8;

/// Ranked scenario intents kept per turn.
const INTENT_CANDIDATES: usize = 3;

/// An FAQ entry ranked for the text, with the features the ranking saw.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqCandidate {
    /// The entry.
    pub id: FaqId,
    /// Calibrated confidence in [0, 1]: the probability that it is right.
    pub score: f32,
    /// Retrieval's fused score in [0, 1].
    pub fused: f32,
    /// Lexical part in [0, 1].
    pub lexical: f32,
    /// Best cosine to the entry's questions, when the model ran.
    pub cosine: Option<f32>,
    /// The question (or answer text) that matched best.
    pub matched: String,
}

/// A scenario intent ranked for the text.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentCandidate {
    /// The scenario.
    pub id: ScenarioId,
    /// Confidence in [0, 1].
    pub score: f32,
    /// The example utterance that matched best.
    pub example: String,
}

/// What is known about one customer turn before deciding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signals {
    /// The text as typed.
    pub text: String,
    /// Normalised (width, case, traditional → simplified, punctuation), with
    /// homophone typos and typed pinyin repaired to the knowledge's words.
    pub normalized: String,
    /// Whether the request names the customer (`user.id`).
    pub user_known: bool,
    /// The text's vector (`None` without a model).
    pub vector: Option<Vec<f32>>,
    /// The complaint model's probability that the text is a complaint (`None`
    /// without examples to learn from, or when the rule is off).
    pub complaint_score: Option<f32>,
    /// FAQ entries, best first.
    pub faqs: Vec<FaqCandidate>,
    /// Scenario intents, best first, ranked with the FAQ entries (slot values
    /// masked for the lexical part) so their confidences compare.
    pub intents: Vec<IntentCandidate>,
    /// Slot values in the text.
    pub slots: Vec<SlotValue>,
    /// Entries one of whose questions is exactly the normalised text.
    pub exact: Vec<FaqId>,
    /// Another business the text names (`retrieval.other_businesses`) that the best
    /// FAQ candidate never mentions (without candidates: that the knowledge never
    /// mentions).
    pub other_business: Option<String>,
    /// The message says again what the customer's previous message said (most of
    /// its character pairs): asked again, not followed up. Answering the same
    /// entry again is then no progress.
    pub repeated: bool,
    /// Entries to offer when no candidate is sure enough to clarify ("您是想问"): for
    /// a message read in its conversation, the problem's own entry and the entries
    /// related to it, best first; empty for a message read alone.
    pub offers: Vec<FaqCandidate>,
}

/// What [`gather`] needs to know besides the text.
#[derive(Debug, Clone, Copy)]
pub struct SignalOptions {
    /// Compute the complaint probability (the complaint rule is on).
    pub complaints: bool,
    /// FAQ candidates to keep (at least [`FAQ_CANDIDATES`]).
    pub candidates: usize,
    /// The request names the customer.
    pub user_known: bool,
}

/// Run the model once and the indexes over `text`.
pub fn gather(engine: &Engine, text: &str, options: SignalOptions) -> Result<Signals, IndexError> {
    complete(engine, text_signals(engine, text, options.user_known), options)
}

/// [`gather`] for a text whose [`text_signals`] are already known.
pub fn complete(engine: &Engine, mut signals: Signals, options: SignalOptions) -> Result<Signals, IndexError> {
    let text = signals.text.clone();
    let text = text.as_str();
    let vector = engine.embed_query(text)?;
    let v = vector.as_deref();
    let ranking = engine.rank(text, v, options.candidates.max(FAQ_CANDIDATES))?;
    signals.complaint_score =
        if options.complaints { engine.complaint_score_with(&signals.normalized, v)? } else { None };
    signals.other_business = match ranking.faqs.first() {
        Some(best) => engine.other_business_for(&signals.normalized, best).map(str::to_owned),
        None => signals.other_business,
    };
    signals.faqs = ranking
        .faqs
        .into_iter()
        .map(|m| FaqCandidate {
            id: m.entry.id.clone(),
            score: m.confidence,
            fused: m.hit.score,
            lexical: m.hit.lexical,
            cosine: m.hit.cosine,
            matched: m.matched.to_owned(),
        })
        .collect();
    signals.intents = ranking
        .intents
        .into_iter()
        .take(INTENT_CANDIDATES)
        .map(|p| IntentCandidate { id: p.intent, score: p.confidence, example: p.example })
        .collect();
    signals.vector = vector;
    Ok(signals)
}

/// The signals that need neither the model nor an index: normalised text, slot
/// values, exact questions. Retrieval fields are left empty.
pub fn text_signals(engine: &Engine, text: &str, user_known: bool) -> Signals {
    let normalized = engine.repaired(text);
    Signals {
        text: text.to_owned(),
        exact: engine.exact_entries(&normalized),
        other_business: engine.other_business_in(&normalized).map(str::to_owned),
        normalized,
        user_known,
        slots: engine.slot_values(text),
        ..Signals::default()
    }
}
