//! Password hashing (spec §11) on a fixed pool of threads that reuse their Argon2 memory.

pub mod imported;

pub use imported::{Imported, SHA_VERSIONS};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::secret::Secret;

/// Argon2id parameters for new hashes (`[passwords]` in the config).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HashParams {
    pub memory_cost: u32,
    pub time_cost: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_cost: 19456,
            time_cost: 2,
            parallelism: 1,
        }
    }
}

/// A stored password: the PHC string plus Appwrite's `hash` name and `hashOptions`.
#[derive(Debug, Clone)]
pub struct StoredPassword {
    pub phc: Secret,
    pub algorithm: String,
    pub options: serde_json::Value,
}

/// Largest Argon2 memory cost a stored hash may ask for (KiB): 256 MiB, four times
/// Appwrite's own highest default; a bigger one fails to verify instead of exhausting memory.
pub const MAX_VERIFY_MEMORY_KIB: u32 = 262_144;
/// Largest Argon2 time cost a stored hash may ask for (Appwrite's highest is 5).
pub const MAX_VERIFY_TIME_COST: u32 = 64;

/// How much lower than the rest of the server the hashing threads run (`nice` steps).
const HASH_NICENESS: i32 = 10;

/// How long a hashing thread keeps its Argon2 memory with no work before freeing it.
const IDLE_RELEASE: std::time::Duration = std::time::Duration::from_secs(2);

/// A job for a hashing thread; it gets the thread's reusable Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords on a fixed pool of one thread per core, each reusing one
/// Argon2 block buffer, so that a login storm queues behind the pool instead of starving the
/// async workers, and memory stays at pool size × memory cost afterwards (no per-hash
/// allocation for the allocator to keep).
#[derive(Clone)]
pub struct PasswordHasher {
    params: HashParams,
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
    /// A hash of a random password with the configured parameters: checked when an account
    /// has no password, so that timing does not tell which accounts have one.
    dummy: Secret,
    /// Hashes computed so far (new and verified), for tests and metrics.
    done: Arc<AtomicU64>,
    /// Jobs sent to the pool and not started yet (metrics: how far a storm has queued).
    queued: Arc<AtomicU64>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

fn argon2_params(p: HashParams) -> anyhow::Result<Params> {
    Params::new(p.memory_cost, p.time_cost, p.parallelism, Some(32))
        .map_err(|e| anyhow::anyhow!("invalid [passwords] parameters: {e}"))
}

/// Runs Argon2 into `out` with `memory` as its working area, growing it when needed.
fn fill(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> anyhow::Result<()> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

fn hash_with(password: &[u8], p: HashParams, memory: &mut Vec<Block>) -> anyhow::Result<String> {
    let params = argon2_params(p)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt[..]);
    let mut out = [0u8; 32];
    fill(&argon, &params, password, &salt, &mut out, memory)?;
    Ok(phc_string(p, &salt, &out))
}

/// The PHC string of an Argon2id output.
fn phc_string(p: HashParams, salt: &[u8], out: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        p.memory_cost,
        p.time_cost,
        p.parallelism,
        b64.encode(salt),
        b64.encode(out)
    )
}

/// Whether an Argon2 PHC string parses and its cost is one we are willing to pay (an import
/// beyond it would never verify).
pub fn argon2_acceptable(phc: &str) -> bool {
    PasswordHash::new(phc)
        .ok()
        .and_then(|parsed| Params::try_from(&parsed).ok())
        .is_some_and(|p| within_limits(&p))
}

/// Whether a stored hash's cost is one we are willing to pay.
fn within_limits(p: &Params) -> bool {
    p.m_cost() <= MAX_VERIFY_MEMORY_KIB && p.t_cost() <= MAX_VERIFY_TIME_COST
}

