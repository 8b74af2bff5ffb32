//! Captures everything `tracing` prints, for the tests that no secret
//! reaches a log.

use std::sync::{Arc, Mutex};

/// Collects everything tracing prints.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    /// Captures every event, and the opening and closing of every span, of
    /// this thread at `filter` (e.g. `trace`) while the guard lives.
    pub fn start(&self, filter: &str) -> tracing::subscriber::DefaultGuard {
        every_callsite_asks();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(self.clone())
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// Forgets what was captured so far.
    #[cfg(feature = "redis")]
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// What was captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Keeps tracing from caching "nobody listens" for a callsite. Every test
/// runs in one binary, and the capture is a thread-local subscriber: a
/// callsite first reached on another test's thread, at the moment a capture
/// starts, could be cached as uninteresting and missed by the capture (one
/// run in six, when these tests had binaries of their own for it). A global
/// subscriber that wants every callsite asked each time, and enables
/// nothing itself, rules that out; the rebuild corrects what was cached
/// before it was set.
fn every_callsite_asks() {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        // Set once per process; if another global were set first, the
        // rebuild below still refreshes what is cached.
        let _ = tracing::subscriber::set_global_default(AskEachTime);
    });
    tracing::callsite::rebuild_interest_cache();
}

/// The global subscriber of the test binary: interested in every callsite
/// "sometimes" (so each event asks the thread's subscriber), enabling none.
struct AskEachTime;

impl tracing::Subscriber for AskEachTime {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
