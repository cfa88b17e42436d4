//! The engine: knowledge plus its indexes, built once per load and immutable
//! afterwards, answering "which entries match this text, and what should we do?".
//!
//! No sessions, no escalation, no HTTP: those build on top of it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::embed::{BlendEncoder, EmbedConfig, EmbedError, EmbeddingCache, Encoder, OnnxEncoder};
use crate::index::{
    Excluded, Hit, IndexDoc, IndexError, Mode, NaiveBayes, RetrievalConfig, Retriever, VectorBuildStats,
};
use crate::intent::{ComplaintExamples, ComplaintModel, IntentPrediction, builtin_examples};
use crate::knowledge::{FaqEntry, FaqId, KnowledgeBase, Scenario, ScenarioId};
use crate::rerank::{self, Calibrator, Retrieved};
use crate::text::{Analyzer, BusinessNames, Homophones, NormalizeConfig};

/// The knowledge's nouns by sound (from its normalised `questions` and examples)
/// and every span of its texts, `answers` included.
fn learn_homophones(analyzer: &Analyzer, questions: &[Vec<String>], answers: &[Option<String>]) -> Homophones {
    let segmenter = analyzer.segmenter();
    let questions: Vec<&str> = questions.iter().flatten().map(String::as_str).collect();
    let words = questions.iter().flat_map(|q| segmenter.tokens(q)).filter(|w| segmenter.is_noun(w));
    Homophones::build(words, questions.iter().copied().chain(answers.iter().flatten().map(String::as_str)))
}

/// The settings an engine is built from (sections of the config; the engine does
/// not know the config as a whole).
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings<'a> {
    /// Text normalisation.
    pub text: &'a NormalizeConfig,
    /// Retrieval weights and candidate counts.
    pub retrieval: &'a RetrievalConfig,
    /// Folder of the embedding cache (empty: no cache).
    pub cache_dir: &'a Path,
    /// Example complaints for the complaint model (besides the shipped ones).
    pub complaint_examples: &'a [String],
    /// Example ordinary texts: the other class (besides the shipped ones).
    pub ordinary_examples: &'a [String],
    /// Whether the shipped examples ([`builtin_examples`]) are learned from too.
    pub builtin_complaint_examples: bool,
    /// Complaint phrases: knowledge texts containing one ("我要投诉" as an example of
    /// the complaint-channel entry) are not taught to the complaint model as
    /// ordinary.
    pub complaint_phrases: &'a [String],
    /// Generic out-of-scope texts the calibrator learns "nothing is right" from.
    pub out_of_scope_examples: &'a [String],
}

/// Load the configured encoder; `Ok(None)` when the model is disabled.
pub fn load_encoder(config: &EmbedConfig) -> Result<Option<Arc<dyn Encoder>>, EmbedError> {
    if !config.enabled {
        return Ok(None);
    }
    let first: Arc<dyn Encoder> = Arc::new(OnnxEncoder::load(config)?);
    if config.second_model_dir.as_os_str().is_empty() {
        return Ok(Some(first));
    }
    let second: Arc<dyn Encoder> =
        Arc::new(OnnxEncoder::load(&EmbedConfig { model_dir: config.second_model_dir.clone(), ..config.clone() })?);
    let w = config.second_weight;
    Ok(Some(Arc::new(BlendEncoder::new(vec![(first, 1.0 - w), (second, w)]))))
}

/// A ranked FAQ match with the text that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqMatch<'a> {
    /// The entry.
    pub entry: &'a FaqEntry,
    /// Retrieval's scores (`hit.score` is the fused score).
    pub hit: Hit,
    /// The question (or "answer") that matched best.
    pub matched: &'a str,
    /// Calibrated probability that this entry is the right one (the fused score
    /// when no calibrator could be fitted).
    pub confidence: f32,
}