/// Verifies against any Argon2 PHC string with the parameters it names.
fn verify_with(password: &[u8], phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let (Ok(version), Ok(params)) = (version, Params::try_from(&parsed)) else {
        return false;
    };
    if !within_limits(&params) {
        tracing::warn!(
            m_cost = params.m_cost(),
            t_cost = params.t_cost(),
            "refusing to verify a password hash whose cost is above the limit"
        );
        return false;
    }
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    fill(&argon, &params, password, salt.as_ref(), &mut out, memory).is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

fn spawn_pool(threads: usize, keep_blocks: usize) -> anyhow::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    // Argon2 buffers between jobs, shared: the thread waiting on the channel (the others wait
    // for its lock) frees them all once the pool has been idle for `IDLE_RELEASE`, so a storm
    // reuses its memory and an idle server holds none.
    let stash: Arc<Mutex<Vec<Vec<Block>>>> = Arc::default();
    for i in 0..threads {
        let rx = rx.clone();
        let stash = stash.clone();
        std::thread::Builder::new()
            .name(format!("latchkey-hash-{i}"))
            .spawn(move || {
                // Below the request threads (Linux niceness is per thread; elsewhere it is per
                // process, so only Linux does this): during a login storm cheap requests keep
                // their CPU and logins queue (bench/ measures it).
                #[cfg(target_os = "linux")]
                if let Err(e) = rustix::process::nice(HASH_NICENESS) {
                    tracing::debug!(error = %e, "could not lower the hashing thread's priority");
                }
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv_timeout(IDLE_RELEASE),
                        Err(_) => return,
                    };
                    let job = match job {
                        Ok(job) => job,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            if let Ok(mut stash) = stash.lock() {
                                stash.clear();
                            }
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    };
                    let mut memory = stash
                        .lock()
                        .ok()
                        .and_then(|mut s| s.pop())
                        .unwrap_or_default();
                    job(&mut memory);
                    // A hash with a larger memory cost than the default (an imported one)
                    // must not leave its buffer behind.
                    if memory.len() > keep_blocks {
                        memory.truncate(keep_blocks);
                        memory.shrink_to_fit();
                    }
                    if let Ok(mut stash) = stash.lock() {
                        stash.push(memory);
                    }
                }
            })?;
    }
    Ok(tx)
}

impl PasswordHasher {
    /// Checks parameters without starting a pool.
    pub fn check_params(params: HashParams) -> anyhow::Result<()> {
        argon2_params(params).map(|_| ())
    }

