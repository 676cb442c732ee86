//! Revocation that reaches every node: nodes sharing a database tell each other, over Redis
//! pub/sub, which users their commits touched, so a logout, block or password change on one
//! node ends what the others' read caches hold within the broadcast's delay (milliseconds)
//! instead of `readCacheMs`.
//!
//! Pub/sub delivers at most once, so the link is trusted only while it is seen to work both
//! ways: each node publishes a heartbeat to a channel of its own every [`HEARTBEAT`] on the
//! connection its invalidations go out on, and listens for it on the connection they come in
//! on. While its own heartbeat is not back within [`LINK_TIMEOUT`], or the subscription is
//! down, the node's cache serves nothing and every read goes to the database, so a write it
//! could not hear of is never answered from the cache; when the heartbeat is back, every entry
//! read before is dropped. A write whose broadcast fails is sent again with the next one; a
//! node that cannot publish for long while the others still hear each other reaches their
//! caches only through `readCacheMs` (see README, "Running several nodes").

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::store::sql::cache::{ReadCache, Touched};

/// How often a node proves its link to itself.
const HEARTBEAT: Duration = Duration::from_millis(200);
/// How long without its own heartbeat before a node stops trusting its cache.
const LINK_TIMEOUT: Duration = Duration::from_millis(1000);
/// The longest wait for a connection or a subscription to Redis.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages larger than this are no broadcast of ours: read as a write for everyone.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// One broadcast: the node that wrote, and whom its commits touched.
#[derive(Serialize, Deserialize)]
struct Wrote {
    node: String,
    /// `(project, user)` pairs; empty with `all`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    users: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    all: bool,
}

impl Wrote {
    fn new(node: &str, touched: &Touched) -> Self {
        match touched {
            Touched::Users(users) => Wrote {
                node: node.into(),
                users: users.clone(),
                all: false,
            },
            Touched::Nothing | Touched::Everything => Wrote {
                node: node.into(),
                users: Vec::new(),
                all: true,
            },
        }
    }

    fn touched(self) -> Touched {
        if self.all {
            return Touched::Everything;
        }
        let mut t = Touched::default();
        for (project, user) in &self.users {
            t.user(project, user);
        }
        t
    }
}

/// The channel names of one cluster: everything on the same Redis database (pub/sub itself
/// ignores the database number, so it is part of the name, as it separates the rate-limit
/// counters of clusters sharing one Redis).
struct Channels {
    writes: String,
    heartbeat: String,
}

impl Channels {
    fn new(db: i64, node: &str) -> Self {
        Channels {
            writes: format!("latchkey:{db}:cache"),
            heartbeat: format!("latchkey:{db}:heartbeat:{node}"),
        }
    }
}

/// Links `cache` to the other nodes on the Redis of `client`, publishing on `publisher` (the
/// node's connection from `crate::abuse::connect_redis`), and keeps the link up while the
/// cache lives; outages only unlink the cache.
pub fn start(client: redis::Client, publisher: ConnectionManager, cache: &Arc<ReadCache>) {
    if !cache.link_peers() {
        return;
    }
    let node = crate::domain::ids::random_hex(8);
    let channels = Arc::new(Channels::new(
        client.get_connection_info().redis_settings().db(),
        &node,
    ));
    tokio::spawn(publish(
        Arc::downgrade(cache),
        publisher,
        channels.clone(),
        node.clone(),
    ));
    tokio::spawn(listen(Arc::downgrade(cache), client, channels, node));
}

/// Sends this node's writes as they commit, and its heartbeat, until the cache is dropped.
async fn publish(
    cache: Weak<ReadCache>,
    mut conn: ConnectionManager,
    channels: Arc<Channels>,
    node: String,
) {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // One warning per outage: a queued write is tried again five times a second.
    let mut failing = false;
    loop {
        let Some(strong) = cache.upgrade() else {
            return;
        };
        let (channel, message, touched) = tokio::select! {
            touched = strong.next_broadcast() => {
                let Some(touched) = touched else { return };
                let wrote = serde_json::to_string(&Wrote::new(&node, &touched)).unwrap_or_default();
                (&channels.writes, wrote, Some(touched))
            }
            _ = beat.tick() => (&channels.heartbeat, String::new(), None),
        };
        let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(&message)
            .query_async(&mut conn)
            .await;
        match (sent, touched) {
            (Err(e), Some(touched)) => {
                // Sent again with the next write or after a pause (invalidations can repeat
                // harmlessly); meanwhile the other nodes see it within readCacheMs at worst.
                if !failing {
                    tracing::warn!(error = %e, "cache invalidations not broadcast; trying again");
                    failing = true;
                }
                strong.broadcast_again(&touched);
                drop(strong);
                tokio::time::sleep(HEARTBEAT).await;
            }
            (Ok(_), Some(_)) if failing => {
                tracing::info!("cache invalidations broadcast again");
                failing = false;
            }
            _ => {}
        }
    }
}

