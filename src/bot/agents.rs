//! What agents do to a conversation handed to a person: see the queue, read a
//! conversation, claim it, write to the customer, transfer it to another queue,
//! close it (back to the bot), and what happens to one that waited too long.
//!
//! Every change is made with the session locked (on every replica, with the
//! shared store), so two agents claiming one conversation are served one after
//! the other and the second finds it taken. The events follow once the session
//! is saved ([`Bot::finish`]).

use std::sync::Arc;

use serde::Serialize;

use super::{Bot, LockedSession, Outgoing, SessionError, event_record, now_ms};
use crate::dialogue::{self, DialogueState, Holder, Pending, Seat, Speaker, TranscriptLine};
use crate::live::{Author, EventBody, EventHub};
use crate::turnlog::TurnRecord;

/// Why an agent's request was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AgentError {
    /// No such session.
    #[error("no such session")]
    UnknownSession,
    /// The conversation is with the bot: nobody handed it to a person.
    #[error("the conversation is with the bot, not waiting for a person")]
    NotHandedOff,
    /// Another agent holds the conversation.
    #[error("the conversation is held by {0}")]
    HeldBy(String),
    /// It waits in the queue: claim it before writing to the customer.
    #[error("the conversation waits in the queue; claim it first")]
    NotClaimed,
    /// The session could not be had.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// A conversation on the agents' board.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    /// The session.
    pub session_id: String,
    /// Waiting (`queued`) or held (`agent`).
    pub owner: Holder,
    /// Place among the conversations waiting in the same queue, 1 = next; none
    /// once held.
    pub position: Option<usize>,
    /// Seconds since it was handed off.
    pub waited_secs: u64,
    /// Queue, reason, summary, agent, customer.
    pub seat: Seat,
}

/// A conversation as an agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Conversation {
    /// The session.
    pub session_id: String,
    /// Who holds it.
    pub owner: Holder,
    /// Where it waits and who holds it; none while the bot holds it.
    pub seat: Option<Seat>,
    /// The conversation so far (as kept: `session.max_transcript` lines).
    pub transcript: Vec<TranscriptLine>,
}

/// The state event of a conversation that starts waiting.
pub(super) fn queued(seat: &Seat) -> EventBody {
    EventBody::State {
        owner: Holder::Queued,
        agent: None,
        queue: Some(seat.queue.clone()),
        reason: Some(seat.reason),
        summary: Some(seat.summary.clone()),
        queued_ms: Some(seat.queued_ms),
        closed: false,
        resolved: None,
    }
}

fn both(body: EventBody) -> Outgoing {
    Outgoing { customer: true, agents: true, desk: true, body }
}

/// A turn-log line for a person's work on session `id`.
fn desk_record(id: &str, action: &str, seat: &Seat, now: u64) -> TurnRecord {
    let waited_until = seat.claimed_ms.unwrap_or(now);
    TurnRecord {
        agent: seat.agent.clone(),
        waited_ms: Some(waited_until.saturating_sub(seat.queued_ms)),
        channel: seat.channel.clone(),
        user: seat.customer.clone(),
        ..event_record(id, action)
    }
}

impl Bot {
    /// The events of conversations and of the desk.
    pub fn events(&self) -> &Arc<EventHub> {
        &self.events
    }

    /// Every conversation waiting for or held by a person, longest waiting first.
    pub async fn queue(&self) -> Result<Vec<QueueItem>, SessionError> {
        let now = now_ms();
        let mut waiting_before: std::collections::HashMap<String, usize> = Default::default();
        let items = self
            .board
            .all()
            .await?
            .into_iter()
            .map(|(session_id, seat)| {
                let owner = seat.holder();
                let position = (owner == Holder::Queued).then(|| {
                    let n = waiting_before.entry(seat.queue.clone()).or_default();
                    *n += 1;
                    *n
                });
                let waited_secs = now.saturating_sub(seat.queued_ms) / 1000;
                QueueItem { session_id, owner, position, waited_secs, seat }
            })
            .collect();
        Ok(items)
    }

    /// Session `id` locked, `None` when it does not exist.
    async fn lock_existing(&self, id: &str) -> Result<Option<LockedSession>, SessionError> {
        if !self.session_exists(id).await? {
            return Ok(None);
        }
        Ok(Some(self.lock_session(id).await?))
    }

