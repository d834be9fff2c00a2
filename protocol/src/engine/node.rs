//! One host's engines together: the name service and the browser, which registers its names and
//! asks its questions through the name service. The driver feeds a [`Node`] everything that
//! arrives on UDP 137 and 138, and sends what it gives back.

use std::collections::VecDeque;
use std::net::SocketAddrV4;

use super::browser::{BrowserConfig, BrowserEngine, BrowserEvent};
use super::dgram::DgramDrop;
use super::names::{Disposition, NameConfig, NameEngine, NameEvent};
use super::{IfaceAddr, IfaceId, Instant, Rng, Service, Transmit};

/// What happened in either engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// From the name service.
    Name(NameEvent),
    /// From the browser.
    Browser(BrowserEvent),
}

/// The engines of one host.
#[derive(Debug)]
pub struct Node {
    names: NameEngine,
    browser: BrowserEngine,
    events: VecDeque<Event>,
}

impl Node {
    /// A host with both engines; `rng` seeds them.
    pub fn new(names: NameConfig, browser: BrowserConfig, mut rng: Rng) -> Self {
        let browser_rng = Rng::new(rng.next_u64());
        Node {
            names: NameEngine::new(names, rng),
            browser: BrowserEngine::new(browser, browser_rng),
            events: VecDeque::new(),
        }
    }

    /// The name engine.
    pub fn names(&self) -> &NameEngine {
        &self.names
    }

    /// Counts requests the driver answered from the name engine's answer tables (see
    /// [`NameEngine::count_fast_answers`]).
    pub fn count_fast_answers(&mut self, queries: u64, statuses: u64) {
        self.names.count_fast_answers(queries, statuses);
    }

    /// Counts node status requests the driver's fast path dropped over the per-source rate
    /// limit (see [`NameEngine::count_fast_rate_limited`]).
    pub fn count_fast_rate_limited(&mut self, statuses: u64) {
        self.names.count_fast_rate_limited(statuses);
    }

    /// The browser engine.
    pub fn browser(&self) -> &BrowserEngine {
        &self.browser
    }

    /// The browser engine, for restoring a saved browse list.
    pub fn browser_mut(&mut self) -> &mut BrowserEngine {
        &mut self.browser
    }

    /// Starts serving an interface address.
    pub fn add_interface(&mut self, now: Instant, addr: IfaceAddr) {
        self.names.add_interface(now, addr.clone());
        self.browser.add_interface(now, addr);
        self.pump(now);
    }

    /// Stops serving an interface address (see [`NameEngine::remove_interface`]). With
    /// `release` (the address still works), the browser says goodbye on its subnet and the
    /// names are released there; without, both are dropped silently.
    pub fn remove_interface(&mut self, now: Instant, id: IfaceId, release: bool) {
        self.browser.remove_interface(id, release);
        self.names.remove_interface(now, id, release);
        self.pump(now);
    }

    /// Handles a datagram that arrived for `service` on interface `id`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        service: Service,
        id: IfaceId,
        src: SocketAddrV4,
        to_broadcast: bool,
        bytes: &[u8],
    ) -> Disposition {
        let d = match service {
            Service::Name => self
                .names
                .handle_datagram(now, id, src, to_broadcast, bytes),
            Service::Datagram => match self.browser.datagram_layer().receive(now, src, bytes) {
                Ok(m) => self.browser.handle_mailslot(now, id, &m, &mut self.names),
                Err(DgramDrop::Malformed(e)) => Disposition::Malformed(e),
                Err(DgramDrop::Fragment) => Disposition::Ignored("fragment kept for reassembly"),
                Err(DgramDrop::Unhandled) => Disposition::Ignored("not a mailslot write"),
            },
        };
        self.pump(now);
        d
    }

    /// Runs what is due in both engines.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.names.handle_timeout(now);
        self.pump(now);
        self.browser.handle_timeout(now, &mut self.names);
        self.pump(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.names.poll_timeout(), self.browser.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.names
            .poll_transmit()
            .or_else(|| self.browser.poll_transmit())
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Leaves the network: the browser says goodbye, then every name is released.
    pub fn shutdown(&mut self, now: Instant) {
        self.browser.shutdown(now);
        self.names.shutdown(now);
        self.pump(now);
    }

    /// Hands name events to the browser (which may act on the name engine again) until both
    /// are quiet, and queues every event for the driver.
    fn pump(&mut self, now: Instant) {
        for _ in 0..64 {
            let Some(e) = self.names.poll_event() else {
                break;
            };
            self.browser.on_name_event(now, &mut self.names, &e);
            self.push(Event::Name(e));
        }
        while let Some(e) = self.browser.poll_event() {
            self.push(Event::Browser(e));
        }
    }

    fn push(&mut self, e: Event) {
        if self.events.len() < 4096 {
            self.events.push_back(e);
        }
    }
}