    /// A hasher whose pool has one thread per core.
    pub fn new(params: HashParams) -> anyhow::Result<Self> {
        let p = argon2_params(params)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let jobs = spawn_pool(cores, p.block_count())?;
        // Random salt and random output: verifying against it costs one full Argon2 run with
        // the configured parameters and never succeeds, and making it costs nothing at start.
        let mut salt = [0u8; 16];
        let mut out = [0u8; 32];
        rand::rng().fill(&mut salt[..]);
        rand::rng().fill(&mut out[..]);
        let dummy = Secret::new(phc_string(params, &salt, &out));
        Ok(PasswordHasher {
            params,
            jobs: Arc::new(Mutex::new(jobs)),
            dummy,
            done: Arc::new(AtomicU64::new(0)),
            queued: Arc::new(AtomicU64::new(0)),
        })
    }

    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let done = self.done.clone();
        let queued = self.queued.clone();
        queued.fetch_add(1, Ordering::Relaxed);
        let job: Job = Box::new(move |memory| {
            queued.fetch_sub(1, Ordering::Relaxed);
            // The request gave up (its client left): don't spend a hash on it.
            if tx.is_closed() {
                return;
            }
            let result = work(memory);
            done.fetch_add(1, Ordering::Relaxed);
            let _ = tx.send(result);
        });
        self.jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("hashing pool poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("hashing pool stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("a hashing thread dropped its job"))
    }

    /// How many jobs wait for a hashing thread.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// How many hashes the pool has computed (new passwords and verifications).
    pub fn hashes_done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Hashes a new password with the configured Argon2id parameters.
    pub async fn hash(&self, password: &str) -> anyhow::Result<StoredPassword> {
        let p = self.params;
        let password = Secret::new(password);
        let phc = self
            .on_pool(move |memory| hash_with(password.expose().as_bytes(), p, memory))
            .await??;
        Ok(StoredPassword {
            phc: Secret::new(phc),
            algorithm: "argon2".into(),
            options: serde_json::json!({
                "type": "argon2",
                "memoryCost": p.memory_cost,
                "timeCost": p.time_cost,
                "threads": p.parallelism,
            }),
        })
    }

    /// Verifies `password` against a stored PHC string using the parameters it names; with no
    /// stored hash it checks a dummy one (and fails), spending the same time.
    pub async fn verify(&self, password: &str, phc: Option<&Secret>) -> anyhow::Result<bool> {
        let password = Secret::new(password);
        let (phc, real) = match phc {
            Some(p) => (p.clone(), true),
            None => (self.dummy.clone(), false),
        };
        let ok = self
            .on_pool(move |memory| verify_with(password.expose().as_bytes(), phc.expose(), memory))
            .await?;
        Ok(ok && real)
    }

    /// Verifies `password` against a user's stored password, whatever algorithm made it
    /// (`hash`: Argon2, or an imported one with its `hashOptions`); with none it checks a
    /// dummy Argon2 hash (and fails), spending about the same time.
    pub async fn verify_stored(
        &self,
        password: &str,
        stored: Option<&Secret>,
        algorithm: Option<&str>,
        options: Option<&str>,
    ) -> anyhow::Result<bool> {
        let imported = algorithm.and_then(|a| Imported::from_stored(a, options.unwrap_or("{}")));
        match (stored, imported) {
            (Some(value), Some(imported)) => {
                let plain = Secret::new(password);
                let fast = imported.is_fast(value.expose());
                let value = value.clone();
                let ok = self
                    .on_pool(move |_| imported.verify(plain.expose().as_bytes(), value.expose()))
                    .await?;
                // MD5 or SHA fail in microseconds where an unknown email costs an Argon2
                // hash: a failure pays that hash too, so timing does not tell that the account
                // exists (a success pays one for the re-hash). bcrypt and scrypt cost their own.
                if !ok && fast {
                    self.verify(password, None).await?;
                }
                Ok(ok)
            }
            (stored, _) => self.verify(password, stored).await,
        }
    }

    /// Whether a user's stored password should be replaced by a default Argon2id hash after
    /// the next successful login: it was imported, or made with other Argon2 parameters.
    pub fn needs_rehash_stored(&self, phc: &Secret, algorithm: Option<&str>) -> bool {
        !matches!(algorithm, None | Some("argon2")) || self.needs_rehash(phc)
    }

    /// Whether a stored hash was made with other parameters than the configured default,
    /// and so should be replaced after the next successful login (spec §11).
    pub fn needs_rehash(&self, phc: &Secret) -> bool {
        let p = self.params;
        let expected = format!(
            "$argon2id$v=19$m={},t={},p={}$",
            p.memory_cost, p.time_cost, p.parallelism
        );
        !phc.expose().starts_with(&expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_foreign_parameters_need_rehash() {
        let h = PasswordHasher::new(HashParams {
            memory_cost: 1024,
            time_cost: 1,
            parallelism: 1,
        })
        .unwrap();
        let stored = h.hash("secret-password").await.unwrap();
        assert!(
            stored
                .phc
                .expose()
                .starts_with("$argon2id$v=19$m=1024,t=1,p=1$")
        );
        assert!(
            h.verify("secret-password", Some(&stored.phc))
                .await
                .unwrap()
        );
        assert!(!h.verify("wrong-password", Some(&stored.phc)).await.unwrap());
        assert!(!h.needs_rehash(&stored.phc));
        // A hash made by Appwrite's PHP defaults still verifies and is flagged for re-hash.
        let other = PasswordHasher::new(HashParams {
            memory_cost: 2048,
            time_cost: 4,
            parallelism: 3,
        })
        .unwrap()
        .hash("secret-password")
        .await
        .unwrap();
        assert!(h.verify("secret-password", Some(&other.phc)).await.unwrap());
        assert!(h.needs_rehash(&other.phc));
        assert!(
            !h.verify("x", Some(&Secret::new("not-a-phc-string")))
                .await
                .unwrap()
        );
        // No stored hash never verifies, whatever the password.
        assert!(!h.verify("secret-password", None).await.unwrap());
    }

    #[tokio::test]
    async fn a_failed_imported_hash_costs_an_argon2_hash_like_an_unknown_account() {
        let h = PasswordHasher::new(HashParams {
            memory_cost: 64,
            time_cost: 1,
            parallelism: 1,
        })
        .unwrap();
        // md5("password")
        let md5 = Secret::new("5f4dcc3b5aa765d61d8327deb882cf99");
        let check = |p: &'static str| h.verify_stored(p, Some(&md5), Some("md5"), Some("{}"));
        assert!(check("password").await.unwrap());
        assert_eq!(h.hashes_done(), 1, "a success pays its re-hash later");
        assert!(!check("wrong").await.unwrap());
        assert_eq!(
            h.hashes_done(),
            3,
            "the MD5 check and the dummy Argon2 hash"
        );
        assert!(h.needs_rehash_stored(&md5, Some("md5")));
        // bcrypt pays its own cost: no dummy hash on top.
        let bcrypt = Secret::new("$2b$05$xMvNJTdt2n1oqu/b8aX5x.nd4fEN2xnF3oseBc06j/zcqmpnRErp.");
        let wrong = h.verify_stored("wrong", Some(&bcrypt), Some("bcrypt"), Some("{}"));
        assert!(!wrong.await.unwrap());
        assert_eq!(h.hashes_done(), 4);
    }

    #[tokio::test]
    async fn hashing_runs_on_a_fixed_pool_of_one_named_thread_per_core() {
        let h = PasswordHasher::new(HashParams {
            memory_cost: 64,
            time_cost: 1,
            parallelism: 1,
        })
        .unwrap();
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move {
                    h.on_pool(|_| std::thread::current().name().map(str::to_owned))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut threads = std::collections::HashSet::new();
        for t in tasks {
            let name = t.await.unwrap().unwrap();
            assert!(name.starts_with("latchkey-hash-"), "{name}");
            threads.insert(name);
        }
        assert!(threads.len() <= cores, "{threads:?}");
        assert_eq!(h.hashes_done(), 32);
    }

    #[test]
    fn hashes_made_here_verify_with_the_reference_implementation() {
        use argon2::password_hash::PasswordVerifier as _;
        let mut memory = Vec::new();
        let p = HashParams {
            memory_cost: 2048,
            time_cost: 2,
            parallelism: 1,
        };
        let phc = hash_with(b"pa55word", p, &mut memory).unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pa55word", &parsed)
                .is_ok()
        );
        // And a reference-made hash (Appwrite's PHP defaults, p=3) verifies here, reusing
        // the same buffer.
        use argon2::password_hash::PasswordHasher as _;
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(2048, 4, 3, None).unwrap(),
        )
        .hash_password(b"pa55word")
        .unwrap()
        .to_string();
        assert!(verify_with(b"pa55word", &reference, &mut memory));
        assert!(!verify_with(b"pa55wore", &reference, &mut memory));
        // Real hashes beyond the caps are refused although the password is right.
        let slow = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, MAX_VERIFY_TIME_COST + 1, 1, None).unwrap(),
        )
        .hash_password(b"pa55word")
        .unwrap()
        .to_string();
        assert!(
            !verify_with(b"pa55word", &slow, &mut memory),
            "time cost capped"
        );
        let at_cap = Params::new(8, MAX_VERIFY_TIME_COST, 1, None).unwrap();
        assert!(within_limits(&at_cap));
        let greedy = Params::new(MAX_VERIFY_MEMORY_KIB + 1, 1, 1, None).unwrap();
        assert!(!within_limits(&greedy), "memory cost capped");
    }
}