    /// Session `id` as an agent sees it; `None` when it does not exist.
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>, SessionError> {
        let Some(locked) = self.lock_existing(id).await? else { return Ok(None) };
        let session = &locked.guard;
        let conversation = Conversation {
            session_id: id.to_owned(),
            owner: session.holder(),
            seat: session.seat.clone(),
            transcript: session.transcript.clone(),
        };
        self.finish(locked).await?;
        Ok(Some(conversation))
    }

    /// Run `change` on session `id`'s seat, with the session locked and saved after.
    async fn with_seat<T>(
        &self,
        id: &str,
        change: impl FnOnce(&mut LockedSession, u64) -> Result<T, AgentError>,
    ) -> Result<T, AgentError> {
        let Some(mut locked) = self.lock_existing(id).await? else {
            // Expired: it leaves the queue too.
            let _ = self.board.set(id, None).await;
            return Err(AgentError::UnknownSession);
        };
        let result = match &locked.guard.seat {
            None => Err(AgentError::NotHandedOff),
            Some(_) => change(&mut locked, now_ms()),
        };
        if result.is_ok() && !self.finish_saved(locked).await? {
            // The lock ran out (a store too slow): nothing was saved nor sent.
            return Err(AgentError::Session(SessionError::Busy(crate::dialogue::SessionBusy)));
        }
        result
    }

    /// Agent `agent` takes conversation `id` from the queue. Claiming one the same
    /// agent holds is a no-op; one another agent holds is refused.
    pub async fn claim(&self, id: &str, agent: &str) -> Result<Seat, AgentError> {
        let seat = self
            .with_seat(id, |locked, now| {
                let Some(seat) = locked.guard.seat.as_mut() else { return Err(AgentError::NotHandedOff) };
                match &seat.agent {
                    Some(holder) if holder == agent => return Ok(None),
                    Some(holder) => return Err(AgentError::HeldBy(holder.clone())),
                    None => {}
                }
                seat.agent = Some(agent.to_owned());
                seat.claimed_ms = Some(now);
                let seat = seat.clone();
                locked.seat_changed = true;
                locked.outbox.push(both(EventBody::State {
                    owner: Holder::Agent,
                    agent: Some(agent.to_owned()),
                    queue: Some(seat.queue.clone()),
                    reason: None,
                    summary: None,
                    queued_ms: Some(seat.queued_ms),
                    closed: false,
                    resolved: None,
                }));
                Ok(Some(seat))
            })
            .await?;
        match seat {
            Some(seat) => {
                self.log.write(desk_record(id, "agent_claim", &seat, now_ms()));
                Ok(seat)
            }
            None => self.with_seat(id, |locked, _| Ok(locked.guard.seat.clone().expect("seated"))).await,
        }
    }

    /// The agent holding conversation `id` writes `text` to the customer. With
    /// `agent`, only that agent may.
    pub async fn agent_says(&self, id: &str, agent: Option<&str>, text: &str) -> Result<(), AgentError> {
        let limit = self.snapshot().config.session.transcript_limit();
        let seat = self
            .with_seat(id, |locked, _| {
                let seat = locked.guard.seat.clone().ok_or(AgentError::NotHandedOff)?;
                let holder = seat.agent.clone().ok_or(AgentError::NotClaimed)?;
                if agent.is_some_and(|a| a != holder) {
                    return Err(AgentError::HeldBy(holder));
                }
                locked.guard.record(Speaker::Agent, text, limit);
                locked.outbox.push(both(EventBody::Message {
                    from: Author::Agent,
                    text: text.to_owned(),
                    agent: Some(holder),
                }));
                Ok(seat)
            })
            .await?;
        self.log.write(TurnRecord { text: text.to_owned(), ..desk_record(id, "agent_message", &seat, now_ms()) });
        Ok(())
    }

    /// An agent is typing in conversation `id` (the customer's widget shows it).
    pub async fn agent_typing(&self, id: &str, agent: &str) -> Result<(), AgentError> {
        let stream = crate::live::Stream::Session(id.to_owned());
        let body = EventBody::Typing { agent: agent.to_owned() };
        self.events.publish(&stream, id, body).await.map_err(|e| AgentError::Session(e.into()))?;
        Ok(())
    }

