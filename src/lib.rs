//! bizbot: a runtime for Chinese customer-service business bots (业务机器人).
//!
//! The pipeline of a question:
//!
//! ```text
//! text ─► text::Analyzer (normalise, jieba, synonyms) ─► index::LexicalIndex (BM25, tantivy)  ─┐
//!      └► embed::Encoder (ONNX sentence model)        ─► index::VectorIndex (cosine)          ─┴► index::fuse
//! ```
//!
//! and of a customer turn (`dialogue`): `signals::gather` (the model and indexes,
//! once) → `decide::decide` (pure: session state + signals + policy → decision and
//! next state) → effects (back-end look-up, reply, transcript, turn log).
//!
//! Knowledge (`knowledge::KnowledgeBase`) is loaded from Markdown and CSV and
//! validated as a whole; `engine::Engine` indexes it.
//!
//! ```
//! use std::sync::Arc;
//! use bizbot::{Config, Engine, KnowledgeBase};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("faq.csv"), "id,question,similar,answer\n\
//!     refund,怎么退货,如何退货|退货流程,在订单页申请退货。\n\
//!     wifi,WLAN免费吗,,免费。\n")?;
//! std::fs::write(dir.path().join("synonyms.txt"), "WLAN WIFI 无线网\n")?;
//! let kb = KnowledgeBase::load(dir.path())?;
//! let config = bizbot::config::load_from(None, [])?;
//! let engine = Engine::build(kb, &config.engine_settings(), None)?; // lexical-only: no model
//! let hits = engine.search("WIFI免费吗", 3, bizbot::index::Mode::Hybrid)?;
//! assert_eq!(hits[0].entry.id, "wifi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backend;
pub mod bot;
pub mod channels;
pub mod config;
pub mod desk;
pub mod dialogue;
pub mod embed;
pub mod engine;
pub mod eval;
pub mod identity;
pub mod index;
pub mod intent;
pub mod knowledge;
pub mod learn;
pub mod live;
pub mod rerank;
pub mod server;
pub mod shared;
pub mod text;
pub mod turnlog;

pub use config::Config;
pub use engine::Engine;
pub use knowledge::KnowledgeBase;
