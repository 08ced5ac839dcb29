//! Listing results cached once per key, failures included.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::OnceCell;

/// A listing: every item, or why it could not be had.
pub type Listing<T> = Result<Arc<Vec<T>>, ListingError>;

/// A listing that failed: the call, where, and a reason a person can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingError {
    pub call: &'static str,
    pub region: Option<String>,
    pub reason: crate::model::Msg,
}

impl ListingError {
    pub fn from_sdk<E>(call: &'static str, region: Option<&str>, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let reason = crate::aws::failure(call, err);
        // Logged here, once per listing, however many probes read it.
        tracing::warn!(call, region, %reason, "listing failed");
        Self { call, region: region.map(str::to_string), reason }
    }

    pub fn new(call: &'static str, region: Option<&str>, reason: impl Into<crate::model::Msg>) -> Self {
        let reason = reason.into();
        tracing::warn!(call, region, %reason, "listing failed");
        Self { call, region: region.map(str::to_string), reason }
    }
}

impl std::fmt::Display for ListingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.reason.fmt(f)
    }
}

/// One listing per key (a region, a load balancer ARN, ...), made on first use.
pub struct Keyed<T> {
    cells: Mutex<HashMap<String, Arc<OnceCell<Listing<T>>>>>,
}

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Self { cells: Mutex::new(HashMap::new()) }
    }
}

impl<T> Keyed<T> {
    /// The cached listing for `key`, listing it with `list` if nobody has yet.
    /// Concurrent callers wait for the one listing in flight.
    pub async fn get<F, Fut>(&self, key: &str, list: F) -> Listing<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Listing<T>>,
    {
        let cell = {
            // A panic while holding this lock cannot leave the map inconsistent.
            let mut cells = self.cells.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            cells.entry(key.to_string()).or_default().clone()
        };
        cell.get_or_init(list).await.clone()
    }
}

/// One global listing (IAM, S3's bucket list).
pub struct Cached<T> {
    cell: OnceCell<Listing<T>>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Self { cell: OnceCell::new() }
    }
}

impl<T> Cached<T> {
    pub async fn get<F, Fut>(&self, list: F) -> Listing<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Listing<T>>,
    {
        self.cell.get_or_init(list).await.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn each_key_is_listed_once_even_when_asked_concurrently() {
        let cache: Keyed<u32> = Keyed::default();
        let calls = AtomicUsize::new(0);
        let list = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(Arc::new(vec![1, 2]))
        };
        let (a, b, c) = tokio::join!(cache.get("r1", list), cache.get("r1", list), cache.get("r2", list));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(a.map(|v| v.len()).ok(), Some(2));
        assert!(b.is_ok() && c.is_ok());
    }

    #[tokio::test]
    async fn a_failure_is_kept_and_seen_by_every_reader() {
        let cache: Keyed<u32> = Keyed::default();
        let calls = AtomicUsize::new(0);
        let list = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ListingError::new("ec2:DescribeVolumes", Some("r1"), "denied"))
        };
        let first = cache.get("r1", list).await;
        let second = cache.get("r1", list).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a failed listing is not retried by the next probe");
        assert_eq!(first.err().map(|e| e.reason), Some(crate::model::Msg::same("denied")));
        assert!(second.is_err());
    }
}
