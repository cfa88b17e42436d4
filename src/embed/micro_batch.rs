//! Micro-batching: texts of concurrent turns embedded in one inference call.
//!
//! A caller queues its text and, when a runner (an inference session) is free,
//! takes the queue — its own text and whatever other callers queued meanwhile, up
//! to a bound — and runs it as one batch; a caller whose text another took waits
//! for its vector. Nothing waits on purpose: an idle encoder runs each text at
//! once, and batches form only while every runner is busy.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::EmbedError;

/// How long a caller sleeps before trying again when every runner is busy (it is
/// woken sooner whenever a batch finishes).
const RETRY: Duration = Duration::from_millis(1);

/// What [`MicroBatcher::encode`]'s runner did with a batch.
pub(super) type Ran = Option<Result<Vec<Vec<f32>>, EmbedError>>;

/// The queue of texts waiting for the model, shared by concurrent callers.
#[derive(Debug)]
pub(super) struct MicroBatcher {
    max: usize,
    queue: Mutex<Queue>,
    finished: Condvar,
}

#[derive(Debug, Default)]
struct Queue {
    next: u64,
    waiting: VecDeque<(u64, String)>,
    done: HashMap<u64, Result<Vec<f32>, EmbedError>>,
}

impl MicroBatcher {
    /// A queue whose batches hold at most `max` texts (at least 1).
    pub(super) fn new(max: usize) -> Self {
        Self { max: max.max(1), queue: Mutex::new(Queue::default()), finished: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue holds plain data; a panic elsewhere leaves it consistent.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `text`'s vector. `try_run` embeds a batch when a runner is free and returns
    /// `None` when none is (the texts go back to the front of the queue).
    pub(super) fn encode(&self, text: &str, try_run: impl Fn(&[&str]) -> Ran) -> Result<Vec<f32>, EmbedError> {
        let id = {
            let mut q = self.lock();
            let id = q.next;
            q.next += 1;
            q.waiting.push_back((id, text.to_owned()));
            id
        };
        loop {
            let batch: Vec<(u64, String)> = {
                let mut q = self.lock();
                if let Some(result) = q.done.remove(&id) {
                    return result;
                }
                let n = q.waiting.len().min(self.max);
                q.waiting.drain(..n).collect()
            };
            if batch.is_empty() {
                // Another caller runs this text: wait for its vector.
                self.wait();
                continue;
            }
            let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
            match try_run(&texts) {
                Some(result) => {
                    let mut q = self.lock();
                    match result {
                        Ok(vectors) if vectors.len() == batch.len() => {
                            for ((job, _), v) in batch.into_iter().zip(vectors) {
                                q.done.insert(job, Ok(v));
                            }
                        }
                        Ok(vectors) => {
                            let reason =
                                format!("the model returned {} vectors for {} texts", vectors.len(), batch.len());
                            for (job, _) in batch {
                                q.done.insert(job, Err(EmbedError::Inference { reason: reason.clone() }));
                            }
                        }
                        Err(e) => {
                            let reason = e.to_string();
                            for (job, _) in batch {
                                q.done.insert(job, Err(EmbedError::Inference { reason: reason.clone() }));
                            }
                        }
                    }
                    drop(q);
                    self.finished.notify_all();
                }
                None => {
                    let mut q = self.lock();
                    for job in batch.into_iter().rev() {
                        q.waiting.push_front(job);
                    }
                    drop(q);
                    self.wait();
                }
            }
        }
    }

    /// Sleep until a batch finishes, or [`RETRY`] at most.
    fn wait(&self) {
        let q = self.lock();
        drop(self.finished.wait_timeout(q, RETRY).unwrap_or_else(PoisonError::into_inner));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A "model" whose vector of a text is [len, first char], with `runners` free
    /// slots, recording the batch sizes it saw.
    struct Model {
        free: AtomicUsize,
        batches: Mutex<Vec<usize>>,
    }

    impl Model {
        fn try_run(&self, texts: &[&str]) -> Ran {
            if self.free.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
            self.batches.lock().unwrap().push(texts.len());
            self.free.fetch_add(1, Ordering::SeqCst);
            if texts.contains(&"boom") {
                return Some(Err(EmbedError::Inference { reason: "boom".into() }));
            }
            Some(Ok(texts
                .iter()
                .map(|t| vec![t.chars().count() as f32, t.chars().next().map_or(0, u32::from) as f32])
                .collect()))
        }
    }

    fn vector(t: &str) -> Vec<f32> {
        vec![t.chars().count() as f32, t.chars().next().map_or(0, u32::from) as f32]
    }

    #[test]
    fn alone_a_text_runs_at_once_and_gets_its_own_vector() {
        let model = Model { free: AtomicUsize::new(1), batches: Mutex::new(Vec::new()) };
        let batcher = MicroBatcher::new(8);
        assert_eq!(batcher.encode("退货", |t| model.try_run(t)).unwrap(), vector("退货"));
        assert_eq!(*model.batches.lock().unwrap(), [1]);
    }

    #[test]
    fn concurrent_texts_share_batches_and_each_gets_its_own_vector() {
        let model = Arc::new(Model { free: AtomicUsize::new(1), batches: Mutex::new(Vec::new()) });
        let batcher = Arc::new(MicroBatcher::new(4));
        let texts: Vec<String> =
            (0..16).map(|i| format!("{}问题{}", char::from(b'a' + i as u8), "x".repeat(i))).collect();
        let handles: Vec<_> = texts
            .iter()
            .cloned()
            .map(|t| {
                let (model, batcher) = (model.clone(), batcher.clone());
                std::thread::spawn(move || (batcher.encode(&t, |b| model.try_run(b)).unwrap(), t))
            })
            .collect();
        for h in handles {
            let (v, t) = h.join().unwrap();
            assert_eq!(v, vector(&t), "{t}");
        }
        let batches = model.batches.lock().unwrap();
        assert_eq!(batches.iter().sum::<usize>(), 16, "every text ran once: {batches:?}");
        assert!(batches.iter().all(|&n| n <= 4), "bounded: {batches:?}");
        assert!(batches.len() < 16, "some texts shared a call: {batches:?}");
    }

    #[test]
    fn a_failed_batch_fails_each_of_its_texts_and_the_next_runs() {
        let model = Model { free: AtomicUsize::new(1), batches: Mutex::new(Vec::new()) };
        let batcher = MicroBatcher::new(8);
        assert!(batcher.encode("boom", |t| model.try_run(t)).is_err());
        assert_eq!(batcher.encode("退货", |t| model.try_run(t)).unwrap(), vector("退货"));
    }
}