/// Receives the other nodes' writes and this node's heartbeat, and says whether the link
/// holds, until the cache is dropped.
async fn listen(
    cache: Weak<ReadCache>,
    client: redis::Client,
    channels: Arc<Channels>,
    node: String,
) {
    // One warning per outage, not one per attempt.
    let mut warned = false;
    loop {
        let was_linked = match subscribe(&client, &channels).await {
            Ok(stream) => follow(&cache, stream, &channels, &node).await,
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "cannot subscribe to cache invalidations; the read cache is off until Redis answers");
                    warned = true;
                }
                false
            }
        };
        let Some(strong) = cache.upgrade() else {
            return;
        };
        strong.set_linked(false);
        drop(strong);
        if was_linked {
            tracing::warn!(
                "cache invalidations from other nodes stopped; the read cache is off until they are back"
            );
            warned = true;
        }
        tokio::time::sleep(HEARTBEAT).await;
    }
}

async fn subscribe(
    client: &redis::Client,
    channels: &Channels,
) -> anyhow::Result<redis::aio::PubSubStream> {
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub
            .subscribe(&[channels.writes.as_str(), channels.heartbeat.as_str()])
            .await?;
        Ok::<_, redis::RedisError>(pubsub.into_on_message())
    };
    Ok(tokio::time::timeout(CONNECT_TIMEOUT, connect).await??)
}

/// Applies messages until the stream ends, the heartbeat stays away or the cache is dropped;
/// whether the link came up meanwhile.
async fn follow(
    cache: &Weak<ReadCache>,
    mut stream: redis::aio::PubSubStream,
    channels: &Channels,
    node: &str,
) -> bool {
    let mut heard = Instant::now();
    let mut linked = false;
    loop {
        let deadline = heard + LINK_TIMEOUT;
        let message = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(m)) => m,
            // Ended (the connection dropped) or silent for too long.
            Ok(None) | Err(_) => return linked,
        };
        let Some(cache) = cache.upgrade() else {
            return linked;
        };
        if message.get_channel_name() == channels.heartbeat {
            heard = Instant::now();
            if !linked {
                cache.set_linked(true);
                tracing::info!("cache invalidations linked with the other nodes");
                linked = true;
            }
            continue;
        }
        let payload = message.get_payload_bytes();
        if payload.len() > MAX_MESSAGE_BYTES {
            cache.peer_wrote(&Touched::Everything);
            continue;
        }
        match serde_json::from_slice::<Wrote>(payload) {
            Ok(wrote) if wrote.node == node => {}
            Ok(wrote) => cache.peer_wrote(&wrote.touched()),
            // Something else on our channel: assume the worst.
            Err(_) => cache.peer_wrote(&Touched::Everything),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broadcast_names_its_users_or_everyone_and_reads_back_the_same() {
        let mut t = Touched::default();
        t.user("p", "ann");
        t.user("q", "bob");
        let json = serde_json::to_string(&Wrote::new("n1", &t)).unwrap();
        assert_eq!(json, r#"{"node":"n1","users":[["p","ann"],["q","bob"]]}"#);
        let back: Wrote = serde_json::from_str(&json).unwrap();
        match back.touched() {
            Touched::Users(u) => {
                assert_eq!(u, [("p".into(), "ann".into()), ("q".into(), "bob".into())])
            }
            other => panic!("{other:?}"),
        }
        let all = serde_json::to_string(&Wrote::new("n1", &Touched::Everything)).unwrap();
        assert_eq!(all, r#"{"node":"n1","all":true}"#);
        let back: Wrote = serde_json::from_str(&all).unwrap();
        assert!(matches!(back.touched(), Touched::Everything));
    }

    #[test]
    fn clusters_on_other_redis_databases_use_other_channels() {
        let a = Channels::new(0, "n1");
        let b = Channels::new(1, "n1");
        assert_ne!(a.writes, b.writes);
        assert_ne!(a.heartbeat, Channels::new(0, "n2").heartbeat);
    }
}
