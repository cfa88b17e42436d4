//! The engine: knowledge plus its indexes, built once per load and immutable
//! afterwards, answering "which entries match this text, and what should we do?".
//!
//! No sessions, no escalation, no HTTP: those build on top of it.

use std::sync::Arc;

use crate::config::Config;
use crate::embed::{EmbedConfig, EmbedError, EmbeddingCache, Encoder, OnnxEncoder};
use crate::index::{Hit, IndexDoc, IndexError, Mode, Retriever, VectorBuildStats};
use crate::intent::{ComplaintExamples, IntentPrediction, IntentPredictor, MatchOutcome, ThresholdConfig, decide};
use crate::knowledge::{FaqEntry, KnowledgeBase};
use crate::text::Analyzer;

/// Load the configured encoder; `Ok(None)` when the model is disabled.
pub fn load_encoder(config: &EmbedConfig) -> Result<Option<Arc<dyn Encoder>>, EmbedError> {
    if !config.enabled {
        return Ok(None);
    }
    Ok(Some(Arc::new(OnnxEncoder::load(config)?)))
}

/// A ranked FAQ match with the text that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqMatch<'a> {
    /// The entry.
    pub entry: &'a FaqEntry,
    /// Scores.
    pub hit: Hit,
    /// The question (or "answer") that matched best.
    pub matched: &'a str,
}

/// Knowledge and its indexes.
#[derive(Debug)]
pub struct Engine {
    knowledge: KnowledgeBase,
    retriever: Retriever,
    intents: IntentPredictor,
    complaints: ComplaintExamples,
    slot_patterns: Vec<regex::Regex>,
    thresholds: ThresholdConfig,
    stats: VectorBuildStats,
}

impl Engine {
    /// Index `knowledge` (embedding it when an encoder is given, through the
    /// configured cache).
    pub fn build(
        knowledge: KnowledgeBase,
        config: &Config,
        encoder: Option<Arc<dyn Encoder>>,
    ) -> Result<Self, IndexError> {
        let analyzer = Arc::new(Analyzer::new(config.text.clone(), &knowledge.vocabulary));
        let docs: Vec<IndexDoc> = knowledge
            .faqs
            .iter()
            .map(|f| IndexDoc { texts: f.questions().map(str::to_owned).collect(), body: Some(f.answer.clone()) })
            .collect();
        let mut cache = encoder.as_ref().map(|e| EmbeddingCache::open(&config.model.cache_dir, e.model_id(), e.dim()));
        let with_encoder = encoder.clone().zip(cache.as_mut());
        let (retriever, stats) =
            Retriever::build(Arc::clone(&analyzer), &docs, with_encoder, config.retrieval.clone())?;
        let examples: Vec<(String, Vec<String>)> =
            knowledge.scenarios.iter().map(|s| (s.id.clone(), s.examples.clone())).collect();
        let complaints = ComplaintExamples::build(
            &analyzer,
            &config.escalation.complaint_examples,
            &config.escalation.ordinary_examples,
            encoder.clone().zip(cache.as_mut()),
        )?;
        let intents = IntentPredictor::train(
            analyzer,
            &examples,
            encoder.zip(cache.as_mut()),
            config.retrieval.clone(),
            config.thresholds.intent,
        )?;
        if let Some(Err(e)) = cache.as_mut().map(EmbeddingCache::save) {
            tracing::warn!("cannot write the embedding cache in {}: {e}", config.model.cache_dir.display());
        }
        // Validation compiled every pattern already; one that fails here is skipped.
        let slot_patterns = knowledge
            .scenarios
            .iter()
            .flat_map(|s| &s.slots)
            .filter_map(|slot| regex::Regex::new(&slot.pattern).ok())
            .collect();
        Ok(Self {
            knowledge,
            retriever,
            intents,
            complaints,
            slot_patterns,
            thresholds: config.thresholds.clone(),
            stats,
        })
    }

    /// The knowledge served.
    pub fn knowledge(&self) -> &KnowledgeBase {
        &self.knowledge
    }

    /// The retriever (for eval and benches).
    pub fn retriever(&self) -> &Retriever {
        &self.retriever
    }