/// Knowledge and its indexes.
#[derive(Debug)]
pub struct Engine {
    knowledge: KnowledgeBase,
    retriever: Retriever,
    complaints: ComplaintModel,
    slot_patterns: Vec<SlotPattern>,
    /// Normalised question → the entries that have it (standard or similar).
    questions: HashMap<String, Vec<FaqId>>,
    /// Normalised scenario example → its scenarios.
    examples: HashMap<String, Vec<ScenarioId>>,
    /// Character bigrams of each index document's texts (entries, then
    /// scenarios), for the calibrator.
    bigrams: Vec<Vec<Bigrams>>,
    /// Index terms of each index document's texts.
    terms: Vec<Vec<HashSet<String>>>,
    /// Inverse document frequency of each term over the index documents.
    idf: HashMap<String, f32>,
    /// Which index document a text's characters point to, for the calibrator.
    bayes: NaiveBayes,
    /// The knowledge's words by sound, to repair typos and typed pinyin.
    homophones: Homophones,
    /// `retrieval.other_businesses` and the documents that mention each.
    other_businesses: BusinessNames,
    /// Reranks and calibrates candidates (`None`: too little knowledge to learn).
    calibrator: Option<Calibrator>,
    /// Whether candidates are ordered by calibrated confidence (the calibrator
    /// learned from enough held-out texts) rather than by retrieval's score.
    rerank: bool,
    stats: VectorBuildStats,
}

/// A slot value found in a text (a scenario slot's pattern matched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotValue {
    /// The scenario.
    pub scenario: ScenarioId,
    /// The slot's name.
    pub slot: String,
    /// The first match.
    pub value: String,
}

type Bigrams = HashSet<(char, char)>;

/// Candidates the calibrator looks at per query.
const RERANK_DEPTH: usize = 10;

/// Held-out questions the calibrator learns from at most (spread over the entries).
const MAX_HELD_OUT: usize = 3000;

/// Held-out texts the calibrator needs to have learned from before it reorders
/// candidates: from a few (a knowledge base of single questions) it calibrates
/// roughly but ranks worse than retrieval (measured on ATEC: recall@1 0.266 →
/// 0.251 when reordered).
const MIN_RERANK_TEXTS: usize = 200;

/// FAQ entries and scenario intents ranked together for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking<'a> {
    /// FAQ entries, best first.
    pub faqs: Vec<FaqMatch<'a>>,
    /// Scenario intents, most confident first.
    pub intents: Vec<IntentPrediction>,
}