    /// Conversation `id` goes to the back of queue `queue`, for any agent of it to
    /// claim; it waits (and `desk.max_wait_secs` counts) from now.
    pub async fn transfer(&self, id: &str, queue: &str) -> Result<Seat, AgentError> {
        let seat = self
            .with_seat(id, |locked, now| {
                let Some(seat) = locked.guard.seat.as_mut() else { return Err(AgentError::NotHandedOff) };
                let before = seat.clone();
                seat.queue = queue.to_owned();
                seat.agent = None;
                seat.claimed_ms = None;
                seat.queued_ms = now;
                let seat = seat.clone();
                locked.seat_changed = true;
                locked.outbox.push(both(queued(&seat)));
                Ok((before, seat))
            })
            .await?;
        let (before, after) = seat;
        self.log.write(TurnRecord { text: queue.to_owned(), ..desk_record(id, "agent_transfer", &before, now_ms()) });
        Ok(after)
    }

    /// Conversation `id` goes back to the bot: closed by an agent (`resolved`:
    /// whether the problem was solved, when said) or released by the desk. The
    /// widget then asks for a rating.
    pub async fn close(&self, id: &str, resolved: Option<bool>) -> Result<(), AgentError> {
        let closed = self.snapshot().config.messages.agent_closed.clone();
        let limit = self.snapshot().config.session.transcript_limit();
        let seat = self
            .with_seat(id, |locked, _| {
                let seat = locked.guard.seat.clone().ok_or(AgentError::NotHandedOff)?;
                dialogue::release(&mut locked.guard);
                locked.guard.record(Speaker::System, &closed, limit);
                locked.seat_changed = true;
                locked.outbox.push(both(EventBody::State {
                    owner: Holder::Bot,
                    agent: seat.agent.clone(),
                    queue: Some(seat.queue.clone()),
                    reason: None,
                    summary: None,
                    queued_ms: None,
                    closed: true,
                    resolved,
                }));
                locked.outbox.push(both(EventBody::Message { from: Author::System, text: closed, agent: None }));
                Ok(seat)
            })
            .await?;
        let now = now_ms();
        self.log.write(TurnRecord {
            handled_ms: seat.claimed_ms.map(|c| now.saturating_sub(c)),
            resolved,
            ..desk_record(id, "agent_close", &seat, now)
        });
        Ok(())
    }

    /// Conversations that waited for a person longer than `desk.max_wait_secs`
    /// go back to the bot, which asks for a number to call back; conversations
    /// whose session expired leave the queue. How many went back.
    pub async fn end_long_waits(&self) -> Result<usize, SessionError> {
        let snapshot = self.snapshot();
        let max_wait_ms = snapshot.config.desk.max_wait_secs.saturating_mul(1000);
        let message = snapshot.config.messages.agent_wait_over.clone();
        let limit = snapshot.config.session.transcript_limit();
        let too_long = |seat: &Seat, now: u64| {
            max_wait_ms > 0 && seat.agent.is_none() && now.saturating_sub(seat.queued_ms) > max_wait_ms
        };
        let mut ended = 0;
        for (id, seat) in self.board.all().await? {
            if !self.session_exists(&id).await? {
                self.board.set(&id, None).await?;
                continue;
            }
            if !too_long(&seat, now_ms()) {
                continue;
            }
            let result = self
                .with_seat(&id, |locked, now| {
                    let seat = locked.guard.seat.clone().ok_or(AgentError::NotHandedOff)?;
                    if !too_long(&seat, now) {
                        return Err(AgentError::HeldBy(seat.agent.unwrap_or_default()));
                    }
                    locked.guard.state = DialogueState { pending: Pending::Callback, ..DialogueState::default() };
                    locked.guard.seat = None;
                    locked.guard.record(Speaker::System, &message, limit);
                    locked.seat_changed = true;
                    locked.outbox.push(both(EventBody::State {
                        owner: Holder::Bot,
                        agent: None,
                        queue: Some(seat.queue.clone()),
                        reason: None,
                        summary: None,
                        queued_ms: None,
                        closed: false,
                        resolved: None,
                    }));
                    locked.outbox.push(both(EventBody::Message {
                        from: Author::System,
                        text: message.clone(),
                        agent: None,
                    }));
                    Ok(seat)
                })
                .await;
            match result {
                Ok(seat) => {
                    self.log.write(desk_record(&id, "agent_timeout", &seat, now_ms()));
                    ended += 1;
                }
                // A session gone (expired) leaves the board.
                Err(AgentError::UnknownSession | AgentError::NotHandedOff) => {
                    let _ = self.board.set(&id, None).await;
                }
                // A turn holds it now: the next sweep looks again.
                Err(AgentError::Session(SessionError::Busy(_))) => {}
                Err(AgentError::Session(e)) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(ended)
    }
}
