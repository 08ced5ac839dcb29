//! Ctrl-C for the drill, in two steps: the first interrupt stops measuring
//! and starting new restores but still waits for running jobs so that what
//! they create can be deleted; the second abandons the wait (the journal
//! then lets `drill cleanup` finish the job later).

use std::time::Duration;

use tokio::sync::watch;

/// 0 = running, 1 = interrupted (clean up), 2 = abandoned (stop waiting).
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<u8>);

#[derive(Debug)]
pub struct CancelHandle(watch::Sender<u8>);

pub fn pair() -> (CancelHandle, Cancel) {
    let (tx, rx) = watch::channel(0);
    (CancelHandle(tx), Cancel(rx))
}

impl CancelHandle {
    /// One more Ctrl-C: returns the new level (1 interrupted, 2 abandoned).
    pub fn interrupt(&self) -> u8 {
        self.0.send_modify(|v| *v = (*v + 1).min(2));
        *self.0.borrow()
    }
}

impl Cancel {
    /// A token that is never cancelled (tests, non-interactive use).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(0);
        // Keep the sender alive for the life of the process: a dropped sender would end `changed()`.
        std::mem::forget(tx);
        Self(rx)
    }

    pub fn interrupted(&self) -> bool {
        *self.0.borrow() >= 1
    }

    pub fn abandoned(&self) -> bool {
        *self.0.borrow() >= 2
    }

    /// Sleep `d`, returning early (true) once the level reaches `level`.
    pub async fn sleep_unless(&mut self, d: Duration, level: u8) -> bool {
        if *self.0.borrow() >= level {
            return true;
        }
        let wait = async {
            loop {
                if self.0.changed().await.is_err() {
                    // Sender gone: nobody can cancel any more.
                    std::future::pending::<()>().await;
                }
                if *self.0.borrow() >= level {
                    return;
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(d) => false,
            _ = wait => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_interrupts_abandon() {
        let (h, mut c) = pair();
        assert!(!c.interrupted());
        assert_eq!(h.interrupt(), 1);
        assert!(c.interrupted() && !c.abandoned());
        // Level 1 already reached: returns at once.
        assert!(c.sleep_unless(Duration::from_secs(60), 1).await);
        let h2 = std::sync::Arc::new(h);
        let h3 = h2.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            h3.interrupt();
        });
        assert!(c.sleep_unless(Duration::from_secs(60), 2).await);
        assert!(c.abandoned());
        assert!(!Cancel::never().sleep_unless(Duration::from_millis(5), 1).await);
    }
}
