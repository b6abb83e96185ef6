//! Where evidence bytes live. Owns receiving an upload into a temporary file
//! under the data folder (counted, hashed and removed again whatever
//! happens), and the content-addressed blob stores behind one small trait:
//! the local data folder (default) and an S3-compatible object store (for
//! several instances), chosen by configuration.
//!
//! A blob is named by the SHA-256 of its bytes, so two rows naming the same
//! bytes share one blob. Making a blob appear ([`BlobStore::promote`]) or
//! disappear ([`BlobStore::remove`]) happens only inside a database
//! transaction that holds the content lock
//! ([`crate::db::attachments::lock_content`]): those two calls block, and
//! run on the database's blocking threads.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_web::web::Bytes;
use anyhow::Context;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::settings::{S3Settings, StorageBackend, StorageSettings};

/// Temporary files older than this at start-up were left by a crash.
const STALE_AFTER: Duration = Duration::from_secs(3600);
/// Bytes read or sent per chunk when streaming a blob.
const CHUNK: usize = 64 * 1024;

/// The bytes of a blob, streamed.
pub struct Blob {
    pub size: u64,
    pub stream: BoxStream<'static, Result<Bytes, io::Error>>,
}

/// Received bytes made ready for [`BlobStore::promote`].
#[derive(Debug)]
pub enum Staged {
    /// The temporary file itself: renaming it is all promotion takes.
    Local(PathBuf),
    /// A copy under the bucket's `staging/` prefix: promotion is a
    /// server-side copy, quick enough to hold the content lock for.
    Object(ObjectPath),
}

/// A content-addressed store of evidence blobs.
pub trait BlobStore: Send + Sync {
    /// What and where, for the logs.
    fn describe(&self) -> String;

    /// Prepares received bytes for promotion, outside any transaction: the
    /// slow part (sending them to an object store) happens here.
    fn stage<'a>(&'a self, received: &'a ReceivedFile) -> BoxFuture<'a, anyhow::Result<Staged>>;

    /// Makes the staged bytes the blob `sha256`, unless it exists already.
    /// True when this call stored it. Blocking; call under the content lock.
    fn promote(&self, staged: &Staged, sha256: &str) -> anyhow::Result<bool>;

    /// Forgets staged bytes (promoted or not).
    fn discard(&self, staged: Staged) -> BoxFuture<'_, ()>;

    /// Removes the blob `sha256`; absent already is fine. Blocking; call
    /// under the content lock, once no committed row names it.
    fn remove(&self, sha256: &str) -> anyhow::Result<()>;

    /// The blob's bytes, or `None` when it is not stored.
    fn open<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Blob>>>;
}

/// The evidence store of the running service: the configured blob store
/// and the folder uploads are received into.
pub struct EvidenceStore {
    blobs: Arc<dyn BlobStore>,
    incoming_dir: PathBuf,
}

impl EvidenceStore {
    /// Opens the configured backend. An object store is not waited for (its
    /// stale staging is swept in the background): one that is down shows up
    /// as failed uploads, not as a crash loop.
    pub fn open(settings: &StorageSettings) -> anyhow::Result<EvidenceStore> {
        let incoming_dir = settings.data_dir.join("tmp");
        std::fs::create_dir_all(&incoming_dir)
            .with_context(|| format!("creating {}", incoming_dir.display()))?;
        let blobs: Arc<dyn BlobStore> = match settings.backend {
            StorageBackend::Local => {
                Arc::new(LocalBlobStore::new(settings.data_dir.join("evidence"))?)
            }
            StorageBackend::S3 => Arc::new(S3BlobStore::new(&settings.s3)?),
        };
        sweep_folder(&incoming_dir);
        tracing::debug!(store = %blobs.describe(), "evidence store opened");
        Ok(EvidenceStore {
            blobs,
            incoming_dir,
        })
    }

    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.blobs
    }

    /// Starts receiving an upload of at most `limit` bytes.
    pub async fn receive(&self, limit: u64) -> io::Result<IncomingFile> {
        IncomingFile::create(&self.incoming_dir, limit).await
    }
}

