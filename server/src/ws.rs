//! `GET /ws`: one websocket per browser tab. The client subscribes to topics (`*` for all) and
//! sends the last `seq` it saw; the session replays what it missed from the `event` table, then
//! forwards live events, never sending a `seq` twice or out of order. Only signed-in callers may
//! connect (the layers in `web` have already checked the Origin of the upgrade).

use crate::state::AppState;
use app::model::{topics, Caller, ClientMessage, EventMessage};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    session: Option<Extension<tower_sessions::Session>>,
    store: Option<Extension<crate::auth::sessions::Store>>,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(principal) = caller.0 else {
        return crate::error::ApiError(app::error::AppError::unauthorized()).into_response();
    };
    let credential = match (principal.kind, crate::auth::caller::bearer_token(&headers)) {
        (app::model::PrincipalKind::Token, Some(token)) => Credential::Token(token.to_string()),
        _ => Credential::Session {
            id: session.and_then(|s| s.0.id()),
            store: store.map(|s| s.0),
            user_id: principal.id,
        },
    };
    upgrade.on_upgrade(move |socket| run(socket, state, credential))
}

/// What let the socket in, checked again while it stays open: a session (signed out, expired,
/// or its account disabled) or a token (revoked, its account disabled).
enum Credential {
    Session {
        id: Option<tower_sessions::session::Id>,
        store: Option<crate::auth::sessions::Store>,
        user_id: i64,
    },
    Token(String),
}

/// How often an open socket checks that its caller may still listen, at the latest.
const RECHECK: Duration = Duration::from_secs(60);

impl Credential {
    async fn still_valid(&self, state: &AppState) -> bool {
        match self {
            Credential::Token(token) => {
                matches!(state.accounts.principal_for_token(token).await, Ok(Some(_)))
            }
            Credential::Session { id, store, user_id } => {
                use tower_sessions::SessionStore;
                let session_alive = match (id, store) {
                    (Some(id), Some(store)) => match store.load(id).await {
                        Ok(Some(record)) => {
                            let max_ms = state.config.session_max.as_millis() as i64;
                            let within_lifetime = record
                                .data
                                .get(crate::auth::SESSION_SIGNED_IN_AT)
                                .and_then(|at| at.as_i64())
                                .is_none_or(|at| crate::now_ms() - at <= max_ms);
                            within_lifetime
                                && record.expiry_date > time::OffsetDateTime::now_utc()
                                && record.data.get(crate::auth::SESSION_USER_ID)
                                    == Some(&serde_json::json!(user_id))
                        }
                        Ok(None) => false,
                        // The store could not be read: keep the socket rather than drop every
                        // client on a database hiccup; the next check decides.
                        Err(_) => true,
                    },
                    _ => true,
                };
                session_alive
                    && !matches!(state.accounts.principal_for_user(*user_id).await, Ok(None))
            }
        }
    }
}

/// An audited action that may end someone's access: only these make open sockets check, so a
/// busy deploy trail costs the sockets nothing.
fn ends_access(event: &EventMessage) -> bool {
    event.topic == topics::AUDIT
        && matches!(
            event.data.get("action").and_then(|a| a.as_str()),
            Some("user.signed_out" | "user.updated" | "token.revoked")
        )
}

/// Whether the caller may still listen after `event`. Sign-outs, revocations and account changes
/// are audited, so only those make the socket check its credential.
async fn may_still_listen(event: &EventMessage, credential: &Credential, state: &AppState) -> bool {
    !ends_access(event) || credential.still_valid(state).await
}

/// Sends the subscribed ones of `events` (read from the table: a reconnect's backlog, or a catch-up
/// after falling behind) and moves `last_sent` past all of them. Returns how many were sent, or
/// `None` when the socket is done: it failed, or an event in the backlog ended the caller's access
/// (the socket is then closed with 1008).
async fn replay_to(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    events: Vec<EventMessage>,
    subscription: &Subscription,
    last_sent: &mut i64,
    credential: &Credential,
    state: &AppState,
) -> Option<usize> {
    let mut sent = 0;
    for event in events {
        if !may_still_listen(&event, credential, state).await {
            close_for_policy(sink).await;
            return None;
        }
        *last_sent = event.seq;
        if subscription.wants(&event) {
            if !send(sink, &event).await {
                return None;
            }
            sent += 1;
        }
    }
    Some(sent)
}

/// Closes the socket with 1008 (policy violation): the caller may no longer listen.
async fn close_for_policy(sink: &mut futures_util::stream::SplitSink<WebSocket, Message>) {
    let frame = axum::extract::ws::CloseFrame {
        code: 1008,
        reason: "signed out, expired or revoked".into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}

struct Subscription {
    topics: Vec<String>,
}

impl Subscription {
    fn wants(&self, event: &EventMessage) -> bool {
        self.topics.iter().any(|t| t == "*" || *t == event.topic)
    }
}

fn system(seq: i64, kind: &str, data: serde_json::Value) -> EventMessage {
    EventMessage {
        seq,
        topic: topics::SYSTEM.into(),
        kind: kind.into(),
        data,
    }
}

async fn send(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    event: &EventMessage,
) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => true,
    }
}