    /// Whether dense retrieval is on.
    pub fn has_dense(&self) -> bool {
        self.retriever.has_dense()
    }

    /// How the vector index was built.
    pub fn vector_stats(&self) -> VectorBuildStats {
        self.stats
    }

    /// The best `k` entries for `text`.
    pub fn search(&self, text: &str, k: usize, mode: Mode) -> Result<Vec<FaqMatch<'_>>, IndexError> {
        Ok(self.retriever.search(text, k, mode)?.into_iter().map(|hit| self.faq_match(hit)).collect())
    }

    /// The query vector of `text` (`None` without a model). A turn computes it once
    /// and passes it to the `*_with` methods, so the model runs once per turn.
    pub fn embed_query(&self, text: &str) -> Result<Option<Vec<f32>>, IndexError> {
        self.retriever.embed_query(text)
    }

    /// Rank and decide: answer, clarify or no match.
    pub fn ask(&self, text: &str, k: usize) -> Result<(Vec<FaqMatch<'_>>, MatchOutcome), IndexError> {
        self.ask_with(text, self.embed_query(text)?.as_deref(), k)
    }

    /// As [`ask`](Self::ask) with the vector from [`embed_query`](Self::embed_query).
    pub fn ask_with(
        &self,
        text: &str,
        vector: Option<&[f32]>,
        k: usize,
    ) -> Result<(Vec<FaqMatch<'_>>, MatchOutcome), IndexError> {
        let hits =
            self.retriever.search_with_vector(text, vector, k.max(self.thresholds.clarify_candidates), Mode::Hybrid)?;
        let outcome = decide(&hits, &self.thresholds);
        Ok((hits.into_iter().take(k).map(|h| self.faq_match(h)).collect(), outcome))
    }

    /// The scenario intent of `text`, if one is predicted above `thresholds.intent`.
    ///
    /// Slot values (order numbers, phone numbers …) are removed first: they say which
    /// order, not what the customer wants, and only blur the match.
    pub fn predict_intent(&self, text: &str) -> Result<Option<IntentPrediction>, IndexError> {
        self.predict_intent_with(text, None)
    }

    /// As [`predict_intent`](Self::predict_intent) with `text`'s vector when known;
    /// it is used only when no slot value had to be removed.
    pub fn predict_intent_with(
        &self,
        text: &str,
        vector: Option<&[f32]>,
    ) -> Result<Option<IntentPrediction>, IndexError> {
        let mut masked = std::borrow::Cow::Borrowed(text);
        for re in &self.slot_patterns {
            if re.is_match(&masked) {
                masked = std::borrow::Cow::Owned(re.replace_all(&masked, " ").into_owned());
            }
        }
        match (&masked, vector) {
            (std::borrow::Cow::Borrowed(_), Some(v)) => self.intents.predict_with(&masked, Some(v)),
            _ => self.intents.predict(&masked),
        }
    }

    /// How much more `text` reads like the complaint examples than like the
    /// ordinary ones (`None` without a model).
    pub fn complaint_margin(&self, text: &str) -> Result<Option<f32>, IndexError> {
        self.complaint_margin_with(text, None)
    }

    /// As [`complaint_margin`](Self::complaint_margin) with `text`'s vector when known.
    pub fn complaint_margin_with(&self, text: &str, vector: Option<&[f32]>) -> Result<Option<f32>, IndexError> {
        if !self.complaints.is_active() {
            return Ok(None);
        }
        let normalized = self.retriever.analyzer().normalize(text);
        let embedded;
        let v = match vector {
            Some(v) if !normalized.is_empty() => v,
            _ => match self.complaints.embed(&normalized)? {
                Some(v) => {
                    embedded = v;
                    &embedded
                }
                None => return Ok(None),
            },
        };
        let known = self.retriever.top_text_cosines(v, 3)?;
        Ok(Some(self.complaints.margin(v, &known)))
    }

    /// Attach the entry and matched text to a hit.
    pub fn faq_match(&self, hit: Hit) -> FaqMatch<'_> {
        let entry = &self.knowledge.faqs[hit.doc];
        let matched = entry.questions().nth(hit.slot).unwrap_or("(answer text)");
        FaqMatch { entry, hit, matched }
    }
}