/// Removes temporary files older than [`STALE_AFTER`]: leftovers of a
/// crash, never an upload in progress.
fn sweep_folder(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A path removed when dropped: whatever ends an upload (an error, a client
/// that hangs up, success after the file was moved away), no temporary
/// file stays behind.
#[derive(Debug)]
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        // Absent is fine: the file was promoted (renamed) or never created.
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Why receiving stopped.
#[derive(Debug)]
pub enum ReceiveError {
    /// More than the limit arrived.
    TooLarge,
    Io(io::Error),
}

/// An upload being received into a temporary file: its bytes are counted
/// and hashed as they arrive, and its first bytes kept to judge its type.
pub struct IncomingFile {
    temp: TempPath,
    file: tokio::io::BufWriter<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    limit: u64,
    head: Vec<u8>,
}

impl IncomingFile {
    async fn create(dir: &Path, limit: u64) -> io::Result<IncomingFile> {
        // Someone may have cleaned the data folder since start-up.
        tokio::fs::create_dir_all(dir).await?;
        let temp = TempPath(dir.join(format!("upload-{}.part", Uuid::new_v4().simple())));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Evidence is readable by the service's account alone; a promoted
        // file keeps this mode (a rename, or a copy, which copies it).
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&temp.0).await?;
        Ok(IncomingFile {
            temp,
            file: tokio::io::BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            size: 0,
            limit,
            head: Vec::new(),
        })
    }

    /// Appends a chunk; refuses the one that would pass the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), ReceiveError> {
        let size = self.size.saturating_add(chunk.len() as u64);
        if size > self.limit {
            return Err(ReceiveError::TooLarge);
        }
        self.size = size;
        if self.head.len() < crate::domain::evidence::SNIFF_BYTES {
            let wanted = crate::domain::evidence::SNIFF_BYTES - self.head.len();
            self.head
                .extend_from_slice(&chunk[..wanted.min(chunk.len())]);
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await.map_err(ReceiveError::Io)
    }

    /// The first bytes received (up to [`crate::domain::evidence::SNIFF_BYTES`]).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes the bytes to disk (they must survive a crash once a row
    /// names them) and closes the file.
    pub async fn finish(mut self) -> io::Result<ReceivedFile> {
        self.file.flush().await?;
        self.file.get_mut().sync_all().await?;
        Ok(ReceivedFile {
            temp: self.temp,
            sha256: crate::domain::hex::hex(&self.hasher.finalize()),
            size: self.size,
        })
    }
}

/// An upload received whole, still in its temporary file.
#[derive(Debug)]
pub struct ReceivedFile {
    temp: TempPath,
    pub sha256: String,
    pub size: u64,
}

impl ReceivedFile {
    pub fn path(&self) -> &Path {
        &self.temp.0
    }
}

/// `sha256/ab/abcdef…`: a two-character fan-out keeps folders small.
fn blob_key(sha256: &str) -> anyhow::Result<String> {
    let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    anyhow::ensure!(valid, "{sha256:?} is not a SHA-256");
    Ok(format!("sha256/{}/{sha256}", &sha256[..2]))
}

/// Blobs as files under the data folder.
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    pub fn new(root: PathBuf) -> anyhow::Result<LocalBlobStore> {
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        Ok(LocalBlobStore { root })
    }

    fn path_of(&self, sha256: &str) -> anyhow::Result<PathBuf> {
        Ok(self.root.join(blob_key(sha256)?))
    }
}

impl BlobStore for LocalBlobStore {
    fn describe(&self) -> String {
        format!("local folder {}", self.root.display())
    }

    fn stage<'a>(&'a self, received: &'a ReceivedFile) -> BoxFuture<'a, anyhow::Result<Staged>> {
        // The temporary file is on the same file system already.
        async move { Ok(Staged::Local(received.path().to_owned())) }.boxed()
    }

