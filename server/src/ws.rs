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
    upgrade: WebSocketUpgrade,
) -> Response {
    if caller.0.is_none() {
        return crate::error::ApiError(app::error::AppError::unauthorized()).into_response();
    }
    upgrade.on_upgrade(move |socket| run(socket, state))
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

async fn run(socket: WebSocket, state: AppState) {
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
                for event in events {
                    last_sent = event.seq;
                    if subscription.wants(&event) {
                        replayed += 1;
                        if !send(&mut sink, &event).await {
                            return;
                        }
                    }
                }
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
                        for event in events {
                            last_sent = event.seq;
                            if subscription.wants(&event) && !send(&mut sink, &event).await {
                                return;
                            }
                        }
                    }
                }
                // Too slow to keep up with the channel: catch up from the table instead.
                Err(RecvError::Lagged(_)) => {
                    let Ok(events) = state.bus.replay(last_sent).await else { break };
                    for event in events {
                        last_sent = event.seq;
                        if subscription.wants(&event) && !send(&mut sink, &event).await {
                            return;
                        }
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
        }
    }
}
