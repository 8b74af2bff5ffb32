//! The agent's connections: accepted under a cap, each given a bounded time
//! to send its request head, and closed gracefully at a stop.
//!
//! `axum::serve` does neither: it sets no timer on hyper (so hyper's own
//! header timeout never runs) and accepts without limit. On loopback TCP any
//! local user can connect before the key is checked, and one who opens
//! connections and sends nothing would use up the agent's file descriptors,
//! which its calls to AMP and its token store need too, and would hold every
//! stop for `--shutdown-timeout`. Here a connection costs a slot for as long
//! as it lives, a slot is freed when the head does not arrive in time, and
//! an idle connection is closed at once when the agent stops.

use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{watch, Semaphore};

/// How the connections of one listener are served.
pub struct Connections {
    /// Slots for the listener's open connections (each listener has its own).
    pub slots: Arc<Semaphore>,
    /// How long a connection may take to send a request's head (first, or
    /// next on a kept-alive connection) before it is closed.
    pub head_timeout: Duration,
}

/// Serves `router` on `listener` until `stop` turns true; then stops
/// accepting, lets each connection finish the request it is answering
/// (an idle one is closed at once), and returns when all have ended.
pub async fn serve<L: Listener>(
    mut listener: L,
    router: Router,
    limits: Connections,
    mut stop: watch::Receiver<bool>,
) {
    let mut open = tokio::task::JoinSet::new();
    loop {
        // Ended connections are reaped as we go, so the set does not grow.
        while open.try_join_next().is_some() {}
        // A slot first: at the cap, nothing more is accepted (callers wait
        // in the kernel's queue) until a connection ends.
        let slot = tokio::select! {
            slot = Arc::clone(&limits.slots).acquire_owned() => slot,
            () = stopped(&mut stop) => break,
        };
        let Ok(slot) = slot else { break };
        let io = tokio::select! {
            (io, _) = listener.accept() => io,
            () = stopped(&mut stop) => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let mut stopping = stop.clone();
        let head_timeout = limits.head_timeout;
        open.spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout)
                .serve_connection(TokioIo::new(io), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopped(&mut stopping) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    while open.join_next().await.is_some() {}
}

/// Resolves when the stop is given (or its sender is gone: a stop too),
/// holding no borrow of the channel afterwards.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
