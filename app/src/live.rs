//! The browser's end of `GET /ws`: one reconnecting subscription per tab, shared by every island
//! on the page (the live indicator and the page itself). It remembers the last `seq` it saw and
//! asks for what it missed on reconnect, so a page that reacts to `last_event` never silently
//! skips a change.

use crate::backoff::{reconnect_delay_ms, refetch_delay_ms};
use crate::model::{topics, ClientMessage, EventHeader};
use leptos::prelude::*;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Live,
    Offline {
        retry_in_s: u32,
    },
    /// The server refuses the link because this tab's session ended (signed out in another
    /// tab, or expired): retrying goes on, but only signing in again will bring it back.
    SignedOut,
}

#[derive(Clone, Copy)]
pub struct Live {
    pub state: RwSignal<LinkState>,
    /// The newest event received; pages watch it to update in place.
    pub last_event: RwSignal<Option<EventHeader>>,
    /// Events received since the app loaded (replays included).
    pub received: RwSignal<u32>,
    last_seq: RwSignal<i64>,
    failed_attempts: RwSignal<u32>,
}

impl Live {
    /// The tab's live link, created and connected on first use and shared after that. Islands
    /// hydrate separately and see no context from each other, hence one value per thread (a
    /// browser tab has one).
    pub fn shared() -> Live {
        // The server renders with a link that never connects (`Connecting`, no events). It must
        // be a new one per call: each request has its own reactive arena, so a value kept from
        // another request would read as disposed.
        if !cfg!(target_arch = "wasm32") {
            return Live::unconnected();
        }
        thread_local! {
            static SHARED: std::cell::OnceCell<Live> = const { std::cell::OnceCell::new() };
        }
        SHARED.with(|cell| {
            *cell.get_or_init(|| {
                // Its own root, kept for the life of the tab, so no island's cleanup disposes it.
                let owner = Owner::new_root(None);
                let live = owner.with(|| {
                    let live = Live::unconnected();
                    Effect::new(move |_| connect(live));
                    live
                });
                std::mem::forget(owner);
                live
            })
        })
    }

    fn unconnected() -> Live {
        Live {
            state: RwSignal::new(LinkState::Connecting),
            last_event: RwSignal::new(None),
            received: RwSignal::new(0),
            last_seq: RwSignal::new(0),
            failed_attempts: RwSignal::new(0),
        }
    }
}

impl Live {
    /// Counts changes of `topic` from now on: a resource keyed on it refetches when that topic
    /// changes, so pages show new state without a reload. An event after a quiet spell counts
    /// at once; the events of a burst count once per
    /// [`REFETCH_SPACING_MS`](crate::backoff::REFETCH_SPACING_MS), the last of them included,
    /// so a page never refetches faster than that.
    pub fn changes_on(self, topic: impl Into<String>) -> Signal<u32> {
        let topic: String = topic.into();
        let count = RwSignal::new(0u32);
        let counted_at = StoredValue::new(f64::NEG_INFINITY);
        let waiting = StoredValue::new(false);
        // Set by a timer: the island may be gone by then.
        let count_now = move || {
            let _ = waiting.try_set_value(false);
            let _ = counted_at.try_set_value(js_sys::Date::now());
            count.try_update(|n| *n += 1);
        };
        Effect::new(move |_| {
            let on_topic = self
                .last_event
                .with(|e| e.as_ref().is_some_and(|e| e.topic == topic));
            if !on_topic || waiting.get_value() {
                return;
            }
            match refetch_delay_ms(counted_at.get_value(), js_sys::Date::now()) {
                0 => count_now(),
                wait => {
                    waiting.set_value(true);
                    set_timeout(count_now, Duration::from_millis(wait.into()));
                }
            }
        });
        count.into()
    }
}

/// Counts events on `topic` on the tab's live link (see [`Live::changes_on`]).
pub fn changes_on(topic: impl Into<String>) -> Signal<u32> {
    Live::shared().changes_on(topic)
}

fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}

fn connect(live: Live) {
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    if live.state.get_untracked() != LinkState::SignedOut {
        live.state.set(LinkState::Connecting);
    }
    let Some(socket) = socket_url().and_then(|url| WebSocket::new(&url).ok()) else {
        retry_later(live);
        return;
    };

    let on_open = Closure::<dyn FnMut()>::new({
        let socket = socket.clone();
        move || {
            let since = live.last_seq.get_untracked();
            let subscribe = ClientMessage::Subscribe {
                topics: vec!["*".into()],
                since: (since > 0).then_some(since),
            };
            if let Ok(text) = serde_json::to_string(&subscribe) {
                let _ = socket.send_with_str(&text);
            }
        }
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let Some(text) = e.data().as_string() else {
            return;
        };
        // From bytes, as everything else in the browser decodes JSON (see `api::codec`): a second
        // kind of input would compile a second copy of serde_json's parser into the bundle.
        let Ok(message) = serde_json::from_slice::<EventHeader>(text.as_bytes()) else {
            return;
        };
        if message.topic == topics::SYSTEM {
            if message.kind == "subscribed" {
                live.failed_attempts.set(0);
                live.state.set(LinkState::Live);
            }
            return;
        }
        live.last_seq.set(message.seq);
        live.received.update(|n| *n += 1);
        live.last_event.set(Some(message));
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| retry_later(live));

    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The handlers live as long as the socket; a few bytes per reconnect is the price of not
    // threading their ownership through the browser's callbacks.
    on_open.forget();
    on_message.forget();
    on_close.forget();
}

fn retry_later(live: Live) {
    let attempt = live.failed_attempts.get_untracked();
    live.failed_attempts.set(attempt + 1);
    let delay = reconnect_delay_ms(attempt, js_sys::Math::random());
    // The browser does not say why a handshake failed (a 401 looks like a network error), so
    // ask: "Offline" for a tab whose session ended would send the engineer to check the network.
    // Once signed out, retries go on unasked: signing in again lets the next one through.
    if live.state.get_untracked() != LinkState::SignedOut {
        live.state.set(LinkState::Offline {
            retry_in_s: delay.div_ceil(1000) as u32,
        });
        leptos::task::spawn_local(async move {
            if let Ok(None) = crate::api::current_user().await {
                live.state.set(LinkState::SignedOut);
            }
        });
    }
    set_timeout(move || connect(live), Duration::from_millis(delay));
}