    fn promote(&self, staged: &Staged, sha256: &str) -> anyhow::Result<bool> {
        let Staged::Local(from) = staged else {
            anyhow::bail!("the local store cannot promote {staged:?}");
        };
        let to = self.path_of(sha256)?;
        if to.try_exists()? {
            return Ok(false);
        }
        let folder = to
            .parent()
            .ok_or_else(|| anyhow::anyhow!("{} has no folder", to.display()))?;
        std::fs::create_dir_all(folder)?;
        match std::fs::rename(from, &to) {
            // The evidence folder is another mount: copy beside the target,
            // then rename, so the blob still appears whole or not at all.
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
                let part = to.with_extension("part");
                std::fs::copy(from, &part)
                    .and_then(|_| std::fs::File::open(&part)?.sync_all())
                    .and_then(|()| std::fs::rename(&part, &to))
                    .inspect_err(|_| {
                        let _ = std::fs::remove_file(&part);
                    })
                    .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
            }
            moved => {
                moved.with_context(|| format!("moving {} to {}", from.display(), to.display()))?
            }
        }
        // The rename itself must survive a crash once the row commits.
        if let Ok(dir) = std::fs::File::open(folder) {
            let _ = dir.sync_all();
        }
        Ok(true)
    }

    fn discard(&self, _staged: Staged) -> BoxFuture<'_, ()> {
        // The temporary file goes with its `ReceivedFile`.
        async {}.boxed()
    }

    fn remove(&self, sha256: &str) -> anyhow::Result<()> {
        // Empty fan-out folders stay: removing one could race with a
        // promotion of another blob into it.
        match std::fs::remove_file(self.path_of(sha256)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn open<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Blob>>> {
        async move {
            let path = self.path_of(sha256)?;
            let file = match tokio::fs::File::open(&path).await {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let size = file.metadata().await?.len();
            let stream = futures_util::stream::try_unfold(file, |mut file| async move {
                let mut buffer = vec![0; CHUNK];
                let read = file.read(&mut buffer).await?;
                if read == 0 {
                    return Ok(None);
                }
                buffer.truncate(read);
                Ok(Some((Bytes::from(buffer), file)))
            });
            Ok(Some(Blob {
                size,
                stream: stream.boxed(),
            }))
        }
        .boxed()
    }
}

/// Blobs in an S3-compatible bucket. Every request runs on a runtime of its
/// own, so the blocking calls made under the database lock can wait for it
/// from any thread, and no connection is tied to one HTTP worker.
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    prefix: String,
    bucket: String,
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

impl S3BlobStore {
    pub fn new(settings: &S3Settings) -> anyhow::Result<S3BlobStore> {
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&settings.bucket);
        let set = |value: &str| {
            Some(value.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        if let Some(region) = set(&settings.region) {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = set(&settings.endpoint) {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(key) = set(&settings.access_key_id) {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = set(settings.secret_access_key.expose_secret()) {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder
            .with_allow_http(settings.allow_http)
            .with_virtual_hosted_style_request(settings.virtual_hosted_style)
            .build()
            .context("configuring the S3 evidence store (storage.s3)")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("evidence-s3")
            .enable_all()
            .build()
            .context("starting the S3 client runtime")?;
        let mut prefix = settings.prefix.trim().trim_matches('/').to_owned();
        if !prefix.is_empty() {
            prefix.push('/');
        }
        let blobs = S3BlobStore {
            store: Arc::new(store),
            prefix,
            bucket: settings.bucket.clone(),
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        };
        blobs
            .handle
            .spawn(sweep_staging(blobs.store.clone(), blobs.staging_prefix()));
        Ok(blobs)
    }

    fn blob_path(&self, sha256: &str) -> anyhow::Result<ObjectPath> {
        Ok(ObjectPath::from(format!(
            "{}evidence/{}",
            self.prefix,
            blob_key(sha256)?
        )))
    }

    fn staging_prefix(&self) -> ObjectPath {
        ObjectPath::from(format!("{}staging", self.prefix))
    }

    /// Runs `future` on the store's runtime and waits for it from async code.
    async fn spawned<T, F>(&self, future: F) -> anyhow::Result<T>
    where
        F: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.handle
            .spawn(future)
            .await
            .map_err(|e| anyhow::anyhow!("S3 task failed: {e}"))?
    }
}

impl Drop for S3BlobStore {
    fn drop(&mut self) {
        // Dropping a runtime may not block inside another runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl BlobStore for S3BlobStore {
    fn describe(&self) -> String {
        format!("S3 bucket {} ({})", self.bucket, self.store)
    }

    fn stage<'a>(&'a self, received: &'a ReceivedFile) -> BoxFuture<'a, anyhow::Result<Staged>> {
        let store: Arc<dyn ObjectStore> = self.store.clone();
        let from = received.path().to_owned();
        let to = self
            .staging_prefix()
            .join(Uuid::new_v4().simple().to_string());
        async move {
            let location = to.clone();
            self.spawned(async move {
                // Parts of 5 MiB, the smallest S3 accepts: bounded memory.
                let mut writer =
                    object_store::buffered::BufWriter::with_capacity(store, to, 5 * 1024 * 1024)
                        .with_max_concurrency(2);
                let sent = async {
                    let mut file = tokio::fs::File::open(&from).await?;
                    loop {
                        let mut buffer = vec![0; CHUNK * 4];
                        let read = file.read(&mut buffer).await?;
                        if read == 0 {
                            break;
                        }
                        buffer.truncate(read);
                        writer.put(Bytes::from(buffer)).await?;
                    }
                    writer.shutdown().await?;
                    anyhow::Ok(())
                }
                .await;
                if sent.is_err() {
                    let _ = writer.abort().await;
                }
                sent
            })
            .await
            .context("sending the upload to the S3 staging area")?;
            Ok(Staged::Object(location))
        }
        .boxed()
    }

    fn promote(&self, staged: &Staged, sha256: &str) -> anyhow::Result<bool> {
        let Staged::Object(from) = staged else {
            anyhow::bail!("the S3 store cannot promote {staged:?}");
        };
        let to = self.blob_path(sha256)?;
        self.handle.block_on(async {
            match self.store.head(&to).await {
                Ok(_) => return Ok(false),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            self.store
                .copy(from, &to)
                .await
                .with_context(|| format!("copying {from} to {to}"))?;
            Ok(true)
        })
    }

    fn discard(&self, staged: Staged) -> BoxFuture<'_, ()> {
        async move {
            if let Staged::Object(location) = staged {
                let store = self.store.clone();
                let deleted = self
                    .spawned(async move { Ok(store.delete(&location).await?) })
                    .await;
                if let Err(e) = deleted {
                    tracing::warn!(error = %e, "could not delete a staged upload; the start-up sweep will");
                }
            }
        }
        .boxed()
    }

    fn remove(&self, sha256: &str) -> anyhow::Result<()> {
        let location = self.blob_path(sha256)?;
        self.handle.block_on(async {
            match self.store.delete(&location).await {
                Err(e) if !matches!(e, object_store::Error::NotFound { .. }) => Err(e.into()),
                _ => Ok(()),
            }
        })
    }

    fn open<'a>(&'a self, sha256: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Blob>>> {
        async move {
            let location = self.blob_path(sha256)?;
            let store = self.store.clone();
            let found = self
                .spawned(async move {
                    match store.get(&location).await {
                        Ok(found) => Ok(Some(found)),
                        Err(object_store::Error::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e.into()),
                    }
                })
                .await?;
            let Some(found) = found else {
                return Ok(None);
            };
            let size = found.meta.size;
            // The body is read on the store's runtime and handed over
            // through a small channel, so the HTTP worker only waits.
            let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, io::Error>>(4);
            let mut body = found.into_stream();
            self.handle.spawn(async move {
                while let Some(chunk) = body.next().await {
                    let chunk = chunk.map_err(io::Error::other);
                    let failed = chunk.is_err();
                    if sender.send(chunk).await.is_err() || failed {
                        break;
                    }
                }
            });
            let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|chunk| (chunk, receiver))
            });
            Ok(Some(Blob {
                size,
                stream: stream.boxed(),
            }))
        }
        .boxed()
    }
}

/// Removes staged uploads older than [`STALE_AFTER`] (left by a crash
/// between staging and discarding), best effort.
async fn sweep_staging(store: Arc<AmazonS3>, prefix: ObjectPath) {
    let cutoff = chrono::Utc::now() - chrono::TimeDelta::from_std(STALE_AFTER).unwrap_or_default();
    let mut listed = store.list(Some(&prefix));
    let mut removed = 0_u32;
    while let Some(meta) = listed.next().await {
        let outcome = match meta {
            Ok(meta) if meta.last_modified < cutoff => {
                store.delete(&meta.location).await.map(|()| 1)
            }
            Ok(_) => Ok(0),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(count) => removed += count,
            Err(e) => {
                tracing::warn!(error = %e, "could not sweep the S3 staging area");
                return;
            }
        }
    }
    if removed > 0 {
        tracing::info!(removed, "removed stale staged evidence uploads");
    }
}
