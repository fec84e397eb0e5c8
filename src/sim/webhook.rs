//! Outgoing webhook deliveries: retries with growing gaps, a drop switch modelling lost
//! deliveries, and a record of every attempt for tests to assert on.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::ids::unit_draw;

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookRetry {
    /// Retries after the first attempt (Lever documents "up to five times").
    pub max_retries: u32,
    /// Gap before the first retry; each later gap doubles.
    pub base_gap: Duration,
    /// Per-attempt request timeout.
    pub timeout: Duration,
}

impl WebhookRetry {
    /// Lever's documented policy (five retries) with a 1 s base gap; the real schedule is
    /// undocumented.
    pub fn lever_default() -> Self {
        WebhookRetry {
            max_retries: 5,
            base_gap: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }

    /// The same shape with short gaps for tests.
    pub fn fast() -> Self {
        WebhookRetry {
            max_retries: 5,
            base_gap: Duration::from_millis(5),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Which deliveries are lost (never attempted), to model unreliable webhooks.
#[derive(Debug, Clone, PartialEq)]
pub enum DropRule {
    /// Deliver everything.
    None,
    /// Drop every delivery.
    All,
    /// Drop the next n deliveries, then deliver again.
    NextN(u32),
    /// Drop deliveries about this subject (a Lever opportunity id, a Willo participant key).
    Subject(String),
    /// Drop a seeded share of deliveries (`0.0..=1.0`).
    Share {
        /// Share dropped.
        share: f64,
        /// Seed of the decisions.
        seed: u64,
    },
}

/// The fate of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Still being attempted (or waiting for a retry).
    Pending,
    /// A 2xx answer was received.
    Delivered,
    /// Every attempt failed (non-2xx, including 3xx, or a transport error).
    Failed,
    /// Dropped by the [`DropRule`]; never attempted.
    Dropped,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// The transport error, if it did not.
    pub error: Option<String>,
}

/// One event sent (or dropped) to one receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// Order of creation, from 0.
    pub id: u64,
    /// The receiver URL.
    pub url: String,
    /// The event name (`candidateStageChange`, `new_response`, ...).
    pub event: String,
    /// What it is about (opportunity id or participant key).
    pub subject: String,
    /// The exact JSON body (identical on every retry).
    pub body: serde_json::Value,
    /// Attempts so far.
    pub attempts: Vec<DeliveryAttempt>,
    /// Where it stands.
    pub outcome: DeliveryOutcome,
}

struct SenderState {
    deliveries: Vec<WebhookDelivery>,
    drop_rule: DropRule,
    drawn: u64,
    retry: WebhookRetry,
}

/// The delivery engine of one simulator.
pub(crate) struct WebhookSender {
    runtime: Handle,
    user_agent: &'static str,
    client: OnceLock<Result<reqwest::Client, String>>,
    state: Mutex<SenderState>,
    pending: watch::Sender<usize>,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender").finish_non_exhaustive()
    }
}

impl WebhookSender {
    pub(crate) fn new(runtime: Handle, user_agent: &'static str, retry: WebhookRetry) -> Self {
        WebhookSender {
            runtime,
            user_agent,
            client: OnceLock::new(),
            state: Mutex::new(SenderState {
                deliveries: Vec::new(),
                drop_rule: DropRule::None,
                drawn: 0,
                retry,
            }),
            pending: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SenderState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Built lazily: creating a TLS-capable client costs more than starting a simulator.
    fn client(&self) -> Result<reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(self.user_agent)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    pub(crate) fn set_drop_rule(&self, rule: DropRule) {
        let mut s = self.lock();
        s.drop_rule = rule;
        s.drawn = 0;
    }

    pub(crate) fn set_retry(&self, retry: WebhookRetry) {
        self.lock().retry = retry;
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.lock().deliveries.clone()
    }

    /// Waits until no delivery is pending (attempts and retry gaps done).
    pub(crate) async fn settled(&self) {
        let mut rx = self.pending.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Records a delivery and, unless the drop rule eats it, starts attempting it.
    pub(crate) fn send(
        self: &Arc<Self>,
        url: &str,
        event: &str,
        subject: &str,
        body: serde_json::Value,
    ) {
        let (id, retry) = {
            let mut s = self.lock();
            let dropped = match &mut s.drop_rule {
                DropRule::None => false,
                DropRule::All => true,
                DropRule::NextN(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                DropRule::NextN(_) => false,
                DropRule::Subject(x) => x == subject,
                DropRule::Share { share, seed } => {
                    let (share, seed) = (*share, *seed);
                    s.drawn += 1;
                    unit_draw(seed, 0x5eb, s.drawn) < share
                }
            };
            let id = s.deliveries.len() as u64;
            s.deliveries.push(WebhookDelivery {
                id,
                url: url.to_owned(),
                event: event.to_owned(),
                subject: subject.to_owned(),
                body: body.clone(),
                attempts: Vec::new(),
                outcome: if dropped {
                    DeliveryOutcome::Dropped
                } else {
                    DeliveryOutcome::Pending
                },
            });
            if dropped {
                return;
            }
            (id, s.retry)
        };
        self.pending.send_modify(|n| *n += 1);
        let me = self.clone();
        let url = url.to_owned();
        self.runtime.spawn(async move {
            me.attempt_all(id, &url, body, retry).await;
            me.pending.send_modify(|n| *n = n.saturating_sub(1));
        });
    }

    async fn attempt_all(&self, id: u64, url: &str, body: serde_json::Value, retry: WebhookRetry) {
        let bytes = body.to_string();
        let mut gap = retry.base_gap;
        for attempt in 0..=retry.max_retries {
            if attempt > 0 {
                tokio::time::sleep(gap).await;
                gap = gap.saturating_mul(2);
            }
            let result = match self.client() {
                Err(e) => Err(e),
                Ok(client) => client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .timeout(retry.timeout)
                    .body(bytes.clone())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string()),
            };
            let ok = matches!(result, Ok(s) if (200..300).contains(&s));
            let last = attempt == retry.max_retries;
            let mut s = self.lock();
            if let Some(d) = s.deliveries.get_mut(id as usize) {
                d.attempts.push(match result {
                    Ok(status) => DeliveryAttempt {
                        status: Some(status),
                        error: None,
                    },
                    Err(e) => DeliveryAttempt {
                        status: None,
                        error: Some(e),
                    },
                });
                if ok {
                    d.outcome = DeliveryOutcome::Delivered;
                } else if last {
                    d.outcome = DeliveryOutcome::Failed;
                }
            }
            if ok {
                return;
            }
        }
    }
}
