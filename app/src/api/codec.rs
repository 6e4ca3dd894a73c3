//! How a resource's value travels from the server render to the hydrating browser: JSON, like
//! Leptos' default codec, but decoded from bytes (`serde_json::from_slice`) as server functions
//! decode their responses. serde compiles each type's deserializer once per kind of input, so
//! Leptos' default (`from_str`) puts a second copy of every page's deserializers in the bundle.
//! So pages create their resources with [`resource`], not `Resource::new`.

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// JSON encoded to a string on the server, decoded from its bytes in the browser.
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// A resource made by [`resource`].
pub type Loaded<T> = Resource<T, JsonBytes>;

/// A resource loaded by `fetcher` whenever `source` changes: `Resource::new` with [`JsonBytes`].
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_what_the_server_render_encodes() {
        let value: Result<Vec<(String, u32)>, String> = Ok(vec![("ünïcode \"q\"".into(), 7)]);
        let encoded = <JsonBytes as Encoder<_>>::encode(&value).unwrap();
        let decoded: Result<Vec<(String, u32)>, String> =
            <JsonBytes as Decoder<_>>::decode(&encoded).unwrap();
        assert_eq!(decoded, value);
        assert!(<JsonBytes as Decoder<Vec<u32>>>::decode("[1,").is_err());
    }
}
