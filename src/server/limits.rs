//! What one client may hold: a request body has a deadline for the whole of it,
//! a client address has a bounded number of connections, and a request counts as
//! in flight exactly while it is handled (however it ends).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::ApiError;

/// Read the whole request body within `deadline` (not per chunk: a client sending
/// a byte every few seconds is cut at the deadline all the same) and at most
/// `limit` bytes, before any handler or in-flight slot is taken; then hand the
/// buffered request on.
pub(super) async fn whole_body(deadline: Duration, limit: usize, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(deadline, Limited::new(body, limit).collect()).await;
    match read {
        Err(_) => ApiError::BodyTimeout(deadline.as_secs()).into_response(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => ApiError::PayloadTooLarge.into_response(),
        Ok(Err(e)) => ApiError::InvalidJson(format!("the request body could not be read: {e}")).into_response(),
        Ok(Ok(collected)) => next.run(Request::from_parts(parts, Body::from(collected.to_bytes()))).await,
    }
}

/// Open connections per client address.
#[derive(Debug, Default)]
pub(super) struct AddressSlots {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection of an address; gives its slot back when dropped.
#[derive(Debug)]
pub(super) struct AddressSlot {
    slots: Arc<AddressSlots>,
    address: IpAddr,
}

impl AddressSlots {
    /// At most `max` connections per address; 0 = no limit.
    pub(super) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max, open: Mutex::new(HashMap::new()) })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A slot for a new connection from `address`, or `None` when it has `max` open.
    /// IPv6 clients count by their /64 (one subscriber's network), IPv4-mapped
    /// addresses as IPv4.
    pub(super) fn try_take(self: &Arc<Self>, address: IpAddr) -> Option<AddressSlot> {
        let address = client_of(address);
        let mut open = self.open();
        let n = open.entry(address).or_insert(0);
        if self.max > 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot { slots: Arc::clone(self), address })
    }
}

/// The client an address counts as: itself for IPv4, its /64 for IPv6.
fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open();
        if let Some(n) = open.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// Counts a request in flight until dropped: when its response is sent, and also
/// when the client goes away and the request's future is dropped half-way.
#[derive(Debug)]
pub(super) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    pub(super) fn start(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(counter))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_at_most_max_connections_and_slots_come_back() {
        let slots = AddressSlots::new(2);
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
        let first = slots.try_take(a).unwrap();
        let _second = slots.try_take(a).unwrap();
        assert!(slots.try_take(a).is_none(), "a third from the same address");
        assert!(slots.try_take(b).is_some(), "another address is not affected");
        drop(first);
        assert!(slots.try_take(a).is_some(), "a closed connection frees its slot");
        let v6 = AddressSlots::new(1);
        let _held = v6.try_take("2001:db8::1".parse().unwrap()).unwrap();
        assert!(v6.try_take("2001:db8::2".parse().unwrap()).is_none(), "one /64 is one client");
        assert!(v6.try_take("2001:db8:0:1::1".parse().unwrap()).is_some(), "another /64 is another");
        let unlimited = AddressSlots::new(0);
        let held: Vec<_> = (0..1000).map(|_| unlimited.try_take(a).unwrap()).collect();
        assert_eq!(held.len(), 1000);
    }

    #[test]
    fn a_dropped_request_is_no_longer_in_flight() {
        let counter = Arc::new(AtomicUsize::new(0));
        let request = async {
            let _in_flight = InFlight::start(&counter);
            std::future::pending::<()>().await;
        };
        let mut request = Box::pin(request);
        let waker = std::task::Waker::noop();
        let _ = request.as_mut().poll(&mut std::task::Context::from_waker(waker));
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        drop(request);
        assert_eq!(counter.load(Ordering::SeqCst), 0);
    }
}