async fn run(socket: WebSocket, state: AppState, credential: Credential) {
    let _guard = state.metrics.ws_client_connected();
    let (mut sink, mut stream) = socket.split();

    // The first message says what to send. A client that says nothing gets everything from now on.
    let (subscription, since) = match tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
    {
        Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage::Subscribe { topics, since }) => (Subscription { topics }, since),
            Err(e) => {
                let _ = send(&mut sink, &system(0, "error", serde_json::json!({"message": format!("expected a subscribe message: {e}")}))).await;
                return;
            }
        },
        Ok(Some(Ok(_))) | Err(_) => (
            Subscription {
                topics: vec!["*".into()],
            },
            None,
        ),
        Ok(None) | Ok(Some(Err(_))) => return,
    };

    // Subscribe before reading the backlog, so nothing published in between is lost; duplicates
    // are dropped by `last_sent`.
    let mut live = state.bus.subscribe();
    let head = state.bus.head();
    let mut last_sent = since.unwrap_or(head);
    let mut replayed = 0usize;
    if let Some(since) = since {
        match state.bus.replay(since).await {
            Ok(events) if events.len() as i64 > crate::events::EventBus::REPLAY_LIMIT => {
                let _ = send(
                    &mut sink,
                    &system(
                        head,
                        "resync",
                        serde_json::json!({"reason": "too far behind; reload"}),
                    ),
                )
                .await;
                last_sent = head;
            }
            Ok(events) => {
                let Some(sent) = replay_to(
                    &mut sink,
                    events,
                    &subscription,
                    &mut last_sent,
                    &credential,
                    &state,
                )
                .await
                else {
                    return;
                };
                replayed = sent;
            }
            Err(error) => {
                tracing::warn!(%error, "websocket replay failed");
                return;
            }
        }
    }
    let subscribed = system(
        last_sent,
        "subscribed",
        serde_json::json!({ "topics": subscription.topics, "replayed": replayed }),
    );
    if !send(&mut sink, &subscribed).await {
        return;
    }

    let mut ping = tokio::time::interval(Duration::from_secs(20));
    ping.tick().await;
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(published) => {
                    // Queue this event and any others already waiting, then write them with
                    // one flush: a burst costs one write per client, not one per event.
                    let mut next = Some(published);
                    let mut queued = false;
                    let mut failed = false;
                    let mut lagged = false;
                    while let Some(published) = next.take() {
                        // Every event of the burst, not only its first: a revocation the bus
                        // published behind another event must close the socket as promptly.
                        if !may_still_listen(&published.event, &credential, &state).await {
                            // Sends what was queued (it came before the change), then the close.
                            close_for_policy(&mut sink).await;
                            return;
                        }
                        if published.event.seq > last_sent {
                            last_sent = published.event.seq;
                            if subscription.wants(&published.event) {
                                failed = sink.feed(Message::Text(published.json.clone())).await.is_err();
                                queued = true;
                            }
                        }
                        if failed {
                            break;
                        }
                        next = match live.try_recv() {
                            Ok(published) => Some(published),
                            Err(TryRecvError::Lagged(_)) => {
                                lagged = true;
                                None
                            }
                            Err(_) => None,
                        };
                    }
                    if failed || (queued && sink.flush().await.is_err()) {
                        break;
                    }
                    if lagged {
                        // Fell behind while draining: catch up from the table, as below.
                        let Ok(events) = state.bus.replay(last_sent).await else { break };
                        if replay_to(&mut sink, events, &subscription, &mut last_sent, &credential, &state).await.is_none() {
                            return;
                        }
                    }
                }
                // Too slow to keep up with the channel: catch up from the table instead.
                Err(RecvError::Lagged(_)) => {
                    let Ok(events) = state.bus.replay(last_sent).await else { break };
                    if replay_to(&mut sink, events, &subscription, &mut last_sent, &credential, &state).await.is_none() {
                        return;
                    }
                }
                Err(RecvError::Closed) => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            _ = recheck.tick() => {
                if !credential.still_valid(&state).await {
                    close_for_policy(&mut sink).await;
                    break;
                }
            }
            // Everything sent so far was committed; the client reconnects (to this process once
            // restarted, or to another replica) and replays from its last `seq`.
            _ = state.shutdown.reached(crate::shutdown::Phase::Draining) => {
                let frame = axum::extract::ws::CloseFrame {
                    code: 1001,
                    reason: "Flightdeck is restarting; reconnect".into(),
                };
                let _ = sink.send(Message::Close(Some(frame))).await;
                break;
            }
        }
    }
}
