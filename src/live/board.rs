//! The board of conversations handed to a person — waiting in a queue or held by
//! an agent — that the agents' queue lists. Each conversation's own session is
//! the truth (its [`Seat`]); the board is an index of them, written after the
//! session is saved, in this process or in one Redis hash shared by the replicas.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::dialogue::Seat;
use crate::shared::{RedisSessions, StoreError};

/// The conversations with a seat.
#[derive(Debug)]
pub enum Board {
    /// In this process.
    Memory(Mutex<BTreeMap<String, Seat>>),
    /// In Redis, shared by the replicas.
    Redis(Arc<RedisSessions>),
}

impl Board {
    fn key(store: &RedisSessions) -> String {
        format!("{}desk", store.prefix())
    }

    /// Session `id` has `seat` now (`None`: back with the bot).
    pub async fn set(&self, id: &str, seat: Option<&Seat>) -> Result<(), StoreError> {
        match self {
            Self::Memory(seats) => {
                let mut seats = seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match seat {
                    Some(seat) => seats.insert(id.to_owned(), seat.clone()),
                    None => seats.remove(id),
                };
            }
            Self::Redis(store) => {
                let mut connection = store.connection().await?;
                let _: i64 = match seat {
                    Some(seat) => {
                        let json = serde_json::to_string(seat).map_err(|e| StoreError::other(e.to_string()))?;
                        redis::cmd("HSET").arg(Self::key(store)).arg(id).arg(json).query_async(&mut connection).await?
                    }
                    None => redis::cmd("HDEL").arg(Self::key(store)).arg(id).query_async(&mut connection).await?,
                };
            }
        }
        Ok(())
    }

    /// Every conversation with a seat, longest waiting first.
    pub async fn all(&self) -> Result<Vec<(String, Seat)>, StoreError> {
        let mut seats: Vec<(String, Seat)> = match self {
            Self::Memory(seats) => {
                let seats = seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                seats.iter().map(|(id, seat)| (id.clone(), seat.clone())).collect()
            }
            Self::Redis(store) => {
                let mut connection = store.connection().await?;
                let raw: Vec<(String, String)> =
                    redis::cmd("HGETALL").arg(Self::key(store)).query_async(&mut connection).await?;
                raw.into_iter()
                    .filter_map(|(id, json)| match serde_json::from_str(&json) {
                        Ok(seat) => Some((id, seat)),
                        Err(e) => {
                            tracing::warn!("desk board: the seat of a session does not parse ({e}); skipped");
                            None
                        }
                    })
                    .collect()
            }
        };
        seats.sort_by(|a, b| a.1.queued_ms.cmp(&b.1.queued_ms).then_with(|| a.0.cmp(&b.0)));
        Ok(seats)
    }
}
