//! A background loop inside `serve` (the mail's scanner and sender, the
//! webhook worker) and how it is stopped.

use std::time::Duration;

use tokio::sync::watch;

/// A background loop running inside `serve`.
pub struct Workers {
    stop: watch::Sender<bool>,
    task: actix_web::rt::task::JoinHandle<()>,
}

impl Workers {
    /// The loop `task`, which ends once `stop` says true.
    pub fn new(stop: watch::Sender<bool>, task: actix_web::rt::task::JoinHandle<()>) -> Workers {
        Workers { stop, task }
    }

    /// Stops the loop, waiting at most `grace`. A database call in
    /// progress is let finish, so nothing claims or records behind the back
    /// of a caller that then releases the leases; a send in progress is
    /// abandoned.
    pub async fn stop(self, grace: Duration) {
        self.stop.send_replace(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!(?grace, "a background worker did not stop in time");
            abort.abort();
        }
    }
}