/// What an index document is.
enum Target<'a> {
    Faq(&'a FaqEntry),
    Scenario(&'a Scenario),
}

/// A scenario slot's pattern, compiled once.
#[derive(Debug)]
struct SlotPattern {
    scenario: ScenarioId,
    slot: String,
    regex: regex::Regex,
}

impl Engine {
    /// Index `knowledge` (embedding it when an encoder is given, through the
    /// configured cache). FAQ entries and scenarios go into one index: an entry's
    /// texts are its questions (its answer is the body), a scenario's are its
    /// examples, so both compete in one ranking with one calibration.
    pub fn build(
        knowledge: KnowledgeBase,
        settings: &EngineSettings<'_>,
        encoder: Option<Arc<dyn Encoder>>,
    ) -> Result<Self, IndexError> {
        let analyzer = Arc::new(Analyzer::new(settings.text.clone(), &knowledge.vocabulary));
        let faq_docs = knowledge
            .faqs
            .iter()
            .map(|f| IndexDoc { texts: f.questions().map(str::to_owned).collect(), body: Some(f.answer.clone()) });
        let scenario_docs = knowledge.scenarios.iter().map(|s| IndexDoc { texts: s.examples.clone(), body: None });
        let docs: Vec<IndexDoc> = faq_docs.chain(scenario_docs).collect();
        let mut cache = encoder.as_ref().map(|e| EmbeddingCache::open(settings.cache_dir, e.model_id(), e.dim()));
        let with_encoder = encoder.clone().zip(cache.as_mut());
        let (retriever, stats) =
            Retriever::build(Arc::clone(&analyzer), &docs, with_encoder, settings.retrieval.clone())?;
        let slot_patterns = knowledge
            .scenarios
            .iter()
            .flat_map(|s| s.slots.iter().map(move |slot| (s, slot)))
            .filter_map(|(s, slot)| {
                let regex = regex::Regex::new(&slot.pattern).ok()?;
                Some(SlotPattern { scenario: s.id.clone(), slot: slot.name.clone(), regex })
            })
            .collect();
        let mut questions: HashMap<String, Vec<FaqId>> = HashMap::new();
        for f in &knowledge.faqs {
            for q in f.questions() {
                let ids = questions.entry(analyzer.normalize(q)).or_default();
                if !ids.contains(&f.id) {
                    ids.push(f.id.clone());
                }
            }
        }
        let mut examples: HashMap<String, Vec<ScenarioId>> = HashMap::new();
        for s in &knowledge.scenarios {
            for e in &s.examples {
                examples.entry(analyzer.normalize(e)).or_default().push(s.id.clone());
            }
        }
        let normalized: Vec<Vec<String>> =
            docs.iter().map(|d| d.texts.iter().map(|t| analyzer.normalize(t)).collect()).collect();
        let complaints = {
            let (builtin_complaints, builtin_ordinary) = builtin_examples();
            let with_builtin = |own: &[String], builtin: &[String]| -> Vec<String> {
                let builtin = if settings.builtin_complaint_examples { builtin } else { &[] };
                own.iter().chain(builtin).cloned().collect()
            };
            let phrases: Vec<String> = settings.complaint_phrases.iter().map(|p| analyzer.normalize(p)).collect();
            let knowledge: Vec<String> = normalized
                .iter()
                .flatten()
                .filter(|t| !phrases.iter().any(|p| !p.is_empty() && t.contains(p.as_str())))
                .cloned()
                .collect();
            ComplaintModel::build(
                &analyzer,
                ComplaintExamples {
                    complaints: &with_builtin(settings.complaint_examples, builtin_complaints),
                    ordinary: &with_builtin(settings.ordinary_examples, builtin_ordinary),
                    knowledge: &knowledge,
                },
                encoder.zip(cache.as_mut()),
            )?
        };
        let bigrams = normalized.iter().map(|d| d.iter().map(|t| rerank::bigrams(t)).collect());
        let bayes = NaiveBayes::fit(&normalized);
        let terms: Vec<Vec<HashSet<String>>> =
            docs.iter().map(|d| d.texts.iter().map(|t| analyzer.terms(t).into_iter().collect()).collect()).collect();
        let mut df: HashMap<String, f32> = HashMap::new();
        for doc in &terms {
            for t in doc.iter().flatten().collect::<HashSet<_>>() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
        }
        let answers: Vec<Option<String>> =
            docs.iter().map(|d| d.body.as_ref().map(|b| analyzer.normalize(b))).collect();
        let homophones = learn_homophones(&analyzer, &normalized, &answers);
        let other_businesses = BusinessNames::new(
            settings.retrieval.other_businesses.iter().map(|n| analyzer.normalize(n)),
            normalized.iter().zip(&answers).map(|(texts, answer)| texts.iter().chain(answer)),
        );
        let n = terms.len() as f32;
        let idf = df.into_iter().map(|(t, d)| (t, (1.0 + (n - d + 0.5) / (d + 0.5)).ln())).collect();
        let mut engine = Self {
            bigrams: bigrams.collect(),
            terms,
            idf,
            bayes,
            homophones,
            other_businesses,
            knowledge,
            retriever,
            complaints,
            slot_patterns,
            questions,
            examples,
            calibrator: None,
            rerank: false,
            stats,
        };
        let oos_vectors = engine.retriever.embed_texts(settings.out_of_scope_examples, cache.as_mut())?;
        let held_out = engine.held_out_texts();
        engine.calibrator =
            engine.fit_calibrator(&held_out, settings.out_of_scope_examples, oos_vectors.as_deref(), cache.as_mut())?;
        engine.rerank = engine.calibrator.is_some() && held_out.len() >= MIN_RERANK_TEXTS;
        if let Some(Err(e)) = cache.as_mut().map(EmbeddingCache::save) {
            tracing::warn!("cannot write the embedding cache in {}: {e}", settings.cache_dir.display());
        }
        Ok(engine)
    }

    /// The texts of index document `doc`: an entry's questions, then a scenario's
    /// examples.
    fn doc_texts(&self, doc: usize) -> Vec<&str> {
        match self.target(doc) {
            Target::Faq(f) => f.questions().collect(),
            Target::Scenario(s) => s.examples.iter().map(String::as_str).collect(),
        }
    }

    /// What index document `doc` is.
    fn target(&self, doc: usize) -> Target<'_> {
        let faqs = &self.knowledge.faqs;
        match faqs.get(doc) {
            Some(f) => Target::Faq(f),
            None => Target::Scenario(&self.knowledge.scenarios[doc - faqs.len()]),
        }
    }

    /// Learn the calibrator from the knowledge itself: the `held_out` texts (each
    /// question of an entry with similar questions, each example of a scenario with
    /// several, [`held_out_texts`](Self::held_out_texts)) held out in turn as a
    /// query (its own entry or scenario is right, every rival wrong), once as written and once as a customer might type it (wrapped in
    /// unrelated words or missing a character, [`rerank::customer_variant`]),
    /// plus the generic out-of-scope texts (every candidate wrong, weighted to a
    /// third of the queries: they are few and stand for every other business's
    /// questions).
    fn fit_calibrator(
        &self,
        held_out: &[(usize, usize)],
        oos: &[String],
        oos_vectors: Option<&[Vec<f32>]>,
        cache: Option<&mut EmbeddingCache>,
    ) -> Result<Option<Calibrator>, IndexError> {
        let stride = held_out.len().div_ceil(MAX_HELD_OUT).max(1);
        let held_out: Vec<(usize, usize)> = held_out.iter().copied().step_by(stride).collect();
        let noisy: Vec<String> = held_out
            .iter()
            .enumerate()
            .map(|(i, &(doc, slot))| rerank::customer_variant(self.doc_texts(doc)[slot], i, oos))
            .collect();
        let noisy_vectors = self.retriever.embed_texts(&noisy, cache)?;
        let mut examples = Vec::new();
        for (i, &(doc, slot)) in held_out.iter().enumerate() {
            let vector = self.retriever.text_vector(doc, slot);
            let variant_vector = noisy_vectors.as_ref().and_then(|v| v.get(i)).map(Vec::as_slice);
            for (text, vector) in [(self.doc_texts(doc)[slot], vector.as_deref()), (noisy[i].as_str(), variant_vector)]
            {
                let text = self.masked(text);
                let hits = self.retriever.search_excluding(
                    &text,
                    vector,
                    RERANK_DEPTH,
                    Mode::Hybrid,
                    Some(Excluded::text(doc, slot)),
                )?;
                let features = self.features(&text, &hits, Some(Excluded::text(doc, slot)));
                examples.extend(features.into_iter().zip(hits.iter().map(|h| h.doc == doc)));
            }
        }
        let queries = examples.len() / RERANK_DEPTH.max(1);
        let repeat = (queries / (2 * oos.len().max(1))).max(1);
        for (i, text) in oos.iter().enumerate() {
            let vector = oos_vectors.and_then(|v| v.get(i)).map(Vec::as_slice);
            let hits = self.retriever.search_with_vector(text, vector, RERANK_DEPTH, Mode::Hybrid)?;
            for x in self.features(text, &hits, None) {
                examples.extend(std::iter::repeat_n((x, false), repeat));
            }
        }
        let model = Calibrator::fit(&examples);
        tracing::debug!(examples = examples.len(), fitted = model.is_some(), "calibrator");
        Ok(model)
    }

    /// The texts the calibrator holds out in turn: every text of a document with
    /// several.
    fn held_out_texts(&self) -> Vec<(usize, usize)> {
        (0..self.bigrams.len())
            .map(|d| (d, self.doc_texts(d).len()))
            .filter(|(_, n)| *n > 1)
            .flat_map(|(d, n)| (0..n).map(move |s| (d, s)))
            .collect()
    }

    /// Calibrator features of `hits` for `text` (ignoring the held-out text
    /// `exclude` in the bigram overlap).
    fn features(&self, text: &str, hits: &[Hit], exclude: Option<Excluded>) -> Vec<[f32; rerank::FEATURES]> {
        let normalized = self.analyzer().normalize(text);
        let query = rerank::bigrams(&normalized);
        let unknown = (1.0 + self.terms.len() as f32).ln();
        let bayes = self.bayes.evidence(&normalized, exclude);
        let mut query_terms: Vec<(String, f32)> = Vec::new();
        for t in self.analyzer().terms(text) {
            if !query_terms.iter().any(|(q, _)| *q == t) {
                let idf = self.idf.get(&t).copied().unwrap_or(unknown);
                query_terms.push((t, idf));
            }
        }
        let retrieved: Vec<Retrieved> = hits
            .iter()
            .map(|h| {
                let kept = |slot: &usize| !exclude.is_some_and(|e| e.covers(h.doc, *slot));
                let texts = self.terms.get(h.doc).map(Vec::as_slice).unwrap_or_default();
                let terms = rerank::term_coverage(&query_terms, |t| {
                    texts.iter().enumerate().any(|(slot, set)| kept(&slot) && set.contains(t))
                });

                let (overlap, coverage) = self
                    .bigrams
                    .get(h.doc)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .filter(|(slot, _)| kept(slot))
                    .map(|(_, b)| rerank::overlap(&query, b))
                    .fold((0.0f32, 0.0f32), |a, b| (a.0.max(b.0), a.1.max(b.1)));
                let posterior = bayes.posterior.get(h.doc).copied().unwrap_or(0.0);
                Retrieved {
                    fused: h.score,
                    lexical: h.lexical,
                    cosine: h.cosine,
                    overlap,
                    coverage,
                    terms,
                    bayes: posterior,
                }
            })
            .collect();
        rerank::features(&retrieved, normalized.chars().count(), bayes.known)
    }

    /// The calibrated confidence of each hit (the fused score without a calibrator).
    fn calibrate(&self, text: &str, hits: &[Hit]) -> Vec<f32> {
        match &self.calibrator {
            Some(c) => self.features(text, hits, None).iter().map(|x| c.probability(x)).collect(),
            None => hits.iter().map(|h| h.score).collect(),
        }
    }

    /// `text` without slot values (order numbers, phone numbers …): they say which
    /// order, not what the customer wants.
    fn masked<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut masked = Cow::Borrowed(text);
        for p in &self.slot_patterns {
            if p.regex.is_match(&masked) {
                masked = Cow::Owned(p.regex.replace_all(&masked, " ").into_owned());
            }
        }
        masked
    }

    /// The knowledge this engine indexes.
    pub fn knowledge(&self) -> &KnowledgeBase {
        &self.knowledge
    }

    /// The underlying retriever (FAQ entries, then scenarios).
    pub fn retriever(&self) -> &Retriever {
        &self.retriever
    }

    /// Whether dense retrieval is available.
    pub fn has_dense(&self) -> bool {
        self.retriever.has_dense()
    }

    /// How the vector index was built (texts, how many were encoded).
    pub fn vector_stats(&self) -> VectorBuildStats {
        self.stats
    }

    /// The best `k` entries for `text` in `mode`; hybrid is ranked and calibrated
    /// as in a chat turn.
    pub fn search(&self, text: &str, k: usize, mode: Mode) -> Result<Vec<FaqMatch<'_>>, IndexError> {
        if mode == Mode::Hybrid {
            return self.rank_faqs(text, self.embed_query(text)?.as_deref(), k);
        }
        let hits = self.retriever.search(&self.repaired(text), k + self.knowledge.scenarios.len(), mode)?;
        Ok(hits.into_iter().filter(|h| h.doc < self.knowledge.faqs.len()).take(k).map(|h| self.faq_match(h)).collect())
    }

    /// The query vector of `text` (`None` without a model). A turn computes it once
    /// and passes it to the ranking, so the model runs once per turn.
    pub fn embed_query(&self, text: &str) -> Result<Option<Vec<f32>>, IndexError> {
        self.retriever.embed_query(&self.repaired(text))
    }

    /// The first of `retrieval.other_businesses` that the normalised `text` names
    /// and the knowledge never mentions (questions, answers, examples).
    pub fn other_business_in(&self, normalized: &str) -> Option<&str> {
        self.other_businesses.unmentioned_in(normalized, None)
    }

    /// The first of `retrieval.other_businesses` that the normalised `text` names
    /// and the matched entry never mentions (its questions and answer): a text
    /// naming a business is that entry's question only when the entry names it too.
    pub fn other_business_for(&self, normalized: &str, best: &FaqMatch<'_>) -> Option<&str> {
        self.other_businesses.unmentioned_in(normalized, Some(best.hit.doc))
    }

    /// `text` normalised, with homophone typos and typed pinyin repaired to the
    /// knowledge's words (宽代 → 宽带, 查下yue → 查下余额): what retrieval sees.
    pub fn repaired(&self, text: &str) -> String {
        let normalized = self.analyzer().normalize(text);
        let segmenter = self.analyzer().segmenter();
        let tokens = segmenter.dictionary_tokens(&normalized);
        self.homophones.repair(&normalized, &tokens, |w| segmenter.is_word(w)).into_owned()
    }

    /// The best `k` FAQ entries for `text` (see [`rank`](Self::rank)).
    pub fn rank_faqs(&self, text: &str, vector: Option<&[f32]>, k: usize) -> Result<Vec<FaqMatch<'_>>, IndexError> {
        Ok(self.rank(text, vector, k)?.faqs)
    }

    /// FAQ entries and scenario intents for `text`, with `text`'s vector from
    /// [`embed_query`](Self::embed_query): one hybrid ranking of both (slot values
    /// masked in the lexical query), each candidate's confidence calibrated against
    /// all its rivals, so an entry's and a scenario's confidence compare. A text
    /// equal to one of an entry's questions or a scenario's examples is certain.
    /// At most `k` of each, the entries by calibrated confidence once the
    /// calibrator learned from enough held-out texts (else in retrieval order).
    pub fn rank(&self, text: &str, vector: Option<&[f32]>, k: usize) -> Result<Ranking<'_>, IndexError> {
        let repaired = self.repaired(text);
        let masked = self.masked(&repaired);
        let depth = k.max(RERANK_DEPTH);
        let hits = self.retriever.search_with_vector(&masked, vector, depth, Mode::Hybrid)?;
        let confidence = self.calibrate(&masked, &hits);
        let exact_faqs = self.exact_entries(&self.analyzer().normalize(text));
        let exact_scenarios = self.examples.get(&self.analyzer().normalize(&masked));
        let mut ranking = Ranking { faqs: Vec::new(), intents: Vec::new() };
        for (h, c) in hits.into_iter().zip(confidence) {
            match self.target(h.doc) {
                Target::Faq(f) => {
                    let c = if exact_faqs.contains(&f.id) { 1.0 } else { c };
                    ranking.faqs.push(FaqMatch { confidence: c, ..self.faq_match(h) });
                }
                Target::Scenario(s) => {
                    let exact = exact_scenarios.is_some_and(|ids| ids.contains(&s.id));
                    ranking.intents.push(IntentPrediction {
                        intent: s.id.clone(),
                        confidence: if exact { 1.0 } else { c },
                        example: s.examples.get(h.slot).cloned().unwrap_or_default(),
                    });
                }
            }
        }
        if self.rerank {
            ranking.faqs.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        }
        ranking.faqs.truncate(k);
        ranking.intents.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        ranking.intents.truncate(k);
        Ok(ranking)
    }

    /// Slot values in `text`: `(scenario, slot, first match)` for every slot
    /// pattern that matches.
    pub fn slot_values(&self, text: &str) -> Vec<SlotValue> {
        let joined = crate::text::joined_codes(text);
        self.slot_patterns
            .iter()
            .filter_map(|p| {
                let value = match p.regex.find(text) {
                    Some(m) => m.as_str().to_owned(),
                    None => joined.iter().find_map(|code| p.regex.find(code))?.as_str().to_owned(),
                };
                Some(SlotValue { scenario: p.scenario.clone(), slot: p.slot.clone(), value })
            })
            .collect()
    }

    /// Whether `text`, normalised with its slot values masked, is one of a
    /// scenario's examples (what [`rank`](Self::rank) makes certain).
    pub fn is_scenario_example(&self, text: &str) -> bool {
        let normalized = self.analyzer().normalize(text);
        self.examples.contains_key(&self.analyzer().normalize(&self.masked(&normalized)))
    }

    /// Entries with a question (standard or similar) equal to `normalized`.
    pub fn exact_entries(&self, normalized: &str) -> Vec<FaqId> {
        self.questions.get(normalized).cloned().unwrap_or_default()
    }

    /// The analyser (normalisation and segmentation) of this knowledge.
    pub fn analyzer(&self) -> &Analyzer {
        self.retriever.analyzer()
    }

    /// The probability that `text` is a complaint, from the complaint model
    /// (`None` when it has no examples to learn from).
    pub fn complaint_score(&self, text: &str) -> Result<Option<f32>, IndexError> {
        self.complaint_score_with(&self.repaired(text), None)
    }

    /// As [`complaint_score`](Self::complaint_score) for text already
    /// [`repaired`](Self::repaired) (what retrieval sees, so the n-grams and the
    /// vector describe the same text), with its vector when known (from
    /// [`embed_query`](Self::embed_query)).
    pub fn complaint_score_with(&self, repaired: &str, vector: Option<&[f32]>) -> Result<Option<f32>, IndexError> {
        if !self.complaints.is_active() || repaired.trim().is_empty() {
            return Ok(None);
        }
        let embedded = match vector {
            Some(_) => None,
            None if self.complaints.uses_vectors() => self.retriever.embed_query(repaired)?,
            None => None,
        };
        let v = vector.or(embedded.as_deref()).unwrap_or(&[]);
        Ok(self.complaints.probability(repaired, v))
    }

    /// Whether the complaint model was learned (it had complaint and ordinary examples).
    pub fn complaints_active(&self) -> bool {
        self.complaints.is_active()
    }

    /// Attach the entry and matched text to a hit.
    pub fn faq_match(&self, hit: Hit) -> FaqMatch<'_> {
        let entry = &self.knowledge.faqs[hit.doc];
        let matched = entry.questions().nth(hit.slot).unwrap_or("(answer text)");
        FaqMatch { entry, confidence: hit.score, hit, matched }
    }
}
