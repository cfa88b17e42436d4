//! Live agents in the customer's window: the events of conversations and of the
//! desk ([`events`]) and the board of conversations waiting for or held by a
//! person ([`board`]). The bot decides who holds a conversation; this module keeps
//! and delivers what follows from it.

pub mod board;
pub mod events;

pub use board::Board;
pub use events::{Author, Event, EventBody, EventHub, EventId, Stream};
