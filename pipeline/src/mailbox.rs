//! A one-slot hand-over between GStreamer's streaming thread and the consumer, with the
//! backpressure policy made explicit and every drop counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::Backpressure;

/// What the producer side delivers.
#[derive(Debug)]
pub enum Item<T> {
    Frame(T),
    /// End of stream.
    Eos,
}

#[derive(Debug)]
pub struct Mailbox<T> {
    slot: Mutex<Option<Item<T>>>,
    cv: Condvar,
    policy: Backpressure,
    closed: AtomicBool,
    pub dropped: AtomicU64,
    pub delivered: AtomicU64,
}

/// Result of waiting for an item.
#[derive(Debug)]
pub enum Take<T> {
    Item(Item<T>),
    Timeout,
    Closed,
}

impl<T> Mailbox<T> {
    pub fn new(policy: Backpressure) -> Self {
        Self {
            slot: Mutex::new(None),
            cv: Condvar::new(),
            policy,
            closed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// Producer: hands over an item. With `LatestWins` an unread frame is replaced (and counted
    /// as dropped); with `Block` the producer waits until the slot is free or the mailbox closes.
    /// Returns `false` when the mailbox is closed.
    pub fn put(&self, item: Item<T>) -> bool {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if self.policy == Backpressure::Block {
            while slot.is_some() && !self.closed.load(Ordering::SeqCst) {
                slot = self
                    .cv
                    .wait_timeout(slot, Duration::from_millis(100))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
        if self.closed.load(Ordering::SeqCst) {
            return false;
        }
        if let Some(Item::Frame(_)) = slot.replace(item) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.cv.notify_all();
        true
    }

    /// Consumer: waits up to `timeout` for the next item.
    pub fn take(&self, timeout: Duration) -> Take<T> {
        let deadline = Instant::now() + timeout;
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(item) = slot.take() {
                if matches!(item, Item::Frame(_)) {
                    self.delivered.fetch_add(1, Ordering::Relaxed);
                }
                self.cv.notify_all();
                return Take::Item(item);
            }
            if self.closed.load(Ordering::SeqCst) {
                return Take::Closed;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Take::Timeout;
            }
            slot = self
                .cv
                .wait_timeout(slot, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// What is waiting, without taking it: `Some(true)` a frame, `Some(false)` end of stream.
    pub fn peek(&self) -> Option<bool> {
        let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map(|i| matches!(i, Item::Frame(_)))
    }

    /// Wakes everyone; later puts are refused and takes return `Closed` once empty.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _guard = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        self.cv.notify_all();
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn latest_wins_keeps_the_newest_frame_and_counts_the_replaced_ones() {
        let m = Mailbox::new(Backpressure::LatestWins);
        for i in 0..5 {
            assert!(m.put(Item::Frame(i)));
        }
        match m.take(Duration::from_millis(10)) {
            Take::Item(Item::Frame(v)) => assert_eq!(v, 4),
            other => panic!("{other:?}"),
        }
        assert_eq!(m.dropped.load(Ordering::Relaxed), 4);
        assert_eq!(m.delivered.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn block_makes_the_producer_wait_and_loses_nothing() {
        let m = Arc::new(Mailbox::new(Backpressure::Block));
        let p = {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    m.put(Item::Frame(i));
                }
                m.put(Item::Eos);
            })
        };
        let mut got = Vec::new();
        loop {
            match m.take(Duration::from_secs(5)) {
                Take::Item(Item::Frame(v)) => got.push(v),
                Take::Item(Item::Eos) => break,
                other => panic!("{other:?}"),
            }
        }
        p.join().expect("producer");
        assert_eq!(got, (0..50).collect::<Vec<_>>());
        assert_eq!(m.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn closing_releases_a_blocked_producer() {
        let m = Arc::new(Mailbox::new(Backpressure::Block));
        m.put(Item::Frame(1));
        let p = {
            let m = m.clone();
            std::thread::spawn(move || m.put(Item::Frame(2)))
        };
        std::thread::sleep(Duration::from_millis(50));
        m.close();
        assert!(!p.join().expect("producer"));
    }

    #[test]
    fn an_empty_mailbox_times_out() {
        let m: Mailbox<u8> = Mailbox::new(Backpressure::LatestWins);
        assert!(matches!(m.take(Duration::from_millis(20)), Take::Timeout));
    }
}
